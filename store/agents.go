package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	kiosk "github.com/keqiao/villagekiosk"
)

// Sign-in limits: five wrong PINs lock an account for a quarter of an hour.
const (
	MaxPINAttempts = 5
	LockDuration   = 15 * time.Minute
)

// argon2id parameters (RFC 9106's second recommendation scaled to a small
// terminal): about 50 ms and 32 MiB per check, enough that a stolen database
// does not give up 4-8 digit PINs cheaply.
const (
	argonTime    = 2
	argonMemory  = 32 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

var pinPattern = regexp.MustCompile(`^[0-9]{4,8}$`)

// AgentService implements kiosk.AgentService.
type AgentService struct{ db *DB }

var _ kiosk.AgentService = (*AgentService)(nil)

// NewAgentService returns the agent service of db.
func NewAgentService(db *DB) *AgentService { return &AgentService{db: db} }

// Agents lists the accounts by name.
func (s *AgentService) Agents(ctx context.Context) ([]kiosk.Agent, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT id, name, is_admin FROM agents ORDER BY id`)
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
	if !pinPattern.MatchString(pin) {
		return nil, kiosk.Errorf(kiosk.EInvalid, "密码应为4到8位数字")
	}
	hash, err := hashPIN(pin)
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
		locked sql.NullString
	)
	err = tx.QueryRowContext(ctx, `SELECT id, name, is_admin, pin_hash, failed_attempts, locked_until FROM agents WHERE name = ?`, name).
		Scan(&a.ID, &a.Name, &a.Admin, &hash, &failed, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kiosk.Errorf(kiosk.ENotFound, "没有名为“%s”的代办员", name)
	}
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
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
	if !checkPIN(hash, pin) {
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

func hashPIN(pin string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash PIN: %w", err)
	}
	key := argon2.IDKey([]byte(pin), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// checkPIN verifies a PIN against a stored hash, using the parameters stored
// with it so that stronger parameters later still verify old hashes.
func checkPIN(stored, pin string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(pin), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
