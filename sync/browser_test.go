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
