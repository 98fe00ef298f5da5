package app

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/assets"
	"github.com/keqiao/villagekiosk/internal/seal"
	"github.com/keqiao/villagekiosk/receipt"
	"github.com/keqiao/villagekiosk/store"
)

// clock is the fixed time of the UI tests: 2026-11-28 10:00 in China.
var clock = time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)

// testKiosk is a real kiosk store in a temporary folder: the small test
// catalog, a service point and one admin agent, 王芳 with PIN 2468.
type testKiosk struct {
	db       *store.DB
	svc      Services
	receipts string // where receipts are printed to (files)
	// The district's sealing key pair: the kiosk has the public half, the
	// tests open what it sealed with both, as the district does.
	sealPub, sealPriv *seal.Key
}

// opened is a saved submission as the district opens it: everything the
// agent entered, which the kiosk itself keeps only sealed.
func (k *testKiosk) opened(t *testing.T, id string) *kiosk.Submission {
	t.Helper()
	var sealed []byte
	if err := k.db.SQL().QueryRow(`SELECT payload FROM submissions WHERE id = ?`, id).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	plain, err := seal.Open(k.sealPub, k.sealPriv, sealed)
	if err != nil {
		t.Fatal(err)
	}
	var sub kiosk.Submission
	if err := json.Unmarshal(plain, &sub); err != nil {
		t.Fatal(err)
	}
	return &sub
}

func newTestKiosk(t *testing.T, setUp bool) *testKiosk {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return clock }
	data, err := os.ReadFile("../testdata/catalog-small.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.NewCatalogService(db).Install(ctx, data, kiosk.OriginFile); err != nil {
		t.Fatal(err)
	}
	k := &testKiosk{db: db, receipts: t.TempDir(), svc: Services{
		Catalog: store.NewCatalogService(db), Settings: store.NewSettingsService(db), Agents: store.NewAgentService(db),
		Submissions: store.NewSubmissionService(db), Audit: store.NewAuditService(db),
	}}
	cal, err := kiosk.ParseHolidayYears(assets.HolidayYears()...)
	if err != nil {
		t.Fatal(err)
	}
	// No printer is set up: receipts go to PNG files, as on a new kiosk.
	k.svc.Receipts = &receipt.Service{Submissions: k.svc.Submissions, Catalog: k.svc.Catalog, Settings: k.svc.Settings,
		Audit: k.svc.Audit, Calendar: cal, Key: ed25519.NewKeyFromSeed(make([]byte, 32)), FileDir: k.receipts,
		Now: func() time.Time { return clock }}
	if setUp {
		if err := k.svc.Settings.SetPoint(ctx, kiosk.PointInfo{Code: "330603101201", Name: "王化村便民服务中心"}); err != nil {
			t.Fatal(err)
		}
		if _, err := k.svc.Agents.CreateAgent(ctx, "王芳", "2468", true); err != nil {
			t.Fatal(err)
		}
		// Enrolled: the district's sealing key is known.
		k.sealPub, k.sealPriv, _ = seal.GenerateKey()
		if err := k.svc.Settings.Set(ctx, kiosk.SettingSealKey, seal.Encode(k.sealPub)); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

// openUI opens the kiosk in a software window; it starts at the lock screen.
func openUI(t *testing.T, k *testKiosk, size fyne.Size, opts Options) (*UI, fyne.Window) {
	t.Helper()
	a := test.NewTempApp(t)
	a.Settings().SetTheme(Theme())
	w := test.NewTempWindow(t, nil)
	w.Resize(size)
	if opts.Now == nil {
		opts.Now = func() time.Time { return clock }
	}
	u, err := New(w, k.svc, opts)
	if err != nil {
		t.Fatal(err)
	}
	w.Resize(size)
	return u, w
}

// newTestUI is a set-up kiosk with 王芳 signed in.
func newTestUI(t *testing.T, size fyne.Size) (*UI, fyne.Window) {
	t.Helper()
	u, w := openUI(t, newTestKiosk(t, true), size, Options{})
	signIn(t, u, w)
	return u, w
}

// signIn types 王芳's PIN on the lock screen's keypad.
func signIn(t *testing.T, u *UI, w fyne.Window) {
	t.Helper()
	for _, k := range []string{"2", "4", "6", "8", "确定"} {
		test.Tap(findButton(t, w, k))
	}
	if u.agent == nil || u.agent.Name != "王芳" {
		t.Fatalf("not signed in; screen shows:\n%s", screenText(w))
	}
}

var kioskSize = fyne.NewSize(1280, 800)

// findCard returns the tappable card on screen showing s.
func findCard(t *testing.T, w fyne.Window, s string) *card {
	t.Helper()
	for _, o := range test.LaidOutObjects(w.Canvas().Content()) {
		c, ok := o.(*card)
		if ok && shows(c.content, s) {
			return c
		}
	}
	t.Fatalf("no card showing %q on screen", s)
	return nil
}

func shows(o fyne.CanvasObject, s string) bool {
	for _, x := range test.LaidOutObjects(o) {
		switch v := x.(type) {
		case *canvas.Text:
			if v.Text == s {
				return true
			}
		case *widget.Label:
			if v.Text == s {
				return true
			}
		}
	}
	return false
}

func screenText(w fyne.Window) string {
	var b strings.Builder
	for _, x := range test.LaidOutObjects(w.Canvas().Content()) {
		switch v := x.(type) {
		case *canvas.Text:
			b.WriteString(v.Text + "\n")
		case *widget.Label:
			b.WriteString(v.Text + "\n")
		}
	}
	return b.String()
}

func TestHome(t *testing.T) {
	_, w := newTestUI(t, kioskSize)
	for _, want := range []string{"社会保障卡", "养老保险", "2 个事项", "事项目录 test.1 · 2 个主项 · 3 个子项 · 无网络也可使用", "王化村便民服务中心 · 代办员 王芳"} {
		if !strings.Contains(screenText(w), want) {
			t.Errorf("home screen lacks %q", want)
		}
	}
	assertScreen(t, "home.png", w)
}

// TestBrowse drives the UI as an agent would: tap a category tile, tap a
// matter, read its detail, go back.
func TestBrowse(t *testing.T) {
	u, w := newTestUI(t, kioskSize)
	test.Tap(findCard(t, w, "社会保障卡"))
	if got := u.crumb.Text; got != "首页  ›  社会保障卡" {
		t.Fatalf("breadcrumb: got %q", got)
	}
	assertScreen(t, "category.png", w)

	test.Tap(findCard(t, w, "社会保障卡补领"))
	screen := screenText(w)
	for _, want := range []string{
		"社会保障卡补领", "主项：社会保障卡申领　　事项编码：3306210001-02", "10 个工作日",
		"是，只需身份证", "1. 居民身份证", "1. 村代办员核验身份 —— 村代办员", "1. 挂失并补制 —— 区社保中心",
		"• 补领原因（选择，必填）：遗失 / 损坏", "办理依据", "社会保障卡，到村服务点领取",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("detail screen lacks %q", want)
		}
	}

	test.Tap(u.back)
	if got := u.crumb.Text; got != "首页  ›  社会保障卡" {
		t.Fatalf("after back: got %q", got)
	}
	test.Tap(u.back)
	if got := u.crumb.Text; got != "首页" || !u.back.Disabled() {
		t.Fatalf("after second back: got %q, back enabled %v", got, !u.back.Disabled())
	}
}

func TestItemDetail(t *testing.T) {
	u, w := newTestUI(t, kioskSize)
	if err := u.Open("item:3306210001-01"); err != nil {
		t.Fatal(err)
	}
	assertScreen(t, "item.png", w)
}

// TestSearch types into the search box as the agent would: results update
// with every key, and clearing the box returns to where the agent was.
func TestSearch(t *testing.T) {
	u, w := newTestUI(t, kioskSize)
	test.Tap(findCard(t, w, "养老保险"))

	w.Canvas().Focus(u.search)
	test.Type(u.search, "ylb")
	if !strings.Contains(screenText(w), "找到 1 个事项") {
		t.Fatalf("after typing ylb the screen shows:\n%s", screenText(w))
	}
	test.Type(u.search, "x")
	assertScreen(t, "search.png", w)
	test.Tap(findCard(t, w, "城乡居民基本养老保险参保登记"))
	if !strings.Contains(screenText(w), "即办") {
		t.Fatal("detail of the found item not shown")
	}
	test.Tap(u.back) // back to the results
	if !strings.Contains(u.crumb.Text, "搜索“ylbx”") {
		t.Fatalf("back from a result: got %q", u.crumb.Text)
	}

	u.search.SetText("")
	if got := u.crumb.Text; got != "首页  ›  养老保险" {
		t.Fatalf("clearing the search: got %q, want the category again", got)
	}

	test.Type(u.search, "火箭")
	if !strings.Contains(screenText(w), "没有找到与“火箭”相关的事项") {
		t.Fatal("no-result message missing")
	}
	assertScreen(t, "search-none.png", w)

	test.Tap(findButton(t, w, "首页"))
	if u.search.Text != "" || u.crumb.Text != "首页" {
		t.Fatalf("home: got search %q and crumb %q", u.search.Text, u.crumb.Text)
	}
}

func findButton(t *testing.T, w fyne.Window, label string) *widget.Button {
	t.Helper()
	b := button(w, label)
	if b == nil {
		t.Fatalf("no button %q", label)
	}
	return b
}

// button is the window's button labelled label, or nil.
func button(w fyne.Window, label string) *widget.Button {
	for _, o := range test.LaidOutObjects(w.Canvas().Content()) {
		if b, ok := o.(*widget.Button); ok && b.Text == label {
			return b
		}
	}
	return nil
}

// TestSizes checks the layout at the two screen sizes village terminals have:
// nothing is wider than the window, and every tappable thing is tall enough
// for a finger.
func TestSizes(t *testing.T) {
	for _, size := range []fyne.Size{fyne.NewSize(1280, 800), fyne.NewSize(1920, 1080)} {
		u, w := newTestUI(t, size)
		for _, name := range []string{"home", "category:社会保障卡", "item:3306211136-01", "search:sbk"} {
			if err := u.Open(name); err != nil {
				t.Fatal(err)
			}
			if min := w.Content().MinSize(); min.Width > size.Width {
				t.Errorf("%v %s: content needs width %v", size, name, min.Width)
			}
			for _, o := range test.LaidOutObjects(w.Canvas().Content()) {
				var h float32
				switch v := o.(type) {
				case *card:
					if v.onTap == nil {
						continue
					}
					h = v.Size().Height
				case *widget.Button:
					h = v.Size().Height
				case *widget.Entry:
					h = v.Size().Height
				default:
					continue
				}
				if o.Visible() && h < 48 {
					t.Errorf("%v %s: %T is %v px high, want at least 48", size, name, o, h)
				}
			}
		}
	}
}

func TestOpen_Errors(t *testing.T) {
	u, _ := newTestUI(t, kioskSize)
	for _, name := range []string{"item:0000", "category:不存在", "nosuch"} {
		if err := u.Open(name); err == nil {
			t.Errorf("Open(%q): got nil error", name)
		}
	}
}

func TestNotice(t *testing.T) {
	_, w := openUI(t, newTestKiosk(t, true), kioskSize, Options{Notice: "本机数据文件损坏，已原样移到 X 保存"})
	overlay := w.Canvas().Overlays().Top()
	if overlay == nil || !shows(overlay, "本机数据文件损坏，已原样移到 X 保存") {
		t.Fatal("the start-up notice is not shown")
	}
}

func TestSyncStatus(t *testing.T) {
	u, w := newTestUI(t, kioskSize)
	u.SetSyncStatus(true, 2, clock, "")
	u.SetSyncProgress(300, 1200)
	if !strings.Contains(screenText(w), "在线 · 2 件待上传 · 上次同步 10:00") || !u.progBox.Visible() || u.progress.Value != 0.25 {
		t.Fatalf("online: %q, bar %v %v", u.sync.Text, u.progBox.Visible(), u.progress.Value)
	}
	u.SetSyncProgress(0, 0)
	u.SetSyncStatus(false, 2, clock, "区平台暂时连不上，稍后自动重试")
	if u.progBox.Visible() || !strings.Contains(u.sync.Text, "离线 · 2 件待上传 · 区平台暂时连不上") {
		t.Fatalf("offline: %q", u.sync.Text)
	}
}

// TestSyncNowButton: 立即同步 in the status bar starts a round.
func TestSyncNowButton(t *testing.T) {
	asked := 0
	u, w := openUI(t, newTestKiosk(t, true), kioskSize, Options{SyncNow: func() { asked++ }})
	signIn(t, u, w)
	test.Tap(findButton(t, w, "立即同步"))
	if asked != 1 {
		t.Fatalf("立即同步 started %d rounds", asked)
	}
}

// TestAuditScreen: an admin agent opens 操作记录 and reads, newest first,
// who signed in, took and printed a matter, in words.
func TestAuditScreen(t *testing.T) {
	k := newTestKiosk(t, true)
	ctx := context.Background()
	k.svc.Audit.Record(ctx, "王芳", kiosk.ActionCreate, "330603101201-20261128-0001", "3306210001-01")
	k.svc.Audit.Record(ctx, "王芳", kiosk.ActionPrint, "330603101201-20261128-0001", "print file")
	u, w := openUI(t, k, kioskSize, Options{})
	signIn(t, u, w)
	test.Tap(findButton(t, w, "操作记录"))
	text := screenText(w)
	for _, want := range []string{"登录", "新建办件", "打印回执", "330603101201-20261128-0001", "王芳"} {
		if !strings.Contains(text, want) {
			t.Errorf("the audit screen lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "登录") > strings.Index(text, "新建办件") {
		t.Error("the audit log is not newest first")
	}
	assertScreen(t, "audit.png", w)
}
