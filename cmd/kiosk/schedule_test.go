package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/sync/district"
)

// TestSyncWhenConnectionReturns: with the district unreachable the first
// round fails and the window says so; once the district answers again a
// round runs on its own (the reconnect check), well before the next
// scheduled one, and uploads what waited.
func TestSyncWhenConnectionReturns(t *testing.T) {
	ctx := context.Background()
	st := districtStore(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	srv := &http.Server{Handler: district.NewHandler(st, district.Options{})}
	go srv.Serve(l)

	data := setUpKiosk(t)
	code, _, _ := st.CreateEnrollCode(ctx, "330603101201", "王化村便民服务中心")
	if c, _, errOut := run(t, "enroll", "--district", "http://"+addr, "--code", code, "--data", data); c != 0 {
		t.Fatal(errOut)
	}
	srv.Close() // the village line goes down
	if c, _, errOut := run(t, "submit", "--json", "../../docs/examples/submission.json", "--data", data); c != 0 {
		t.Fatal(errOut)
	}

	shortenSync(t, time.Hour, 50*time.Millisecond) // no scheduled round during the test

	s := servicesOf(t, data)
	type state struct {
		online  bool
		waiting int
	}
	var mu sync.Mutex
	var seen []state
	sched, _, err := s.startSync(ctx, func(online bool, waiting int, _ time.Time, _ string) {
		mu.Lock()
		seen = append(seen, state{online, waiting})
		mu.Unlock()
	}, func(int64, int64) {})
	if err != nil || sched == nil {
		t.Fatalf("start sync: %v", err)
	}
	defer sched.Shutdown()
	last := func() (state, int) {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) == 0 {
			return state{}, 0
		}
		return seen[len(seen)-1], len(seen)
	}
	waitFor := func(what string, ok func(state, int) bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if ok(last()) {
				return
			}
		}
		s, n := last()
		t.Fatalf("%s: after %d rounds the last said %+v", what, n, s)
	}
	waitFor("the first round, offline", func(s state, n int) bool { return n >= 1 && !s.online && s.waiting == 1 })

	l, err = net.Listen("tcp", addr) // the line comes back
	if err != nil {
		t.Fatal(err)
	}
	back := &http.Server{Handler: district.NewHandler(st, district.Options{})}
	go back.Serve(l)
	defer back.Close()
	waitFor("a round once the district answers", func(s state, n int) bool { return n >= 2 && s.online && s.waiting == 0 })
	if list, _ := st.Submissions(ctx); len(list) != 1 {
		t.Fatalf("the district has %d submissions after reconnecting, want 1", len(list))
	}
}

// TestEnrollFromSettings: the settings screen's 接入区平台 enrols through the
// same path as `kiosk enroll`, and a technician's mistakes come back in
// Chinese saying what to do.
func TestEnrollFromSettings(t *testing.T) {
	ctx := context.Background()
	st := districtStore(t)
	srv := httptest.NewServer(district.NewHandler(st, district.Options{}))
	defer srv.Close()
	s := servicesOf(t, setUpKiosk(t))
	code, _, _ := st.CreateEnrollCode(ctx, "330603101201", "王化村便民服务中心")
	for _, tc := range []struct{ base, code, want string }{
		{"http://rs.keqiao.example", code, "https://"},
		{srv.URL, "", "请填写区里发的登记码"},
		{srv.URL, "WRONGCODE9", "登记码不对"},
		{"http://127.0.0.1:1", code, "连不上区平台"},
	} {
		_, err := s.enroll(ctx, tc.base, tc.code, "")
		if err == nil || !strings.Contains(kiosk.ErrorMessage(enrollProblem(err)), tc.want) {
			t.Errorf("%s %q: %v, want %q", tc.base, tc.code, err, tc.want)
		}
	}
	e, err := s.enroll(ctx, srv.URL, code, "")
	if err != nil || e.pointCode != "330603101201" {
		t.Fatalf("enrol: %+v %v", e, err)
	}
	if key, _ := s.settings.Get(ctx, kiosk.SettingSealKey); key == "" {
		t.Fatal("enrolled without the district's sealing key")
	}
	other, _, _ := st.CreateEnrollCode(ctx, "330603101299", "别的村")
	if _, err := s.enroll(ctx, srv.URL, other, ""); err == nil || !strings.Contains(kiosk.ErrorMessage(enrollProblem(err)), "不是给本服务点的") {
		t.Fatalf("a code for another point: %v", err)
	}
}

// TestRoundsNeverOverlap: however often a round is asked for (saves, 立即同步)
// and however slow the district, one round runs at a time (gocron's
// singleton mode), and rounds go on by themselves on the jittered interval.
func TestRoundsNeverOverlap(t *testing.T) {
	ctx := context.Background()
	st := districtStore(t)
	h := district.NewHandler(st, district.Options{})
	var mu sync.Mutex
	inFlight, most, rounds := 0, 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/hello" {
			mu.Lock()
			inFlight++
			rounds++
			most = max(most, inFlight)
			mu.Unlock()
			time.Sleep(150 * time.Millisecond) // a slow village line
			defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	data := setUpKiosk(t)
	code, _, _ := st.CreateEnrollCode(ctx, "330603101201", "王化村便民服务中心")
	if c, _, errOut := run(t, "enroll", "--district", srv.URL, "--code", code, "--data", data); c != 0 {
		t.Fatal(errOut)
	}
	mu.Lock()
	rounds = 0 // enrolment's own pre-check
	mu.Unlock()

	shortenSync(t, 100*time.Millisecond, time.Hour)
	s := servicesOf(t, data)
	sched, syncNow, err := s.startSync(ctx, func(bool, int, time.Time, string) {}, func(int64, int64) {})
	if err != nil || sched == nil {
		t.Fatalf("start sync: %v", err)
	}
	for i := 0; i < 10; i++ {
		syncNow()
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	sched.Shutdown()
	mu.Lock()
	defer mu.Unlock()
	if most != 1 || rounds < 3 {
		t.Fatalf("%d rounds, at most %d at once; want several, one at a time", rounds, most)
	}
}

// districtStore is a district's store on SQLite in a temporary folder.
func districtStore(t *testing.T) *district.Store {
	t.Helper()
	st, err := district.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// servicesOf opens the kiosk's services on data, as the window does.
func servicesOf(t *testing.T, data string) *services {
	t.Helper()
	f := newFlags("test")
	f.parse([]string{"--data", data})
	s, err := openServices(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// shortenSync runs rounds every round to 2×round and the reconnect check
// every probe to 2×probe for the test.
func shortenSync(t *testing.T, round, probe time.Duration) {
	saved := syncTimes
	syncTimes.roundMin, syncTimes.roundMax = round, 2*round
	syncTimes.probeMin, syncTimes.probeMax = probe, 2*probe
	t.Cleanup(func() { syncTimes = saved })
}
