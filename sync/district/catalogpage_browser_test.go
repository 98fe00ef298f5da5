package district_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

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

// TestCatalogPage_Browser looks at a staged catalog's differences in
// Chromium and publishes it with the page's button.
func TestCatalogPage_Browser(t *testing.T) {
	e := newStaffEnv(t)
	s := signIn(t, e.srv.URL)
	_, doc := editedCatalog(t)
	up := s.upload("/staff/catalog/upload", "catalog", "2026.2.json", doc, s.csrf("/staff/catalog"))
	if up.Status != 303 {
		t.Fatalf("upload: %d", up.Status)
	}
	ctx := browsertest.New(t, 1366, 768)
	browserSignIn(t, ctx, e.srv.URL)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+up.Location), chromedp.WaitVisible(chromedp.CSS("#diff"))); err != nil {
		t.Fatal(err)
	}
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
