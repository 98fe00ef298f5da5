package district_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/pgtest"
	"github.com/keqiao/villagekiosk/internal/seal"
	kiosksync "github.com/keqiao/villagekiosk/sync"
	"github.com/keqiao/villagekiosk/sync/district"
)

type env struct {
	st     *district.Store
	srv    *httptest.Server
	device string
	key    ed25519.PrivateKey
}

func TestMain(m *testing.M) { pgtest.Main(m) }

// newEnv is a district on SQLite with one enrolled kiosk.
func newEnv(t *testing.T, opts district.Options) *env { return newEnvTB(t, "", opts) }

// newEnvOn is newEnv on the engine of dbURL ("" for SQLite).
func newEnvOn(t *testing.T, dbURL string, opts district.Options) *env {
	return newEnvTB(t, dbURL, opts)
}

func newEnvB(b *testing.B) *env { return newEnvTB(b, "", district.Options{}) }

func newEnvTB(t testing.TB, dbURL string, opts district.Options) *env {
	t.Helper()
	ctx := context.Background()
	st, err := district.OpenDB(ctx, t.TempDir(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewServer(district.NewHandler(st, opts))
	t.Cleanup(srv.Close)
	code, _, _ := st.CreateEnrollCode(ctx, "330603101201", "王化村")
	_, key, _ := ed25519.GenerateKey(nil)
	c := &kiosksync.Client{BaseURL: srv.URL, Key: key}
	reply, err := c.Enroll(ctx, code, "test")
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, srv: srv, device: reply.DeviceID, key: key}
}

// sendB is send for benchmarks.
func (e *env) sendB(b *testing.B, method, path string, body []byte, at time.Time, nonce string) *http.Response {
	return e.sendTB(b, method, path, body, at, nonce, nil)
}

// send makes a signed request; mutate may spoil it after signing.
func (e *env) send(t *testing.T, method, path string, body []byte, at time.Time, nonce string, mutate func(*http.Request)) *http.Response {
	return e.sendTB(t, method, path, body, at, nonce, mutate)
}

func (e *env) sendTB(t testing.TB, method, path string, body []byte, at time.Time, nonce string, mutate func(*http.Request)) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	kiosksync.Sign(req, body, e.device, e.key, at, nonce)
	if mutate != nil {
		mutate(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func nonce(i int) string { return fmt.Sprintf("nonce-%016d", i) }

func problemOf(t *testing.T, resp *http.Response) kiosksync.Problem {
	var p kiosksync.Problem
	json.NewDecoder(resp.Body).Decode(&p)
	return p
}

// TestSignedRequests refuses every kind of bad request with its reason, and
// every reply carries the protocol header.
func TestSignedRequests(t *testing.T) { pgtest.Engines(t, testSignedRequests) }

func testSignedRequests(t *testing.T, dbURL string) {
	e := newEnvOn(t, dbURL, district.Options{})
	now := time.Now()
	ok := e.send(t, "GET", "/v1/changes?after=0", nil, now, nonce(1), nil)
	if ok.StatusCode != 200 || ok.Header.Get(kiosksync.ProtocolHeader) != kiosksync.Protocol {
		t.Fatalf("good request: %d %q", ok.StatusCode, ok.Header.Get(kiosksync.ProtocolHeader))
	}
	for _, tc := range []struct {
		name   string
		resp   func() *http.Response
		status int
		want   string
	}{
		{"ErrUnsigned", func() *http.Response {
			r, _ := http.Get(e.srv.URL + "/v1/changes?after=0")
			return r
		}, 401, "not signed"},
		{"ErrUnknownDevice", func() *http.Response {
			return e.send(t, "GET", "/v1/changes?after=0", nil, now, nonce(2), func(r *http.Request) { r.Header.Set(kiosksync.HeaderDevice, "dev-unknown") })
		}, 401, "unknown device"},
		{"ErrAlteredBody", func() *http.Response {
			return e.send(t, "POST", "/v1/heartbeat", []byte(`{"queue":1}`), now, nonce(3), func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader(`{"queue":9}`))
				r.ContentLength = 11
			})
		}, 401, "signature does not match"},
		{"ErrAlteredPath", func() *http.Response {
			return e.send(t, "GET", "/v1/changes?after=0", nil, now, nonce(4), func(r *http.Request) { r.URL.RawQuery = "after=5" })
		}, 401, "signature does not match"},
		{"ErrReplayed", func() *http.Response { return e.send(t, "GET", "/v1/changes?after=0", nil, now, nonce(1), nil) }, 401, "replayed"},
		{"ErrStale", func() *http.Response {
			return e.send(t, "GET", "/v1/changes?after=0", nil, now.Add(-6*time.Minute), nonce(5), nil)
		}, 401, "outside"},
		{"ErrFuture", func() *http.Response {
			return e.send(t, "GET", "/v1/changes?after=0", nil, now.Add(6*time.Minute), nonce(6), nil)
		}, 401, "outside"},
		{"ErrTooLarge", func() *http.Response {
			return e.send(t, "POST", "/v1/heartbeat", bytes.Repeat([]byte("x"), 2<<20), now, nonce(7), nil)
		}, 413, "over"},
		{"ErrPathTrick", func() *http.Response {
			return e.send(t, "GET", "/v1/attachments/..%2F..%2Fdistrict.db", nil, now, nonce(8), nil)
		}, 400, "SHA-256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := tc.resp()
			p := problemOf(t, resp)
			if resp.StatusCode != tc.status || !strings.Contains(p.Message, tc.want) || resp.Header.Get(kiosksync.ProtocolHeader) == "" {
				t.Fatalf("got %d %+v, want %d …%s…", resp.StatusCode, p, tc.status, tc.want)
			}
		})
	}
	t.Run("ErrRevoked", func(t *testing.T) {
		e.st.Revoke(context.Background(), e.device)
		resp := e.send(t, "GET", "/v1/changes?after=0", nil, now, nonce(9), nil)
		if p := problemOf(t, resp); resp.StatusCode != 403 || p.Code != kiosksync.ERevoked {
			t.Fatalf("got %d %+v", resp.StatusCode, p)
		}
	})
}

func TestEnroll_Errors(t *testing.T) { pgtest.Engines(t, testEnroll_Errors) }

func testEnroll_Errors(t *testing.T, dbURL string) {
	e := newEnvOn(t, dbURL, district.Options{})
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(nil)
	c := &kiosksync.Client{BaseURL: e.srv.URL, Key: key}
	code, _, _ := e.st.CreateEnrollCode(ctx, "330603101202", "东村")
	if _, err := c.Enroll(ctx, code, "t"); err != nil {
		t.Fatal(err)
	}
	_, key2, _ := ed25519.GenerateKey(nil)
	c2 := &kiosksync.Client{BaseURL: e.srv.URL, Key: key2}
	if _, err := c2.Enroll(ctx, code, "t"); err == nil || !strings.Contains(err.Error(), "used already") {
		t.Fatalf("reused code: %v", err)
	}
	if _, err := c2.Enroll(ctx, "NOSUCHCODE", "t"); err == nil || !strings.Contains(err.Error(), "unknown enrolment code") {
		t.Fatalf("unknown code: %v", err)
	}
	e.st.Now = func() time.Time { return time.Now().Add(-25 * time.Hour) }
	old, _, _ := e.st.CreateEnrollCode(ctx, "330603101203", "西村")
	e.st.Now = time.Now
	if _, err := c2.Enroll(ctx, old, "t"); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired code: %v", err)
	}
	resp, _ := http.Post(e.srv.URL+"/v1/enroll", "application/json", strings.NewReader(`{"code":"X","public_key":"short"}`))
	if resp.StatusCode != 400 {
		t.Fatalf("bad key: %d", resp.StatusCode)
	}
}

// TestAttachments uploads in chunks, resumes after a cut, refuses a wrong
// offset and a file whose hash does not match.
func TestAttachments(t *testing.T) { pgtest.Engines(t, testAttachments) }

func testAttachments(t *testing.T, dbURL string) {
	e := newEnvOn(t, dbURL, district.Options{})
	ctx := context.Background()
	c := &kiosksync.Client{BaseURL: e.srv.URL, Key: e.key, DeviceID: e.device}
	plain := bytes.Repeat([]byte("扫描件"), kiosksync.ChunkSize)[:2*kiosksync.ChunkSize+1000]
	sum := sha256.Sum256(plain)
	sha := hex.EncodeToString(sum[:])
	data := sealed(t, e.st.SealKey(), plain) // sent as kept: sealed, a bit over 2 chunks
	total := int64(len(data))
	if _, err := c.PutChunk(ctx, sha, 0, total, data[:kiosksync.ChunkSize]); err != nil {
		t.Fatal(err)
	}
	// A cut: the kiosk asks and continues from what the district has.
	st, err := c.AttachmentState(ctx, sha)
	if err != nil || st.Have != kiosksync.ChunkSize || st.Complete {
		t.Fatalf("state after one chunk: %+v %v", st, err)
	}
	if _, err := c.PutChunk(ctx, sha, 0, total, data[:kiosksync.ChunkSize]); err == nil || !strings.Contains(err.Error(), "continue from there") {
		t.Fatalf("wrong offset: %v", err)
	}
	c.PutChunk(ctx, sha, kiosksync.ChunkSize, total, data[kiosksync.ChunkSize:2*kiosksync.ChunkSize])
	st, err = c.PutChunk(ctx, sha, 2*kiosksync.ChunkSize, total, data[2*kiosksync.ChunkSize:])
	if err != nil || !st.Complete {
		t.Fatalf("last chunk: %+v %v", st, err)
	}
	// The district keeps the plaintext, opened with its key.
	rc, err := e.st.Blobs.Open(sha)
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(kept, plain) {
		t.Fatalf("kept %d bytes, not the %d bytes of plaintext", len(kept), len(plain))
	}

	wrong := strings.Repeat("ab", 32)
	bad := sealed(t, e.st.SealKey(), bytes.Repeat([]byte{1}, 100))
	if _, err := c.PutChunk(ctx, wrong, 0, int64(len(bad)), bad); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("hash mismatch: %v", err)
	}
	if st, _ := c.AttachmentState(ctx, wrong); st.Have != 0 {
		t.Fatalf("a damaged upload was kept: %+v", st)
	}
	// A file sent in the clear, or sealed for another district, is refused.
	otherKey, _, _ := seal.GenerateKey()
	for _, body := range [][]byte{bytes.Repeat([]byte{1}, 100), sealed(t, otherKey, bytes.Repeat([]byte{1}, 100))} {
		if _, err := c.PutChunk(ctx, wrong, 0, int64(len(body)), body); err == nil || !strings.Contains(err.Error(), "does not open with this district's key") {
			t.Fatalf("unsealed file: %v", err)
		}
	}
}

// upload is the body of POST /v1/submissions for sub as first saved,
// sealed for this district as a kiosk seals it.
func (e *env) upload(sub *kiosk.Submission) []byte {
	return uploadFor(sub, e.st.SealKey())
}

func uploadFor(sub *kiosk.Submission, key *seal.Key) []byte {
	o, err := kiosksync.SealedUpload(sub, key)
	if err != nil {
		panic(err)
	}
	body, _ := json.Marshal(kiosksync.SubmissionUpload{ID: o.ID, ReceiptNo: o.ReceiptNo, Chain: o.Chain, Sealed: o.Sealed})
	return body
}

// sealed is a file as a kiosk keeps and sends it.
func sealed(t testing.TB, key *seal.Key, plain []byte) []byte {
	var b bytes.Buffer
	if err := seal.SealFile(&b, key, plain); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSubmissions: a replay gets the byte-identical reply and adds nothing;
// the same id with other content is a conflict; a missing attachment is 422.
func TestSubmissions(t *testing.T) { pgtest.Engines(t, testSubmissions) }

func testSubmissions(t *testing.T, dbURL string) {
	e := newEnvOn(t, dbURL, district.Options{})
	ctx := context.Background()
	sub := &kiosk.Submission{ID: "0190-1", ReceiptNo: "330603101201-20261128-0001", Matter: "3306210001-01",
		Applicant: kiosk.Applicant{Name: "张三", IDNumber: "11010519491231002X", Phone: "13800138000"}}
	first := e.send(t, "POST", "/v1/submissions", e.upload(sub), time.Now(), nonce(1), nil)
	firstBody, _ := io.ReadAll(first.Body)
	if first.StatusCode != 200 {
		t.Fatalf("first: %d %s", first.StatusCode, firstBody)
	}
	var wg sync.WaitGroup
	bodies := make([][]byte, 20)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := e.send(t, "POST", "/v1/submissions", e.upload(sub), time.Now(), nonce(100+i), nil)
			bodies[i], _ = io.ReadAll(resp.Body)
		}()
	}
	wg.Wait()
	for _, b := range bodies {
		if !bytes.Equal(b, firstBody) {
			t.Fatalf("replay answered %s, want %s", b, firstBody)
		}
	}
	list, _ := e.st.Submissions(ctx)
	if len(list) != 1 {
		t.Fatalf("%d submissions after replays", len(list))
	}

	other := *sub
	other.Applicant.Name = "李四"
	resp := e.send(t, "POST", "/v1/submissions", e.upload(&other), time.Now(), nonce(2), nil)
	if p := problemOf(t, resp); resp.StatusCode != 409 || !strings.Contains(p.Message, sub.ReceiptNo) {
		t.Fatalf("conflict: %d %+v", resp.StatusCode, p)
	}

	withFile := &kiosk.Submission{ID: "0190-2", ReceiptNo: "330603101201-20261128-0002", Matter: "3306210001-01",
		Materials: []kiosk.MaterialRecord{{Name: "居民身份证", Received: true, Attachments: []kiosk.Attachment{{SHA256: strings.Repeat("cd", 32), Size: 5}}}}}
	resp = e.send(t, "POST", "/v1/submissions", e.upload(withFile), time.Now(), nonce(3), nil)
	if p := problemOf(t, resp); resp.StatusCode != 422 || p.Code != kiosksync.EIncomplete {
		t.Fatalf("missing attachment: %d %+v", resp.StatusCode, p)
	}
	var up kiosksync.SubmissionUpload
	json.Unmarshal(e.upload(sub), &up)
	up.Chain[0] = strings.Repeat("0", 64)
	tampered, _ := json.Marshal(up)
	resp = e.send(t, "POST", "/v1/submissions", tampered, time.Now(), nonce(4), nil)
	if p := problemOf(t, resp); resp.StatusCode != 400 || !strings.Contains(p.Message, "content hash") {
		t.Fatalf("hash mismatch: %d %+v", resp.StatusCode, p)
	}
	// Sealed for another district: refused, and saying so.
	otherKey, _, _ := seal.GenerateKey()
	resp = e.send(t, "POST", "/v1/submissions", uploadFor(sub, otherKey), time.Now(), nonce(5), nil)
	if p := problemOf(t, resp); resp.StatusCode != 400 || !strings.Contains(p.Message, "does not open with this district's key") {
		t.Fatalf("another district's key: %d %+v", resp.StatusCode, p)
	}
}

// TestLoadShedding: beyond MaxInFlight the district answers 429 with
// Retry-After rather than queueing without end.
func TestLoadShedding(t *testing.T) {
	e := newEnv(t, district.Options{MaxInFlight: 1})
	// Hold the only slot with a request whose body arrives slowly.
	pr, pw := io.Pipe()
	go func() {
		req, _ := http.NewRequest("POST", e.srv.URL+"/v1/heartbeat", pr)
		http.DefaultClient.Do(req)
	}()
	pw.Write([]byte("{"))
	time.Sleep(100 * time.Millisecond)
	resp, err := http.Get(e.srv.URL + "/v1/hello")
	if err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("got %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestConcurrentFirstUploads: copies of a first upload arriving at once are
// one upload and replays, never a false conflict; copies of one chunk at
// once are appended once.
func TestConcurrentFirstUploads(t *testing.T) { pgtest.Engines(t, testConcurrentFirstUploads) }

func testConcurrentFirstUploads(t *testing.T, dbURL string) {
	e := newEnvOn(t, dbURL, district.Options{})
	ctx := context.Background()
	for round := 0; round < 10; round++ {
		sub := &kiosk.Submission{ID: fmt.Sprintf("race-%d", round), ReceiptNo: fmt.Sprintf("330603101201-20261128-%04d", round), Matter: "3306210001-01"}
		var wg sync.WaitGroup
		codes := make([]int, 8)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp := e.send(t, "POST", "/v1/submissions", e.upload(sub), time.Now(), nonce(round*100+i), nil)
				codes[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		for _, c := range codes {
			if c != http.StatusOK {
				t.Fatalf("round %d: statuses %v, want all 200", round, codes)
			}
		}
	}
	c := &kiosksync.Client{BaseURL: e.srv.URL, Key: e.key, DeviceID: e.device}
	data := bytes.Repeat([]byte("x"), 3000)
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); c.PutChunk(ctx, sha, 0, 3000, data[:1000]) }()
	}
	wg.Wait()
	if st, _ := c.AttachmentState(ctx, sha); st.Have != 1000 {
		t.Fatalf("after 8 copies of the first chunk the district has %d bytes, want 1000", st.Have)
	}
	if _, err := c.PutChunk(ctx, sha, 0, 99_999_999_999, data[:10]); err == nil {
		t.Fatal("an absurd X-Total-Size was accepted")
	}
}

// TestMetricsAndHealth: Prometheus sees requests by route (never by the path,
// which may hold a token), submissions by status and devices by state.
func TestMetricsAndHealth(t *testing.T) { pgtest.Engines(t, testMetricsAndHealth) }

func testMetricsAndHealth(t *testing.T, dbURL string) {
	e := newEnvOn(t, dbURL, district.Options{})
	sub := &kiosk.Submission{ID: "m-1", ReceiptNo: "330603101201-20261128-0001", Matter: "3306210001-01"}
	e.send(t, "POST", "/v1/submissions", e.upload(sub), time.Now(), nonce(1), nil)
	http.Get(e.srv.URL + "/r/SECRETTOKEN")
	resp, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	for _, want := range []string{
		`districtd_requests_total{code="200",route="POST /v1/submissions"} 1`,
		`districtd_request_seconds_bucket{route="POST /v1/submissions"`,
		`districtd_submissions{status="received"} 1`,
		`districtd_devices{state="online"} 1`,
		`route="GET /r/{token}"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "SECRETTOKEN") {
		t.Error("a token reached the metrics")
	}
	h, _ := http.Get(e.srv.URL + "/healthz")
	if h.StatusCode != 200 {
		t.Fatalf("healthz: %d", h.StatusCode)
	}
}

// TestFeedNeverSkips: while statuses are set from many goroutines, a kiosk
// that pulls its feed the whole time, moving its cursor as it goes, ends up
// with every change exactly once. On PostgreSQL, sequence numbers are handed
// out before commit; without the feed lock a reader overtakes a slow writer.
func TestFeedNeverSkips(t *testing.T) { pgtest.Engines(t, testFeedNeverSkips) }

func testFeedNeverSkips(t *testing.T, dbURL string) {
	e := newEnvOn(t, dbURL, district.Options{})
	ctx := context.Background()
	const subs, writers = 20, 6
	for i := 0; i < subs; i++ {
		sub := &kiosk.Submission{ID: fmt.Sprintf("feed-%d", i), ReceiptNo: fmt.Sprintf("330603101201-20261128-%04d", i), Matter: "3306210001-01"}
		if resp := e.send(t, "POST", "/v1/submissions", e.upload(sub), time.Now(), nonce(i), nil); resp.StatusCode != 200 {
			t.Fatalf("upload %d: %d", i, resp.StatusCode)
		}
	}
	c := &kiosksync.Client{BaseURL: e.srv.URL, Key: e.key, DeviceID: e.device}
	var wg sync.WaitGroup
	statuses := []string{kiosk.StatusAccepted, kiosk.StatusInProgress, kiosk.StatusDone}
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < subs; i += writers {
				for _, st := range statuses {
					if err := e.st.SetStatus(ctx, fmt.Sprintf("330603101201-20261128-%04d", i), st, "", "test"); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := map[int64]bool{}
	var cursor int64
	pull := func() {
		for {
			page, err := c.Changes(ctx, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range page.Changes {
				if seen[ch.Seq] {
					t.Fatalf("change %d delivered twice", ch.Seq)
				}
				seen[ch.Seq] = true
			}
			cursor = page.Cursor
			if !page.More {
				return
			}
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		pull()
	}
	pull()
	if want := subs * (1 + len(statuses)); len(seen) != want {
		t.Fatalf("the kiosk saw %d changes while pulling along, want %d: its cursor skipped some", len(seen), want)
	}
}

// TestProtocolErrors: an unknown endpoint, a wrong method and a malformed
// cursor get a problem a kiosk can read, never the mux's plain text.
func TestProtocolErrors(t *testing.T) {
	e := newEnv(t, district.Options{})
	resp, err := http.Get(e.srv.URL + "/v1/nothing-here")
	if err != nil {
		t.Fatal(err)
	}
	if p := problemOf(t, resp); resp.StatusCode != 404 || p.Code != kiosk.ENotFound {
		t.Fatalf("unknown endpoint: %d %+v", resp.StatusCode, p)
	}
	resp, _ = http.Post(e.srv.URL+"/v1/changes", "application/json", strings.NewReader("{}"))
	if p := problemOf(t, resp); resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET" || !strings.Contains(p.Message, "GET") {
		t.Fatalf("wrong method: %d allow %q %+v", resp.StatusCode, resp.Header.Get("Allow"), p)
	}
	for i, q := range []string{"after=abc", "after=-1", "limit=x", "limit=0"} {
		resp := e.send(t, "GET", "/v1/changes?"+q, nil, time.Now(), nonce(i), nil)
		if p := problemOf(t, resp); resp.StatusCode != 400 || p.Code != kiosk.EInvalid {
			t.Fatalf("%s: %d %+v", q, resp.StatusCode, p)
		}
	}
	resp = e.send(t, "GET", "/v1/changes?after=0&limit=100000", nil, time.Now(), nonce(99), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("a large limit is capped, not refused: %d", resp.StatusCode)
	}
}

// TestTwoInstancesOneFile: two districtd instances behind a load balancer
// share one PostgreSQL database and one attachment folder; copies of the
// same chunk sent to both at once are appended once.
func TestTwoInstancesOneFile(t *testing.T) {
	ctx := context.Background()
	dbURL, dir := pgtest.URL(t), t.TempDir()
	var stores []*district.Store
	var urls []string
	for i := 0; i < 2; i++ {
		st, err := district.OpenDB(ctx, dir, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		srv := httptest.NewServer(district.NewHandler(st, district.Options{}))
		t.Cleanup(srv.Close)
		stores, urls = append(stores, st), append(urls, srv.URL)
	}
	code, _, _ := stores[0].CreateEnrollCode(ctx, "330603101201", "王化村")
	_, key, _ := ed25519.GenerateKey(nil)
	reply, err := (&kiosksync.Client{BaseURL: urls[0], Key: key}).Enroll(ctx, code, "test")
	if err != nil {
		t.Fatal(err)
	}
	via := func(i int) *kiosksync.Client {
		return &kiosksync.Client{BaseURL: urls[i%2], Key: key, DeviceID: reply.DeviceID}
	}
	const chunk = 64 << 10
	plain := bytes.Repeat([]byte("y"), chunk*12)
	sum := sha256.Sum256(plain)
	sha := hex.EncodeToString(sum[:])
	data := sealed(t, stores[0].SealKey(), plain)
	chunks := (len(data) + chunk - 1) / chunk
	for round := 0; round < chunks; round++ {
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				via(i).PutChunk(ctx, sha, int64(round*chunk), int64(len(data)), data[round*chunk:min((round+1)*chunk, len(data))])
			}()
		}
		wg.Wait()
	}
	if st, err := via(1).AttachmentState(ctx, sha); err != nil || !st.Complete || st.Have != int64(len(plain)) {
		t.Fatalf("after 8 copies of each chunk across two instances: %+v %v", st, err)
	}
}
