package sync_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/assets"
	"github.com/keqiao/villagekiosk/internal/pgtest"
	"github.com/keqiao/villagekiosk/internal/seal"
	receipttoken "github.com/keqiao/villagekiosk/receipt/token"
	"github.com/keqiao/villagekiosk/store"
	kiosksync "github.com/keqiao/villagekiosk/sync"
	server "github.com/keqiao/villagekiosk/sync/district"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// district is a real district server over httptest, on its own SQLite file
// or PostgreSQL database.
type district struct {
	st    *server.Store
	srv   *httptest.Server
	dir   string
	dbURL string // "" for SQLite
}

// newDistrictOn is newDistrict on the engine of dbURL ("" for SQLite).
func newDistrictOn(t *testing.T, dbURL string) *district { return newDistrictTB(t, dbURL) }

func newDistrictTB(t testing.TB, dbURL string) *district {
	t.Helper()
	dir := t.TempDir()
	st, err := server.OpenDB(context.Background(), dir, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewServer(server.NewHandler(st, server.Options{Name: "柯桥区人社局", Logger: log.New(os.Stderr, "district: ", 0)}))
	t.Cleanup(srv.Close)
	return &district{st: st, srv: srv, dir: dir, dbURL: dbURL}
}

// villageKiosk is a kiosk store with a catalog, a point, an agent and a key.
type villageKiosk struct {
	db    *store.DB
	subs  *store.SubmissionService
	agent *kiosk.Agent
	key   ed25519.PrivateKey
	dir   string
	scans map[string][]byte // what was scanned, by hash: the kiosk keeps it only sealed
}

func newKiosk(t *testing.T) *villageKiosk { return newKioskTB(t) }

func newKioskTB(t testing.TB) *villageKiosk {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	doc, _ := os.ReadFile("../testdata/catalog-small.json")
	if _, err := store.NewCatalogService(db).Install(ctx, doc, kiosk.OriginFile); err != nil {
		t.Fatal(err)
	}
	store.NewSettingsService(db).SetPoint(ctx, kiosk.PointInfo{Code: "330603101201", Name: "王化村"})
	// A sealing key of a district nobody runs, until enrol gives the real one.
	someKey, _, _ := seal.GenerateKey()
	store.NewSettingsService(db).SetSealKey(ctx, someKey)
	agent, err := store.NewAgentService(db).CreateAgent(ctx, "王芳", "2468", false)
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	return &villageKiosk{db: db, subs: store.NewSubmissionService(db), agent: agent, key: key, dir: dir, scans: map[string][]byte{}}
}

// save takes a submission offline with one scan of the given size.
func (k *villageKiosk) save(t *testing.T, name string, scanBytes int) *kiosk.Submission {
	return k.saveN(t, name, 1, scanBytes)
}

// saveN takes a submission offline with n different scans of the given size.
func (k *villageKiosk) saveN(t testing.TB, name string, n, scanBytes int) *kiosk.Submission {
	t.Helper()
	ctx := context.Background()
	var atts []kiosk.Attachment
	for j := 0; j < n; j++ {
		data := make([]byte, scanBytes)
		copy(data, []byte{0xFF, 0xD8, 0xFF, 0xE0})
		copy(data[8:], fmt.Sprintf("%s-%d", name, j))
		for i := 64; i < len(data); i++ {
			data[i] = byte(i * 7)
		}
		src := filepath.Join(k.dir, "scan.jpg")
		os.WriteFile(src, data, 0o644)
		a, err := k.subs.Stage(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(src) // the scanner's copy: gone, as on a kiosk that tidies its scan folder
		atts = append(atts, a)
		if k.scans != nil {
			k.scans[a.SHA256] = data
		}
	}
	sub, err := k.subs.Save(ctx, &kiosk.Draft{
		Matter:    "3306210001-01",
		Applicant: kiosk.Applicant{Name: name, IDNumber: "11010519491231002X", Phone: "13800138000"},
		Fields:    map[string]string{"bank": "中国农业银行"},
		Materials: []kiosk.MaterialInput{{Name: "居民身份证", Received: true, Attachments: atts}},
		Consent:   true,
	}, k.agent)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func (k *villageKiosk) enroll(t *testing.T, d *district) *kiosksync.Syncer { return k.enrollTB(t, d) }

func (k *villageKiosk) enrollTB(t testing.TB, d *district) *kiosksync.Syncer {
	t.Helper()
	ctx := context.Background()
	code, _, err := d.st.CreateEnrollCode(ctx, "330603101201", "王化村")
	if err != nil {
		t.Fatal(err)
	}
	c := &kiosksync.Client{BaseURL: d.srv.URL, Key: k.key}
	reply, err := c.Enroll(ctx, code, "test")
	if err != nil {
		t.Fatal(err)
	}
	c.DeviceID = reply.DeviceID
	key, err := seal.Decode(reply.SealKey)
	if err == nil {
		err = store.NewSettingsService(k.db).SetSealKey(ctx, key)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &kiosksync.Syncer{Client: c, Queue: store.NewSyncQueue(k.db), AppVersion: "test"}
}

func (k *villageKiosk) status(t *testing.T, id string) (string, string) {
	t.Helper()
	s, err := k.subs.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s.Status, s.DistrictNote
}

// TestEndToEnd: enrol, save offline, sync; the district has each submission
// once with byte-identical attachments; statuses set at the district reach
// the kiosk; replaying a round changes nothing.
func TestEndToEnd(t *testing.T) { pgtest.Engines(t, testEndToEnd) }

func testEndToEnd(t *testing.T, dbURL string) {
	ctx := context.Background()
	d, k := newDistrictOn(t, dbURL), newKiosk(t)
	sy := k.enroll(t, d)
	var subs []*kiosk.Submission
	for i, name := range []string{"张三", "李四", "𠮷野"} {
		subs = append(subs, k.save(t, name, 100_000+i*400_000)) // the last spans several chunks
	}

	var lastSent, lastTotal, peak int64
	sy.OnProgress = func(sent, total int64) {
		lastSent, lastTotal = sent, total
		peak = max(peak, sent)
	}
	rep, err := sy.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Uploaded != 3 || rep.WaitingAfter != 0 || len(rep.Parked) != 0 {
		t.Fatalf("round: %+v", rep)
	}
	if peak != rep.BytesSent || peak != seal.SealedSize(100_000)+seal.SealedSize(500_000)+seal.SealedSize(900_000) || lastSent != 0 || lastTotal != 0 {
		t.Fatalf("progress: peak %d of %d sent, last %d/%d", peak, rep.BytesSent, lastSent, lastTotal)
	}
	list, err := d.st.Submissions(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("district has %d submissions (%v), want 3", len(list), err)
	}
	for _, s := range subs {
		a := s.Materials[0].Attachments[0]
		theirs, err := os.ReadFile(filepath.Join(d.dir, "attachments", a.SHA256[:2], a.SHA256))
		sum := sha256.Sum256(theirs)
		if err != nil || !bytes.Equal(k.scans[a.SHA256], theirs) || hex.EncodeToString(sum[:]) != a.SHA256 {
			t.Fatalf("attachment %s differs at the district: %v", a.Name, err)
		}
		if st, _ := k.status(t, s.ID); st != kiosk.StatusReceived {
			t.Fatalf("%s on the kiosk is %s, want received", s.ReceiptNo, st)
		}
	}

	// The district returns one for more material and finishes another.
	if err := d.st.SetStatus(ctx, subs[0].ReceiptNo, kiosk.StatusReturned, "请补交近期免冠一寸照片", "区经办员"); err != nil {
		t.Fatal(err)
	}
	if err := d.st.SetStatus(ctx, subs[1].ReceiptNo, kiosk.StatusDone, "", "区经办员"); err != nil {
		t.Fatal(err)
	}
	if rep, err = sy.RunOnce(ctx); err != nil || rep.Changes < 2 {
		t.Fatalf("second round: %+v %v", rep, err)
	}
	if st, note := k.status(t, subs[0].ID); st != kiosk.StatusReturned || note != "请补交近期免冠一寸照片" {
		t.Fatalf("returned: got %s %q", st, note)
	}
	if st, _ := k.status(t, subs[1].ID); st != kiosk.StatusDone {
		t.Fatalf("done: got %s", st)
	}

	// Replaying every upload changes nothing at the district.
	store.NewSyncQueue(k.db).Requeue(ctx, time.Now())
	if rep, err = sy.RunOnce(ctx); err != nil || rep.Uploaded != 3 || rep.BytesSent != 0 {
		t.Fatalf("replay round: %+v %v", rep, err)
	}
	if list, _ := d.st.Submissions(ctx); len(list) != 3 {
		t.Fatalf("after replay the district has %d submissions", len(list))
	}
	if st, _ := k.status(t, subs[1].ID); st != kiosk.StatusDone {
		t.Fatalf("a replay reset the status to %s", st)
	}
}

// TestCaptivePortal: a Wi-Fi login page that answers 200 to everything gets
// nothing uploaded, and the queue stays.
func TestCaptivePortal(t *testing.T) {
	k := newKiosk(t)
	k.save(t, "张三", 1000)
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>请登录 Wi-Fi</html>"))
	}))
	defer portal.Close()
	sy := &kiosksync.Syncer{Client: &kiosksync.Client{BaseURL: portal.URL, DeviceID: "dev-x", Key: k.key}, Queue: store.NewSyncQueue(k.db)}
	_, err := sy.RunOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "did not come from the district") {
		t.Fatalf("got %v", err)
	}
	if n, _, _, _ := store.NewSyncQueue(k.db).Stats(context.Background()); n != 1 {
		t.Fatalf("queue: %d waiting, want 1", n)
	}
}

// TestConflictParked: the same id with other content at the district is
// parked with its reason, and does not block the next submission.
func TestConflictParked(t *testing.T) { pgtest.Engines(t, testConflictParked) }

func testConflictParked(t *testing.T, dbURL string) {
	ctx := context.Background()
	d, k := newDistrictOn(t, dbURL), newKiosk(t)
	sy := k.enroll(t, d)
	first := k.save(t, "张三", 1000)
	if _, err := sy.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// Change the kiosk's copy (as a second kiosk with the same id would
	// have it) and queue it again, then add a new one.
	other := *first
	other.Applicant.Name = "张三丰"
	up, err := kiosksync.SealedUpload(&other, d.st.SealKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.db.SQL().Exec(`UPDATE submissions SET payload = ?, content_hash = ? WHERE id = ?`, up.Sealed[0], up.Chain[0], first.ID); err != nil {
		t.Fatal(err)
	}
	store.NewSyncQueue(k.db).Requeue(ctx, time.Now())
	k.save(t, "李四", 1000)
	rep, err := sy.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Parked) != 1 || !strings.Contains(rep.Parked[0], first.ID) || rep.Uploaded != 1 {
		t.Fatalf("round: %+v", rep)
	}
	if _, parked, _, _ := store.NewSyncQueue(k.db).Stats(ctx); parked != 1 {
		t.Fatalf("parked: %d", parked)
	}
}

// TestRevoked: a revoked kiosk is refused plainly and keeps its data.
func TestRevoked(t *testing.T) { pgtest.Engines(t, testRevoked) }

func testRevoked(t *testing.T, dbURL string) {
	ctx := context.Background()
	d, k := newDistrictOn(t, dbURL), newKiosk(t)
	sy := k.enroll(t, d)
	if err := d.st.Revoke(ctx, sy.Client.DeviceID); err != nil {
		t.Fatal(err)
	}
	k.save(t, "张三", 1000)
	_, err := sy.RunOnce(ctx)
	e, ok := kiosksync.AsError(err)
	if !ok || e.Code != kiosksync.ERevoked {
		t.Fatalf("got %v", err)
	}
	if n, _, _, _ := store.NewSyncQueue(k.db).Stats(ctx); n != 1 {
		t.Fatal("the queue was lost")
	}
}

// recorder keeps a copy of every request the kiosk sends.
type recorder struct {
	reqs []*http.Request
	bods [][]byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.reqs = append(r.reqs, req.Clone(req.Context()))
	r.bods = append(r.bods, body)
	return http.DefaultTransport.RoundTrip(req)
}

// TestReplayRound sends every request of a sync round a second time, byte
// for byte: the district refuses each as a replay and changes nothing.
func TestReplayRound(t *testing.T) { pgtest.Engines(t, testReplayRound) }

func testReplayRound(t *testing.T, dbURL string) {
	ctx := context.Background()
	d, k := newDistrictOn(t, dbURL), newKiosk(t)
	sy := k.enroll(t, d)
	rec := &recorder{}
	sy.Client.HTTP = &http.Client{Transport: rec}
	k.save(t, "张三", 300_000)
	if _, err := sy.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := d.st.Submissions(ctx)
	for i, req := range rec.reqs {
		req.Body = io.NopCloser(bytes.NewReader(rec.bods[i]))
		req.RequestURI = ""
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		signed := req.URL.Path != "/v1/hello" // hello only tells the time; everything else is checked
		if signed && resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("replayed %s %s: %d, want 401", req.Method, req.URL.Path, resp.StatusCode)
		}
	}
	after, _ := d.st.Submissions(ctx)
	if len(before) != 1 || len(after) != 1 || before[0] != after[0] {
		t.Fatalf("replaying changed the district: %+v -> %+v", before, after)
	}
}

// TestDistrictRestored: the district restores an older backup (a new epoch)
// and lost a submission; the kiosk notices and sends it again.
func TestDistrictRestored(t *testing.T) { pgtest.Engines(t, testDistrictRestored) }

func testDistrictRestored(t *testing.T, dbURL string) {
	ctx := context.Background()
	d, k := newDistrictOn(t, dbURL), newKiosk(t)
	sy := k.enroll(t, d)
	k.save(t, "张三", 1000)
	if _, err := sy.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// Simulate the restore: the submission and its feed are gone, new epoch.
	k2 := newDistrictDB(t, d)
	k2.Exec(`DELETE FROM changes`)
	k2.Exec(`DELETE FROM submissions`)
	k2.Close()
	if _, err := d.st.NewEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := sy.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requeued != 1 {
		t.Fatalf("requeued %d, want 1", rep.Requeued)
	}
	if rep, err = sy.RunOnce(ctx); err != nil || rep.Uploaded != 1 {
		t.Fatalf("re-upload round: %+v %v", rep, err)
	}
	if list, _ := d.st.Submissions(ctx); len(list) != 1 {
		t.Fatalf("district has %d after the re-upload", len(list))
	}
}

func newDistrictDB(t *testing.T, d *district) *sql.DB {
	t.Helper()
	driver, dsn := "sqlite", "file:"+filepath.Join(d.dir, "district.db")+"?_pragma=busy_timeout(5000)"
	if d.dbURL != "" {
		driver, dsn = "pgx", d.dbURL
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestCatalogPublish: the district publishes a catalog, the kiosk installs
// it on its next round; an invalid one is refused at the district and the
// kiosk keeps what it has.
func TestCatalogPublish(t *testing.T) { pgtest.Engines(t, testCatalogPublish) }

func testCatalogPublish(t *testing.T, dbURL string) {
	ctx := context.Background()
	d, k := newDistrictOn(t, dbURL), newKiosk(t)
	sy := k.enroll(t, d)
	sy.InstallCatalog = func(ctx context.Context, doc []byte) error {
		_, err := store.NewCatalogService(k.db).Install(ctx, doc, kiosk.OriginDistrict)
		return err
	}
	doc, _ := os.ReadFile("../testdata/catalog-small.json")
	v2 := strings.Replace(string(doc), `"version": "test.1"`, `"version": "test.2"`, 1)
	if _, err := d.st.PublishCatalog(ctx, []byte(v2)); err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(v2, `"kind": "date"`, `"kind": "calendar"`, 1)
	if _, err := d.st.PublishCatalog(ctx, []byte(broken)); err == nil || !strings.Contains(err.Error(), `kind "calendar" is unknown`) {
		t.Fatalf("an invalid catalog was published: %v", err)
	}
	rep, err := sy.RunOnce(ctx)
	if err != nil || rep.Catalog != "test.2" {
		t.Fatalf("round: %+v %v", rep, err)
	}
	c, info, err := store.NewCatalogService(k.db).Active(ctx)
	if err != nil || c.Version != "test.2" || info.Origin != kiosk.OriginDistrict {
		t.Fatalf("kiosk catalog: %v %+v %v", c, info, err)
	}
}

// TestResubmission: a matter returned for more material gets it added on the
// kiosk and goes back under the same receipt number; the district takes the
// new revision, and the kiosk hears it was received.
func TestResubmission(t *testing.T) { pgtest.Engines(t, testResubmission) }

func testResubmission(t *testing.T, dbURL string) {
	ctx := context.Background()
	d, k := newDistrictOn(t, dbURL), newKiosk(t)
	sy := k.enroll(t, d)
	sub := k.save(t, "张三", 1000)
	if _, err := sy.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := k.subs.Supplement(ctx, sub.ID, []kiosk.MaterialInput{{Name: "近期免冠一寸照片", Received: true}}, k.agent); err == nil {
		t.Fatal("a matter that was not returned was supplemented")
	}
	d.st.SetStatus(ctx, sub.ReceiptNo, kiosk.StatusReturned, "请补交近期免冠一寸照片", "区经办员")
	if _, err := sy.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(k.dir, "photo.jpg")
	os.WriteFile(src, append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("photo"), 500)...), 0o644)
	photo, err := k.subs.Stage(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	again, err := k.subs.Supplement(ctx, sub.ID, []kiosk.MaterialInput{{Name: "近期免冠一寸照片", Received: true, Attachments: []kiosk.Attachment{photo}}}, k.agent)
	if err != nil {
		t.Fatal(err)
	}
	if again.ReceiptNo != sub.ReceiptNo || again.Revision != 1 || len(again.Owed()) != 0 {
		t.Fatalf("supplemented: %+v", again)
	}
	rep, err := sy.RunOnce(ctx)
	if err != nil || rep.Uploaded != 1 || len(rep.Parked) != 0 {
		t.Fatalf("resubmission round: %+v %v", rep, err)
	}
	if st, note := k.status(t, sub.ID); st != kiosk.StatusReceived || !strings.Contains(note, "补正材料已收到") {
		t.Fatalf("kiosk: %s %q", st, note)
	}
	list, _ := d.st.Submissions(ctx)
	if len(list) != 1 || list[0].Status != kiosk.StatusReceived {
		t.Fatalf("district: %+v", list)
	}
}

// TestHolidaysPublish: the district forwards next year's holiday arrangement;
// the kiosk receives it whole and checked; an invalid one is refused.
func TestHolidaysPublish(t *testing.T) { pgtest.Engines(t, testHolidaysPublish) }

func testHolidaysPublish(t *testing.T, dbURL string) {
	ctx := context.Background()
	d, k := newDistrictOn(t, dbURL), newKiosk(t)
	sy := k.enroll(t, d)
	var got []byte
	sy.InstallHolidays = func(ctx context.Context, doc []byte) error { got = doc; return nil }
	y2027 := []byte(`{"year":2027,"source":"国务院办公厅关于2027年部分节假日安排的通知","days_off":[{"date":"2027-01-01","name":"元旦"}],"working_weekends":[]}`)
	if _, err := d.st.PublishHolidays(ctx, []byte(`{"year":2027,"source":"x","days_off":[],"working_weekends":[{"date":"2027-03-03","name":"x"}]}`)); err == nil {
		t.Fatal("a weekday make-up day was published")
	}
	if year, err := d.st.PublishHolidays(ctx, y2027); err != nil || year != 2027 {
		t.Fatalf("publish: %d %v", year, err)
	}
	rep, err := sy.RunOnce(ctx)
	if err != nil || len(rep.Holidays) != 1 || rep.Holidays[0] != "2027" || !bytes.Equal(got, y2027) {
		t.Fatalf("round: %+v %v, got %s", rep, err, got)
	}
}

// TestRoster: the district adds an agent to the service point and later
// stops them; the kiosk lets the agent sign in, then refuses them.
func TestRoster(t *testing.T) { pgtest.Engines(t, testRoster) }

func testRoster(t *testing.T, dbURL string) {
	ctx := context.Background()
	d, k := newDistrictOn(t, dbURL), newKiosk(t)
	sy := k.enroll(t, d)
	agents := store.NewAgentService(k.db)
	sy.ApplyRoster = agents.ApplyRoster
	if err := d.st.SetAgent(ctx, "330603101201", "李娟", "1357", false); err != nil {
		t.Fatal(err)
	}
	d.st.SetAgent(ctx, "330603999999", "别村的人", "2468", false) // another point's roster
	if rep, err := sy.RunOnce(ctx); err != nil || rep.Roster != 1 {
		t.Fatalf("round: %+v %v", rep, err)
	}
	if a, err := agents.SignIn(ctx, "李娟", "1357"); err != nil || a.Admin {
		t.Fatalf("sign in with the district's PIN: %+v %v", a, err)
	}
	if _, err := agents.SignIn(ctx, "别村的人", "2468"); kiosk.ErrorCode(err) != kiosk.ENotFound {
		t.Fatalf("another point's agent: %v", err)
	}
	d.st.StopAgent(ctx, "330603101201", "李娟")
	if _, err := sy.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := agents.SignIn(ctx, "李娟", "1357"); err == nil || !strings.Contains(err.Error(), "停用") {
		t.Fatalf("a stopped agent signed in: %v", err)
	}
	list, _ := agents.Agents(ctx)
	for _, a := range list {
		if a.Name == "李娟" {
			t.Fatal("a stopped agent is offered on the sign-in screen")
		}
	}
}

func getPage(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	return string(body)
}

// TestStatusPage is what a villager's phone shows from the receipt QR:
// genuine or not, the status and what to do, never personal data.
func TestStatusPage(t *testing.T) { pgtest.Engines(t, testStatusPage) }

func testStatusPage(t *testing.T, dbURL string) {
	ctx := context.Background()
	d, k := newDistrictOn(t, dbURL), newKiosk(t)
	sy := k.enroll(t, d)
	sub := k.save(t, "𠮷野", 1000)
	tok, _ := receipttoken.NewToken(sub, k.key, time.Now()).Sign(k.key)
	url := d.srv.URL + "/r/" + tok

	if page := getPage(t, url); !strings.Contains(page, "已在村服务点受理，尚未上传") || !strings.Contains(page, "真实回执") {
		t.Fatalf("before upload:\n%s", page)
	}
	if _, err := sy.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// The promised date, counted in working days as the receipt counted it,
	// by the catalog the district published.
	doc, _ := os.ReadFile("../testdata/catalog-small.json")
	if _, err := d.st.PublishCatalog(ctx, doc); err != nil {
		t.Fatal(err)
	}
	cal, _ := kiosk.ParseHolidayYears(assets.HolidayYears()...)
	due, _ := cal.AddWorkingDays(sub.CreatedAt, 10)
	if page := getPage(t, url); !strings.Contains(page, "预计办结") || !strings.Contains(page, due.Format("2006年1月2日")+"前（承诺10个工作日") {
		t.Fatalf("the open matter's page lacks its expected date %s", due.Format("2006-01-02"))
	}
	d.st.SetStatus(ctx, sub.ReceiptNo, kiosk.StatusReturned, "请补交<script>alert(1)</script>近期免冠一寸照片", "区经办员")
	page := getPage(t, url)
	for _, want := range []string{"✓ 真实回执，由 王化村 出具", sub.ReceiptNo, "社会保障卡首次申领", "退回补正", "需要补交材料", "&lt;script&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if strings.Contains(page, "预计办结") {
		t.Error("a returned matter still shows a promised date")
	}
	for _, personal := range []string{"𠮷野", "11010519491231002X", "13800138000", "<script>"} {
		if strings.Contains(page, personal) {
			t.Errorf("status page shows %q", personal)
		}
	}

	forged := []byte(tok)
	forged[30] ^= 1
	_, other, _ := ed25519.GenerateKey(nil)
	foreign, _ := receipttoken.NewToken(sub, other, time.Now()).Sign(other)
	for name, bad := range map[string]string{"altered": string(forged), "foreign": foreign, "garbage": "hello"} {
		page := getPage(t, d.srv.URL+"/r/"+bad)
		if !strings.Contains(page, "这不是一张真实的回执") || strings.Contains(page, "退回补正") || strings.Contains(page, sub.ReceiptNo) {
			t.Errorf("%s token: the page does not warn, or shows a status", name)
		}
	}
}

// TestDistrictErrors: 503 with Retry-After, 429 and 500 defer the round's
// uploads (honouring Retry-After), lose nothing and duplicate nothing.
func TestDistrictErrors(t *testing.T) { pgtest.Engines(t, testDistrictErrors) }

func testDistrictErrors(t *testing.T, dbURL string) {
	ctx := context.Background()
	d, k := newDistrictOn(t, dbURL), newKiosk(t)
	sy := k.enroll(t, d)
	var fail atomic.Int32
	status := []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusInternalServerError}
	real := d.srv.Config.Handler
	d.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/submissions" && fail.Load() > 0 {
			n := fail.Add(-1)
			w.Header().Set(kiosksync.ProtocolHeader, kiosksync.Protocol)
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(status[int(n)%len(status)])
			return
		}
		real.ServeHTTP(w, r)
	})
	k.save(t, "张三", 1000)
	k.save(t, "李四", 1000)
	for _, code := range []int{503, 429, 500} {
		fail.Store(1)
		rep, err := sy.RunOnce(ctx)
		e, ok := kiosksync.AsError(err)
		if !ok || !e.Transient() || rep.Deferred != 1 {
			t.Fatalf("%d: %+v %v", code, rep, err)
		}
		if rep.RetryAfterSec != 7 {
			t.Fatalf("%d: Retry-After not honoured: %+v", code, rep)
		}
		sy.RetryNow = true // the next check retries at once
	}
	// A scheduled round leaves the deferred item alone until Retry-After.
	sy.RetryNow = false
	fail.Store(1)
	sy.RunOnce(ctx)
	if rep, _ := sy.RunOnce(ctx); rep.WaitingAfter == 0 {
		t.Fatalf("a scheduled round retried before Retry-After: %+v", rep)
	}
	sy.RetryNow = true
	rep, err := sy.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := d.st.Submissions(ctx); len(list) != 2 || rep.WaitingAfter != 0 {
		t.Fatalf("district has %d, waiting %d; want 2 and 0", len(list), rep.WaitingAfter)
	}
}

// TestDeferredSurvivesClockSetBack: a submission deferred while the kiosk's
// clock ran a day ahead is retried by a scheduled round once the district's
// clock says its backoff passed, after the kiosk's clock was set right (a
// regression: retry times were kept by the kiosk's clock, so it waited a day).
func TestDeferredSurvivesClockSetBack(t *testing.T) {
	ctx := context.Background()
	d, k := newDistrictOn(t, ""), newKiosk(t)
	sy := k.enroll(t, d)
	var kioskAhead atomic.Bool
	kioskAhead.Store(true)
	kioskNow := func() time.Time {
		if kioskAhead.Load() {
			return time.Now().Add(24 * time.Hour)
		}
		return time.Now()
	}
	sy.Now, sy.Client.Now = kioskNow, kioskNow
	var fail atomic.Bool
	fail.Store(true)
	real := d.srv.Config.Handler
	d.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/submissions" && fail.Load() {
			w.Header().Set(kiosksync.ProtocolHeader, kiosksync.Protocol)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		real.ServeHTTP(w, r)
	})
	k.save(t, "张三", 1000)
	if rep, _ := sy.RunOnce(ctx); rep.Deferred != 1 {
		t.Fatalf("not deferred: %+v", rep)
	}
	fail.Store(false)
	kioskAhead.Store(false)                                              // NTP sets the kiosk right
	d.st.Now = func() time.Time { return time.Now().Add(2 * time.Hour) } // past any first backoff
	rep, err := sy.RunOnce(ctx)
	if err != nil || rep.Uploaded != 1 {
		t.Fatalf("a scheduled round after the clock was set back: %+v %v; want the deferred one uploaded", rep, err)
	}
}

// TestDistrictStoppedBeforeKeepingFile: the district received every byte of
// an attachment but was killed before it checked the file and kept it (the
// partial file is whole). The next round finishes the file and uploads the
// submission instead of parking it as incomplete (a regression found by the
// fault suite's districtd SIGKILLs).
func TestDistrictStoppedBeforeKeepingFile(t *testing.T) {
	ctx := context.Background()
	d, k := newDistrictOn(t, ""), newKiosk(t)
	sy := k.enroll(t, d)
	sub := k.save(t, "张三", 300_000)
	a := sub.Materials[0].Attachments[0]
	data, err := os.ReadFile(store.NewSyncQueue(k.db).AttachmentPath(a.SHA256))
	if err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(d.dir, "attachments", "partial", a.SHA256)
	if err := os.WriteFile(partial, data, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := sy.RunOnce(ctx)
	if err != nil || rep.Uploaded != 1 || len(rep.Parked) != 0 {
		t.Fatalf("round: %+v %v; want the submission uploaded, nothing parked", rep, err)
	}
	if _, complete, _ := d.st.Blobs.Have(a.SHA256); !complete {
		t.Fatal("the district did not keep the file")
	}
}

// The kiosk's store is the syncer's queue.
var _ kiosksync.Queue = (*store.SyncQueue)(nil)

// TestReattachAfterLostDatabase: a kiosk that lost its database but kept its
// key is re-attached by a new code for the same point, takes back its
// submissions with their statuses and the district's notes, numbers new
// receipts after the ones villagers hold, and uploads nothing twice.
func TestReattachAfterLostDatabase(t *testing.T) { pgtest.Engines(t, testReattachAfterLostDatabase) }

func testReattachAfterLostDatabase(t *testing.T, dbURL string) {
	ctx := context.Background()
	d, k := newDistrictOn(t, dbURL), newKiosk(t)
	sy := k.enroll(t, d)
	first, second := k.save(t, "张三", 3000), k.saveN(t, "李四", 0, 0)
	if rep, err := sy.RunOnce(ctx); err != nil || rep.Uploaded != 2 {
		t.Fatalf("first round: %+v %v", rep, err)
	}
	if err := d.st.SetStatus(ctx, second.ReceiptNo, kiosk.StatusReturned, "请补交户口簿", "staff"); err != nil {
		t.Fatal(err)
	}

	// The database is lost; the key file survived.
	fresh := newKiosk(t)
	fresh.key = k.key
	other, _, _ := d.st.CreateEnrollCode(ctx, "330603101299", "别的村")
	c := &kiosksync.Client{BaseURL: d.srv.URL, Key: fresh.key}
	if _, err := c.Enroll(ctx, other, "test"); err == nil || !strings.Contains(err.Error(), "330603101201") {
		t.Fatalf("a code for another point re-attached the kiosk: %v", err)
	}
	code, _, _ := d.st.CreateEnrollCode(ctx, "330603101201", "王化村")
	reply, err := c.Enroll(ctx, code, "test")
	if err != nil || !reply.Reattached || reply.DeviceID != sy.Client.DeviceID {
		t.Fatalf("re-attach: %+v %v (old device %s)", reply, err, sy.Client.DeviceID)
	}
	c.DeviceID = reply.DeviceID
	if key, err := seal.Decode(reply.SealKey); err != nil || store.NewSettingsService(fresh.db).SetSealKey(ctx, key) != nil {
		t.Fatalf("the sealing key at re-attach: %v", err)
	}
	n, err := kiosksync.TakeBack(ctx, c, fresh.subs.Restore)
	if err != nil || n != 2 {
		t.Fatalf("took back %d %v, want 2", n, err)
	}
	if n, _ := kiosksync.TakeBack(ctx, c, fresh.subs.Restore); n != 0 {
		t.Fatalf("taking back twice added %d", n)
	}
	list, _ := fresh.subs.List(ctx, kiosk.SubmissionFilter{})
	if len(list) != 2 || list[0].IDMasked != "110105********002X" {
		t.Fatalf("restored list: %+v", list)
	}
	if status, note := fresh.status(t, second.ID); status != kiosk.StatusReturned || note != "请补交户口簿" {
		t.Fatalf("restored %s: %s %q", second.ReceiptNo, status, note)
	}
	// Returned, but only its list came back: a supplement from here would
	// send the district a copy without the applicant.
	if _, err := fresh.subs.Supplement(ctx, second.ID, []kiosk.MaterialInput{{Name: "居民身份证", Received: true}}, fresh.agent); err == nil || !strings.Contains(err.Error(), "区人社局") {
		t.Fatalf("a supplement of a restored matter: %v", err)
	}
	got, _ := fresh.subs.Get(ctx, first.ID)
	if got.RestoredAt.IsZero() || got.Applicant.Name != "张三" || got.Applicant.IDNumber != "" || got.Materials[0].Name != "居民身份证" {
		t.Fatalf("restored %s: %+v", first.ReceiptNo, got)
	}

	// New work goes on after the receipts villagers hold, and the restored
	// ones are not sent again.
	third := fresh.saveN(t, "王五", 0, 0)
	if !strings.HasSuffix(third.ReceiptNo, "-0003") {
		t.Fatalf("the first receipt after the loss is %s, want sequence 0003", third.ReceiptNo)
	}
	fsy := &kiosksync.Syncer{Client: c, Queue: store.NewSyncQueue(fresh.db), AppVersion: "test"}
	rep, err := fsy.RunOnce(ctx)
	if err != nil || rep.Uploaded != 1 || len(rep.Parked) != 0 {
		t.Fatalf("round after the loss: %+v %v", rep, err)
	}
	if all, _ := d.st.Submissions(ctx); len(all) != 3 {
		t.Fatalf("the district has %d submissions, want 3", len(all))
	}
	if status, _ := fresh.status(t, second.ID); status != kiosk.StatusReturned {
		t.Fatalf("after the feed: %s", status)
	}
}

// TestOneFailingItemDoesNotBlock: a district that answers 500 to one
// submission (a fault of that item alone) still gets every other one, round
// after round, even when a person presses 立即同步; the failing one waits
// with its backoff, not parked, for the district to be mended.
func TestOneFailingItemDoesNotBlock(t *testing.T) {
	ctx := context.Background()
	d, k := newDistrictOn(t, ""), newKiosk(t)
	sy := k.enroll(t, d)
	bad := k.save(t, "张三", 1000)
	k.save(t, "李四", 1000)
	k.save(t, "王五", 1000)
	h := server.NewHandler(d.st, server.Options{})
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/submissions" {
			body, _ := io.ReadAll(r.Body)
			if bytes.Contains(body, []byte(bad.ID)) {
				w.Header().Set(kiosksync.ProtocolHeader, kiosksync.Protocol)
				http.Error(w, `{"code":"internal","message":"a bug on this one"}`, http.StatusInternalServerError)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(failing.Close)
	sy.Client.BaseURL, sy.RetryNow = failing.URL, true
	for round := 0; round < 3; round++ {
		rep, err := sy.RunOnce(ctx)
		if err != nil {
			t.Fatalf("round %d ended: %+v %v", round, rep, err)
		}
	}
	if list, _ := d.st.Submissions(ctx); len(list) != 2 {
		t.Fatalf("the district has %d submissions, want the 2 good ones", len(list))
	}
	if waiting, parked, _, _ := store.NewSyncQueue(k.db).Stats(ctx); waiting != 1 || parked != 0 {
		t.Fatalf("queue: %d waiting, %d parked; want the failing one waiting", waiting, parked)
	}
}

// TestSmallBeforeLarge: on a line that drops in the middle of a large scan,
// a small submission saved after it has already gone: smallest first.
func TestSmallBeforeLarge(t *testing.T) {
	ctx := context.Background()
	d, k := newDistrictOn(t, ""), newKiosk(t)
	sy := k.enroll(t, d)
	large := k.saveN(t, "张三", 3, 900_000) // saved first: oldest in the queue
	small := k.save(t, "李四", 2000)
	bigFiles := map[string]bool{}
	for _, a := range large.Materials[0].Attachments {
		bigFiles[a.SHA256] = true
	}
	h := server.NewHandler(d.st, server.Options{})
	var chunks int
	cutting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && bigFiles[path.Base(r.URL.Path)] {
			if chunks++; chunks == 2 {
				panic(http.ErrAbortHandler) // the line drops mid-file
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(cutting.Close)
	sy.Client.BaseURL = cutting.URL
	if rep, err := sy.RunOnce(ctx); err == nil {
		t.Fatalf("the round survived the cut: %+v", rep)
	}
	list, _ := d.st.Submissions(ctx)
	if len(list) != 1 || list[0].ReceiptNo != small.ReceiptNo {
		t.Fatalf("after the cut the district has %+v, want the small one %s", list, small.ReceiptNo)
	}
}
