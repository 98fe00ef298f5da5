package faults

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a kiosk clock the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestDistrictAnswers (fault 4): the district (its store and handler, in
// this process, for its clock) answers 500, 503, 429 with
// Retry-After, or a Wi-Fi login page answers 200 in its place. The kiosk
// defers (never parks); a 500 is that submission's and the round goes on,
// the others end it; waits at least as long as it was told or its
// backoff says before trying that submission again, sends nothing to the
// login page but the pre-check, and drains once the district is back.
func TestDistrictAnswers(t *testing.T) {
	r := newRig(t, "")
	p := newFaultProxy(t, r.url())
	c := &clock{t: time.Now()}
	// One clock for both ends, moved by hand past backoffs of hours: the
	// district runs in this process on districtd's data and address.
	back := r.districtInProcess(c.Now)
	k := r.open(p.url(), c.Now)
	ctx := context.Background()

	cases := []struct {
		name, route string
		status      int
		retryAfter  string
		minWait     time.Duration
	}{
		{"500", "POST /v1/submissions", 500, "", time.Second},
		{"503", "PUT /v1/attachments", 503, "", time.Second},
		{"429 Retry-After", "POST /v1/submissions", 429, "120", 120 * time.Second},
		{"portal", "", 200, "", 0},
	}
	injected := 0
	for _, cs := range cases {
		for i := 0; i < times(2, 15); i++ {
			r.save(t, k, 0)
			r.save(t, k, 300_000)
			p.reset()
			p.set(func(w http.ResponseWriter, req *http.Request, _ []byte) bool {
				if cs.route == "" {
					portal(w)
					return true
				}
				if req.Method+" "+routeOf(req.URL.Path) == cs.route {
					answer(w, cs.status, cs.retryAfter)
					return true
				}
				return false
			})
			rep, err := k.syncer.RunOnce(ctx)
			injected++
			switch {
			case cs.status == 500:
				// A fault of the item, not of the district: the round goes on
				// with the others, deferring each that meets it.
				if err != nil || rep.Deferred == 0 || rep.Uploaded != 0 {
					t.Fatalf("500: round %+v %v; want every submission deferred and the round finished", rep, err)
				}
			case err == nil:
				t.Fatalf("%s: the round succeeded", cs.name)
			}
			if len(rep.Parked) > 0 {
				t.Fatalf("%s: parked %v; a passing fault must only defer", cs.name, rep.Parked)
			}
			if cs.route == "" {
				if !strings.Contains(err.Error(), "did not come from the district") {
					t.Errorf("portal: %v", err)
				}
				for _, route := range []string{"PUT /v1/attachments", "POST /v1/submissions", "GET /v1/attachments", "GET /v1/changes", "POST /v1/heartbeat"} {
					if n := p.count(route); n > 0 {
						t.Errorf("portal: %d %s requests went to the login page", n, route)
					}
				}
				p.set(nil)
				continue
			}
			// The submission that met the fault waits its backoff.
			var seq int64
			var next string
			if err := k.db.SQL().QueryRow(`SELECT seq, next_attempt_at FROM outbox WHERE attempts > 0 AND parked = 0 ORDER BY seq DESC LIMIT 1`).Scan(&seq, &next); err != nil {
				t.Fatalf("%s: no deferred submission: %v", cs.name, err)
			}
			at, _ := time.Parse(time.RFC3339Nano, next)
			if wait := at.Sub(c.Now()); wait < cs.minWait {
				t.Errorf("%s: retried after %s, want at least %s", cs.name, wait, cs.minWait)
			}
			p.set(nil) // the district is back
			if _, err := k.syncer.RunOnce(ctx); err != nil {
				t.Fatalf("%s: round after recovery: %v", cs.name, err)
			}
			var still int
			k.db.SQL().QueryRow(`SELECT count(*) FROM outbox WHERE seq = ?`, seq).Scan(&still)
			if still != 1 {
				t.Errorf("%s: the deferred submission was sent again before its time", cs.name)
			}
			c.add(2 * time.Hour) // past any backoff (at most about 1.4 hours)
			if _, err := k.syncer.RunOnce(ctx); err != nil {
				t.Fatalf("%s: round after the backoff: %v", cs.name, err)
			}
			if w, _ := k.waiting(t); w != 0 {
				t.Errorf("%s: %d still waiting after the backoff", cs.name, w)
			}
		}
	}
	back()
	r.drain(5)
	r.finish("4 district 500/503/429/Wi-Fi login page", injected, false,
		"deferred, never parked; a 500 defers that submission and the round goes on, 503/429 end it; Retry-After and backoff honoured; only the pre-check reached the login page")
}
