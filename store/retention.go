package store

import (
	"context"
	"database/sql"
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
	return s.days(ctx, kiosk.SettingRetentionDays, DefaultRetention)
}

// DefaultSealedKeep is how long a sealed copy stays after the district
// confirmed it, unless SettingSealedKeepDays says otherwise.
const DefaultSealedKeep = 7 * 24 * time.Hour

// SealedKeep returns the configured wait before a confirmed submission's
// sealed copy is deleted; 0 deletes it at the first confirmation.
func (s *SubmissionService) SealedKeep(ctx context.Context) (time.Duration, error) {
	return s.days(ctx, kiosk.SettingSealedKeepDays, DefaultSealedKeep)
}

// dayBounds are the settings counted in days, with the values they allow.
var dayBounds = map[string][2]int{kiosk.SettingRetentionDays: {1, 3650}, kiosk.SettingSealedKeepDays: {0, 365}}

// ParseDays reads the value of a setting counted in days; a bad value is
// an error naming the setting and what it allows.
func ParseDays(key, v string) (time.Duration, error) {
	b := dayBounds[key]
	days, err := strconv.Atoi(v)
	if err != nil || days < b[0] || days > b[1] {
		return 0, kiosk.Errorf(kiosk.EInvalid, "setting %s is %q: it must be a number of days from %d to %d", key, v, b[0], b[1])
	}
	return time.Duration(days) * 24 * time.Hour, nil
}

// days reads a setting counted in days; def when unset.
func (s *SubmissionService) days(ctx context.Context, key string, def time.Duration) (time.Duration, error) {
	v, err := NewSettingsService(s.db).get(ctx, key)
	if err != nil || v == "" {
		return def, err
	}
	return ParseDays(key, v)
}

// DeleteConfirmed deletes the sealed copy (the submission, its supplements
// and their files) of every matter the district's feed confirmed more than
// keep ago and that has nothing waiting to be sent. The list's fields stay.
// It returns how many matters it cleared.
func (s *SubmissionService) DeleteConfirmed(ctx context.Context, now time.Time, keep time.Duration) (int, error) {
	cutoff := now.Add(-keep).UTC().Format(time.RFC3339)
	tx, err := s.db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("delete confirmed: %w", err)
	}
	defer tx.Rollback()
	ids, err := dueIDs(ctx, tx, `SELECT id FROM submissions s WHERE confirmed_at IS NOT NULL AND confirmed_at <= ?
		AND (length(payload) > 0 OR EXISTS (SELECT 1 FROM supplements p WHERE p.submission_id = s.id AND p.sealed IS NOT NULL))
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.submission_id = s.id)`, cutoff)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	files, err := dropSealed(ctx, tx, ids)
	if err != nil {
		return 0, err
	}
	if err := audit(ctx, tx, s.db.now(), "系统", kiosk.ActionDeleteSealed, "",
		fmt.Sprintf("%d 件区里已确认收到的办件，已删除本机的加密资料和附件", len(ids))); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, diskError("delete confirmed", err)
	}
	return len(ids), s.removeUnheld(ctx, files)
}

// dueIDs runs a query listing submission ids.
func dueIDs(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find due submissions: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// dropSealed empties the sealed parts of the given submissions and returns
// the hashes of the files they named, to remove after the commit.
func dropSealed(ctx context.Context, tx *sql.Tx, ids []string) ([]string, error) {
	var files []string
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE submissions SET payload = X'' WHERE id = ?`, id); err != nil {
			return nil, diskError("delete sealed copy", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE supplements SET sealed = NULL WHERE submission_id = ?`, id); err != nil {
			return nil, diskError("delete sealed copy", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT sha256 FROM submission_attachments WHERE submission_id = ?`, id)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var sha string
			rows.Scan(&sha)
			files = append(files, sha)
		}
		rows.Close()
	}
	return files, nil
}

// removeUnheld removes the sealed files no kept part of any submission
// names. Files go after the commit: a crash in between leaves a file nobody
// counts, never a row whose file is gone.
func (s *SubmissionService) removeUnheld(ctx context.Context, files []string) error {
	for _, sha := range files {
		var held int
		err := s.db.db.QueryRowContext(ctx, `SELECT count(*) FROM submission_attachments a JOIN submissions s ON s.id = a.submission_id
			LEFT JOIN supplements p ON p.submission_id = a.submission_id AND p.revision = a.revision
			WHERE a.sha256 = ? AND ((a.revision = 0 AND length(s.payload) > 0) OR (a.revision > 0 AND p.sealed IS NOT NULL))`, sha).Scan(&held)
		if err != nil || held > 0 {
			continue
		}
		if err := os.Remove(s.db.AttachmentPath(sha)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("remove an attachment: %w", err)
		}
	}
	return nil
}

// Purge removes the personal data of matters finished (办结 or 不予受理)
// longer than keep ago, once the district has confirmed it holds them and
// nothing of theirs waits to be sent: the applicant's name, the sealed copy
// and the files, and the files' names. What remains is what the list and
// the statistics need: receipt number, matter, masked ID, materials by
// name, status. It returns how many matters it purged.
func (s *SubmissionService) Purge(ctx context.Context, now time.Time, keep time.Duration) (int, error) {
	cutoff := now.Add(-keep).UTC().Format(time.RFC3339)
	tx, err := s.db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("purge: %w", err)
	}
	defer tx.Rollback()
	ids, err := dueIDs(ctx, tx, `SELECT id FROM submissions s
		WHERE status IN (?, ?) AND status_at < ? AND received_at IS NOT NULL AND purged_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.submission_id = s.id)`, kiosk.StatusDone, kiosk.StatusRefused, cutoff)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	at := now.UTC()
	files, err := dropSealed(ctx, tx, ids)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE submissions SET applicant_name = '', purged_at = ? WHERE id = ?`, at.Format(time.RFC3339), id); err != nil {
			return 0, fmt.Errorf("purge: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM submission_attachments WHERE submission_id = ?`, id); err != nil {
			return 0, fmt.Errorf("purge: %w", err)
		}
	}
	if err := audit(ctx, tx, at.Format(time.RFC3339Nano), "系统", kiosk.ActionPurge, "",
		fmt.Sprintf("%d 件办结超过 %d 天的办件，已删除个人信息和附件", len(ids), int(keep.Hours()/24))); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("purge: %w", err)
	}
	return len(ids), s.removeUnheld(ctx, files)
}
