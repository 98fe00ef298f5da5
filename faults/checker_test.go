package faults

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCheckerCatchesLoss makes sure the shared checker can fail: a
// submission deleted at the district, an attachment damaged there, a status
// the kiosk never got and a printed receipt the kiosk does not have are
// each caught.
func TestCheckerCatchesLoss(t *testing.T) {
	r := newRig(t, "")
	r.submitN(2, 0)
	r.submitN(2, 100_000)
	r.drain(5)
	if v := check(t, r.kdata, r.ddata, r.deviceID, r.acked); v.Lost+v.Duplicated+v.StatusLag+v.Waiting > 0 {
		t.Fatalf("a clean run: %+v", v)
	}
	r.stopDistrict()
	db := openDistrictDB(t, r.ddata)
	rows, _, _, _ := readDistrict(t, r.ddata)
	var withScan, plain []districtRow
	for _, d := range rows {
		if len(attachmentHashes(d.payload)) > 0 {
			withScan = append(withScan, d)
		} else {
			plain = append(plain, d)
		}
	}
	db.Exec(`DELETE FROM changes WHERE submission_id = ?`, plain[0].id)
	db.Exec(`DELETE FROM submissions WHERE id = ?`, plain[0].id)
	db.Exec(`UPDATE submissions SET status = 'done' WHERE id = ?`, plain[1].id)
	db.Close()
	sha := attachmentHashes(withScan[0].payload)[0]
	f := filepath.Join(r.ddata, "attachments", sha[:2], sha)
	data, _ := os.ReadFile(f)
	data[100] ^= 1
	os.WriteFile(f, data, 0o600)
	acked := map[string]bool{"330603101201-19990101-0001": true}
	for k := range r.acked {
		acked[k] = true
	}
	v := check(t, r.kdata, r.ddata, r.deviceID, acked)
	if v.Lost != 3 || v.StatusLag != 1 {
		t.Fatalf("the checker found %d lost (want 3: a row, an attachment, a receipt) and %d statuses not shown (want 1): %v", v.Lost, v.StatusLag, v.Problems)
	}
}
