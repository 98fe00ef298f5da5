package faults

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	kiosksync "github.com/keqiao/villagekiosk/sync"
)

// TestNetworkCuts (fault 3) puts toxiproxy between the kiosk and the
// district and cuts uploads in the middle: a TCP reset, a connection that
// stops and times out, a data limit, and a stream sliced into small
// fragments. After healing, the queue converges, and the bytes that crossed
// the proxy show that a cut costs at most one chunk sent again: the excess
// over a clean upload of the same workload (measured in the same run) is at
// most one ChunkSize per cut, plus the few requests of the extra rounds.
func TestNetworkCuts(t *testing.T) {
	r := newRig(t, "")
	x := newToxic(t, r.addr)
	r.setDistrictURL(x.url())
	const n, size = 3, 1_000_000 // four chunks per file

	// The floor: a clean uploading round and an empty one, through the proxy.
	r.submitN(n, size)
	b0 := x.upBytes()
	if out, err := r.sync(); err != nil || !strings.Contains(out, "uploaded 3,") {
		t.Fatalf("clean round: %v\n%s", err, out)
	}
	cleanOverhead := x.upBytes() - b0 - n*size
	b1 := x.upBytes()
	if _, err := r.sync(); err != nil {
		t.Fatal(err)
	}
	emptyRound := x.upBytes() - b1
	t.Logf("clean round: %d bytes of requests besides the files; empty round: %d bytes", cleanOverhead, emptyRound)

	cuts := []struct {
		name  string
		kind  string
		attrs map[string]any
	}{
		{"reset", "reset_peer", map[string]any{"timeout": 0}},
		{"timeout", "timeout", map[string]any{"timeout": 300}},
		{"data limit", "limit_data", nil},
		{"slicing", "slicer", map[string]any{"average_size": 2048, "size_variation": 1024, "delay": 200}},
	}
	trials := times(1, 8)
	injected, cutCount := 0, 0
	var worst int64
	var notes []string
	for _, c := range cuts {
		for i := 0; i < trials; i++ {
			r.submitN(n, size)
			before := x.upBytes()
			x.add("slow", "bandwidth", "upstream", map[string]any{"rate": 2048}) // KB/s: 3 MB take 1.5 s
			sync := exec.Command(kioskBin, "sync", "--once", "--data", r.kdata)
			var out strings.Builder
			sync.Stdout = &out
			sync.Start()
			time.Sleep(time.Duration(200+rand.IntN(1000)) * time.Millisecond)
			attrs := c.attrs
			if c.kind == "limit_data" {
				attrs = map[string]any{"bytes": 20_000 + rand.IntN(400_000)}
			}
			x.add("cut", c.kind, "upstream", attrs)
			err := sync.Wait()
			x.remove("cut")
			x.remove("slow")
			injected++
			cut := 0
			if err != nil {
				cut = 1
				cutCount++
			} else if c.kind != "slicer" {
				t.Logf("%s %d: the round finished before the cut: %s", c.name, i, out.String())
			}
			rounds := 1
			for ; rounds < 10; rounds++ {
				o, err := r.sync()
				if err == nil && strings.Contains(o, " 0 waiting") {
					rounds++
					break
				}
			}
			excess := x.upBytes() - before - n*size - cleanOverhead - int64(rounds-1)*emptyRound
			allowed := int64(cut)*kiosksync.ChunkSize + int64(rounds)*8<<10
			if excess > allowed {
				t.Errorf("%s %d: %d bytes sent again after %d cut(s) in %d rounds; at most one chunk (%d) per cut allowed",
					c.name, i, excess, cut, rounds, kiosksync.ChunkSize)
			}
			if cut == 1 && excess > worst {
				worst = excess
			}
		}
		if c.kind == "slicer" {
			notes = append(notes, "and slicing, which must not cut")
		} else {
			notes = append(notes, c.name)
		}
	}
	slow := slowLink(t, r, x)
	spikes := latencySpikes(t, r, x)
	r.finish("3 network cut / slow link / latency spikes (toxiproxy)", injected+2, false,
		fmt.Sprintf("%d uploads cut mid-way (%s); worst re-sent after a cut %d KiB (chunk %d KiB); 2G-like link drained in %s; spikes: %d",
			cutCount, strings.Join(notes, ", "), worst>>10, kiosksync.ChunkSize>>10, slow.Round(100*time.Millisecond), spikes))
	if cutCount < injected*3/4-trials { // slicing does not cut
		t.Errorf("only %d of %d injections cut an upload", cutCount, injected)
	}
}

// slowLink drains submissions (two with 40 KB scans; one of 20 KB in the
// short suite) over a 2G-like link: 30 KB/s each way,
// 300 ms latency with 100 ms jitter.
func slowLink(t *testing.T, r *rig, x *toxic) time.Duration {
	r.submitN(times(1, 2), times(20_000, 40_000))
	for _, s := range []string{"upstream", "downstream"} {
		x.add("2g-bw-"+s, "bandwidth", s, map[string]any{"rate": 30})
		x.add("2g-lat-"+s, "latency", s, map[string]any{"latency": 300, "jitter": 100})
	}
	start := time.Now()
	r.drain(5)
	took := time.Since(start)
	for _, s := range []string{"upstream", "downstream"} {
		x.remove("2g-bw-" + s)
		x.remove("2g-lat-" + s)
	}
	return took
}

// latencySpikes uploads while the district's answers are delayed by 1.5 s
// every other 250 ms, over a link of 2 MB/s so the upload lasts a while.
func latencySpikes(t *testing.T, r *rig, x *toxic) int {
	r.submitN(3, 1_000_000)
	x.add("slow", "bandwidth", "upstream", map[string]any{"rate": 2048})
	sync := exec.Command(kioskBin, "sync", "--once", "--data", r.kdata)
	sync.Start()
	spikes := 0
	for i := 0; i < 8; i++ {
		if i%2 == 0 {
			x.add("spike", "latency", "downstream", map[string]any{"latency": 1500})
			spikes++
		} else {
			x.remove("spike")
		}
		time.Sleep(250 * time.Millisecond)
	}
	x.remove("slow")
	if err := sync.Wait(); err != nil {
		t.Errorf("a round under latency spikes failed: %v", err)
	}
	r.drain(5)
	return spikes
}
