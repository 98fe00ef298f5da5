package store_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/keqiao/villagekiosk/store"
)

// TestReceiptMark: when the database comes back without saves it had
// confirmed (here an older copy of the file put back, as a deleted -wal
// does), Open says which receipts are missing and numbering goes on after
// them, so no villager's number is handed out twice.
func TestReceiptMark(t *testing.T) {
	ctx := context.Background()
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
	for i := 0; i < 2; i++ {
		if _, err := e.subs.Save(ctx, draft(t, e), e.agent); err != nil {
			t.Fatal(err)
		}
	}
	e.db.Close()
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	if err := os.WriteFile(path, older, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	day := strings.Split(first.ReceiptNo, "-")[1]
	if want := "330603101201-" + day + "-0002 至 0003"; db.LostReceipts != want {
		t.Fatalf("LostReceipts %q, want %q", db.LostReceipts, want)
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
	defer again.Close()
	if again.LostReceipts != "" {
		t.Fatalf("a healthy start reports lost receipts: %q", again.LostReceipts)
	}
}
