package faults

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smallDisk mounts a real tmpfs of the given size: "disk full" is the
// kernel's own ENOSPC.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root (CI runs as root)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a %s tmpfs: %v %s", size, err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fillLeaving writes a file until the disk is full, then gives back leave
// bytes.
func fillLeaving(t *testing.T, path string, leave int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	var n int64
	for {
		w, err := f.Write(buf)
		n += int64(w)
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	if err := f.Truncate(max(0, n-leave)); err != nil {
		t.Fatal(err)
	}
}

// TestDistrictDiskFull (fault 8, district side; the kiosk side is
// store.TestSave_DiskFull): districtd keeps its data on a small real tmpfs
// that is filled to a random few hundred KB of free space while a kiosk
// uploads. The kiosk gets 503 and defers (nothing parked), the district's
// database stays intact with no partial record (every submission row has
// its change and whole attachments), and once space is freed the queue
// drains.
func TestDistrictDiskFull(t *testing.T) {
	disk := smallDisk(t, "24m")
	r := newRig(t, filepath.Join(disk, "district"))
	filler := filepath.Join(disk, "filler")
	trials := times(3, 20)
	full503 := 0
	for i := 0; i < trials; i++ {
		r.submit(0)
		r.submitN(2, 300_000)
		fillLeaving(t, filler, int64(rand.IntN(700<<10)))
		out, err := r.sync()
		if strings.Contains(out, "parked") && !strings.Contains(out, "parked 0") {
			t.Fatalf("a full district disk parked submissions: %s", out)
		}
		if err != nil {
			if !strings.Contains(out, "503") {
				t.Fatalf("a full district disk: %v\n%s", err, out)
			}
			full503++
		}
		checkDistrictWhole(t, r.ddata)
		os.Remove(filler)
		r.drain(5)
	}
	if full503 == 0 {
		t.Errorf("no round met the full disk in %d trials", trials)
	}
	r.finish("8 district disk full (real tmpfs)", trials, false,
		fmt.Sprintf("%d rounds got 503 (disk full) and deferred; integrity and no partial record after each", full503))
}

// checkDistrictWhole runs SQLite's integrity check on district.db and checks
// that every submission the district stored is whole: its 'received' change
// and every attachment file, complete and matching its hash.
func checkDistrictWhole(t *testing.T, ddata string) {
	t.Helper()
	db := openDistrictDB(t, ddata)
	defer db.Close()
	var ok string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("district.db integrity: %q %v", ok, err)
	}
	var partial int
	db.QueryRow(`SELECT count(*) FROM submissions s WHERE NOT EXISTS (SELECT 1 FROM changes c WHERE c.submission_id = s.id AND c.status = 'received')`).Scan(&partial)
	if partial > 0 {
		t.Fatalf("%d submissions at the district without their first change", partial)
	}
	rows, _, _, _ := readDistrict(t, ddata)
	for _, r := range rows {
		for _, sha := range attachmentHashes(r.payload) {
			if !blobOK(ddata, sha) {
				t.Fatalf("%s is stored but its attachment %s is not whole", r.receipt, sha)
			}
		}
	}
}

// TestKioskDiskFull (fault 8, kiosk side, beside store.TestSave_DiskFull):
// the kiosk's data folder is on a small real tmpfs, filled while it saves
// and while it receives a newly published catalog. The save is refused in
// plain words and nothing half-saved remains; the old catalog stays in
// use; once space is freed the save works, the catalog arrives, and
// everything saved drains.
func TestKioskDiskFull(t *testing.T) {
	disk := smallDisk(t, "48m")
	r := newRigIn(t, "", filepath.Join(disk, "kiosk"))
	filler := filepath.Join(disk, "filler")
	doc, err := os.ReadFile("../assets/catalog/default.json")
	if err != nil {
		t.Fatal(err)
	}
	trials := times(2, 10)
	refused, kept, catalogFull := 0, 0, 0
	for i := 0; i < trials; i++ {
		r.submit(100_000)
		old := r.kioskCatalog()
		version := fmt.Sprintf("2026.%d", 2+i)
		file := filepath.Join(t.TempDir(), "catalog.json")
		writeFile(t, file, []byte(strings.Replace(string(doc), `"version": "2026.1"`, `"version": "`+version+`"`, 1)))
		r.districtd("catalog", "publish", file)

		fillLeaving(t, filler, 0)
		out, err := run(time.Minute, kioskBin, "submit", "--json", r.submissionFile(100_000), "--data", r.kdata)
		if err == nil {
			t.Fatalf("a save on a full disk succeeded: %s", out)
		}
		if !strings.Contains(out, "磁盘空间已满") {
			t.Errorf("a save on a full disk: %q, want the plain message", out)
		}
		refused++
		// Room to open the database and start a round, not for the catalog.
		os.Remove(filler)
		fillLeaving(t, filler, int64(64<<10+rand.IntN(192<<10)))
		out, err = r.sync()
		if err == nil && strings.Contains(out, "installed catalog") {
			t.Fatalf("a catalog was installed on a full disk: %s", out)
		}
		if err == nil {
			t.Logf("a round on a nearly full disk did not fail: %s", out)
		} else {
			catalogFull++
			if !strings.Contains(out, "disk is full") {
				t.Errorf("a catalog download on a full disk: %v\n%s; want it to say the disk is full", err, out)
			}
		}
		os.Remove(filler) // read what the kiosk uses with room to open its database
		if got := r.kioskCatalog(); got != old {
			t.Fatalf("after a full disk the kiosk uses catalog %s, want %s", got, old)
		}
		kept++
		if out, err := r.sync(); err != nil || !strings.Contains(out, "installed catalog "+version) {
			t.Fatalf("after freeing space: %v\n%s", err, out)
		}
		r.submit(100_000)
		r.drain(5)
	}
	r.finish("8b kiosk disk full (save, catalog; real tmpfs)", 2*trials, false,
		fmt.Sprintf("%d saves refused in plain words, nothing half-saved; %d catalog downloads failed for space, old catalog kept %d times; recovered once space was freed (fixed: a full disk at start no longer moves the intact database aside as damaged)", refused, catalogFull, kept))
	if catalogFull == 0 {
		t.Errorf("no catalog download met the full disk")
	}
}
