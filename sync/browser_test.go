package sync_test

import (
	"context"
	"crypto/ed25519"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/browsertest"
	receipttoken "github.com/keqiao/villagekiosk/receipt/token"
	kiosksync "github.com/keqiao/villagekiosk/sync"
)

// TestBrowser_ReturnReachesKiosk: in headless Chromium a staff member signs
// in through the form, finds the village's matter in the inbox, returns it
// for more material with a reason; the kiosk's next sync shows 退回补正 and
// that reason. Then the villager's phone opens the receipt's status page,
// genuine and forged. Screenshots for docs/ with UPDATE_SCREENSHOTS=1.
func TestBrowser_ReturnReachesKiosk(t *testing.T) {
	ctx := context.Background()
	d, k := newDistrictOn(t, ""), newKiosk(t)
	sy := k.enroll(t, d)
	sub := k.save(t, "𠮷野", 20_000)
	tok, _ := receipttoken.NewToken(sub, k.key, time.Now()).Sign(k.key)
	if rep, err := sy.RunOnce(ctx); err != nil || rep.Uploaded != 1 {
		t.Fatalf("upload: %+v %v", rep, err)
	}
	if err := d.st.AddStaff(ctx, "zhangwei", "张伟", "keqiao-2026-rs"); err != nil {
		t.Fatal(err)
	}
	doc, _ := os.ReadFile("../testdata/catalog-small.json")
	if _, err := d.st.PublishCatalog(ctx, doc); err != nil {
		t.Fatal(err)
	}

	// The villager scans the receipt the same day: received, with the date
	// it is promised for.
	phone := browsertest.New(t, 390, 844)
	if err := chromedp.Do(phone, chromedp.Navigate(d.srv.URL+"/r/"+tok), chromedp.WaitVisible(chromedp.CSS("#expected"))); err != nil {
		t.Fatalf("the status page of an open matter has no expected date: %v", err)
	}
	browsertest.Screenshot(t, phone, "docs/screenshots/status-page.png")

	b := browsertest.New(t, 1366, 768)
	if err := chromedp.Do(b, chromedp.Navigate(d.srv.URL+"/staff/"), chromedp.WaitVisible(chromedp.CSS("#username"))); err != nil {
		t.Fatalf("the inbox without a session should show the sign-in form: %v", err)
	}
	browsertest.Screenshot(t, b, "docs/screenshots/staff-login.png")
	if err := chromedp.Do(b,
		chromedp.SendKeys(chromedp.CSS("#username"), "zhangwei"),
		chromedp.SendKeys(chromedp.CSS("#password"), "keqiao-2026-rs"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#inbox"))); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	browsertest.Screenshot(t, b, "docs/screenshots/staff-inbox.png")
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`tr[data-receipt="`+sub.ReceiptNo+`"] a`)), chromedp.WaitVisible(chromedp.CSS("#actions"))); err != nil {
		t.Fatalf("open the matter: %v", err)
	}
	name, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS("#applicant")))
	if name != "𠮷野" {
		t.Fatalf("the detail shows applicant %q", name)
	}
	browsertest.Screenshot(t, b, "docs/screenshots/staff-submission.png")
	const reason = "请补交近期免冠一寸照片"
	returnForm := `form.act:has(input[name="status"][value="returned"])`
	if err := chromedp.Do(b,
		chromedp.SendKeys(chromedp.CSS(returnForm+` textarea`), reason),
		chromedp.Click(chromedp.CSS(returnForm+` button`)),
		chromedp.WaitVisible(chromedp.CSS(".flash"))); err != nil {
		t.Fatalf("return the matter: %v", err)
	}
	history, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS("#history")))
	if !strings.Contains(history, "退回补正") || !strings.Contains(history, reason) || !strings.Contains(history, "zhangwei") {
		t.Fatalf("history after the return: %q", history)
	}

	if _, err := sy.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if status, note := k.status(t, sub.ID); status != kiosk.StatusReturned || note != reason {
		t.Fatalf("the kiosk shows %s %q, want returned %q", status, note, reason)
	}

	if err := chromedp.Do(phone, chromedp.Navigate(d.srv.URL+"/r/"+tok), chromedp.WaitVisible(chromedp.CSS("body"))); err != nil {
		t.Fatal(err)
	}
	text, _ := chromedp.Run(phone, chromedp.Text(chromedp.CSS("body")))
	for _, want := range []string{"真实回执", sub.ReceiptNo, "退回补正", reason} {
		if !strings.Contains(text, want) {
			t.Errorf("the status page lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "𠮷野") || strings.Contains(text, "11010519491231002X") {
		t.Error("the status page shows personal data")
	}
	browsertest.Screenshot(t, phone, "docs/screenshots/status-page-returned.png")
	_, other, _ := ed25519.GenerateKey(nil)
	forged, _ := receipttoken.NewToken(sub, other, time.Now()).Sign(other)
	if err := chromedp.Do(phone, chromedp.Navigate(d.srv.URL+"/r/"+forged), chromedp.WaitVisible(chromedp.CSS("body"))); err != nil {
		t.Fatal(err)
	}
	text, _ = chromedp.Run(phone, chromedp.Text(chromedp.CSS("body")))
	if !strings.Contains(text, "这不是一张真实的回执") || strings.Contains(text, "退回补正") || strings.Contains(text, sub.ReceiptNo) {
		t.Fatalf("a forged receipt:\n%s", text)
	}
	browsertest.Screenshot(t, phone, "docs/screenshots/status-forged.png")
}

// TestBrowser_StaffRefusals: in headless Chromium, markup in an applicant's
// name and in a reason typed by staff shows as text and runs no script (no
// dialog opens); a form whose CSRF token was taken out is refused and
// changes nothing; five wrong passwords lock the sign-in, and the right one
// is refused too until the 15 minutes are over.
func TestBrowser_StaffRefusals(t *testing.T) {
	ctx := context.Background()
	d, k := newDistrictOn(t, ""), newKiosk(t)
	sy := k.enroll(t, d)
	sub := k.save(t, "张三", 2000)
	if _, err := sy.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	const markup = `<script>alert(1)</script>"><img src=x onerror=alert(2)>`
	evil := *sub
	evil.ID, evil.ReceiptNo = sub.ID+"-x", sub.ReceiptNo+"-X"
	evil.Applicant.Name = "李四" + markup
	up, err := kiosksync.SealedUpload(&evil, d.st.SealKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sy.Client.PostSubmission(ctx, up); err != nil { // signed with the kiosk's key
		t.Fatal(err)
	}
	if err := d.st.AddStaff(ctx, "zhangwei", "张伟", "keqiao-2026-rs"); err != nil {
		t.Fatal(err)
	}

	b := browsertest.New(t, 1366, 768)
	dialogs := browsertest.WatchDialogs(t, b)
	signIn := func(password, wait string) string {
		t.Helper()
		if err := chromedp.Do(b,
			chromedp.Navigate(d.srv.URL+"/staff/login"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), "zhangwei"),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(wait))); err != nil {
			t.Fatalf("sign in: %v", err)
		}
		text, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS("body")))
		return text
	}
	signIn("keqiao-2026-rs", "#inbox")

	// Markup from a kiosk and from staff: text, never script.
	returnForm := `form.act:has(input[name="status"][value="returned"])`
	if err := chromedp.Do(b,
		chromedp.Navigate(d.srv.URL+"/staff/submissions/"+evil.ID), chromedp.WaitVisible(chromedp.CSS("#actions")),
		chromedp.SendKeys(chromedp.CSS(returnForm+` textarea`), "请补交"+markup),
		chromedp.Click(chromedp.CSS(returnForm+` button`)),
		chromedp.WaitVisible(chromedp.CSS(".flash"))); err != nil {
		t.Fatalf("return the matter: %v", err)
	}
	name, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS("#applicant")))
	history, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS("#history")))
	if name != "李四"+markup || !strings.Contains(history, "请补交"+markup) {
		t.Errorf("the markup is not shown as typed: name %q, history %q", name, history)
	}
	if err := chromedp.Do(b, chromedp.Navigate(d.srv.URL+"/staff/"), chromedp.WaitVisible(chromedp.CSS("#inbox"))); err != nil {
		t.Fatal(err)
	}
	if got := dialogs(); len(got) != 0 {
		t.Fatalf("script ran in the workbench: dialogs %q", got)
	}

	// A form without its CSRF token: refused, nothing moves.
	acceptForm := `form.act:has(input[name="status"][value="accepted"])`
	if err := chromedp.Do(b,
		chromedp.Navigate(d.srv.URL+"/staff/submissions/"+sub.ID), chromedp.WaitVisible(chromedp.CSS("#actions")),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())`),
		chromedp.Click(chromedp.CSS(acceptForm+` button`)),
		chromedp.WaitVisible(chromedp.CSS(".error"))); err != nil {
		t.Fatalf("post without the token: %v", err)
	}
	if text, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS("body"))); !strings.Contains(text, "这个表单已失效") {
		t.Errorf("a form without its token:\n%s", text)
	}
	if s, _ := d.st.Detail(ctx, sub.ID); s.Status != kiosk.StatusReceived {
		t.Fatalf("the refused form moved the matter to %s", s.Status)
	}

	// Five wrong passwords, then the right one: locked.
	for i := 1; i <= 5; i++ {
		if text := signIn("wrong-password", ".error"); strings.Contains(text, "15分钟后再试") {
			t.Fatalf("locked after %d wrong passwords, want 5", i)
		}
	}
	if text := signIn("keqiao-2026-rs", ".error"); !strings.Contains(text, "登录失败次数过多，请15分钟后再试") {
		t.Fatalf("the sixth try, with the right password:\n%s", text)
	}
}
