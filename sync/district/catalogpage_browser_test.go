package district_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/browsertest"
)

func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("read %s: %v", css, err)
	}
	return s
}

// TestCatalogPage_Browser uploads catalogs from Chromium's file picker: a
// broken one is refused with its problems in Chinese; a good one shows its
// differences and is published with the page's button.
func TestCatalogPage_Browser(t *testing.T) {
	e := newStaffEnv(t)
	dir := t.TempDir()
	bad := shippedCatalog(t)
	bad.Version = "2026.2"
	sub := &bad.MainItems[2].SubItems[0]
	sub.TimeLimit = kiosk.TimeLimit{PromisedDays: 30, StatutoryDays: 20}
	sub.Materials[0].Copies = 0
	bad.MainItems[0].SubItems[1].Channels = []kiosk.Channel{"fax"}
	badFile, goodFile := filepath.Join(dir, "目录2026.2-有误.json"), filepath.Join(dir, "目录2026.2.json")
	_, good := editedCatalog(t)
	if err := os.WriteFile(badFile, catalogJSON(t, bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goodFile, good, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t, 1366, 768)
	browserSignIn(t, ctx, e.srv.URL)
	upload := func(file, waitFor string) {
		t.Helper()
		if err := chromedp.Do(ctx,
			chromedp.Navigate(e.srv.URL+"/staff/catalog"),
			chromedp.SetUploadFiles(chromedp.CSS(`input[name=catalog]`), []string{file}),
			chromedp.Click(chromedp.CSS(`form[action="/staff/catalog/upload"] button`)),
			chromedp.WaitVisible(chromedp.CSS(waitFor)),
		); err != nil {
			t.Fatal(err)
		}
	}
	upload(badFile, "#problems")
	problems := text(t, ctx, "#problems")
	for _, want := range []string{"承诺时限30个工作日超过了法定时限20个工作日", "的份数至少为1", "办理渠道“fax”无法识别", "子项“" + sub.Name + "”"} {
		if !strings.Contains(problems, want) {
			t.Errorf("the problems read %q, want …%s…", problems, want)
		}
	}
	browsertest.Screenshot(t, ctx, "docs/screenshots/staff-catalog-errors.png")

	upload(goodFile, "#diff")
	browsertest.Screenshot(t, ctx, "docs/screenshots/staff-catalog-diff.png")
	if got := text(t, ctx, "#changed"); !strings.Contains(got, "承诺10个工作日 → 承诺5个工作日") || !strings.Contains(got, "增加：近期免冠照片") {
		t.Errorf("the changed items read %q", got)
	}
	if got := text(t, ctx, "#added"); !strings.Contains(got, "社保卡<img src=x onerror=alert(1)>加急") {
		t.Errorf("the added item reads %q, want its name as typed", got)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#publish")), chromedp.WaitVisible(chromedp.CSS(".flash"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#current"); !strings.Contains(got, "2026.2") {
		t.Fatalf("after publishing the page shows %q", got)
	}
	if doc, _, err := e.st.Catalog(context.Background()); err != nil || !bytes.Equal(doc, good) {
		t.Fatalf("published: %v", err)
	}
}

// TestDevicesPage_Browser issues an enrolment code and revokes a kiosk
// through the confirm step, in Chromium.
func TestDevicesPage_Browser(t *testing.T) {
	e := newStaffEnv(t)
	ctx := browsertest.New(t, 1366, 768)
	browserSignIn(t, ctx, e.srv.URL)
	s := signIn(t, e.srv.URL)
	if p := s.post("/staff/devices/agent", map[string][]string{"csrf": {s.csrf("/staff/devices")}, "point": {codeWanghua}, "name": {"王芳"}, "pin": {"2468"}, "admin": {"1"}}); p.Status != 303 {
		t.Fatalf("agent: %d", p.Status)
	}
	s.post("/staff/devices/agent", map[string][]string{"csrf": {s.csrf("/staff/devices")}, "point": {codeWanghua}, "name": {"李强"}, "pin": {"1357"}})
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/staff/devices?point="+codeWanghua),
		chromedp.SendKeys(chromedp.CSS(`input[name=point_code]`), "330603107207"),
		chromedp.SendKeys(chromedp.CSS(`input[name=point_name]`), "漓渚村便民服务中心"),
		chromedp.Click(chromedp.CSS(`form[action="/staff/devices/code"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#issued")),
	); err != nil {
		t.Fatal(err)
	}
	code := text(t, ctx, "#enroll-code")
	if len(code) != 10 {
		t.Fatalf("enrolment code %q", code)
	}
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const i = document.querySelector('#issued img'); return i.complete && i.naturalWidth >= 200; })()`))
	if err != nil || !ok {
		t.Fatalf("the QR image did not load: %v", err)
	}
	browsertest.Screenshot(t, ctx, "docs/screenshots/staff-devices.png")
	id := e.devices["stale"]
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/staff/devices"),
		chromedp.Click(chromedp.CSS(`tr[data-device="`+id+`"] a[href$="/revoke"]`)),
		chromedp.WaitVisible(chromedp.CSS("#confirm")),
	); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "docs/screenshots/staff-devices-revoke.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#revoke")), chromedp.WaitVisible(chromedp.CSS(".flash"))); err != nil {
		t.Fatal(err)
	}
	if d, _ := e.st.Device(context.Background(), id); !d.Revoked {
		t.Fatal("the confirm button did not revoke the kiosk")
	}
	if got := text(t, ctx, `tr[data-device="`+id+`"]`); !strings.Contains(got, "已停用") {
		t.Errorf("the list shows %q", got)
	}
}
