package faults

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyTree copies a folder (the district's data: district.db and the
// attachments), as a nightly backup would.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(to)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDistrictRestored (fault 6): the district's data folder is copied
// aside (a backup), the kiosk sends more and the district moves statuses
// on; then the older copy is restored and `districtd new-epoch` run. The
// kiosk sees the new epoch, queues everything again, and what the backup
// lacked (rows and attachment files) arrives again; what it had is a
// replay. The statuses the kiosk ends with are the district's.
func TestDistrictRestored(t *testing.T) {
	r := newRig(t, "")
	rounds := times(1, 5)
	lostTotal := 0
	for i := 0; i < rounds; i++ {
		r.submitN(3, 300_000)
		r.drain(5)
		r.advanceStatuses(2)
		r.drain(5)

		r.stopDistrict()
		backup := t.TempDir()
		copyTree(t, r.ddata, backup)
		r.startDistrict()

		r.submitN(4, 300_000) // only in the district's newer history
		r.drain(5)
		r.advanceStatuses(5)
		r.drain(5)
		before, _, _, _ := readDistrict(t, r.ddata)

		r.stopDistrict()
		os.RemoveAll(r.ddata)
		copyTree(t, backup, r.ddata)
		r.districtd("new-epoch")
		r.startDistrict()
		after, _, _, _ := readDistrict(t, r.ddata)
		lostTotal += len(before) - len(after)

		out, err := r.sync()
		if err != nil || !strings.Contains(out, "uploaded") {
			t.Fatalf("first round after the restore: %v\n%s", err, out)
		}
		r.drain(5)
		now, _, _, _ := readDistrict(t, r.ddata)
		if len(now) != len(before) {
			t.Fatalf("after the restore the district has %d submissions, had %d before", len(now), len(before))
		}
		r.finishRound()
	}
	r.finish("6 district restored from an older backup + new-epoch", rounds, false,
		fmt.Sprintf("%d submissions the restored district lacked came back from the kiosk", lostTotal))
}

// finishRound checks the promises mid-scenario without adding a line.
func (r *rig) finishRound() {
	r.t.Helper()
	check(r.t, r.kdata, r.ddata, r.deviceID, r.acked).must(r.t, false)
}
