package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

// AuditService implements kiosk.AuditService over the append-only table.
type AuditService struct{ db *DB }

var _ kiosk.AuditService = (*AuditService)(nil)

// NewAuditService returns the audit log of db.
func NewAuditService(db *DB) *AuditService { return &AuditService{db: db} }

// Record appends one line.
func (s *AuditService) Record(ctx context.Context, agent, action, subject, detail string) error {
	return audit(ctx, s.db.db, s.db.now(), agent, action, subject, detail)
}

// List returns the newest lines first.
func (s *AuditService) List(ctx context.Context, limit int) ([]kiosk.AuditEntry, error) {
	if limit <= 0 {
		limit = 200
	}
	rows, err := s.db.db.QueryContext(ctx, `SELECT seq, at, agent, action, subject, detail FROM audit_log ORDER BY seq DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []kiosk.AuditEntry
	for rows.Next() {
		var e kiosk.AuditEntry
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.Agent, &e.Action, &e.Subject, &e.Detail); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		e.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, e)
	}
	return out, rows.Err()
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// audit writes a line inside the caller's transaction (or directly), so an
// action and its record commit together.
func audit(ctx context.Context, x execer, at, agent, action, subject, detail string) error {
	_, err := x.ExecContext(ctx, `INSERT INTO audit_log (at, agent, action, subject, detail) VALUES (?, ?, ?, ?, ?)`,
		at, agent, action, subject, detail)
	if err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}
