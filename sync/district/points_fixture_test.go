package district_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	kiosksync "github.com/keqiao/villagekiosk/sync"
	"github.com/keqiao/villagekiosk/sync/district"
)

// clock is the fake time the district and the fake kiosks share.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, kiosk.ChinaTime)
	if err != nil {
		panic(err)
	}
	return t
}

// fixtureNow is Wednesday 18 November 2026, 10:00 in Keqiao.
var fixtureNow = at("2026-11-18 10:00")

// staffEnv is a district server with kiosks in every state the monitor
// tells apart, enrolled and heard from through the real protocol.
type staffEnv struct {
	st      *district.Store
	srv     *httptest.Server
	clock   *clock
	devices map[string]string // label -> device id
	kiosks  map[string]*kiosksync.Client
	log     *strings.Builder
}

const (
	codeWanghua = "330603101201"
	codeScript  = "330603102202"
	codeHutang  = "330603103203"
	codeHuashe  = "330603104204"
	codeAnchang = "330603105205"
	codeQianqin = "330603106206"
	nameScript  = `柯岩<script>alert("x")</script>村`
)

func newStaffEnv(t testing.TB) *staffEnv { return newStaffEnvOn(t, "") }

// newStaffEnvOn builds it on the engine of dbURL ("" for SQLite).
func newStaffEnvOn(t testing.TB, dbURL string) *staffEnv {
	t.Helper()
	ctx := context.Background()
	st, err := district.OpenDB(ctx, t.TempDir(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: fixtureNow.Add(-20 * 24 * time.Hour)}
	st.Now = c.Now
	var logs strings.Builder
	var logMu sync.Mutex
	logger := log.New(writerFunc(func(p []byte) (int, error) { logMu.Lock(); defer logMu.Unlock(); return logs.Write(p) }), "", 0)
	srv := httptest.NewServer(district.NewHandler(st, district.Options{Name: "柯桥区人力资源和社会保障局", Logger: logger}))
	t.Cleanup(srv.Close)
	e := &staffEnv{st: st, srv: srv, clock: c, devices: map[string]string{}, kiosks: map[string]*kiosksync.Client{}, log: &logs}
	if err := st.AddStaff(ctx, staffUser, staffName, staffPassword); err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct{ label, code, name string }{
		{"online", codeWanghua, "王化村"}, {"offline", codeWanghua, "王化村"}, {"script", codeScript, nameScript},
		{"stale", codeHutang, "湖塘村"}, {"backlog", codeHuashe, "华舍村"}, {"revoked", codeAnchang, "安昌村"},
		{"never", codeQianqin, "钱清村"},
	} {
		code, _, err := st.CreateEnrollCode(ctx, d.code, d.name)
		if err != nil {
			t.Fatal(err)
		}
		_, key, _ := ed25519.GenerateKey(nil)
		k := &kiosksync.Client{BaseURL: srv.URL, Key: key, Now: c.Now}
		reply, err := k.Enroll(ctx, code, "1.4.0")
		if err != nil {
			t.Fatal(err)
		}
		k.DeviceID = reply.DeviceID
		e.devices[d.label], e.kiosks[d.label] = reply.DeviceID, k
	}
	// Submissions of this month from 王化村, each moved on by the district
	// at the time given.
	type step struct{ status, at string }
	for i, s := range []struct {
		matter, created string
		steps           []step
	}{
		{"3306211202-01", "2026-11-02 09:10", []step{{"accepted", "2026-11-02 09:30"}, {"done", "2026-11-02 15:00"}}},       // 即办, same day
		{"3306211201-01", "2026-11-03 10:00", []step{{"accepted", "2026-11-03 11:00"}, {"done", "2026-11-10 16:00"}}},       // 10 days: on time (5 working days)
		{"3306211202-03", "2026-11-04 10:00", []step{{"accepted", "2026-11-04 11:00"}, {"done", "2026-11-12 10:00"}}},       // 3 days: late (6 working days)
		{"3306211201-01", "2026-11-05 10:00", []step{{"refused", "2026-11-05 14:00"}}},                                      // refused
		{"3306211202-03", "2026-11-09 10:00", []step{{"accepted", "2026-11-09 11:00"}, {"in_progress", "2026-11-10 9:00"}}}, // open, due 11-12: overdue
		{"3306211201-01", "2026-11-18 08:30", nil},                                                                          // today, just received
	} {
		c.Set(at(s.created))
		sub := &kiosk.Submission{ID: fmt.Sprintf("sub-%d", i), ReceiptNo: fmt.Sprintf("%s-%s-%04d", codeWanghua, at(s.created).Format("20060102"), i+1),
			PointCode: codeWanghua, Matter: s.matter, MatterName: "事项", CatalogVersion: "2026.1", CreatedAt: at(s.created).UTC(), Status: kiosk.StatusPending}
		if _, err := postSealed(ctx, e.kiosks["online"], e.st.SealKey(), sub); err != nil {
			t.Fatal(err)
		}
		for _, st := range s.steps {
			c.Set(at("2026-11-" + strings.TrimPrefix(st.at, "2026-11-")))
			note := ""
			if st.status == "refused" {
				note = "不符合申领条件"
			}
			if err := e.st.SetStatus(ctx, sub.ReceiptNo, st.status, note, "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	beat := func(label string, when time.Time, hb kiosksync.Heartbeat) {
		t.Helper()
		c.Set(when)
		if hb.AppVersion == "" {
			hb.AppVersion = "1.4.0"
		}
		if hb.Printer == "" {
			hb.Printer = "escpos-usb 58"
		}
		hb.LastSync, hb.DiskFree = when, 40<<30
		if err := e.kiosks[label].SendHeartbeat(ctx, hb); err != nil {
			t.Fatal(err)
		}
	}
	beat("stale", fixtureNow.Add(-3*24*time.Hour-2*time.Hour), kiosksync.Heartbeat{AppVersion: "1.3.2"})
	beat("offline", fixtureNow.Add(-3*time.Hour), kiosksync.Heartbeat{})
	beat("revoked", fixtureNow.Add(-10*24*time.Hour), kiosksync.Heartbeat{})
	beat("online", fixtureNow.Add(-2*time.Minute), kiosksync.Heartbeat{AppVersion: "1.4.1"})
	beat("script", fixtureNow.Add(-4*time.Minute), kiosksync.Heartbeat{ClockOffset: -431, Printer: "cups A5"})
	beat("backlog", fixtureNow.Add(-1*time.Minute), kiosksync.Heartbeat{Queue: 7, OldestUnsent: fixtureNow.Add(-2*24*time.Hour - 5*time.Hour)})
	c.Set(fixtureNow.Add(-2 * 24 * time.Hour))
	if err := st.Revoke(ctx, e.devices["revoked"]); err != nil {
		t.Fatal(err)
	}
	c.Set(fixtureNow)
	return e
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// staffClient is a signed-in staff member's browser, without JavaScript.
// signIn is the one place that knows how the sign-in works.
type staffClient struct {
	t    testing.TB
	base string
	c    *http.Client
}

// The staff account every test environment has.
const (
	staffUser     = "zhangwei"
	staffName     = "张伟"
	staffPassword = "keqiao-2026-rs"
)

// signIn signs in through the real sign-in form, keeping the session
// cookie in a jar as a browser would.
func signIn(t testing.TB, base string) *staffClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &staffClient{t: t, base: base, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}
	p := s.post("/staff/login", url.Values{"username": {staffUser}, "password": {staffPassword}})
	if p.Status != http.StatusSeeOther || p.Location != "/staff/" {
		t.Fatalf("sign in: %d %s %s", p.Status, p.Location, p.Body)
	}
	return s
}

type page struct {
	Status   int
	Body     string
	Location string
}

func (s *staffClient) do(req *http.Request) page {
	s.t.Helper()
	resp, err := s.c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{Status: resp.StatusCode, Body: string(b), Location: resp.Header.Get("Location")}
}

func (s *staffClient) get(path string) page {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.base+path, nil)
	return s.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token from a page's form, as a browser would send it.
func (s *staffClient) csrf(path string) string {
	s.t.Helper()
	m := csrfField.FindStringSubmatch(s.get(path).Body)
	if m == nil {
		s.t.Fatalf("no csrf field on %s", path)
	}
	return m[1]
}

func (s *staffClient) post(path string, form url.Values) page {
	s.t.Helper()
	req, _ := http.NewRequest("POST", s.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.do(req)
}

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// audited counts the audit log's lines about subject with action, each by
// the signed-in staff member.
func (e *staffEnv) audited(t testing.TB, subject, action string) int {
	t.Helper()
	lines, err := e.st.StaffAuditLog(context.Background(), subject, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range lines {
		if l.Action == action {
			if l.Username != staffUser {
				t.Errorf("audit line by %q, want %q", l.Username, staffUser)
			}
			n++
		}
	}
	return n
}
