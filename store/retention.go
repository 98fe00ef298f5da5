package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

// DefaultRetention is how long a finished matter's personal data stays on
// the kiosk unless the setting says otherwise.
const DefaultRetention = 90 * 24 * time.Hour

// Retention returns the configured retention (SettingRetentionDays), or the
// default when unset; a bad value is an error naming it.
func (s *SubmissionService) Retention(ctx context.Context) (time.Duration, error) {
	v, err := NewSettingsService(s.db).get(ctx, kiosk.SettingRetentionDays)
	if err != nil || v == "" {
		return DefaultRetention, err
	}
	days, err := strconv.Atoi(v)
	if err != nil || days < 1 || days > 3650 {
		return 0, kiosk.Errorf(kiosk.EInvalid, "setting %s is %q: it must be a number of days from 1 to 3650", kiosk.SettingRetentionDays, v)
	}
	return time.Duration(days) * 24 * time.Hour, nil
}

// Purge removes the personal data of matters finished (办结 or 不予受理)
// longer than keep ago, once the district has confirmed it holds them and
// nothing of theirs waits to be sent: the applicant's name, ID number,
// phone and form answers, and the attachment files. What remains is what
// the list and the statistics need: receipt number, matter, masked ID,
// materials by name, status. It returns how many matters it purged.
func (s *SubmissionService) Purge(ctx context.Context, now time.Time, keep time.Duration) (int, error) {
	cutoff := now.Add(-keep).UTC().Format(time.RFC3339)
	tx, err := s.db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("purge: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id, payload FROM submissions s
		WHERE status IN (?, ?) AND status_at < ? AND received_at IS NOT NULL AND purged_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.submission_id = s.id)`, kiosk.StatusDone, kiosk.StatusRefused, cutoff)
	if err != nil {
		return 0, fmt.Errorf("purge: %w", err)
	}
	type entry struct {
		id      string
		payload []byte
	}
	var due []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.id, &e.payload); err != nil {
			rows.Close()
			return 0, fmt.Errorf("purge: %w", err)
		}
		due = append(due, e)
	}
	rows.Close()
	if len(due) == 0 {
		return 0, nil
	}
	at := now.UTC()
	var files []string
	for _, e := range due {
		var sub kiosk.Submission
		json.Unmarshal(e.payload, &sub) // a damaged payload is purged all the same
		sub.Applicant = kiosk.Applicant{}
		sub.Fields = nil
		for i := range sub.Materials {
			for _, a := range sub.Materials[i].Attachments {
				files = append(files, a.SHA256)
			}
			sub.Materials[i].Attachments = nil
		}
		sub.PurgedAt = at
		reduced, _ := json.Marshal(&sub)
		if _, err := tx.ExecContext(ctx, `UPDATE submissions SET applicant_name = '', id_number = '', payload = ?, purged_at = ? WHERE id = ?`,
			reduced, at.Format(time.RFC3339), e.id); err != nil {
			return 0, fmt.Errorf("purge: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM submission_attachments WHERE submission_id = ?`, e.id); err != nil {
			return 0, fmt.Errorf("purge: %w", err)
		}
	}
	if err := audit(ctx, tx, at.Format(time.RFC3339Nano), "系统", kiosk.ActionPurge, "",
		fmt.Sprintf("%d 件办结超过 %d 天的办件，已删除个人信息和附件", len(due), int(keep.Hours()/24))); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("purge: %w", err)
	}
	// Files go after the commit, and only those no other matter names: a
	// crash in between leaves a file nobody counts, never a row without one.
	for _, sha := range files {
		var n int
		if err := s.db.db.QueryRowContext(ctx, `SELECT count(*) FROM submission_attachments WHERE sha256 = ?`, sha).Scan(&n); err == nil && n == 0 {
			if err := os.Remove(s.db.AttachmentPath(sha)); err != nil && !os.IsNotExist(err) {
				return len(due), fmt.Errorf("purge: remove an attachment: %w", err)
			}
		}
	}
	return len(due), nil
}
