package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keqiao/villagekiosk/store"
)

// TestLostSavesComeBack: when the database comes back without saves it had
// confirmed (here an older copy of the file put back, as a deleted -wal
// does), Open puts them back from the copies kept beside it, whole and
// queued for the district, and numbering goes on after them. With the
// copies gone too, Open says which receipts are missing, and still no
// villager's number is handed out twice.
func TestLostSavesComeBack(t *testing.T) {
	ctx := context.Background()
	for _, copiesGone := range []bool{false, true} {
		e := setUp(t)
		first, err := e.subs.Save(ctx, draft(t, e), e.agent)
		if err != nil {
			t.Fatal(err)
		}
		path := e.db.Path()
		if _, err := e.db.SQL().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			t.Fatal(err)
		}
		older, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var lostIDs []string
		for i := 0; i < 2; i++ {
			sub, err := e.subs.Save(ctx, draft(t, e), e.agent)
			if err != nil {
				t.Fatal(err)
			}
			lostIDs = append(lostIDs, sub.ID)
		}
		e.db.Close()
		os.Remove(path + "-wal")
		os.Remove(path + "-shm")
		if err := os.WriteFile(path, older, 0o600); err != nil {
			t.Fatal(err)
		}
		if copiesGone {
			os.RemoveAll(filepath.Join(filepath.Dir(path), "saves"))
		}
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		day := strings.Split(first.ReceiptNo, "-")[1]
		if copiesGone {
			if want := "330603101201-" + day + "-0002 至 0003"; db.LostReceipts != want || len(db.RecoveredSaves) != 0 {
				t.Fatalf("copies gone: LostReceipts %q (want %q), recovered %v", db.LostReceipts, want, db.RecoveredSaves)
			}
		} else {
			if db.LostReceipts != "" || len(db.RecoveredSaves) != 2 || !strings.HasSuffix(db.RecoveredSaves[1], "-0003") {
				t.Fatalf("copies kept: LostReceipts %q, recovered %v", db.LostReceipts, db.RecoveredSaves)
			}
			for _, id := range lostIDs {
				got, err := store.NewSubmissionService(db).Get(ctx, id)
				if err != nil || got.Applicant.Name != "𠮷野" || got.IDMasked == "" || len(got.Materials) == 0 {
					t.Fatalf("recovered %s: %+v %v", id, got, err)
				}
				if _, err := store.NewSyncQueue(db).Outbound(ctx, id); err != nil {
					t.Fatalf("recovered %s cannot be sent: %v", id, err)
				}
				openPayload(t, db, id)
			}
			if waiting, _, _, _ := store.NewSyncQueue(db).Stats(ctx); waiting != 3 {
				t.Fatalf("%d waiting to be sent, want all 3", waiting)
			}
		}
		next, err := store.NewSubmissionService(db).Save(ctx, draft(t, e), e.agent)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(next.ReceiptNo, "-0004") {
			t.Fatalf("the next receipt is %s, want -0004: a number villagers hold was handed out again", next.ReceiptNo)
		}
		db.Close()
		again, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if again.LostReceipts != "" || len(again.RecoveredSaves) != 0 {
			t.Fatalf("a healthy start reports lost receipts %q or recovers %v", again.LostReceipts, again.RecoveredSaves)
		}
		again.Close()
	}
}
