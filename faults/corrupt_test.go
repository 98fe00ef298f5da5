package faults

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCorruptKioskDB (fault 9): the kiosk's database is damaged after
// everything was synced: random pages overwritten, the file cut in half, or
// the -wal file deleted after the kiosk was killed mid-round. The damage is
// detected at start and the file moved aside whole (kept for recovery); the
// district still has every submission exactly once. What the issue also
// asks, that the kiosk then reconciles with the district instead of
// starting empty, does not exist yet: this test measures and logs that gap
// (see docs/faults.md) rather than pretending.
func TestCorruptKioskDB(t *testing.T) {
	kinds := []string{"flipped pages", "truncated", "-wal deleted after a crash"}
	injected, damaged, detected, emptied, reenrolRefused := 0, 0, 0, 0, 0
	subs, lost := 0, 0
	for i := 0; i < times(1, 5); i++ {
		for _, kind := range kinds {
			r := newRig(t, "")
			r.submitN(3, 100_000)
			r.drain(5)
			r.advanceStatuses(2)
			r.drain(5)
			db := filepath.Join(r.kdata, "kiosk.db")
			switch kind {
			case "flipped pages":
				flipPages(t, db, 3)
			case "truncated":
				st, _ := os.Stat(db)
				if err := os.Truncate(db, st.Size()/2); err != nil {
					t.Fatal(err)
				}
			case "-wal deleted after a crash":
				r.submit(0) // one more, uploaded by the round that is killed
				cmd := exec.Command(kioskBin, "sync", "--once", "--data", r.kdata)
				out, _ := cmd.StdoutPipe()
				cmd.Start()
				buf := make([]byte, 512)
				out.Read(buf) // the round printed its report: its commits are in the WAL
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()
				if err := os.Remove(db + "-wal"); err != nil {
					t.Fatalf("no -wal after the crash: %v", err)
				}
			}
			injected++
			if kind != "-wal deleted after a crash" {
				damaged++
			}
			_, err := run(time.Minute, kioskBin, "status", "--data", r.kdata)
			aside, _ := filepath.Glob(db + ".corrupt-*")
			moved := len(aside) > 0 && !strings.HasSuffix(aside[0], "-wal") && !strings.HasSuffix(aside[0], "-shm")
			if moved {
				detected++
			}
			switch kind {
			case "-wal deleted after a crash":
				// The file is consistent, only older: nothing to detect. The
				// cursor and the statuses it covers were in the same lost
				// transactions, and the outbox entry is back: the next
				// rounds replay and re-read, and nothing is lost.
				if err != nil || moved {
					t.Fatalf("%s: status %v, moved aside %v", kind, err, aside)
				}
				r.drain(5)
				v := check(t, r.kdata, r.ddata, r.deviceID, r.acked)
				v.must(t, false)
				subs += v.Submissions
				continue
			}
			if !moved {
				t.Errorf("%s: the damaged database was not detected and moved aside (status: %v)", kind, err)
				continue
			}
			// The damaged file is kept as it was, for a technician.
			if st, err := os.Stat(aside[0]); err != nil || st.Size() == 0 {
				t.Errorf("%s: the file moved aside is gone or empty", kind)
			}
			// The district still has every printed receipt exactly once.
			byID, byReceipt, _, _ := readDistrict(t, r.ddata)
			for rc := range r.acked {
				if byReceipt[rc] != 1 {
					lost++
					t.Errorf("%s: %s is at the district %d times", kind, rc, byReceipt[rc])
				}
			}
			subs += len(byID)
			// The gap: the kiosk starts empty and not enrolled.
			var mine []json.RawMessage
			list, _ := run(time.Minute, kioskBin, "submissions", "--json", "--data", r.kdata)
			json.Unmarshal([]byte(list), &mine)
			if len(mine) == 0 {
				emptied++
			}
			code := strings.Fields(r.districtd("enroll-code", "--point", pointCode, "--name", pointName))[0]
			r.kiosk("setup", "--point", pointCode, "--point-name", pointName)
			if out, err := run(time.Minute, kioskBin, "enroll", "--district", r.url(), "--code", code, "--data", r.kdata); err != nil {
				reenrolRefused++
				t.Logf("%s: GAP: re-enrolling the recovered kiosk is refused: %s", kind, strings.TrimSpace(out))
			}
		}
	}
	t.Logf("GAP: after a damaged database is moved aside the kiosk starts empty (%d of %d) and not enrolled; it does not reconcile with the district", emptied, detected)
	record(row{Fault: "9 corrupted kiosk database", Injected: injected, Submissions: subs, Lost: lost,
		Note: fmt.Sprintf("detected and moved aside %d of %d damaged files (-wal deletion is undetectable, recovered by replay); GAP: the kiosk then starts empty (%d) and re-enrolling its key is refused (%d): no reconciliation yet",
			detected, damaged, emptied, reenrolRefused)})
}

// flipPages overwrites n random pages (not the first) with random bytes.
func flipPages(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pages := st.Size() / 4096
	if pages < 4 {
		t.Fatalf("%s has only %d pages", path, pages)
	}
	junk := make([]byte, 4096)
	for i := 0; i < n; i++ {
		rand.Read(junk)
		var b [1]byte
		rand.Read(b[:])
		page := 1 + int64(b[0])%(pages-1)
		f.WriteAt(junk, page*4096)
	}
}

// TestWALDeletedBeforeUpload (fault 9, the case no reconciliation can
// mend): the kiosk is killed right after it printed a receipt, before any
// checkpoint, and the -wal file is deleted. The save lived only in the WAL
// and never reached the district. This measures the loss and that nothing
// notices it; it is a known gap (docs/faults.md) and its line in the table
// is marked so, not counted as passing.
func TestWALDeletedBeforeUpload(t *testing.T) {
	tries := times(2, 10)
	lost, noticed := 0, 0
	for i := 0; i < tries; i++ {
		r := newRig(t, "")
		r.submitN(2, 0)
		r.drain(5)
		cmd := exec.Command(kioskBin, "submit", "--json", r.submissionFile(0), "--data", r.kdata)
		out, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		cmd.Start()
		buf := make([]byte, 128)
		n, _ := out.Read(buf) // the receipt is printed: the villager is told "saved"
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		receipt := strings.TrimSpace(string(buf[:n]))
		if receipt == "" {
			t.Fatalf("kiosk submit printed no receipt: %s", stderr.String())
		}
		os.Remove(filepath.Join(r.kdata, "kiosk.db-wal"))
		_, err := run(time.Minute, kioskBin, "status", "--data", r.kdata)
		if aside, _ := filepath.Glob(filepath.Join(r.kdata, "kiosk.db.corrupt-*")); err != nil || len(aside) > 0 {
			noticed++
		}
		// The kill often lands in the checkpoint at close: then the file
		// left without its -wal is damaged, detected and moved aside, and
		// the kiosk starts empty (the gap of TestCorruptKioskDB).
		list, _ := run(time.Minute, kioskBin, "submissions", "--json", "--data", r.kdata)
		if !strings.Contains(list, receipt) {
			if _, byReceipt, _, _ := readDistrict(t, r.ddata); byReceipt[receipt] == 0 {
				lost++
			}
		}
	}
	t.Logf("GAP: %d of %d receipts printed just before a crash vanished with the deleted -wal; noticed %d times", lost, tries, noticed)
	record(row{Fault: "9b -wal deleted before the first upload", Injected: tries, Submissions: tries, Lost: lost, Gap: true,
		Note: fmt.Sprintf("GAP: a save that lived only in the deleted WAL is gone from the kiosk and never reached the district; the damage was noticed (file moved aside, kiosk empty) %d of %d times", noticed, tries)})
}
