package district_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/pgtest"
)

// TestStaffSignIn: no session goes to the sign-in page; a wrong password is
// refused without saying whether the user exists; five failures lock the
// name for a while even with the right password; signing out ends the
// session.
func TestStaffSignIn(t *testing.T) {
	e := newStaffEnv(t)
	anon := &staffClient{t: t, base: e.srv.URL, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if p := anon.get("/staff/"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/staff/login") {
		t.Fatalf("no session: %d %s", p.Status, p.Location)
	}
	wrongUser := anon.post("/staff/login", url.Values{"username": {"nobody"}, "password": {"whatever-123"}})
	wrongPass := anon.post("/staff/login", url.Values{"username": {staffUser}, "password": {"whatever-123"}})
	if wrongUser.Status != 401 || wrongPass.Status != 401 || !strings.Contains(wrongPass.Body, "用户名或密码不对") {
		t.Fatalf("wrong password: %d %d", wrongUser.Status, wrongPass.Status)
	}
	for i := 0; i < 4; i++ {
		anon.post("/staff/login", url.Values{"username": {staffUser}, "password": {"guess-" + string(rune('a'+i))}})
	}
	locked := anon.post("/staff/login", url.Values{"username": {staffUser}, "password": {staffPassword}})
	if locked.Status != http.StatusTooManyRequests || !strings.Contains(locked.Body, "15分钟") {
		t.Fatalf("after five failures the right password got %d", locked.Status)
	}
	e.clock.Set(e.clock.Now().Add(16 * time.Minute))
	s := signIn(t, e.srv.URL)
	if p := s.get("/staff/"); p.Status != 200 || !strings.Contains(p.Body, staffName) {
		t.Fatalf("inbox after sign-in: %d", p.Status)
	}
	s.post("/staff/logout", url.Values{"csrf": {s.csrf("/staff/")}})
	if p := s.get("/staff/"); p.Status != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", p.Status)
	}
	// An idle session ends after 30 minutes.
	s = signIn(t, e.srv.URL)
	e.clock.Set(e.clock.Now().Add(31 * time.Minute))
	if p := s.get("/staff/"); p.Status != http.StatusSeeOther {
		t.Fatalf("after 31 idle minutes: %d", p.Status)
	}
	log, _ := e.st.StaffAuditLog(context.Background(), "", 50)
	var actions []string
	for _, l := range log {
		actions = append(actions, l.Action)
	}
	if got := strings.Join(actions, ","); !strings.Contains(got, "sign_in_failed") || !strings.Contains(got, "sign_out") {
		t.Fatalf("audit: %s", got)
	}
}

// receivedID is the fixture's submission received today and not yet moved.
const receivedID = "sub-5"

// TestStaffReturn: returning a matter needs a reason; the reason, with any
// markup in it, is shown as text; the change reaches the kiosk's feed with
// the reason and the staff member; illegal moves and forms without the
// CSRF token change nothing.
func TestStaffReturn(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	s := signIn(t, e.srv.URL)
	path := "/staff/submissions/" + receivedID
	detail := s.get(path)
	if detail.Status != 200 || !strings.Contains(detail.Body, "退回补正") || !strings.Contains(detail.Body, "受理") {
		t.Fatalf("detail: %d", detail.Status)
	}
	token := s.csrf(path)
	if p := s.post(path+"/status", url.Values{"status": {kiosk.StatusReturned}}); p.Status != 403 {
		t.Fatalf("no csrf: %d", p.Status)
	}
	if p := s.post(path+"/status", url.Values{"csrf": {token}, "status": {kiosk.StatusReturned}}); p.Status != 400 || !strings.Contains(p.Body, "请写明原因") {
		t.Fatalf("no reason: %d", p.Status)
	}
	other := signIn(t, e.srv.URL)
	if p := other.post(path+"/status", url.Values{"csrf": {token}, "status": {kiosk.StatusAccepted}}); p.Status != 403 {
		t.Fatalf("another session's token: %d", p.Status)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+path+"/status", strings.NewReader(url.Values{"csrf": {token}, "status": {kiosk.StatusAccepted}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if p := s.do(req); p.Status != 403 {
		t.Fatalf("cross-site post: %d", p.Status)
	}
	reason := `请补交户口簿<script>alert(1)</script>"><img src=x onerror=alert(1)>`
	p := s.post(path+"/status", url.Values{"csrf": {token}, "status": {kiosk.StatusReturned}, "note": {reason}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("return: %d %s", p.Status, p.Body)
	}
	after := s.get(p.Location)
	if strings.Contains(after.Body, "<script>alert(1)") || strings.Contains(after.Body, "<img src=x") || !strings.Contains(after.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatal("the reason was not escaped on the detail page")
	}
	if strings.Contains(after.Body, `value="accepted"`) {
		t.Fatal("a returned matter still offers 受理")
	}
	if p := s.post(path+"/status", url.Values{"csrf": {token}, "status": {kiosk.StatusDone}}); p.Status != http.StatusConflict {
		t.Fatalf("done after returned: %d", p.Status)
	}
	feed, err := e.kiosks["online"].Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := feed.Changes[len(feed.Changes)-1]
	if last.SubmissionID != receivedID || last.Status != kiosk.StatusReturned || last.Note != reason {
		t.Fatalf("the kiosk's feed ends with %+v", last)
	}
	d, _ := e.st.Detail(ctx, receivedID)
	if h := d.History[len(d.History)-1]; h.Operator != staffUser {
		t.Fatalf("operator %q", h.Operator)
	}
	log, _ := e.st.StaffAuditLog(ctx, d.Submission.ReceiptNo, 20)
	audited := false
	for _, l := range log {
		audited = audited || (l.Action == "status:returned" && l.Username == staffUser && l.IP == "127.0.0.1" && l.Detail == reason)
	}
	if !audited {
		t.Fatalf("the return is not in the audit log: %+v", log)
	}
}

// TestStaffInbox: filters narrow the list; what staff type in the boxes,
// SQL and LIKE wildcards included, is matched as text.
func TestStaffInbox(t *testing.T) {
	e := newStaffEnv(t)
	s := signIn(t, e.srv.URL)
	all := s.get("/staff/")
	if n := strings.Count(all.Body, "data-receipt="); n != 6 {
		t.Fatalf("inbox shows %d rows, want 6", n)
	}
	if !strings.Contains(all.Body, `class="overdue"`) {
		t.Fatal("the overdue matter is not marked")
	}
	for q, want := range map[string]int{
		"status=refused":                                             1,
		"status=received":                                            1,
		"receipt=" + url.QueryEscape("20261105"):                     1,
		"point=" + codeWanghua:                                       6,
		"point=" + url.QueryEscape("%"):                              0,
		"receipt=" + url.QueryEscape("_"):                            0,
		"receipt=" + url.QueryEscape("' OR 1=1 --"):                  0,
		"matter=" + url.QueryEscape(`"; DROP TABLE submissions; --`): 0,
		"from=2026-11-09&to=2026-11-18":                              2,
	} {
		p := s.get("/staff/?" + q)
		if n := strings.Count(p.Body, "data-receipt="); p.Status != 200 || n != want {
			t.Errorf("%s: %d rows (status %d), want %d", q, n, p.Status, want)
		}
	}
	if p := s.get("/staff/?from=yesterday"); p.Status != 200 || !strings.Contains(p.Body, "格式不对") {
		t.Fatalf("a bad date: %d", p.Status)
	}
	if n := strings.Count(s.get("/staff/").Body, "data-receipt="); n != 6 {
		t.Fatalf("the table is gone after the searches: %d rows", n)
	}
}

// TestStaffAttachment: a submission's scan opens in the browser with a
// safe type; a file of another submission, a made-up hash and a path trick
// are refused.
func TestStaffAttachment(t *testing.T) {
	e := newStaffEnv(t)
	ctx := context.Background()
	k := e.kiosks["online"]
	scan := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("scan"), 500)...)
	sum := sha256.Sum256(scan)
	sha := hex.EncodeToString(sum[:])
	if err := putSealed(ctx, k, e.st.SealKey(), sha, scan); err != nil {
		t.Fatal(err)
	}
	// A file whose bytes are not what its record says, and a Word file.
	fake, doc := []byte("<html><script>alert(1)</script></html>"), []byte("\xD0\xCF\x11\xE0 a word file")
	fakeSHA, docSHA := hex.EncodeToString(sha256Of(fake)), hex.EncodeToString(sha256Of(doc))
	for sha, data := range map[string][]byte{fakeSHA: fake, docSHA: doc} {
		if err := putSealed(ctx, k, e.st.SealKey(), sha, data); err != nil {
			t.Fatal(err)
		}
	}
	sub := &kiosk.Submission{ID: "with-scan", ReceiptNo: codeWanghua + "-20261118-0099", Matter: "3306211201-01", MatterName: "事项",
		Materials: []kiosk.MaterialRecord{{Name: "居民身份证", Received: true, Attachments: []kiosk.Attachment{{SHA256: sha, Name: "id.jpg", MIME: "image/jpeg", Size: int64(len(scan))},
			{SHA256: fakeSHA, Name: "photo.png", MIME: "image/png", Size: int64(len(fake))},
			{SHA256: docSHA, Name: "证明.doc", MIME: "application/msword", Size: int64(len(doc))}}}}}
	if _, err := postSealed(ctx, k, e.st.SealKey(), sub); err != nil {
		t.Fatal(err)
	}
	s := signIn(t, e.srv.URL)
	req, _ := http.NewRequest("GET", e.srv.URL+"/staff/submissions/with-scan/attachments/"+sha, nil)
	resp, err := s.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("attachment: %d %v", resp.StatusCode, resp.Header)
	}
	for _, h := range []string{fakeSHA, docSHA} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/staff/submissions/with-scan/attachments/"+h, nil)
		resp, err := s.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") || (h == fakeSHA && string(body) != string(fake)) {
			t.Errorf("a file that is not what a browser may show: %v", resp.Header)
		}
	}
	detail := s.get("/staff/submissions/with-scan")
	if strings.Count(detail.Body, "<img ") != 2 || !strings.Contains(detail.Body, "📄 证明.doc") {
		t.Errorf("thumbnails: %d images, want the JPEG and the PNG; a Word file must show as a link", strings.Count(detail.Body, "<img "))
	}
	for _, path := range []string{
		"/staff/submissions/" + receivedID + "/attachments/" + sha, // another submission's file
		"/staff/submissions/with-scan/attachments/" + strings.Repeat("ab", 32),
		"/staff/submissions/with-scan/attachments/..%2f..%2fdistrict.db",
	} {
		if p := s.get(path); p.Status != 404 {
			t.Errorf("%s: %d", path, p.Status)
		}
	}
}

// TestStaffTooLarge: a post over what a staff form allows is told as too
// large, not as an expired form, and nothing is kept.
func TestStaffTooLarge(t *testing.T) {
	e := newStaffEnv(t)
	s := signIn(t, e.srv.URL)
	p := s.upload("/staff/catalog/upload", "catalog", "huge.json", bytes.Repeat([]byte(" "), 9<<20), s.csrf("/staff/catalog"))
	if p.Status != http.StatusRequestEntityTooLarge || !strings.Contains(p.Body, "没有保存") || strings.Contains(p.Body, "已失效") {
		t.Fatalf("a 9 MB upload: %d %s", p.Status, p.Body)
	}
	path := "/staff/submissions/" + receivedID
	p = s.post(path+"/status", url.Values{"csrf": {s.csrf(path)}, "status": {kiosk.StatusReturned}, "note": {strings.Repeat("补", 3<<20)}})
	if p.Status != http.StatusRequestEntityTooLarge || !strings.Contains(p.Body, "太大") {
		t.Fatalf("a 9 MB form: %d", p.Status)
	}
	if d, _ := e.st.Detail(context.Background(), receivedID); d.Status != kiosk.StatusReceived {
		t.Fatalf("the matter moved to %s", d.Status)
	}
}

// TestStaffConcurrentMoves: staff moving the same matter at once (two
// offices, or a double click on two tabs) make one move: the status is
// checked where it is changed, so the others get 409 and the kiosk's feed
// gets one change. On SQLite and PostgreSQL.
func TestStaffConcurrentMoves(t *testing.T) { pgtest.Engines(t, testStaffConcurrentMoves) }

func testStaffConcurrentMoves(t *testing.T, dbURL string) {
	e := newStaffEnvOn(t, dbURL)
	ctx := context.Background()
	path := "/staff/submissions/" + receivedID
	first := signIn(t, e.srv.URL)
	if p := first.post(path+"/status", url.Values{"csrf": {first.csrf(path)}, "status": {kiosk.StatusAccepted}}); p.Status != http.StatusSeeOther {
		t.Fatalf("accept: %d", p.Status)
	}
	before, _ := e.st.Detail(ctx, receivedID)
	const n = 8
	type try struct {
		s     *staffClient
		token string
	}
	var tries []try
	for i := 0; i < n; i++ {
		s := signIn(t, e.srv.URL)
		tries = append(tries, try{s, s.csrf(path)})
	}
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i, tr := range tries {
		form := url.Values{"csrf": {tr.token}, "status": {kiosk.StatusDone}}
		if i%2 == 1 {
			form = url.Values{"csrf": {tr.token}, "status": {kiosk.StatusRefused}, "note": {"不符合申领条件"}}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", e.srv.URL+path+"/status", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", e.srv.URL)
			resp, err := tr.s.c.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	moved, refused := 0, 0
	for code := range statuses {
		switch code {
		case http.StatusSeeOther:
			moved++
		case http.StatusConflict:
			refused++
		default:
			t.Errorf("a concurrent move answered %d", code)
		}
	}
	after, _ := e.st.Detail(ctx, receivedID)
	if moved != 1 || refused != n-1 || len(after.History) != len(before.History)+1 {
		t.Fatalf("%d moved, %d refused, history %d -> %d; want 1, %d, one more line", moved, refused, len(before.History), len(after.History), n-1)
	}

	// The store's own check: a move decided on a status that is gone.
	err := e.st.SetStatusFrom(ctx, after.Submission.ReceiptNo, kiosk.StatusAccepted, kiosk.StatusDone, "", "t")
	if kiosk.ErrorCode(err) != kiosk.EConflict {
		t.Fatalf("a move from a stale status: %v", err)
	}
	if again, _ := e.st.Detail(ctx, receivedID); len(again.History) != len(after.History) || again.Status != after.Status {
		t.Fatal("a refused move changed the matter")
	}
}

// TestStaffSessionLimits: a session in use all day still ends 12 hours after
// sign-in; disabling an account ends its sessions at once and refuses its
// password; enabling it again (a new password) does not bring them back.
func TestStaffSessionLimits(t *testing.T) { pgtest.Engines(t, testStaffSessionLimits) }

func testStaffSessionLimits(t *testing.T, dbURL string) {
	e := newStaffEnvOn(t, dbURL)
	ctx := context.Background()
	s := signIn(t, e.srv.URL)
	start := e.clock.Now()
	for e.clock.Now().Sub(start) < 12*time.Hour-20*time.Minute {
		e.clock.Set(e.clock.Now().Add(20 * time.Minute))
		if p := s.get("/staff/"); p.Status != 200 {
			t.Fatalf("signed out after %v of work: %d", e.clock.Now().Sub(start), p.Status)
		}
	}
	e.clock.Set(e.clock.Now().Add(25 * time.Minute)) // under the idle limit, over 12 hours
	if p := s.get("/staff/"); p.Status != http.StatusSeeOther {
		t.Fatalf("still signed in %v after signing in: %d", e.clock.Now().Sub(start), p.Status)
	}

	a, b := signIn(t, e.srv.URL), signIn(t, e.srv.URL)
	if err := e.st.DisableStaff(ctx, staffUser); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*staffClient{a, b} {
		if p := c.get("/staff/"); p.Status != http.StatusSeeOther {
			t.Fatalf("a disabled account's session still works: %d", p.Status)
		}
	}
	if p := a.post("/staff/login", url.Values{"username": {staffUser}, "password": {staffPassword}}); p.Status != 401 {
		t.Fatalf("a disabled account signed in: %d", p.Status)
	}
	if err := e.st.AddStaff(ctx, staffUser, staffName, staffPassword+"-new"); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/staff/"); p.Status != http.StatusSeeOther {
		t.Fatalf("enabling the account again revived an old session: %d", p.Status)
	}
}

func sha256Of(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:]
}

// TestStaffStalePage: a page left open while a colleague moved the matter
// cannot make a move decided on the status it showed, even one that is
// legal from the new status.
func TestStaffStalePage(t *testing.T) {
	e := newStaffEnv(t)
	path := "/staff/submissions/" + receivedID
	mine, colleague := signIn(t, e.srv.URL), signIn(t, e.srv.URL)
	token := mine.csrf(path) // my page shows 区里已收到
	if p := colleague.post(path+"/status", url.Values{"csrf": {colleague.csrf(path)}, "from": {kiosk.StatusReceived}, "status": {kiosk.StatusAccepted}}); p.Status != http.StatusSeeOther {
		t.Fatalf("the colleague's 受理: %d", p.Status)
	}
	// From 已受理, 不予受理 is legal; but my page decided it on 区里已收到.
	p := mine.post(path+"/status", url.Values{"csrf": {token}, "from": {kiosk.StatusReceived}, "status": {kiosk.StatusRefused}, "note": {"材料不全"}})
	if p.Status != http.StatusConflict {
		t.Fatalf("a move from a stale page: %d", p.Status)
	}
	if d, _ := e.st.Detail(context.Background(), receivedID); d.Status != kiosk.StatusAccepted {
		t.Fatalf("the matter is %s, want accepted", d.Status)
	}
}
