package faults

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/sqlitedb"
	"github.com/keqiao/villagekiosk/store"
)

// verdict is what the shared checker found: the three promises of issue 7.
//
//	(a) every submission saved on the kiosk (and every receipt it printed) is
//	    at the district exactly once, with attachments matching their SHA-256;
//	(b) every status set at the district has reached the kiosk;
//	(c) nothing waits for a person except items parked with a visible reason.
type verdict struct {
	Submissions int      // saved on the kiosk
	Lost        int      // acknowledged but gone, or not (whole) at the district and not parked
	Duplicated  int      // the same matter twice at the district or on the kiosk
	Parked      int      // set aside with a reason
	Restored    int      // list entries taken back from the district (no payload on the kiosk)
	Waiting     int      // still in the outbox, not parked
	StatusLag   int      // district statuses the kiosk does not show
	CursorAhead bool     // the kiosk's cursor claims more of the feed than exists
	Problems    []string // what went wrong, for the test's failure message
}

func (v *verdict) problem(format string, args ...any) {
	if len(v.Problems) < 20 {
		v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
	}
}

type kioskRow struct {
	id, receipt, status, draft string
	head                       string // the content chain's head: what the district must hold
	files                      []kiosk.Attachment
	restored                   bool // taken back from the district after the kiosk lost its database
}

// checkKiosk opens the kiosk's database as the program would (quick_check
// included: a damaged file would be moved aside, which is a failure here)
// and reads its submissions and outbox.
func checkKiosk(t *testing.T, kdata string) (rows map[string]kioskRow, parked map[string]string, waiting int, epoch string, cursor int64) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(kdata, "kiosk.db"))
	if err != nil {
		t.Fatalf("open the kiosk database: %v", err)
	}
	defer db.Close()
	if db.Recovered != "" {
		t.Fatalf("the kiosk database was found damaged and moved to %s", db.Recovered)
	}
	rows = map[string]kioskRow{}
	q, err := db.SQL().QueryContext(ctx, `SELECT id, receipt_no, status, coalesce(draft_id, ''),
		coalesce((SELECT content_hash FROM supplements p WHERE p.submission_id = s.id ORDER BY revision DESC LIMIT 1), s.content_hash),
		restored_at IS NOT NULL FROM submissions s`)
	if err != nil {
		t.Fatal(err)
	}
	for q.Next() {
		var r kioskRow
		if err := q.Scan(&r.id, &r.receipt, &r.status, &r.draft, &r.head, &r.restored); err != nil {
			t.Fatal(err)
		}
		rows[r.id] = r
	}
	q.Close()
	q, err = db.SQL().QueryContext(ctx, `SELECT submission_id, sha256, name FROM submission_attachments`)
	if err != nil {
		t.Fatal(err)
	}
	for q.Next() {
		var id string
		var a kiosk.Attachment
		q.Scan(&id, &a.SHA256, &a.Name)
		r := rows[id]
		r.files = append(r.files, a)
		rows[id] = r
	}
	q.Close()
	parked = map[string]string{}
	q, err = db.SQL().QueryContext(ctx, `SELECT submission_id, parked, coalesce(last_error, '') FROM outbox`)
	if err != nil {
		t.Fatal(err)
	}
	for q.Next() {
		var id, reason string
		var p bool
		q.Scan(&id, &p, &reason)
		if p {
			parked[id] = reason
		} else {
			waiting++
		}
	}
	q.Close()
	epoch, cursor, err = store.NewSyncQueue(db).Cursor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rows, parked, waiting, epoch, cursor
}

type districtRow struct {
	id, receipt, device, status, hash string
	payload                           []byte
}

// openDistrictDB opens district.db for reading beside a running districtd.
func openDistrictDB(t *testing.T, ddata string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", sqlitedb.DSN(filepath.Join(ddata, "district.db")))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func readDistrict(t *testing.T, ddata string) (byID map[string]districtRow, byReceipt map[string]int, epoch string, maxSeq map[string]int64) {
	t.Helper()
	db := openDistrictDB(t, ddata)
	defer db.Close()
	byID, byReceipt, maxSeq = map[string]districtRow{}, map[string]int{}, map[string]int64{}
	q, err := db.Query(`SELECT id, receipt_no, device_id, status, content_hash, payload FROM submissions`)
	if err != nil {
		t.Fatal(err)
	}
	for q.Next() {
		var r districtRow
		if err := q.Scan(&r.id, &r.receipt, &r.device, &r.status, &r.hash, &r.payload); err != nil {
			t.Fatal(err)
		}
		byID[r.id] = r
		byReceipt[r.receipt]++
	}
	q.Close()
	db.QueryRow(`SELECT value FROM meta WHERE key = 'epoch'`).Scan(&epoch)
	q, err = db.Query(`SELECT device_id, max(seq) FROM changes GROUP BY device_id`)
	if err != nil {
		t.Fatal(err)
	}
	for q.Next() {
		var d string
		var s int64
		q.Scan(&d, &s)
		maxSeq[d] = s
	}
	q.Close()
	return byID, byReceipt, epoch, maxSeq
}

// blobOK says whether the district holds an attachment whole: the file
// named by its hash exists and its content has that hash.
func blobOK(ddata, sha string) bool {
	if len(sha) != 64 {
		return false
	}
	data, err := os.ReadFile(filepath.Join(ddata, "attachments", sha[:2], sha))
	if err != nil {
		return false
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]) == sha
}

// check is the shared checker: it compares what each side acknowledged and
// holds, once the processes are quiet. acked are the receipt numbers the
// kiosk printed.
func check(t *testing.T, kdata, ddata, device string, acked map[string]bool) verdict {
	t.Helper()
	var v verdict
	sealedOnly(t, kdata)
	rows, parked, waiting, kEpoch, cursor := checkKiosk(t, kdata)
	byID, byReceipt, dEpoch, maxSeq := readDistrict(t, ddata)
	v.Submissions, v.Parked, v.Waiting = len(rows), len(parked), waiting
	for id, reason := range parked {
		v.problem("parked %s: %s", rows[id].receipt, reason)
	}

	receipts := map[string]bool{}
	drafts := map[string]int{}
	for _, r := range rows {
		receipts[r.receipt] = true
		if r.draft != "" {
			drafts[r.draft]++
		}
	}
	for rc := range acked {
		if !receipts[rc] {
			v.Lost++
			v.problem("receipt %s was printed but the kiosk no longer has it", rc)
		}
	}
	for d, n := range drafts {
		if n > 1 {
			v.Duplicated += n - 1
			v.problem("draft %s was saved %d times", d, n)
		}
	}
	for rc, n := range byReceipt {
		if n > 1 {
			v.Duplicated += n - 1
			v.problem("receipt %s is at the district %d times", rc, n)
		}
	}
	ids := make([]string, 0, len(rows))
	for id := range rows {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		k := rows[id]
		if reason, ok := parked[id]; ok {
			if strings.TrimSpace(reason) == "" {
				v.Lost++
				v.problem("%s is parked without a reason a person could act on", k.receipt)
			}
			continue
		}
		d, ok := byID[id]
		if !ok {
			v.Lost++
			v.problem("%s (%s) is not at the district", k.receipt, id)
			continue
		}
		if k.restored {
			// Only the list's fields came back: the district's copy is the
			// whole one, checked for being there once and for its status.
			v.Restored++
			if d.status != k.status {
				v.StatusLag++
				v.problem("%s is %s at the district but %s on the kiosk", k.receipt, d.status, k.status)
			}
			continue
		}
		if d.hash != k.head {
			v.Lost++
			v.problem("%s: the district's content differs from the kiosk's", k.receipt)
			continue
		}
		for _, a := range k.files {
			if !blobOK(ddata, a.SHA256) {
				v.Lost++
				v.problem("%s: attachment %s is missing or damaged at the district", k.receipt, a.Name)
			}
		}
		if d.status != k.status {
			v.StatusLag++
			v.problem("%s is %s at the district but %s on the kiosk", k.receipt, d.status, k.status)
		}
	}
	if waiting > 0 {
		v.problem("%d submissions still wait in the kiosk's outbox", waiting)
	}
	if kEpoch == dEpoch && cursor > maxSeq[device] {
		v.CursorAhead = true
		v.problem("the kiosk's cursor %d is ahead of the district's feed (%d)", cursor, maxSeq[device])
	}
	return v
}

// must fails the test when the verdict breaks a promise; parkedOK says
// whether items parked with a reason are expected in this scenario.
func (v verdict) must(t *testing.T, parkedOK bool) {
	t.Helper()
	if v.Lost > 0 || v.Duplicated > 0 || v.Waiting > 0 || v.StatusLag > 0 || v.CursorAhead || (!parkedOK && v.Parked > 0) {
		t.Errorf("nothing-lost check failed: %d saved, %d lost, %d duplicated, %d parked, %d waiting, %d statuses not shown:\n  %s",
			v.Submissions, v.Lost, v.Duplicated, v.Parked, v.Waiting, v.StatusLag, strings.Join(v.Problems, "\n  "))
	}
}

// cursorCovers checks, after a kill, that the kiosk never shows less than its
// cursor claims: for every submission with a change at or before the cursor,
// the kiosk shows the last such status (the batch and the cursor were stored
// in one transaction). Returns the number of violations.
func cursorCovers(t *testing.T, kdata, ddata, device string) int {
	t.Helper()
	rows, _, _, kEpoch, cursor := checkKiosk(t, kdata)
	db := openDistrictDB(t, ddata)
	defer db.Close()
	var dEpoch string
	db.QueryRow(`SELECT value FROM meta WHERE key = 'epoch'`).Scan(&dEpoch)
	if kEpoch != dEpoch || cursor == 0 {
		return 0
	}
	q, err := db.Query(`SELECT submission_id, status FROM changes WHERE device_id = ? AND kind = 'status' AND seq <= ? ORDER BY seq`, device, cursor)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	last := map[string]string{}
	for q.Next() {
		var id, st string
		q.Scan(&id, &st)
		last[id] = st
	}
	bad := 0
	for id, st := range last {
		if rows[id].status != st {
			bad++
			t.Errorf("cursor %d covers %s=%s but the kiosk shows %q", cursor, rows[id].receipt, st, rows[id].status)
		}
	}
	var max int64
	db.QueryRow(`SELECT coalesce(max(seq), 0) FROM changes WHERE device_id = ?`, device).Scan(&max)
	if cursor > max {
		bad++
		t.Errorf("the kiosk's cursor %d is ahead of the district's feed (%d)", cursor, max)
	}
	return bad
}

// finish checks a rig once its work is done and records the line.
func (r *rig) finish(fault string, injected int, parkedOK bool, note string) verdict {
	r.t.Helper()
	v := check(r.t, r.kdata, r.ddata, r.deviceID, r.acked)
	r.checkLogs()
	record(row{Fault: fault, Injected: injected, Submissions: v.Submissions, Lost: v.Lost + v.Waiting, Duplicated: v.Duplicated, Parked: v.Parked, Note: note})
	v.must(r.t, parkedOK)
	return v
}

// sealedOnly fails if the kiosk's data folder (database, WAL, sealed files)
// holds the example villager's ID number or phone in the clear: whatever
// the faults did, the kiosk keeps them sealed for the district.
func sealedOnly(t *testing.T, kdata string) {
	t.Helper()
	filepath.WalkDir(kdata, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, secret := range personal[:2] { // the name stays in the list
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds the villager's %q in the clear", path, secret)
			}
		}
		return nil
	})
}
