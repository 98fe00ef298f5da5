package district

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/browsertest"
)

// TestPointsPage_Browser354 shows the monitor with Keqiao's 354 service
// points at a laptop's 1366×768: all rows there, and the problems filter
// and the sort by state bring the stale ones to the top.
func TestPointsPage_Browser354(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 18, 10, 0, 0, 0, kiosk.ChinaTime)
	st.Now = func() time.Time { return now }
	fillDistrict(t, st, now, 5000)
	srv := httptest.NewServer(NewHandler(st, Options{Name: "柯桥区人力资源和社会保障局"}))
	defer srv.Close()

	cookie := staffCookie(t, st)
	b := browsertest.New(t, 1366, 768)
	if _, err := chromedp.Call(b, network.SetCookie, network.SetCookieParams{Name: cookie.Name, Value: cookie.Value, URL: srv.URL + "/staff/"}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b, chromedp.Navigate(srv.URL+"/staff/points?sort=state"), chromedp.WaitVisible(chromedp.CSS("#points"))); err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll('#points tbody tr[data-device]').length`))
	if err != nil || rows != 354 {
		t.Fatalf("got %d rows (%v), want 354", rows, err)
	}
	first, err := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector('#points tbody tr').className`))
	if err != nil || !strings.Contains(first, "stale") {
		t.Fatalf("sorted by state, the first row is %q, want a stale one", first)
	}
	browsertest.ScreenshotWindow(t, b, "docs/screenshots/staff-points-354.png")
}
