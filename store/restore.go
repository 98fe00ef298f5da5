package store

import (
	"context"
	"fmt"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

// Restore takes back what the district holds of this kiosk's submissions
// after the kiosk lost its database (moved aside as damaged, or replaced):
// the list's fields, the status and the district's note, marked as restored.
// It also moves each day's receipt counter past the numbers the district
// has, so a new receipt never repeats one a villager already holds.
// Submissions the kiosk still has are left alone. It returns how many rows
// it added.
func (s *SubmissionService) Restore(ctx context.Context, list []kiosk.RestoredSubmission) (int, error) {
	tx, err := s.db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("restore: %w", err)
	}
	defer tx.Rollback()
	now := s.db.now()
	added := 0
	for _, r := range list {
		sub := r.Submission
		if point, day, seq, ok := splitReceiptNo(sub.ReceiptNo); ok {
			if err := raiseReceiptCounter(ctx, tx, point, day, seq); err != nil {
				return 0, diskError("restore", err)
			}
		}
		var have int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM submissions WHERE id = ? OR receipt_no = ?`, sub.ID, sub.ReceiptNo).Scan(&have); err != nil {
			return 0, fmt.Errorf("restore: %w", err)
		}
		if have > 0 {
			continue
		}
		status, note := sub.Status, sub.DistrictNote
		received := r.ReceivedAt.UTC().Format(time.RFC3339)
		if _, err := tx.ExecContext(ctx, `INSERT INTO submissions
			(id, receipt_no, matter, matter_name, main_name, revision, applicant_name, id_masked, agent, created_at, status, payload, sealed, district_note, received_at, status_at, restored_at, confirmed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, X'', 1, ?, ?, ?, ?, ?)`,
			sub.ID, sub.ReceiptNo, sub.Matter, sub.MatterName, sub.MainName, sub.Revision, sub.Applicant.Name, r.IDMasked, sub.Agent,
			sub.CreatedAt.UTC().Format(time.RFC3339), status, note, received, received, now, received); err != nil {
			return 0, diskError("restore", err)
		}
		for i, m := range sub.Materials {
			if _, err := tx.ExecContext(ctx, `INSERT INTO submission_materials (submission_id, position, name, required, received, owed)
				VALUES (?, ?, ?, ?, ?, ?)`, sub.ID, i, m.Name, m.Required, m.Received, m.Owed); err != nil {
				return 0, diskError("restore", err)
			}
		}
		added++
	}
	if added > 0 {
		if err := audit(ctx, tx, now, "系统", kiosk.ActionRestore, "", fmt.Sprintf("从区平台取回 %d 件办件（本机资料曾损坏）", added)); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, diskError("restore", err)
	}
	return added, nil
}
