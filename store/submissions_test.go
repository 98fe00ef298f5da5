package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/seal"
	"github.com/keqiao/villagekiosk/store"
	"golang.org/x/crypto/curve25519"
)

// kioskEnv is a set-up kiosk: catalog, service point and one agent.
type kioskEnv struct {
	db    *store.DB
	subs  *store.SubmissionService
	agent *kiosk.Agent
	dir   string
}

func setUp(tb testing.TB) *kioskEnv {
	tb.Helper()
	ctx := context.Background()
	db := MustOpen(tb)
	if _, err := store.NewCatalogService(db).Install(ctx, smallCatalog(tb), kiosk.OriginFile); err != nil {
		tb.Fatal(err)
	}
	if err := store.NewSettingsService(db).SetPoint(ctx, kiosk.PointInfo{Code: "330603101201", Name: "王化村便民服务中心"}); err != nil {
		tb.Fatal(err)
	}
	districtKey(tb, db)
	agent, err := store.NewAgentService(db).CreateAgent(ctx, "王芳", "2468", true)
	if err != nil {
		tb.Fatal(err)
	}
	return &kioskEnv{db: db, subs: store.NewSubmissionService(db), agent: agent, dir: tb.TempDir()}
}

// jpegFile writes a real JPEG of about size bytes (noise compresses badly).
func jpegFile(tb testing.TB, dir, name string, size int) string {
	tb.Helper()
	side := 64
	for {
		img := image.NewRGBA(image.Rect(0, 0, side, side))
		seed := uint32(len(name)*7919 + size)
		for i := range img.Pix {
			seed = seed*1664525 + 1013904223
			img.Pix[i] = byte(seed >> 24)
		}
		var buf bytes.Buffer
		jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95})
		if buf.Len() >= size || side > 4096 {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				tb.Fatal(err)
			}
			return path
		}
		side = side * 3 / 2
	}
}

func draft(tb testing.TB, e *kioskEnv, attach ...kiosk.Attachment) *kiosk.Draft {
	return &kiosk.Draft{
		Matter:    "3306210001-01",
		Applicant: kiosk.Applicant{Name: "𠮷野", IDNumber: "330621198001010014", Phone: "13800138000"},
		Fields:    map[string]string{"bank": "中国农业银行"},
		Materials: []kiosk.MaterialInput{{Name: "居民身份证", Received: true, Attachments: attach}},
		Consent:   true,
	}
}

func TestSave_OK(t *testing.T) {
	ctx := context.Background()
	e := setUp(t)
	e.db.Now = func() time.Time { return time.Date(2026, 11, 28, 17, 30, 0, 0, time.UTC) } // 01:30 on the 29th in China
	a, err := e.subs.Stage(ctx, jpegFile(t, e.dir, "身份证正面.jpg", 200<<10))
	if err != nil {
		t.Fatal(err)
	}
	if a.MIME != "image/jpeg" || a.Name != "身份证正面.jpg" || len(a.SHA256) != 64 {
		t.Fatalf("staged: %+v", a)
	}
	sub, err := e.subs.Save(ctx, draft(t, e, a), e.agent)
	if err != nil {
		t.Fatal(err)
	}
	if sub.ReceiptNo != "330603101201-20261129-0001" {
		t.Fatalf("receipt number: got %s", sub.ReceiptNo)
	}
	got, err := e.subs.Get(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Applicant.Name != "𠮷野" || got.Status != kiosk.StatusPending || got.Agent != "王芳" {
		t.Fatalf("got %+v", got)
	}
	if owed := got.Owed(); len(owed) != 1 || owed[0] != "近期免冠一寸照片" {
		t.Fatalf("owed: got %v", owed)
	}
	if m := got.Materials[0]; !m.Received || len(m.Attachments) != 1 || m.Attachments[0].SHA256 != a.SHA256 {
		t.Fatalf("materials: got %+v", got.Materials)
	}
	openFile(t, e.db, a)
	var outbox int
	e.db.SQL().QueryRow(`SELECT count(*) FROM outbox WHERE submission_id = ?`, sub.ID).Scan(&outbox)
	if outbox != 1 {
		t.Fatalf("outbox entries: got %d, want 1", outbox)
	}

	second, err := e.subs.Save(ctx, draft(t, e), e.agent)
	if err != nil {
		t.Fatal(err)
	}
	if second.ReceiptNo != "330603101201-20261129-0002" {
		t.Fatalf("second receipt: got %s", second.ReceiptNo)
	}
}

// TestSave_DoubleTap saves the same draft from two goroutines at once, as two
// quick taps on 确认 would: one submission results.
func TestSave_DoubleTap(t *testing.T) {
	ctx := context.Background()
	e := setUp(t)
	var wg sync.WaitGroup
	ids := make([]string, 4)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := draft(t, e)
			d.DraftID = "draft-1"
			sub, err := e.subs.Save(ctx, d, e.agent)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = sub.ID
		}()
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("got different submissions %v", ids)
		}
	}
	if list, _ := e.subs.List(ctx, kiosk.SubmissionFilter{}); len(list) != 1 {
		t.Fatalf("got %d submissions, want 1", len(list))
	}
}

func TestStage_Errors(t *testing.T) {
	ctx := context.Background()
	e := setUp(t)
	e.subs.Limits.MaxFileBytes = 100 << 10
	write := func(name string, data []byte) string {
		p := filepath.Join(e.dir, name)
		os.WriteFile(p, data, 0o644)
		return p
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"ErrNotImage", write("申请表.docx", []byte("PK\x03\x04 word document")), "不是图片或PDF文件"},
		{"ErrRenamedText", write("photo.jpg", []byte("just text pretending to be a photo")), "不是图片或PDF文件"},
		{"ErrEmpty", write("empty.pdf", nil), "是空的"},
		{"ErrTooLarge", jpegFile(t, e.dir, "big.jpg", 150<<10), "超过单个文件100 KB的上限"},
		{"ErrMissing", filepath.Join(e.dir, "gone.jpg"), "找不到了"},
		{"ErrFolder", e.dir, "不是一个可以读取的文件"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.subs.Stage(ctx, tc.path)
			if kiosk.ErrorCode(err) != kiosk.EInvalid || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("OKPDF", func(t *testing.T) {
		a, err := e.subs.Stage(ctx, write("证明.pdf", []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")))
		if err != nil || a.MIME != "application/pdf" {
			t.Fatalf("got %+v, %v", a, err)
		}
	})
}

// A file staged and then removed from the data folder (or a draft naming a
// file never staged) is refused at save, naming the material.
func TestSave_ErrAttachmentVanished(t *testing.T) {
	ctx := context.Background()
	e := setUp(t)
	a, err := e.subs.Stage(ctx, jpegFile(t, e.dir, "id.jpg", 10<<10))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(e.db.AttachmentPath(a.SHA256))
	_, err = e.subs.Save(ctx, draft(t, e, a), e.agent)
	errs, ok := err.(kiosk.FieldErrors)
	if !ok || !strings.Contains(errs.For("materials.居民身份证"), "已找不到") {
		t.Fatalf("got %v", err)
	}
	if list, _ := e.subs.List(ctx, kiosk.SubmissionFilter{}); len(list) != 0 {
		t.Fatal("a submission was saved")
	}
}

func TestSave_ErrFieldsAndSetup(t *testing.T) {
	ctx := context.Background()
	e := setUp(t)
	d := draft(t, e)
	d.Applicant.IDNumber = "330621198001010015"
	d.Applicant.Phone = "12345"
	_, err := e.subs.Save(ctx, d, e.agent)
	errs, ok := err.(kiosk.FieldErrors)
	if !ok || errs.For("applicant.id_number") == "" || errs.For("applicant.phone") == "" {
		t.Fatalf("got %v", err)
	}
	if _, err := e.subs.Save(ctx, draft(t, e), nil); kiosk.ErrorCode(err) != kiosk.EInvalid {
		t.Fatalf("no agent: got %v", err)
	}
	db := MustOpen(t) // no service point set up
	store.NewCatalogService(db).Install(ctx, smallCatalog(t), kiosk.OriginFile)
	if _, err := store.NewSubmissionService(db).Save(ctx, draft(t, e), e.agent); kiosk.ErrorCode(err) != kiosk.ENotFound ||
		!strings.Contains(err.Error(), "服务点编码") {
		t.Fatalf("no service point: got %v", err)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	e := setUp(t)
	day := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	for i, name := range []string{"张三", "李四", "王小明"} {
		e.db.Now = func() time.Time { return day.AddDate(0, 0, i) }
		d := draft(t, e)
		d.Applicant.Name = name
		if i == 2 {
			d.Applicant.IDNumber = "11010519491231002X"
		}
		if _, err := e.subs.Save(ctx, d, e.agent); err != nil {
			t.Fatal(err)
		}
	}
	names := func(f kiosk.SubmissionFilter) string {
		list, err := e.subs.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range list {
			out = append(out, s.Applicant)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		name string
		f    kiosk.SubmissionFilter
		want string
	}{
		{"All", kiosk.SubmissionFilter{}, "王小明,李四,张三"},
		{"ByName", kiosk.SubmissionFilter{Query: "李"}, "李四"},
		{"ByReceipt", kiosk.SubmissionFilter{Query: "20260303"}, "李四"},
		{"ByIDTail", kiosk.SubmissionFilter{Query: "002x"}, "王小明"},
		{"ByIDTail4", kiosk.SubmissionFilter{Query: "0014"}, "李四,张三"},
		{"ByStatus", kiosk.SubmissionFilter{Status: kiosk.StatusDone}, ""},
		{"ByDate", kiosk.SubmissionFilter{From: day.AddDate(0, 0, 1), To: day.AddDate(0, 0, 2)}, "李四"},
		{"LikeMetacharacters", kiosk.SubmissionFilter{Query: "%"}, ""},
		{"SQLMetacharacters", kiosk.SubmissionFilter{Query: "' OR 1=1 --"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(tc.f); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	list, _ := e.subs.List(ctx, kiosk.SubmissionFilter{Query: "王小明"})
	if list[0].IDMasked != "110105********002X" {
		t.Fatalf("masked: got %s", list[0].IDMasked)
	}
}

func TestAgents(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := store.NewAgentService(db)
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	if _, err := s.CreateAgent(ctx, "李娟", "12a4", false); kiosk.ErrorCode(err) != kiosk.EInvalid {
		t.Fatalf("bad PIN: got %v", err)
	}
	if _, err := s.CreateAgent(ctx, "李娟", "1234", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAgent(ctx, "李娟", "5678", false); kiosk.ErrorCode(err) != kiosk.EConflict {
		t.Fatalf("duplicate: got %v", err)
	}
	var hash string
	db.SQL().QueryRow(`SELECT pin_hash FROM agents`).Scan(&hash)
	if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, "1234") {
		t.Fatalf("PIN stored as %q", hash)
	}
	if a, err := s.SignIn(ctx, "李娟", "1234"); err != nil || a.Name != "李娟" {
		t.Fatalf("sign in: %v", err)
	}
	for i := 1; i <= 4; i++ {
		_, err := s.SignIn(ctx, "李娟", "0000")
		if kiosk.ErrorCode(err) != kiosk.EInvalid || !strings.Contains(err.Error(), "还可以再试") {
			t.Fatalf("wrong PIN %d: got %v", i, err)
		}
	}
	if _, err := s.SignIn(ctx, "李娟", "0000"); kiosk.ErrorCode(err) != kiosk.ELocked {
		t.Fatalf("fifth wrong PIN: got %v", err)
	}
	if _, err := s.SignIn(ctx, "李娟", "1234"); kiosk.ErrorCode(err) != kiosk.ELocked || !strings.Contains(err.Error(), "分钟后再试") {
		t.Fatalf("right PIN while locked: got %v", err)
	}
	now = now.Add(16 * time.Minute)
	if _, err := s.SignIn(ctx, "李娟", "1234"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	if _, err := s.SignIn(ctx, "无此人", "1234"); kiosk.ErrorCode(err) != kiosk.ENotFound {
		t.Fatalf("unknown: got %v", err)
	}
}

func TestAudit_AppendOnly(t *testing.T) {
	ctx := context.Background()
	e := setUp(t)
	if _, err := e.subs.Save(ctx, draft(t, e), e.agent); err != nil {
		t.Fatal(err)
	}
	log := store.NewAuditService(e.db)
	if err := log.Record(ctx, "王芳", kiosk.ActionView, "330603101201-x", ""); err != nil {
		t.Fatal(err)
	}
	entries, err := log.List(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range entries {
		actions = append(actions, en.Action)
	}
	if got := strings.Join(actions, ","); got != "view,create,agent_added" {
		t.Fatalf("got %s", got)
	}
	for _, q := range []string{`UPDATE audit_log SET agent = 'x'`, `DELETE FROM audit_log`} {
		if _, err := e.db.SQL().Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("%s: got %v", q, err)
		}
	}
}

// testPub and testPriv are a district's sealing key pair for the tests,
// the same in every process of a test (the crash test's children).
var testPub, testPriv = func() (*seal.Key, *seal.Key) {
	priv := seal.Key(sha256.Sum256([]byte("district key for the store's tests")))
	var pub seal.Key
	curve25519.ScalarBaseMult(&pub, &priv)
	return &pub, &priv
}()

// districtKey gives the kiosk the district's sealing key, as enrolment does.
func districtKey(tb testing.TB, db *store.DB) {
	tb.Helper()
	if err := store.NewSettingsService(db).SetSealKey(context.Background(), testPub); err != nil {
		tb.Fatal(err)
	}
}

// openFile reads a kept attachment as the district would: opened with its
// key, checked against its hash.
func openFile(tb testing.TB, db *store.DB, a kiosk.Attachment) []byte {
	tb.Helper()
	f, err := os.Open(db.AttachmentPath(a.SHA256))
	if err != nil {
		tb.Fatalf("attachment %s: %v", a.Name, err)
	}
	defer f.Close()
	var plain bytes.Buffer
	if _, err := seal.OpenFile(&plain, f, testPriv); err != nil {
		tb.Fatalf("attachment %s: %v", a.Name, err)
	}
	if sum := sha256.Sum256(plain.Bytes()); hex.EncodeToString(sum[:]) != a.SHA256 || int64(plain.Len()) != a.Size {
		tb.Fatalf("attachment %s does not match its hash or size", a.Name)
	}
	return plain.Bytes()
}

// openPayload opens a kept submission with the district's key.
func openPayload(tb testing.TB, db *store.DB, id string) []byte {
	tb.Helper()
	var sealed []byte
	if err := db.SQL().QueryRow(`SELECT payload FROM submissions WHERE id = ?`, id).Scan(&sealed); err != nil {
		tb.Fatal(err)
	}
	plain, err := seal.Open(testPub, testPriv, sealed)
	if err != nil {
		tb.Fatal(err)
	}
	return plain
}
