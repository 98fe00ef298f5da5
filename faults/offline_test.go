package faults

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"
)

// TestMonthOffline (fault 11): a kiosk offline for thirty days saves
// thousands of matters (dated across the month by its clock), then the line
// comes back and it drains in scheduled rounds, in the same process as the
// intake, as the window runs it. Saves made during the drain must not wait
// for it: their latency is measured against saves on the idle kiosk in the
// same run.
func TestMonthOffline(t *testing.T) {
	r := newRig(t, "")
	ctx := context.Background()
	k := r.open(r.url(), nil)
	n := times(300, 3000)
	month := 30 * 24 * time.Hour
	start := time.Now().Add(-month)
	var i int
	k.db.Now = func() time.Time { return start.Add(time.Duration(i) * month / time.Duration(n)) }
	for i = 0; i < n; i++ {
		size := 0
		if i%10 == 0 {
			size = 20_000 // every tenth with a scan
		}
		if _, err := r.save(t, k, size); err != nil {
			t.Fatal(err)
		}
	}
	k.db.Now = time.Now

	saveTimed := func() time.Duration {
		t0 := time.Now()
		if _, err := r.save(t, k, 0); err != nil {
			t.Fatalf("a save failed: %v", err)
		}
		return time.Since(t0)
	}
	var idle []time.Duration
	for j := 0; j < 40; j++ {
		idle = append(idle, saveTimed())
		time.Sleep(10 * time.Millisecond)
	}

	done := make(chan error, 1)
	t0 := time.Now()
	go func() {
		for round := 0; round < 100; round++ {
			if _, err := k.syncer.RunOnce(ctx); err != nil {
				done <- err
				return
			}
			if w, _ := k.waiting(t); w == 0 {
				done <- nil
				return
			}
		}
		done <- fmt.Errorf("not drained in 100 rounds")
	}()
	var during []time.Duration
	var drainErr error
loop:
	for {
		select {
		case drainErr = <-done:
			break loop
		default:
		}
		during = append(during, saveTimed())
		// Not faster: every save adds to the queue, and the drain must catch up.
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(t0)
	if drainErr != nil {
		t.Fatalf("drain: %v", drainErr)
	}
	if len(during) == 0 {
		t.Fatalf("no save ran during a drain of %s", took)
	}
	ip50, ip95, imax := quantiles(idle)
	dp50, dp95, dmax := quantiles(during)
	t.Logf("drained %d queued in %s; save latency idle p50 %s p95 %s max %s; during the drain (%d saves) p50 %s p95 %s max %s",
		n, took.Round(time.Millisecond), ip50, ip95, imax, len(during), dp50, dp95, dmax)
	// Not blocked: no save waited for a round (a round holds no write lock
	// for long); a blocked save would wait seconds, up to the busy timeout.
	if dmax > time.Second+10*imax {
		t.Errorf("a save during the drain took %s (idle max %s): intake was held up by the drain", dmax, imax)
	}
	r.drain(5)
	r.finish("11 thirty days offline, then reconnect", 1, false,
		fmt.Sprintf("%d queued drained in %s; save p50/p95/max idle %s/%s/%s, during drain %s/%s/%s (%d saves)",
			n, took.Round(100*time.Millisecond), ip50, ip95, imax, dp50, dp95, dmax, len(during)))
}

func quantiles(d []time.Duration) (p50, p95, max time.Duration) {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	r := func(x time.Duration) time.Duration { return x.Round(100 * time.Microsecond) }
	return r(s[len(s)/2]), r(s[len(s)*95/100]), r(s[len(s)-1])
}
