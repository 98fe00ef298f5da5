package store_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/store"
)

// smallDisk mounts a real 4 MB tmpfs for the test, so "disk full" is the
// kernel's own ENOSPC, not a simulation.
func smallDisk(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root (CI runs as root)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a 4 MB tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a file until the disk is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

func TestSave_DiskFull(t *testing.T) {
	ctx := context.Background()
	dir := smallDisk(t)
	e := setUpIn(t, dir)
	defer e.db.Close()
	agent, err := store.NewAgentService(e.db).CreateAgent(ctx, "王芳", "2468", false)
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir() // the scans come from another disk
	a, err := e.subs.Stage(ctx, jpegFile(t, src, "id.jpg", 100<<10))
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.subs.Save(ctx, draft(t, e, a), agent)
	if err != nil {
		t.Fatal(err)
	}

	fill(t, filepath.Join(dir, "junk"))
	_, err = e.subs.Stage(ctx, jpegFile(t, src, "id2.jpg", 200<<10))
	if kiosk.ErrorCode(err) != kiosk.EUnavailable || !strings.Contains(err.Error(), "磁盘空间已满") {
		t.Fatalf("stage on a full disk: got %v", err)
	}
	// Fill the last pages too, then try to save (the WAL needs room to grow).
	fill(t, filepath.Join(dir, "junk2"))
	var saveErr error
	for i := 0; i < 50 && saveErr == nil; i++ {
		_, saveErr = e.subs.Save(ctx, draft(t, e), agent)
	}
	if kiosk.ErrorCode(saveErr) != kiosk.EUnavailable || !strings.Contains(saveErr.Error(), "磁盘空间已满") {
		t.Fatalf("save on a full disk: got %v", saveErr)
	}

	os.Remove(filepath.Join(dir, "junk"))
	os.Remove(filepath.Join(dir, "junk2"))
	got, err := e.subs.Get(ctx, first.ID)
	if err != nil || got.Applicant.Name != "𠮷野" {
		t.Fatalf("the earlier submission after a full disk: %v %v", got, err)
	}
	var ok string
	e.db.SQL().QueryRow("PRAGMA integrity_check").Scan(&ok)
	if ok != "ok" {
		t.Fatalf("integrity_check: %s", ok)
	}
	if _, err := e.subs.Save(ctx, draft(t, e), agent); err != nil {
		t.Fatalf("save after space was freed: %v", err)
	}
}

// TestOpen_DiskFull: a kiosk started on a full disk cannot open its
// database (SQLite needs room for the WAL index). That is said plainly and
// the intact file stays where it is, with nothing moved aside; once space
// is freed it opens with its data (a regression: the file was taken for
// damaged and moved aside, and the kiosk started empty; found by the fault
// suite).
func TestOpen_DiskFull(t *testing.T) {
	ctx := context.Background()
	dir := smallDisk(t)
	e := setUpIn(t, dir)
	agent, err := store.NewAgentService(e.db).CreateAgent(ctx, "王芳", "2468", false)
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.subs.Save(ctx, draft(t, e), agent)
	if err != nil {
		t.Fatal(err)
	}
	e.db.Close()

	fill(t, filepath.Join(dir, "junk"))
	db, err := store.Open(ctx, filepath.Join(dir, "kiosk.db"))
	if err == nil {
		// Opening found room after all: nothing to test on this kernel.
		db.Close()
		t.Skip("the database opened on a full disk")
	}
	if kiosk.ErrorCode(err) != kiosk.EUnavailable || !strings.Contains(err.Error(), "磁盘空间已满") {
		t.Fatalf("open on a full disk: %v", err)
	}
	if aside, _ := filepath.Glob(filepath.Join(dir, "kiosk.db.corrupt-*")); len(aside) > 0 {
		t.Fatalf("an intact database was moved aside as damaged: %v", aside)
	}
	os.Remove(filepath.Join(dir, "junk"))
	db, err = store.Open(ctx, filepath.Join(dir, "kiosk.db"))
	if err != nil || db.Recovered != "" {
		t.Fatalf("open after space was freed: %v (moved aside: %q)", err, db.Recovered)
	}
	defer db.Close()
	if got, err := store.NewSubmissionService(db).Get(ctx, first.ID); err != nil || got.ReceiptNo != first.ReceiptNo {
		t.Fatalf("the submission after a full disk: %v %v", got, err)
	}
}
