package faults

import (
	"bufio"
	"math/rand/v2"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// killAt starts a kiosk command and kills it with SIGKILL after d; it
// returns what the command printed before it died, and whether the kill
// found it still running.
func (r *rig) killAt(d time.Duration, args ...string) (string, bool) {
	cmd := exec.Command(kioskBin, append(args, "--data", r.kdata)...)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(d)
	cmd.Process.Signal(syscall.SIGKILL)
	var out []string
	for l := range lines {
		out = append(out, l)
	}
	err := cmd.Wait()
	killed := false
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			killed = true
		}
	}
	return strings.Join(out, "\n"), killed
}

// TestKioskKilled (fault 1) kills the kiosk with SIGKILL at random moments
// while it saves a submission, uploads the queue, and applies the change
// feed. After every kill the database must pass SQLite's check without
// being moved aside and the feed cursor must not claim more than the kiosk
// shows; at the end every printed receipt is at the district once, whole,
// with the district's status on the kiosk.
func TestKioskKilled(t *testing.T) {
	r := newRig(t, "")
	r.submitN(3, 600_000) // three chunks each
	kills := times(12, 300)
	phases := map[string]int{}
	hit := 0 // kills that found the process still running
	for i := 0; i < kills; i++ {
		wait := time.Duration(rand.IntN(150)) * time.Millisecond
		switch i % 3 {
		case 0: // in the middle of a save
			file := r.submissionFile(300_000)
			wait = time.Duration(rand.IntN(100)) * time.Millisecond
			phases["save"]++
			out, killed := r.killAt(wait, "submit", "--json", file)
			if out = strings.TrimSpace(out); out != "" {
				r.ack(out)
			}
			if killed {
				hit++
			}
			// The agent saw no receipt and taps 保存 again: the same draft.
			r.ack(strings.TrimSpace(r.kiosk("submit", "--json", file)))
		case 1: // uploading
			r.submit(600_000)
			phases["upload"]++
			if _, killed := r.killAt(wait, "sync", "--once"); killed {
				hit++
			}
		case 2: // applying the change feed
			r.advanceStatuses(40)
			phases["feed"]++
			if _, killed := r.killAt(wait, "sync", "--once"); killed {
				hit++
			}
		}
		if bad := cursorCovers(t, r.kdata, r.ddata, r.deviceID); bad > 0 {
			t.Fatalf("after kill %d the cursor ran ahead of the data", i+1)
		}
	}
	r.drain(20)
	r.finish("1 kiosk SIGKILL (save, upload, feed)", kills, false,
		"kills in save/upload/feed: "+itoa(phases["save"])+"/"+itoa(phases["upload"])+"/"+itoa(phases["feed"])+"; "+itoa(hit)+" found it mid-work; integrity and cursor checked after each")
	if hit < kills/4 {
		t.Errorf("only %d of %d kills found the kiosk still working: the kills came too late to test much", hit, kills)
	}
}
