package district

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

// fillDistrict writes, straight into the tables, 354 service points with a
// kiosk each and subs submissions spread over the last six months, each
// received, accepted and mostly done.
func fillDistrict(b testing.TB, st *Store, now time.Time, subs int) {
	b.Helper()
	ctx := context.Background()
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	for i := range 354 {
		seen := now.Add(-time.Duration(rand.IntN(3*24*60)) * time.Minute)
		hb := fmt.Sprintf(`{"app_version":"1.4.0","queue":%d,"oldest_unsent":%q,"printer":"escpos-usb 58","disk_free":40000000000}`, i%4, stamp(seen.Add(-time.Hour)))
		if _, err := tx.ExecContext(ctx, `INSERT INTO devices (id, public_key, point_code, point_name, app_version, enrolled_at, last_seen, heartbeat) VALUES (?, ?, ?, ?, '1.4.0', ?, ?, ?)`,
			fmt.Sprintf("dev-%03d", i), []byte(fmt.Sprintf("key-%03d", i)), fmt.Sprintf("3306031%02d%03d", i/20, 200+i), fmt.Sprintf("第%d村", i), stamp(now.AddDate(-1, 0, 0)), stamp(seen), hb); err != nil {
			b.Fatal(err)
		}
	}
	matters := []string{"3306211201-01", "3306211202-01", "3306211202-03", "3306211121-02"}
	for i := range subs {
		dev := fmt.Sprintf("dev-%03d", i%354)
		created := now.Add(-time.Duration(rand.IntN(180*24*60)) * time.Minute)
		id := fmt.Sprintf("sub-%06d", i)
		payload := fmt.Sprintf(`{"id":%q,"catalog_version":"2026.1","created_at":%q,"applicant":{"name":"某某"}}`, id, created.UTC().Format(time.RFC3339))
		if _, err := tx.ExecContext(ctx, `INSERT INTO submissions (id, device_id, receipt_no, matter, content_hash, payload, received_at, status, reply) VALUES (?, ?, ?, ?, '', ?, ?, 'done', '{}')`,
			id, dev, id, matters[i%len(matters)], []byte(payload), stamp(created)); err != nil {
			b.Fatal(err)
		}
		for j, status := range []string{kiosk.StatusReceived, kiosk.StatusAccepted, kiosk.StatusDone} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO changes (device_id, submission_id, receipt_no, kind, status, at) VALUES (?, ?, ?, 'status', ?, ?)`,
				dev, id, id, status, stamp(created.Add(time.Duration(j*rand.IntN(5*24))*time.Hour))); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// staffCookie signs a staff member in and returns the session cookie.
func staffCookie(t testing.TB, st *Store) *http.Cookie {
	t.Helper()
	ctx := context.Background()
	if err := st.AddStaff(ctx, "zhangwei", "张伟", "keqiao-2026-rs"); err != nil {
		t.Fatal(err)
	}
	token, _, err := st.SignIn(ctx, "zhangwei", "keqiao-2026-rs", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: sessionCookie, Value: token}
}

// BenchmarkPointsPage renders /staff/points for 354 points and 30,000
// submissions over six months (about 5,000 a month): counting the figures
// afresh, and within the minute they are kept. The floor, measured in the
// same run, is the two queries that read the facts and their history, with
// nothing judged or rendered.
func BenchmarkPointsPage(b *testing.B) {
	ctx := context.Background()
	st, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 18, 10, 0, 0, 0, kiosk.ChinaTime)
	st.Now = func() time.Time { return now }
	fillDistrict(b, st, now, 30000)
	if err := st.refreshFacts(ctx); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(NewHandler(st, Options{}))
	defer srv.Close()
	cookie := staffCookie(b, st)
	from := monthStart(now).AddDate(0, -(chartMonths - 1), 0)
	b.Run("floor-queries", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.matterRecords(ctx, from); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("refresh-nothing-new", func(b *testing.B) {
		for b.Loop() {
			if err := st.refreshFacts(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	get := func(b *testing.B) {
		req, _ := http.NewRequest("GET", srv.URL+"/staff/points", nil)
		req.AddCookie(cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n < 100000 {
			b.Fatalf("got %d, %d bytes", resp.StatusCode, n)
		}
	}
	b.Run("page-counting", func(b *testing.B) {
		for b.Loop() {
			tallies.Delete(st)
			get(b)
		}
	})
	b.Run("page-within-a-minute", func(b *testing.B) {
		for b.Loop() {
			get(b)
		}
	})
}
