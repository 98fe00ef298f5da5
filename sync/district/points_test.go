package district_test

import (
	"context"
	"crypto/ed25519"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/keqiao/villagekiosk/internal/pgtest"
	kiosksync "github.com/keqiao/villagekiosk/sync"
)

// rowsShown lists the devices of the monitor's table, in order.
func rowsShown(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`data-device="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestPointsPage runs on SQLite and on PostgreSQL.
func TestPointsPage(t *testing.T) { pgtest.Engines(t, testPointsPage) }

func testPointsPage(t *testing.T, dbURL string) {
	e := newStaffEnvOn(t, dbURL)
	s := signIn(t, e.srv.URL)
	label := map[string]string{}
	for l, id := range e.devices {
		label[id] = l
	}
	labels := func(body string) []string {
		var out []string
		for _, id := range rowsShown(body) {
			out = append(out, label[id])
		}
		return out
	}
	t.Run("OK", func(t *testing.T) {
		p := s.get("/staff/points")
		if p.Status != 200 || len(rowsShown(p.Body)) != 7 {
			t.Fatalf("got %d with %d rows, want 200 with 7", p.Status, len(rowsShown(p.Body)))
		}
		// The month's figures of the fixture, counted by hand: 6 taken, 1
		// refused; 1 即办 done the same day; 2 of 4 due done on time; 0, 5 and
		// 6 working days for the 3 done.
		for _, want := range []string{`id="f-notravel">83.3%`, `id="f-onspot">16.7%`, `id="f-ontime">50.0%`, `（2/4件）`, `id="f-avg">3.7`,
			`id="n-online">3<`, `id="n-stale">3<`, `id="n-warn">1<`, `id="n-revoked">1<`, "2026年11月改革指标"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		// Today and this month at 王化村's first kiosk: 1 and 6.
		row := regexp.MustCompile(`(?s)data-device="` + e.devices["online"] + `".*?</tr>`).FindString(p.Body)
		if !regexp.MustCompile(`(?s)<td class="n">1</td>\s*<td class="n">6</td>`).MatchString(row) {
			t.Errorf("王化村's row should count 1 today and 6 this month: %s", row)
		}
	})
	t.Run("PerPointFigures", func(t *testing.T) {
		p := s.get("/staff/points")
		row := regexp.MustCompile(`(?s)<td><a href="/staff/points\?point=330603101201">王化村</a></td>.*?</tr>`).FindString(p.Body)
		want := `<td class="n">6</td><td class="n">83.3%</td><td class="n">16.7%</td><td class="n">50.0%</td><td class="n">3.7</td>`
		if !strings.Contains(row, want) {
			t.Fatalf("王化村's figures row: %s", row)
		}
	})
	t.Run("EscapesPointNames", func(t *testing.T) {
		p := s.get("/staff/points")
		if strings.Contains(p.Body, `<script>alert`) || !strings.Contains(p.Body, `柯岩&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;村`) {
			t.Fatal("the point name with a script tag is not escaped")
		}
	})
	t.Run("ProblemsOnly", func(t *testing.T) {
		got := strings.Join(labels(s.get("/staff/points?problems=1").Body), ",")
		if got != "script,stale,backlog,never" {
			t.Fatalf("got %s, want script,stale,backlog,never", got)
		}
	})
	t.Run("SortByQueue", func(t *testing.T) {
		if got := labels(s.get("/staff/points?sort=queue").Body); got[0] != "backlog" {
			t.Fatalf("got %v, want the backed-up kiosk first", got)
		}
	})
	t.Run("SortByLastSeen", func(t *testing.T) {
		if got := labels(s.get("/staff/points?sort=seen").Body); got[0] != "never" || got[1] != "revoked" || got[2] != "stale" {
			t.Fatalf("got %v, want the never seen, then the longest silent first", got)
		}
	})
	for _, tc := range []struct{ q, want string }{
		{"湖塘", "stale"}, {"330603104", "backlog"}, {"王化", "offline,online"}, {"<script>", "script"},
		{"' OR 1=1 --", ""}, {"%", ""}, {"_", ""}, {`"; DROP TABLE devices; --`, ""},
	} {
		t.Run("Search "+tc.q, func(t *testing.T) {
			p := s.get("/staff/points?" + url.Values{"q": {tc.q}}.Encode())
			got := labels(p.Body)
			sort.Strings(got)
			if p.Status != 200 || strings.Join(got, ",") != tc.want {
				t.Fatalf("got %d %q, want %q", p.Status, got, tc.want)
			}
		})
	}
	t.Run("StillThereAfterSearches", func(t *testing.T) {
		if n := len(rowsShown(s.get("/staff/points").Body)); n != 7 {
			t.Fatalf("got %d devices, want 7", n)
		}
	})
	t.Run("OnePoint", func(t *testing.T) {
		p := s.get("/staff/points?point=" + codeWanghua)
		got := labels(p.Body)
		sort.Strings(got)
		if strings.Join(got, ",") != "offline,online" || !strings.Contains(p.Body, "王化村（330603101201）") {
			t.Fatalf("got %q", got)
		}
		// All six matters are 王化村's, so its figures are the district's.
		if !strings.Contains(p.Body, `id="f-ontime">50.0%`) {
			t.Error("the point's figures are missing")
		}
		other := s.get("/staff/points?point=" + codeHutang)
		if !strings.Contains(other.Body, `id="f-ontime">—`) || !strings.Contains(other.Body, "受理件数</td><td class=\"big\">0") {
			t.Error("湖塘村 took nothing: its figures should be empty")
		}
	})
	t.Run("ErrUnknownPoint", func(t *testing.T) {
		p := s.get("/staff/points?point=" + url.QueryEscape("<b>x</b>"))
		if p.Status != 200 || !strings.Contains(p.Body, "没有服务点代码为“&lt;b&gt;x&lt;/b&gt;”的终端") || len(rowsShown(p.Body)) != 7 {
			t.Fatalf("got %d", p.Status)
		}
	})
	t.Run("ErrSignedOut", func(t *testing.T) {
		resp, err := noRedirect().Get(e.srv.URL + "/staff/points")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/staff/login") {
			t.Fatalf("got %d %s, want a redirect to the sign-in", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("JustEnrolledIsNotAProblemYet", func(t *testing.T) {
		ctx := context.Background()
		code, _, err := e.st.CreateEnrollCode(ctx, "330603108208", "福全村")
		if err != nil {
			t.Fatal(err)
		}
		_, key, _ := ed25519.GenerateKey(nil)
		k := &kiosksync.Client{BaseURL: e.srv.URL, Key: key, Now: e.clock.Now}
		reply, err := k.Enroll(ctx, code, "1.4.1")
		if err != nil {
			t.Fatal(err)
		}
		p := s.get("/staff/points")
		row := regexp.MustCompile(`(?s)data-device="` + reply.DeviceID + `".*?</tr>`).FindString(p.Body)
		if !strings.Contains(p.Body, `<tr class="off" data-device="`+reply.DeviceID) || !strings.Contains(row, "还没有同步过") {
			t.Fatalf("a kiosk enrolled a moment ago: %s", row)
		}
		if got := strings.Join(labels(s.get("/staff/points?problems=1").Body), ","); got != "script,stale,backlog,never" {
			t.Fatalf("problems: got %s", got)
		}
		e.clock.Set(fixtureNow.Add(25 * time.Hour))
		defer e.clock.Set(fixtureNow)
		// A day on, the session has expired too: sign in again.
		if p := signIn(t, e.srv.URL).get("/staff/points"); !strings.Contains(p.Body, `<tr class="stale" data-device="`+reply.DeviceID) {
			t.Fatal("a day after enrolment with no sync it should be a problem")
		}
	})
}
