package faults

import (
	"crypto/rand"
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
// kiosk starts empty, is re-attached with a new code and takes back its
// submissions from the district (list fields, status, note); new receipts
// repeat no number a villager holds; then the shared checker.
func TestCorruptKioskDB(t *testing.T) {
	kinds := []string{"flipped pages", "truncated", "-wal deleted after a crash"}
	injected, damaged, detected, emptied, reattached, restored, subs := 0, 0, 0, 0, 0, 0, 0
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
			// The kiosk starts empty; the technician re-attaches it with a new
			// code for its point and it takes its submissions back.
			if list, _ := run(time.Minute, kioskBin, "submissions", "--json", "--data", r.kdata); strings.Count(list, "receipt_no") == 0 {
				emptied++
			}
			code := strings.Fields(r.districtd("enroll-code", "--point", pointCode, "--name", pointName))[0]
			out, err := run(time.Minute, kioskBin, "enroll", "--district", r.url(), "--code", code, "--data", r.kdata)
			if err != nil || !strings.Contains(out, "re-attached: took back") {
				t.Errorf("%s: re-attaching the kiosk: %v\n%s", kind, err, out)
				continue
			}
			reattached++
			r.kiosk("agent", "add", "王芳", "--pin", "2468")
			r.drain(5)
			// Intake goes on, and its receipt numbers repeat none a villager holds.
			prev := r.ackedSet()
			if n := r.submit(100_000); prev[n] {
				t.Errorf("%s: the new receipt %s repeats an earlier one", kind, n)
			}
			r.drain(5)
			v := check(t, r.kdata, r.ddata, r.deviceID, r.acked)
			v.must(t, false)
			subs += v.Submissions
			restored += v.Restored
		}
	}
	record(row{Fault: "9 corrupted kiosk database", Injected: injected, Submissions: subs,
		Note: fmt.Sprintf("detected and moved aside %d of %d damaged files; the kiosk started empty (%d), was re-attached (%d) and took back %d submissions; a -wal deleted after a synced crash is recovered by replay",
			detected, damaged, emptied, reattached, restored)})
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
// and never reached the district. This measures the loss, that the kiosk
// notices it (the receipt mark beside the database, or the damaged file
// moved aside) and that the lost number is not handed out again; the loss
// itself is a known gap (docs/faults.md), marked so in the table.
func TestWALDeletedBeforeUpload(t *testing.T) {
	tries := times(2, 10)
	lost, recovered, aside := 0, 0, 0
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
		r.ack(receipt)
		os.Remove(filepath.Join(r.kdata, "kiosk.db-wal"))
		status, _ := run(time.Minute, kioskBin, "status", "--json", "--data", r.kdata)
		if moved, _ := filepath.Glob(filepath.Join(r.kdata, "kiosk.db.corrupt-*")); len(moved) > 0 {
			// The kill often lands in the checkpoint at close: then the file
			// left without its -wal is damaged and moved aside, and the
			// kiosk starts anew from the copies and, re-attached, from the
			// district (as in TestCorruptKioskDB).
			aside++
			code := strings.Fields(r.districtd("enroll-code", "--point", pointCode, "--name", pointName))[0]
			if out, err := run(time.Minute, kioskBin, "enroll", "--district", r.url(), "--code", code, "--data", r.kdata); err != nil {
				t.Errorf("re-attaching the kiosk: %v\n%s", err, out)
				continue
			}
		}
		list, _ := run(time.Minute, kioskBin, "submissions", "--json", "--data", r.kdata)
		switch {
		case strings.Contains(status, "recovered_saves") && strings.Contains(list, receipt):
			recovered++
		case !strings.Contains(list, receipt):
			lost++
			t.Errorf("receipt %s, printed before the crash, is gone with the -wal: %s", receipt, status)
		}
		r.drain(5)
		check(t, r.kdata, r.ddata, r.deviceID, r.acked).must(t, false)
	}
	t.Logf("%d of %d saves printed just before a crash and lost with the deleted -wal came back from their copies (%d databases moved aside as damaged, then re-attached); %d lost", recovered, tries, aside, lost)
	record(row{Fault: "9b -wal deleted before the first upload", Injected: tries, Submissions: tries, Lost: lost,
		Note: fmt.Sprintf("the save printed just before the crash was lost with the -wal and put back from its copy beside the database %d of %d times (the others had reached the file before the kill); the file left was damaged, moved aside and re-attached %d of them; each checked at the district after the drain", recovered, tries, aside)})
}
