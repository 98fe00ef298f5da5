package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

// Each save also leaves a copy of its row beside the database, in
// saves/<id>.json: the list's fields, the materials and files by name, and
// the sealed submission. It is written and fsynced as <id>.pending inside
// the saving transaction, before the commit, renamed to <id>.json once the
// commit is done (before the villager is told "saved"), and removed once
// the district has the submission. A pending copy is a save that may never
// have committed: Open drops it unless the database has its row. A commit lives in SQLite's -wal until a checkpoint; if that
// file is lost (deleted after a crash, or the database moved aside as
// damaged), Open puts the saves back from their copies, so a villager who
// was told "saved" is never lost to it.

// savedRow is a submission as the kiosk keeps it: nothing in the clear but
// the list's fields.
type savedRow struct {
	Sub         kiosk.Submission `json:"submission"` // Applicant holds the name only; no form answers
	IDMasked    string           `json:"id_masked"`
	DraftID     string           `json:"draft_id,omitempty"`
	Sealed      []byte           `json:"sealed"`
	ContentHash string           `json:"content_hash"`
	ReceiptHash string           `json:"receipt_hash"`
}

func (d *DB) savesDir() string { return filepath.Join(filepath.Dir(d.path), "saves") }

func (d *DB) saveCopyPath(id string) string { return filepath.Join(d.savesDir(), id+".json") }

func (d *DB) pendingCopyPath(id string) string { return filepath.Join(d.savesDir(), id+".pending") }

// writeSaveCopy writes r's pending copy durably: a temporary file fsynced,
// renamed, the folder fsynced.
func (d *DB) writeSaveCopy(r *savedRow) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.savesDir(), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(d.savesDir(), ".save-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), d.pendingCopyPath(r.Sub.ID))
	}
	if err == nil {
		err = syncDir(d.savesDir())
	}
	return err
}

// keepSaveCopy marks a pending copy as a save that committed.
func (d *DB) keepSaveCopy(id string) error {
	if err := os.Rename(d.pendingCopyPath(id), d.saveCopyPath(id)); err != nil {
		return err
	}
	return syncDir(d.savesDir())
}

// dropSaveCopy removes a save's copy, pending or kept.
func (d *DB) dropSaveCopy(id string) {
	os.Remove(d.saveCopyPath(id))
	os.Remove(d.pendingCopyPath(id))
}

// recoverSaves settles pending copies and, when lost is true (the database
// may have lost saves: moved aside, or behind the receipt mark), puts back
// every save whose copy is here but whose row is not, and drops the copies
// the district has confirmed. It returns the receipt numbers put back.
func (d *DB) recoverSaves(ctx context.Context, lost bool) ([]string, error) {
	// A pending copy whose row is here committed (the rename after it was
	// cut off): it is kept. One whose row is not never told anyone "saved".
	pending, _ := filepath.Glob(filepath.Join(d.savesDir(), "*.pending"))
	for _, p := range pending {
		id := strings.TrimSuffix(filepath.Base(p), ".pending")
		var n int
		d.db.QueryRowContext(ctx, `SELECT count(*) FROM submissions WHERE id = ?`, id).Scan(&n)
		if n > 0 {
			d.keepSaveCopy(id)
		} else {
			os.Remove(p)
		}
	}
	if !lost {
		return nil, nil
	}
	names, _ := filepath.Glob(filepath.Join(d.savesDir(), "*.json"))
	var back []*savedRow
	for _, name := range names {
		data, err := os.ReadFile(name)
		var r savedRow
		if err != nil || json.Unmarshal(data, &r) != nil || r.Sub.ID == "" || filepath.Base(name) != r.Sub.ID+".json" {
			continue // not a copy this kiosk wrote whole
		}
		var received sql.NullString
		err = d.db.QueryRowContext(ctx, `SELECT received_at FROM submissions WHERE id = ?`, r.Sub.ID).Scan(&received)
		switch {
		case err == nil && received.Valid:
			d.dropSaveCopy(r.Sub.ID) // the district has it
			continue
		case err == nil:
			continue // here and waiting: the copy stays until it is sent
		case !errors.Is(err, sql.ErrNoRows):
			return nil, fmt.Errorf("recover saves: %w", err)
		}
		if r.DraftID != "" {
			// The agent saved the same matter again after the crash.
			var again int
			d.db.QueryRowContext(ctx, `SELECT count(*) FROM submissions WHERE draft_id = ?`, r.DraftID).Scan(&again)
			if again > 0 {
				d.dropSaveCopy(r.Sub.ID)
				continue
			}
		}
		back = append(back, &r)
	}
	if len(back) == 0 {
		return nil, nil
	}
	sort.Slice(back, func(i, j int) bool { return back[i].Sub.ReceiptNo < back[j].Sub.ReceiptNo })
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, diskError("recover saves", err)
	}
	defer tx.Rollback()
	now := d.now()
	var receipts []string
	for _, r := range back {
		if err := insertRow(ctx, tx, r); err != nil {
			return nil, diskError("recover saves", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (submission_id, kind, created_at) VALUES (?, 'submission', ?)`, r.Sub.ID, now); err != nil {
			return nil, diskError("recover saves", err)
		}
		if point, day, seq, ok := splitReceiptNo(r.Sub.ReceiptNo); ok {
			if err := raiseReceiptCounter(ctx, tx, point, day, seq); err != nil {
				return nil, diskError("recover saves", err)
			}
		}
		receipts = append(receipts, r.Sub.ReceiptNo)
	}
	if err := audit(ctx, tx, now, "系统", kiosk.ActionRestore, "",
		fmt.Sprintf("断电后从本机的保存副本恢复 %d 件办件：%s", len(receipts), strings.Join(receipts, "、"))); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, diskError("recover saves", err)
	}
	return receipts, nil
}

// insertRow writes a kept submission: its row, materials and file rows.
func insertRow(ctx context.Context, tx *sql.Tx, r *savedRow) error {
	s := &r.Sub
	var draft any
	if r.DraftID != "" {
		draft = r.DraftID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO submissions
		(id, receipt_no, matter, matter_name, main_name, applicant_name, id_masked, agent, created_at, status, draft_id,
		 payload, sealed, content_hash, receipt_hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		s.ID, s.ReceiptNo, s.Matter, s.MatterName, s.MainName, s.Applicant.Name, r.IDMasked,
		s.Agent, s.CreatedAt.UTC().Format(time.RFC3339), s.Status, draft, r.Sealed, r.ContentHash, r.ReceiptHash); err != nil {
		return err
	}
	for i, m := range s.Materials {
		if _, err := tx.ExecContext(ctx, `INSERT INTO submission_materials (submission_id, position, name, required, received, owed)
			VALUES (?, ?, ?, ?, ?, ?)`, s.ID, i, m.Name, m.Required, m.Received, m.Owed); err != nil {
			return err
		}
		if err := insertAttachments(ctx, tx, s.ID, i, 0, m.Attachments); err != nil {
			return err
		}
	}
	return nil
}
