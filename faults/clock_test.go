package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// skewed is a kiosk clock that runs with the real one at an offset the
// test changes at any moment (NTP correcting it, a dead RTC battery).
type skewed struct{ off atomic.Int64 }

func (s *skewed) Now() time.Time      { return time.Now().Add(time.Duration(s.off.Load())) }
func (s *skewed) set(d time.Duration) { s.off.Store(int64(d)) }

// to1970 is how far back the clock of a kiosk whose RTC battery died is.
var to1970 = time.Until(time.Date(1970, 1, 1, 8, 0, 0, 0, time.UTC))

// TestClockSkew (fault 7): the kiosk's clock is a day ahead, a day behind,
// in 1970, or jumps in the middle of a round. Saves work, requests are
// stamped with the district's time learnt at the pre-check, and the queue
// drains in scheduled rounds (no person pressing 立即同步), also when the
// clock was moved back after a submission was deferred.
func TestClockSkew(t *testing.T) {
	r := newRig(t, "")
	p := newFaultProxy(t, r.url())
	ctx := context.Background()
	clk := &skewed{}
	k := r.open(p.url(), clk.Now)
	offsets := map[string]time.Duration{"a day ahead": 24 * time.Hour, "a day behind": -24 * time.Hour, "1970": to1970}
	injected, refused := 0, 0
	rounds := func(name string) {
		t.Helper()
		for i := 0; i < 6; i++ {
			if _, err := k.syncer.RunOnce(ctx); err == nil {
				if w, _ := k.waiting(t); w == 0 {
					return
				}
			}
		}
		w, _ := k.waiting(t)
		rep, err := k.syncer.RunOnce(ctx)
		var row string
		k.db.SQL().QueryRow(`SELECT seq || ' ' || attempts || ' ' || coalesce(next_attempt_at, '') || ' ' || coalesce(last_error, '') FROM outbox WHERE parked = 0`).Scan(&row)
		t.Errorf("%s: %d submissions still wait after six scheduled rounds (last round %+v %v; %s)", name, w, rep, err, row)
	}

	for i := 0; i < times(1, 10); i++ {
		for name, off := range offsets {
			clk.set(off)
			for _, size := range []int{0, 300_000} {
				_, err := r.save(t, k, size)
				switch {
				case err != nil && off == to1970 && strings.Contains(err.Error(), "不合理"):
					// Known gap: with the clock in 1970 a birth date of 1980
					// and a leave date of 2026 are "in the future", and the
					// save is refused in plain words (nothing is lost: the
					// villager was not told it was saved).
					refused++
				case err != nil:
					t.Errorf("%s: save: %v", name, err)
				}
			}
			injected++
			rounds(name)
		}

		// The clock jumps in the middle of a round, at the first chunk.
		for name, off := range offsets {
			clk.set(0)
			r.save(t, k, 0)
			r.save(t, k, 300_000)
			p.set(func(w http.ResponseWriter, req *http.Request, _ []byte) bool {
				if req.Method == http.MethodPut {
					clk.set(off)
					p.set(nil)
				}
				return false
			})
			injected++
			rounds("jump to " + name)
		}
	}

	// Deferred, then the clock moves back (NTP fixes a clock that ran ahead,
	// or the RTC battery dies): the deferred one still goes, in scheduled
	// rounds. Each case waits out a real backoff (up to 11 s), so the short
	// suite takes one of the three at random.
	setBack := [][2]time.Duration{{24 * time.Hour, 0}, {0, to1970}, {0, -24 * time.Hour}}
	setBackName := []string{"ahead, then corrected", "right, then 1970", "right, then a day back"}
	order := rand.Perm(3)
	if !full {
		order = order[:1]
	}
	for _, c := range order {
		name, pair := setBackName[c], setBack[c]
		clk.set(pair[0])
		r.save(t, k, 0)
		p.set(func(w http.ResponseWriter, req *http.Request, _ []byte) bool {
			if req.Method == http.MethodPost && req.URL.Path == "/v1/submissions" {
				answer(w, http.StatusServiceUnavailable, "")
				return true
			}
			return false
		})
		if _, err := k.syncer.RunOnce(ctx); err == nil {
			t.Fatalf("%s: the round succeeded through the 503", name)
		}
		p.set(nil)
		clk.set(pair[1])
		injected++
		// Scheduled rounds once the backoff has passed by the district's
		// clock (at most 11 s for a first failure).
		waitBackoff(t, k)
		rounds("deferred, " + name)
	}
	clk.set(0)
	r.drain(5)
	r.finish("7 kiosk clock skew (day ahead/behind, 1970, jumps)", injected, false,
		fmt.Sprintf("rounds with the clock +1 day, -1 day, 1970; jumps mid-round; clock set back after a deferral (fixed: retry times by the district's clock); %d saves refused in 1970 (gap)", refused))
}

// waitBackoff sleeps until every deferred submission is due by the
// district's clock as the kiosk learnt it; more than 12 s is a stall.
func waitBackoff(t *testing.T, k *inproc) {
	t.Helper()
	var next string
	k.db.SQL().QueryRow(`SELECT coalesce(max(next_attempt_at), '') FROM outbox WHERE parked = 0`).Scan(&next)
	at, err := time.Parse(time.RFC3339Nano, next)
	if err != nil {
		return
	}
	wait := time.Until(at) // districtd runs on this machine's real clock
	if wait > 12*time.Second {
		t.Errorf("the deferred submission waits %s by the district's clock; a first backoff is at most 11 s", wait.Round(time.Second))
		return
	}
	time.Sleep(wait + time.Second) // the offset is learnt to the second
}
