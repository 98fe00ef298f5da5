package store_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/store"
)

// TestPurge: a matter finished more than the retention ago, confirmed by the
// district and with nothing left to send loses the applicant's personal data
// and its files; matters finished recently, still open, or still queued keep
// theirs. The purge is audited and a second run finds nothing.
func TestPurge(t *testing.T) {
	ctx := context.Background()
	e := setUp(t)
	q := store.NewSyncQueue(e.db)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	saved := 0
	save := func(name string) *kiosk.Submission {
		saved++ // a different size each time: the same bytes would be one shared file
		a, err := e.subs.Stage(ctx, jpegFile(t, e.dir, name+".jpg", 20<<10+saved*4096))
		if err != nil {
			t.Fatal(err)
		}
		d := draft(t, e, a)
		d.Applicant.Name = name
		sub, err := e.subs.Save(ctx, d, e.agent)
		if err != nil {
			t.Fatal(err)
		}
		return sub
	}
	finish := func(sub *kiosk.Submission, status string, at time.Time, sent bool) {
		if sent {
			var seq int64
			e.db.SQL().QueryRow(`SELECT seq FROM outbox WHERE submission_id = ?`, sub.ID).Scan(&seq)
			if err := q.Sent(ctx, seq, sub.ID, at); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.Apply(ctx, "e1", at.Unix(), []kiosk.StatusChange{{SubmissionID: sub.ID, Status: status, Note: "材料齐全", At: at}}); err != nil {
			t.Fatal(err)
		}
	}
	old := now.Add(-100 * 24 * time.Hour)
	gone := save("张老汉")
	finish(gone, kiosk.StatusDone, old, true)
	refused := save("李大娘")
	finish(refused, kiosk.StatusRefused, old, true)
	recent := save("王小明")
	finish(recent, kiosk.StatusDone, now.Add(-10*24*time.Hour), true)
	returned := save("赵阿姨")
	finish(returned, kiosk.StatusReturned, old, true)
	queued := save("钱大爷") // finished at the district, but the kiosk still has it in its outbox
	finish(queued, kiosk.StatusDone, old, false)

	keep, err := e.subs.Retention(ctx)
	if err != nil || keep != 90*24*time.Hour {
		t.Fatalf("default retention %v %v", keep, err)
	}
	n, err := e.subs.Purge(ctx, now, keep)
	if err != nil || n != 2 {
		t.Fatalf("purged %d %v, want 2", n, err)
	}
	for _, sub := range []*kiosk.Submission{gone, refused} {
		got, err := e.subs.Get(ctx, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Applicant != (kiosk.Applicant{}) || got.Fields != nil || got.PurgedAt.IsZero() || got.ReceiptNo != sub.ReceiptNo || got.Materials[0].Name != "居民身份证" {
			t.Fatalf("after purge: %+v", got)
		}
		if _, err := os.Stat(e.db.AttachmentPath(sub.Materials[0].Attachments[0].SHA256)); !os.IsNotExist(err) {
			t.Fatalf("the attachment of %s is still on disk: %v", sub.ReceiptNo, err)
		}
		var raw []byte
		e.db.SQL().QueryRow(`SELECT payload || applicant_name || id_number FROM submissions WHERE id = ?`, sub.ID).Scan(&raw)
		for _, personal := range []string{"330621198001010014", "13800138000", "张老汉", "李大娘", "中国农业银行"} {
			if strings.Contains(string(raw), personal) {
				t.Fatalf("%s still holds %q", sub.ReceiptNo, personal)
			}
		}
	}
	for _, sub := range []*kiosk.Submission{recent, returned, queued} {
		got, _ := e.subs.Get(ctx, sub.ID)
		if got.Applicant.Name == "" || !got.PurgedAt.IsZero() {
			t.Fatalf("%s (%s) was purged", got.ReceiptNo, got.Status)
		}
		if _, err := os.Stat(e.db.AttachmentPath(sub.Materials[0].Attachments[0].SHA256)); err != nil {
			t.Fatalf("the attachment of %s is gone: %v", got.ReceiptNo, err)
		}
	}
	list, _ := e.subs.List(ctx, kiosk.SubmissionFilter{})
	if len(list) != 5 {
		t.Fatalf("the list has %d entries after the purge, want all 5", len(list))
	}
	if entries, _ := store.NewAuditService(e.db).List(ctx, 1); len(entries) != 1 || entries[0].Action != kiosk.ActionPurge || !strings.Contains(entries[0].Detail, "2 件") {
		t.Fatalf("audit: %+v", entries)
	}
	if n, err := e.subs.Purge(ctx, now, keep); err != nil || n != 0 {
		t.Fatalf("second purge: %d %v", n, err)
	}
	// A district restored from a backup gets no purged matter again: it has
	// nothing left to send.
	if n, err := q.Requeue(ctx, now); err != nil || n != 2 {
		t.Fatalf("requeued %d %v, want the 2 unpurged matters not in the outbox", n, err)
	}
	var purgedQueued int
	e.db.SQL().QueryRow(`SELECT count(*) FROM outbox WHERE submission_id IN (?, ?)`, gone.ID, refused.ID).Scan(&purgedQueued)
	if purgedQueued != 0 {
		t.Fatal("a purged matter was queued to be sent again")
	}

	settings := store.NewSettingsService(e.db)
	settings.Set(ctx, kiosk.SettingRetentionDays, "30")
	if keep, err := e.subs.Retention(ctx); err != nil || keep != 30*24*time.Hour {
		t.Fatalf("retention 30: %v %v", keep, err)
	}
	settings.Set(ctx, kiosk.SettingRetentionDays, "forever")
	if _, err := e.subs.Retention(ctx); err == nil || !strings.Contains(err.Error(), "retention_days") {
		t.Fatalf("a bad retention setting: %v", err)
	}
}

// TestSealLegacy: a submission an older version kept in the clear (payload
// and file) is sealed once the district's key is known, and goes to the
// district like any other.
func TestSealLegacy(t *testing.T) {
	ctx := context.Background()
	e := setUp(t)
	a, err := e.subs.Stage(ctx, jpegFile(t, e.dir, "旧扫描.jpg", 5000))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := e.subs.Save(ctx, draft(t, e, a), e.agent)
	if err != nil {
		t.Fatal(err)
	}
	// Make it what the older version left: plaintext payload and file.
	full := openPayload(t, e.db, sub.ID)
	plainFile := openFile(t, e.db, a)
	os.WriteFile(e.db.AttachmentPath(a.SHA256), plainFile, 0o600)
	e.db.SQL().Exec(`UPDATE submissions SET payload = ?, sealed = 0, content_hash = '', receipt_hash = '' WHERE id = ?`, full, sub.ID)
	if _, err := store.NewSyncQueue(e.db).Outbound(ctx, sub.ID); err == nil || !strings.Contains(err.Error(), "older version") {
		t.Fatalf("an unsealed submission went out: %v", err)
	}

	n, err := e.subs.SealLegacy(ctx)
	if err != nil || n != 1 {
		t.Fatalf("sealed %d %v", n, err)
	}
	if got := openPayload(t, e.db, sub.ID); !bytes.Equal(got, full) {
		t.Fatal("the sealed payload is not the old one")
	}
	openFile(t, e.db, a) // sealed now, and whole
	out, err := store.NewSyncQueue(e.db).Outbound(ctx, sub.ID)
	if err != nil || len(out.Sealed) != 1 || len(out.Attachments) != 1 {
		t.Fatalf("outbound: %+v %v", out, err)
	}
	if got, _ := e.subs.Get(ctx, sub.ID); got.ReceiptHash != sub.ReceiptHash {
		t.Fatal("the receipt's hash changed: reprints would not match the villager's receipt")
	}
	if n, _ := e.subs.SealLegacy(ctx); n != 0 {
		t.Fatalf("sealed %d again", n)
	}
}
