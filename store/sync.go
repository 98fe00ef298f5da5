package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

// SyncQueue gives the sync engine the outbox and takes the district's
// changes. It implements the interface the sync package defines.
type SyncQueue struct{ db *DB }

// NewSyncQueue returns the sync side of db.
func NewSyncQueue(db *DB) *SyncQueue { return &SyncQueue{db: db} }

// Due lists outbox entries that are not parked and whose retry time has
// come, oldest first.
func (q *SyncQueue) Due(ctx context.Context, now time.Time, limit int) ([]kiosk.OutboxItem, error) {
	rows, err := q.db.db.QueryContext(ctx, `SELECT seq, submission_id, attempts, created_at FROM outbox
		WHERE parked = 0 AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY seq LIMIT ?`,
		now.UTC().Format(time.RFC3339Nano), limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var out []kiosk.OutboxItem
	for rows.Next() {
		var it kiosk.OutboxItem
		var at string
		if err := rows.Scan(&it.Seq, &it.SubmissionID, &it.Attempts, &at); err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		it.CreatedAt, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, it)
	}
	return out, rows.Err()
}

// Outbound returns what to send of a submission: the sealed parts still
// kept (the submission as saved, then each supplement) from the first one
// kept, the content chain, and the files those parts added.
func (q *SyncQueue) Outbound(ctx context.Context, id string) (*kiosk.Outbound, error) {
	out := &kiosk.Outbound{ID: id}
	var first []byte
	var firstHash string
	var sealed int
	err := q.db.db.QueryRowContext(ctx, `SELECT receipt_no, revision, content_hash, payload, sealed FROM submissions WHERE id = ?`, id).
		Scan(&out.ReceiptNo, &out.Revision, &firstHash, &first, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kiosk.Errorf(kiosk.ENotFound, "no submission %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read submission: %w", err)
	}
	if sealed == 0 {
		return nil, fmt.Errorf("submission %s was saved by an older version and is not sealed yet: enrol the kiosk so it learns the district's key", out.ReceiptNo)
	}
	out.Chain = []string{firstHash}
	parts := [][]byte{first}
	rows, err := q.db.db.QueryContext(ctx, `SELECT content_hash, sealed FROM supplements WHERE submission_id = ? ORDER BY revision`, id)
	if err != nil {
		return nil, fmt.Errorf("read supplements: %w", err)
	}
	for rows.Next() {
		var link string
		var part []byte
		if err := rows.Scan(&link, &part); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read supplements: %w", err)
		}
		out.Chain, parts = append(out.Chain, link), append(parts, part)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out.Chain) != out.Revision+1 {
		return nil, kiosk.Errorf(kiosk.ECorrupt, "submission %s has %d supplements for revision %d", out.ReceiptNo, len(out.Chain)-1, out.Revision)
	}
	// Send from the first part still kept; the ones before it the district
	// has confirmed.
	out.From = out.Revision + 1
	for r := out.Revision; r >= 0 && len(parts[r]) > 0; r-- {
		out.From = r
	}
	if out.From > out.Revision {
		return nil, fmt.Errorf("本机已不再保存办件 %s 的资料（区里确认收到后已删除），无法再次上传", out.ReceiptNo)
	}
	out.Sealed = parts[out.From:]
	frows, err := q.db.db.QueryContext(ctx, `SELECT sha256, name, mime, size FROM submission_attachments
		WHERE submission_id = ? AND revision >= ? ORDER BY revision, material_position, rowid`, id, out.From)
	if err != nil {
		return nil, fmt.Errorf("read attachments: %w", err)
	}
	defer frows.Close()
	for frows.Next() {
		var a kiosk.Attachment
		if err := frows.Scan(&a.SHA256, &a.Name, &a.MIME, &a.Size); err != nil {
			return nil, fmt.Errorf("read attachments: %w", err)
		}
		out.Attachments = append(out.Attachments, a)
	}
	return out, frows.Err()
}

// AttachmentPath is where a staged attachment is kept.
func (q *SyncQueue) AttachmentPath(sha string) string { return q.db.AttachmentPath(sha) }

// Sent removes an outbox entry once the district returned its own receipt,
// and marks the submission received, in one transaction; the save's copy
// beside the database is no longer needed.
func (q *SyncQueue) Sent(ctx context.Context, seq int64, id string, receivedAt time.Time) error {
	tx, err := q.db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("outbox sent: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE seq = ?`, seq); err != nil {
		return fmt.Errorf("outbox sent: %w", err)
	}
	// confirmed_at waits for the feed to confirm this upload.
	if _, err := tx.ExecContext(ctx, `UPDATE submissions SET received_at = ?, confirmed_at = NULL,
		status = CASE WHEN status = ? THEN ? ELSE status END WHERE id = ?`,
		receivedAt.UTC().Format(time.RFC3339), kiosk.StatusPending, kiosk.StatusReceived, id); err != nil {
		return fmt.Errorf("outbox sent: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	q.db.dropSaveCopy(id)
	return nil
}

// RetryLater records a failed attempt and when to try again.
func (q *SyncQueue) RetryLater(ctx context.Context, seq int64, reason string, next time.Time) error {
	_, err := q.db.db.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE seq = ?`,
		reason, next.UTC().Format(time.RFC3339Nano), seq)
	return err
}

// Park sets an entry aside with its reason: retrying cannot help.
func (q *SyncQueue) Park(ctx context.Context, seq int64, reason string) error {
	_, err := q.db.db.ExecContext(ctx, `UPDATE outbox SET parked = 1, attempts = attempts + 1, last_error = ? WHERE seq = ?`, reason, seq)
	return err
}

// Stats is the queue as the status bar and the heartbeat show it.
func (q *SyncQueue) Stats(ctx context.Context) (waiting, parked int, oldest time.Time, err error) {
	var at sql.NullString
	err = q.db.db.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE parked = 0), count(*) FILTER (WHERE parked = 1),
		min(created_at) FILTER (WHERE parked = 0) FROM outbox`).Scan(&waiting, &parked, &at)
	if at.Valid {
		oldest, _ = time.Parse(time.RFC3339Nano, at.String)
	}
	return waiting, parked, oldest, err
}

// Cursor returns where the change feed was read up to, and its epoch.
func (q *SyncQueue) Cursor(ctx context.Context) (epoch string, cursor int64, err error) {
	s := NewSettingsService(q.db)
	epoch, err = s.get(ctx, "sync_epoch")
	if err != nil {
		return "", 0, err
	}
	c, err := s.get(ctx, "sync_cursor")
	if err == nil && c != "" {
		_, err = fmt.Sscan(c, &cursor)
	}
	return epoch, cursor, err
}

// Apply stores a batch of the district's status changes and the cursor after
// them in one transaction, so the cursor never runs ahead of what it covers.
// Applying the same batch twice changes nothing.
func (q *SyncQueue) Apply(ctx context.Context, epoch string, cursor int64, changes []kiosk.StatusChange) error {
	tx, err := q.db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("apply changes: %w", err)
	}
	defer tx.Rollback()
	for _, c := range changes {
		// Any status from the district's feed confirms it holds the
		// submission; confirmed_at starts the wait before the sealed copy
		// is deleted (DeleteConfirmed).
		at := c.At.UTC().Format(time.RFC3339)
		if _, err := tx.ExecContext(ctx, `UPDATE submissions SET status = ?, district_note = ?, status_at = ?,
			received_at = coalesce(received_at, ?),
			confirmed_at = CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.submission_id = submissions.id) THEN NULL ELSE coalesce(confirmed_at, ?) END
			WHERE id = ?`,
			c.Status, c.Note, at, at, q.db.Now().UTC().Format(time.RFC3339), c.SubmissionID); err != nil {
			return fmt.Errorf("apply changes: %w", err)
		}
	}
	for k, v := range map[string]string{"sync_epoch": epoch, "sync_cursor": fmt.Sprint(cursor)} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v); err != nil {
			return fmt.Errorf("apply changes: %w", err)
		}
	}
	return tx.Commit()
}

// Requeue puts every submission the district does not have back in the
// outbox: after the district restored an older backup (a new epoch), what
// it lost is sent again. Submissions still in the outbox are left alone;
// purged and restored ones, and those whose sealed copy was deleted after
// the district confirmed them, have nothing left to send. One whose first
// part was deleted but whose supplement is still kept goes again from the
// supplement: if the district lost the whole matter, that is parked with
// the reason for a person.
func (q *SyncQueue) Requeue(ctx context.Context, now time.Time) (int, error) {
	res, err := q.db.db.ExecContext(ctx, `INSERT INTO outbox (submission_id, kind, created_at)
		SELECT id, 'submission', ? FROM submissions s WHERE purged_at IS NULL AND restored_at IS NULL
		AND sealed = 1
		AND (length(payload) > 0 OR EXISTS (SELECT 1 FROM supplements p WHERE p.submission_id = s.id AND p.sealed IS NOT NULL))
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.submission_id = s.id)`,
		now.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return 0, fmt.Errorf("requeue: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
