package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/pinhash"
)

// Sign-in limits: five wrong PINs lock an account for a quarter of an hour.
const (
	MaxPINAttempts = 5
	LockDuration   = 15 * time.Minute
)

// AgentService implements kiosk.AgentService.
type AgentService struct{ db *DB }

var _ kiosk.AgentService = (*AgentService)(nil)

// NewAgentService returns the agent service of db.
func NewAgentService(db *DB) *AgentService { return &AgentService{db: db} }

// Agents lists the accounts by name.
func (s *AgentService) Agents(ctx context.Context) ([]kiosk.Agent, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT id, name, is_admin FROM agents WHERE active = 1 ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	defer rows.Close()
	var out []kiosk.Agent
	for rows.Next() {
		var a kiosk.Agent
		if err := rows.Scan(&a.ID, &a.Name, &a.Admin); err != nil {
			return nil, fmt.Errorf("list agents: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CreateAgent adds an account with a hashed PIN.
func (s *AgentService) CreateAgent(ctx context.Context, name, pin string, admin bool) (*kiosk.Agent, error) {
	name = kiosk.NormalizeName(name)
	if err := kiosk.CheckName(name); err != nil {
		return nil, kiosk.Errorf(kiosk.EInvalid, "%v", strings.Replace(err.Error(), "申请人", "代办员", 1))
	}
	if !pinhash.Valid(pin) {
		return nil, kiosk.Errorf(kiosk.EInvalid, "密码应为4到8位数字")
	}
	hash, err := pinhash.Hash(pin)
	if err != nil {
		return nil, err
	}
	tx, err := s.db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("create agent: %w", err)
	}
	defer tx.Rollback()
	var exists int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM agents WHERE name = ?`, name).Scan(&exists); err != nil {
		return nil, fmt.Errorf("create agent: %w", err)
	}
	if exists > 0 {
		return nil, kiosk.Errorf(kiosk.EConflict, "已有名为“%s”的代办员", name)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO agents (name, pin_hash, is_admin, created_at) VALUES (?, ?, ?, ?)`,
		name, hash, admin, s.db.now())
	if err != nil {
		return nil, fmt.Errorf("create agent: %w", err)
	}
	id, _ := res.LastInsertId()
	if err := audit(ctx, tx, s.db.now(), name, kiosk.ActionAgentAdded, name, ""); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create agent: %w", err)
	}
	return &kiosk.Agent{ID: id, Name: name, Admin: admin}, nil
}

// SignIn checks a PIN, counting failures and locking after MaxPINAttempts.
func (s *AgentService) SignIn(ctx context.Context, name, pin string) (*kiosk.Agent, error) {
	tx, err := s.db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	defer tx.Rollback()
	var (
		a      kiosk.Agent
		hash   string
		failed int
		active bool
		locked sql.NullString
	)
	err = tx.QueryRowContext(ctx, `SELECT id, name, is_admin, pin_hash, failed_attempts, locked_until, active FROM agents WHERE name = ?`, name).
		Scan(&a.ID, &a.Name, &a.Admin, &hash, &failed, &locked, &active)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kiosk.Errorf(kiosk.ENotFound, "没有名为“%s”的代办员", name)
	}
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	if !active {
		return nil, kiosk.Errorf(kiosk.ELocked, "代办员“%s”已被区里停用，请联系区人社局", name)
	}
	now := s.db.Now()
	if locked.Valid {
		until, _ := time.Parse(time.RFC3339Nano, locked.String)
		if now.Before(until) {
			mins := int(until.Sub(now).Minutes()) + 1
			return nil, kiosk.Errorf(kiosk.ELocked, "密码连续输错%d次，账号已锁定，请%d分钟后再试", MaxPINAttempts, mins)
		}
		failed = 0 // the lock has run out: a fresh set of tries
	}
	if !pinhash.Check(hash, pin) {
		failed++
		var lockUntil any
		msg := fmt.Sprintf("密码不对，还可以再试%d次", MaxPINAttempts-failed)
		code := kiosk.EInvalid
		if failed >= MaxPINAttempts {
			lockUntil = now.Add(LockDuration).UTC().Format(time.RFC3339Nano)
			msg = fmt.Sprintf("密码连续输错%d次，账号已锁定%d分钟", MaxPINAttempts, int(LockDuration.Minutes()))
			code = kiosk.ELocked
		}
		if _, err := tx.ExecContext(ctx, `UPDATE agents SET failed_attempts = ?, locked_until = ? WHERE id = ?`, failed, lockUntil, a.ID); err != nil {
			return nil, fmt.Errorf("sign in: %w", err)
		}
		if err := audit(ctx, tx, s.db.now(), a.Name, kiosk.ActionSignInFailed, a.Name, fmt.Sprintf("%d", failed)); err != nil {
			return nil, err
		}
		if err := tx.Commit(); err != nil {
			return nil, fmt.Errorf("sign in: %w", err)
		}
		return nil, kiosk.Errorf(code, "%s", msg)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE agents SET failed_attempts = 0, locked_until = NULL WHERE id = ?`, a.ID); err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	if err := audit(ctx, tx, s.db.now(), a.Name, kiosk.ActionSignIn, a.Name, ""); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	return &a, nil
}

// ApplyRoster makes the kiosk's agents what the district's roster says, in
// one transaction: new agents are added, PINs and roles updated, agents the
// roster stops can no longer sign in. Agents made on the kiosk and absent
// from the roster are left as they are.
func (s *AgentService) ApplyRoster(ctx context.Context, roster []kiosk.RosterEntry) error {
	tx, err := s.db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("apply roster: %w", err)
	}
	defer tx.Rollback()
	for _, r := range roster {
		name := kiosk.NormalizeName(r.Name)
		if kiosk.CheckName(name) != nil || !pinhash.WellFormed(r.PINHash) {
			return kiosk.Errorf(kiosk.EInvalid, "the district's roster has an unusable entry for %q", r.Name)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO agents (name, pin_hash, is_admin, created_at, active) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET pin_hash = excluded.pin_hash, is_admin = excluded.is_admin, active = excluded.active,
			failed_attempts = CASE WHEN agents.pin_hash = excluded.pin_hash THEN agents.failed_attempts ELSE 0 END`,
			name, r.PINHash, r.Admin, s.db.now(), r.Active); err != nil {
			return fmt.Errorf("apply roster: %w", err)
		}
	}
	if err := audit(ctx, tx, s.db.now(), "区人社局", "roster", fmt.Sprintf("%d agents", len(roster)), ""); err != nil {
		return err
	}
	return tx.Commit()
}
