package sync_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/pgtest"
	"github.com/keqiao/villagekiosk/store"
)

// TestSealedAtRest (PIPL): what a villager gives is on the kiosk's disk only
// sealed for the district, which receives it whole; once the district's feed
// confirms it (and the safety window, here 0 days, has passed) the sealed
// copy is deleted; the list, the receipt and a later 补正 go on from the
// list's fields, and the district merges the supplement into its copy.
func TestSealedAtRest(t *testing.T) { pgtest.Engines(t, testSealedAtRest) }

func testSealedAtRest(t *testing.T, dbURL string) {
	ctx := context.Background()
	d, k := newDistrictOn(t, dbURL), newKiosk(t)
	sy := k.enroll(t, d)
	sub := k.save(t, "张三", 5000)
	scan := k.scans[sub.Materials[0].Attachments[0].SHA256]
	secrets := map[string][]byte{
		"ID number": []byte("11010519491231002X"),
		"phone":     []byte("13800138000"),
		"scan":      scan[64:128],
	}
	k.db.SQL().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	noSecrets(t, k.dir, secrets)
	if got, _ := k.subs.Get(ctx, sub.ID); got.Applicant.Name != "张三" || got.IDMasked != "110105********002X" || got.Applicant.IDNumber != "" {
		t.Fatalf("the list keeps the name and the masked ID only: %+v", got.Applicant)
	}

	if rep, err := sy.RunOnce(ctx); err != nil || rep.Uploaded != 1 {
		t.Fatalf("round: %+v %v", rep, err)
	}
	if copies, _ := filepath.Glob(filepath.Join(k.dir, "saves", "*")); len(copies) != 0 {
		t.Fatalf("the save's copy stays after the district has it: %v", copies)
	}
	full, err := d.st.Detail(ctx, sub.ID)
	if err != nil || full.Submission.Applicant.IDNumber != "11010519491231002X" || full.Submission.Applicant.Phone != "13800138000" ||
		len(full.Submission.Fields) != 1 || full.Submission.Fields[0].Value != "中国农业银行" {
		t.Fatalf("the district opened %+v %v", full, err)
	}

	// The feed confirmed it in the same round; with no safety window the
	// sealed copy and its file go.
	store.NewSettingsService(k.db).Set(ctx, kiosk.SettingSealedKeepDays, "0")
	keep, err := k.subs.SealedKeep(ctx)
	if err != nil || keep != 0 {
		t.Fatalf("keep: %v %v", keep, err)
	}
	if n, err := k.subs.DeleteConfirmed(ctx, time.Now(), keep); err != nil || n != 1 {
		t.Fatalf("deleted %d %v", n, err)
	}
	var left, audited int
	k.db.SQL().QueryRow(`SELECT count(*) FROM audit_log WHERE action = ?`, kiosk.ActionDeleteSealed).Scan(&audited)
	if audited != 1 {
		t.Fatalf("the deletion was audited %d times", audited)
	}
	k.db.SQL().QueryRow(`SELECT length(payload) FROM submissions WHERE id = ?`, sub.ID).Scan(&left)
	if _, err := os.Stat(k.db.AttachmentPath(sub.Materials[0].Attachments[0].SHA256)); left != 0 || !os.IsNotExist(err) {
		t.Fatalf("after confirmation: %d sealed bytes, file %v", left, err)
	}
	got, err := k.subs.Get(ctx, sub.ID)
	if err != nil || got.ReceiptHash != sub.ReceiptHash || got.Applicant.Name != "张三" || got.Materials[0].Attachments[0].Name != "scan.jpg" {
		t.Fatalf("the list after deletion: %+v %v", got, err)
	}
	if n, _ := store.NewSyncQueue(k.db).Requeue(ctx, time.Now()); n != 0 {
		t.Fatalf("requeued %d with nothing left to send", n)
	}

	// 退回补正 after the deletion: the supplement goes alone and the
	// district adds it to the copy it holds.
	d.st.SetStatus(ctx, sub.ReceiptNo, kiosk.StatusReturned, "请补交近期免冠一寸照片", "区经办员")
	if _, err := sy.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	photo := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("photo of 张三"), 300)...)
	src := filepath.Join(t.TempDir(), "photo.jpg")
	os.WriteFile(src, photo, 0o600)
	att, err := k.subs.Stage(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.subs.Supplement(ctx, sub.ID, []kiosk.MaterialInput{{Name: "近期免冠一寸照片", Received: true, Attachments: []kiosk.Attachment{att}}}, k.agent); err != nil {
		t.Fatal(err)
	}
	noSecrets(t, k.dir, map[string][]byte{"photo": photo[4:100]})
	out, err := store.NewSyncQueue(k.db).Outbound(ctx, sub.ID)
	if err != nil || out.From != 1 || out.Revision != 1 || len(out.Sealed) != 1 || len(out.Attachments) != 1 {
		t.Fatalf("outbound after deletion: %+v %v", out, err)
	}
	if rep, err := sy.RunOnce(ctx); err != nil || rep.Uploaded != 1 || len(rep.Parked) != 0 {
		t.Fatalf("supplement round: %+v %v", rep, err)
	}
	full, _ = d.st.Detail(ctx, sub.ID)
	m := full.Submission.Materials
	if full.Submission.Revision != 1 || full.Submission.Applicant.IDNumber != "11010519491231002X" || !m[1].Received || m[1].Owed ||
		len(m[1].Attachments) != 1 || m[1].Attachments[0].SHA256 != att.SHA256 || len(m[0].Attachments) != 1 {
		t.Fatalf("merged at the district: %+v", full.Submission)
	}
	rc, err := d.st.Blobs.Open(att.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var kept bytes.Buffer
	kept.ReadFrom(rc)
	if !bytes.Equal(kept.Bytes(), photo) {
		t.Fatal("the photo differs at the district")
	}
	// A replay of the supplement is a replay, not a conflict.
	store.NewSyncQueue(k.db).Requeue(ctx, time.Now())
	if rep, err := sy.RunOnce(ctx); err != nil || len(rep.Parked) != 0 {
		t.Fatalf("replayed supplement: %+v %v", rep, err)
	}
}

// noSecrets fails if any file under dir (the database, its WAL, the sealed
// files) holds one of the secrets in the clear.
func noSecrets(t *testing.T, dir string, secrets map[string][]byte) {
	t.Helper()
	files := 0
	filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files++
		for what, s := range secrets {
			if bytes.Contains(data, s) {
				t.Errorf("%s holds the villager's %s in the clear", path, what)
			}
		}
		return nil
	})
	if files < 2 {
		t.Fatalf("looked at %d files only", files)
	}
}
