package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/store"
)

// MustOpen opens a fresh database in a temporary folder.
func MustOpen(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "kiosk.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func smallCatalog(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile("../testdata/catalog-small.json")
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func pragma(t *testing.T, db *store.DB, name string) string {
	t.Helper()
	var v string
	if err := db.SQL().QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpen_Pragmas(t *testing.T) {
	db := MustOpen(t)
	for name, want := range map[string]string{
		"journal_mode":   "wal",
		"synchronous":    "2", // FULL
		"foreign_keys":   "1",
		"application_id": "1447777099",
		"user_version":   "5",
	} {
		if got := pragma(t, db, name); got != want {
			t.Errorf("PRAGMA %s: got %s, want %s", name, got, want)
		}
	}
	fi, err := os.Stat(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database mode: got %v, want 0600", fi.Mode().Perm())
	}
}

func TestOpen_Reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.NewCatalogService(db).Install(ctx, smallCatalog(t), kiosk.OriginFile); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Recovered != "" {
		t.Fatalf("a healthy file was moved aside to %s", db.Recovered)
	}
	c, _, err := store.NewCatalogService(db).Active(ctx)
	if err != nil || c.Version != "test.1" {
		t.Fatalf("got %v, %v after reopen", c, err)
	}
}

func TestOpen_ErrForeign(t *testing.T) {
	ctx := context.Background()
	t.Run("NotSQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kiosk.db")
		doc := []byte("村民花名册，请勿删除\n")
		os.WriteFile(path, doc, 0o644)
		_, err := store.Open(ctx, path)
		if kiosk.ErrorCode(err) != kiosk.EForeign || !strings.Contains(err.Error(), "left untouched") {
			t.Fatalf("got %v, want a foreign-file error", err)
		}
		if got, _ := os.ReadFile(path); string(got) != string(doc) {
			t.Fatal("the foreign file was changed")
		}
	})
	t.Run("OtherApplication", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kiosk.db")
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		db.SQL().Exec("PRAGMA application_id = 42")
		db.Close()
		_, err = store.Open(ctx, path)
		if kiosk.ErrorCode(err) != kiosk.EForeign || !strings.Contains(err.Error(), "another program") {
			t.Fatalf("got %v, want a foreign-file error", err)
		}
	})
	t.Run("NewerVersion", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kiosk.db")
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		db.SQL().Exec("PRAGMA user_version = 99")
		db.Close()
		_, err = store.Open(ctx, path)
		if kiosk.ErrorCode(err) != kiosk.EForeign || !strings.Contains(err.Error(), "newer kiosk version") {
			t.Fatalf("got %v, want a newer-version error", err)
		}
	})
}

// TestOpen_Corrupt damages pages inside a real database file: the file is moved
// aside (kept for recovery), reported, and a working database takes its place.
func TestOpen_Corrupt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "kiosk.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.NewCatalogService(db).Install(ctx, smallCatalog(t), kiosk.OriginFile); err != nil {
		t.Fatal(err)
	}
	db.SQL().Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	db.Close()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 8192 {
		t.Fatalf("database unexpectedly small: %d bytes", len(data))
	}
	// Overwrite everything after the first page (the header stays valid).
	for i := 4096; i < len(data); i++ {
		data[i] = 0xA5
	}
	os.WriteFile(path, data, 0o600)

	db, err = store.Open(ctx, path)
	if err != nil {
		t.Fatalf("open after corruption: %v", err)
	}
	defer db.Close()
	if db.Recovered == "" {
		t.Fatal("corruption was not reported")
	}
	kept, err := os.ReadFile(db.Recovered)
	if err != nil || string(kept) != string(data) {
		t.Fatalf("the damaged file was not kept intact at %s: %v", db.Recovered, err)
	}
	if _, _, err := store.NewCatalogService(db).Active(ctx); kiosk.ErrorCode(err) != kiosk.ENotFound {
		t.Fatalf("got %v, want an empty new database", err)
	}
}
