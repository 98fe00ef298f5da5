package district_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/keqiao/villagekiosk/internal/browsertest"
)

// browserSignIn signs the browser in through the sign-in form.
func browserSignIn(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/staff/login"),
		chromedp.SendKeys(chromedp.CSS("#username"), staffUser),
		chromedp.SendKeys(chromedp.CSS("#password"), staffPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/staff/logout"]`))); err != nil {
		t.Fatalf("sign in: %v", err)
	}
}

// rowState is what a person reads in a device's row: the state badge and
// the reasons.
func rowState(t *testing.T, ctx context.Context, device string) (state, why, class string) {
	t.Helper()
	type row struct{ State, Why, Class string }
	r, err := chromedp.Run(ctx, chromedp.Evaluate[row](`(() => {
		const tr = document.querySelector('tr[data-device="`+device+`"]');
		if (!tr) return {State: "", Why: "", Class: ""};
		const why = tr.querySelector('ul.why');
		return {State: tr.querySelector('.state').innerText, Why: why ? why.innerText : "", Class: tr.className};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	return r.State, r.Why, r.Class
}

// TestPointsPage_Browser loads the monitor in headless Chromium at a
// laptop's 1366×768 and reads each kiosk's state as a person would.
func TestPointsPage_Browser(t *testing.T) {
	e := newStaffEnv(t)
	ctx := browsertest.New(t, 1366, 768)
	browserSignIn(t, ctx, e.srv.URL)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/staff/points"), chromedp.WaitVisible(chromedp.CSS("#points"))); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "docs/screenshots/staff-points.png")
	for _, tc := range []struct {
		label, state, why, class string
	}{
		{"online", "在线", "", "ok"},
		{"offline", "离线", "", "off"},
		{"stale", "离线", "超过1天未联系", "stale"},
		{"backlog", "在线", "7件办件待上传，最早的已等待2天", "stale"},
		{"revoked", "已停用", "停用", "revoked"},
		{"never", "未联系", "从未联系", "stale"},
		{"script", "在线", "时钟偏差7分钟", "warn"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			state, why, class := rowState(t, ctx, e.devices[tc.label])
			if !strings.Contains(state, tc.state) || !strings.Contains(why, tc.why) || !strings.Contains(class, tc.class) || (tc.why == "" && why != "") {
				t.Fatalf("got %q %q class %q, want %q …%s… class %q", state, why, class, tc.state, tc.why, tc.class)
			}
		})
	}
	// The point name with a script tag reads as text, and no script ran.
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`tr[data-device="`+e.devices["script"]+`"] td.pt`)))
	if err != nil || !strings.Contains(text, `<script>alert("x")</script>`) {
		t.Fatalf("the point's name should read as typed, got %q %v", text, err)
	}
	// Only the problems.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.tabs a:nth-child(2)`)), chromedp.WaitVisible(chromedp.CSS(`.tabs a.on:nth-child(2)`))); err != nil {
		t.Fatal(err)
	}
	shown, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#shown")))
	if !strings.Contains(shown, "显示 4 / 7") {
		t.Errorf("problems only: got %q, want 4 of 7 (stale, backlog, never, clock)", shown)
	}
	browsertest.Screenshot(t, ctx, "docs/screenshots/staff-points-problems.png")
}
