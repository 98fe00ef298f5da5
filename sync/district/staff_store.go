package district

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	gosync "sync"
	"time"
	"unicode/utf8"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/pinhash"
	"github.com/keqiao/villagekiosk/internal/sqlitedb"
)

// Session lifetimes: idle staff are signed out after 30 minutes, everyone
// after 12 hours.
const (
	sessionIdle     = 30 * time.Minute
	sessionLifetime = 12 * time.Hour
	// Five failed sign-ins for a username or from an address within 15
	// minutes lock that username or address for 15 minutes.
	loginWindow   = 15 * time.Minute
	loginFailures = 5
)

// AddStaff creates a staff account (or sets a new password and name for an
// existing one, enabling it again).
func (s *Store) AddStaff(ctx context.Context, username, name, password string) error {
	username = strings.TrimSpace(username)
	if username == "" || len(username) > 64 || strings.ContainsAny(username, " \t\r\n") {
		return kiosk.Errorf(kiosk.EInvalid, "a username is 1-64 characters without spaces")
	}
	if strings.TrimSpace(name) == "" {
		return kiosk.Errorf(kiosk.EInvalid, "give the staff member's name (--name), shown on the pages and in the audit log")
	}
	if utf8.RuneCountInString(password) < 10 {
		return kiosk.Errorf(kiosk.EInvalid, "the password must be at least 10 characters")
	}
	hash, err := pinhash.Hash(password)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO staff_users (username, name, password_hash, disabled, created_at) VALUES (?, ?, ?, FALSE, ?)
		ON CONFLICT (username) DO UPDATE SET name = excluded.name, password_hash = excluded.password_hash, disabled = FALSE`,
		username, strings.TrimSpace(name), hash, s.now())
	return err
}

// DisableStaff stops an account and ends its sessions.
func (s *Store) DisableStaff(ctx context.Context, username string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE staff_users SET disabled = TRUE WHERE username = ?`, username)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return kiosk.Errorf(kiosk.ENotFound, "no staff account %q", username)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE username = ?`, username); err != nil {
		return err
	}
	return tx.Commit()
}

// errThrottled and errBadLogin are what the sign-in page says; neither tells
// whether the username exists.
var (
	errThrottled = kiosk.Errorf(kiosk.EUnavailable, "登录失败次数过多，请15分钟后再试。")
	errBadLogin  = kiosk.Errorf(kiosk.EInvalid, "用户名或密码不对，请重新输入。")
)

// SignIn checks a username and password, throttled per username and per
// address, and opens a session: it returns the cookie's token.
func (s *Store) SignIn(ctx context.Context, username, password, ip string) (token string, who *Staff, err error) {
	now := s.Now().UTC()
	since := now.Add(-loginWindow).Format(time.RFC3339Nano)
	keys := []string{"user:" + strings.ToLower(username), "ip:" + ip}
	for _, k := range keys {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM staff_login_failures WHERE key = ? AND at >= ?`, k, since).Scan(&n); err != nil {
			return "", nil, err
		}
		if n >= loginFailures {
			return "", nil, errThrottled
		}
	}
	var hash, name string
	var disabled bool
	err = s.db.QueryRowContext(ctx, `SELECT password_hash, name, disabled FROM staff_users WHERE username = ?`, username).Scan(&hash, &name, &disabled)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", nil, err
	}
	if err != nil || disabled || !pinhash.Check(hash, password) {
		if errors.Is(err, sql.ErrNoRows) {
			pinhash.Check(dummyHash(), password) // the same time whether the user exists or not
		}
		for _, k := range keys {
			if _, err := s.db.ExecContext(ctx, `INSERT INTO staff_login_failures (key, at) VALUES (?, ?)`, k, now.Format(time.RFC3339Nano)); err != nil {
				return "", nil, err
			}
		}
		return "", nil, errBadLogin
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	token = base64.RawURLEncoding.EncodeToString(raw)
	csrf := make([]byte, 24)
	rand.Read(csrf)
	who = &Staff{Username: username, Name: name, CSRF: base64.RawURLEncoding.EncodeToString(csrf)}
	at := now.Format(time.RFC3339Nano)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO staff_sessions (token_hash, username, csrf, created_at, seen_at) VALUES (?, ?, ?, ?, ?)`,
		tokenHash(token), username, who.CSRF, at, at); err != nil {
		return "", nil, err
	}
	// Old failures and sessions go now and then, not on every request.
	s.db.ExecContext(ctx, `DELETE FROM staff_login_failures WHERE at < ?`, now.Add(-24*time.Hour).Format(time.RFC3339Nano))
	s.db.ExecContext(ctx, `DELETE FROM staff_sessions WHERE created_at < ? OR seen_at < ?`,
		now.Add(-sessionLifetime).Format(time.RFC3339Nano), now.Add(-sessionIdle).Format(time.RFC3339Nano))
	return token, who, nil
}

// dummyHash is checked against when the username is unknown. Made at the
// first such sign-in, not at start: an argon2id hash costs 50 ms and 32 MiB.
var dummyHash = gosync.OnceValue(func() string {
	h, _ := pinhash.Hash("not a real password")
	return h
})

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Session finds the staff member of a session token, ending it when idle or
// too old, and marks it seen; nil when there is none.
func (s *Store) Session(ctx context.Context, token string) (*Staff, error) {
	if token == "" {
		return nil, nil
	}
	now := s.Now().UTC()
	var who Staff
	var created, seen string
	var disabled bool
	err := s.db.QueryRowContext(ctx, `SELECT s.username, u.name, s.csrf, s.created_at, s.seen_at, u.disabled
		FROM staff_sessions s JOIN staff_users u ON u.username = s.username WHERE s.token_hash = ?`, tokenHash(token)).
		Scan(&who.Username, &who.Name, &who.CSRF, &created, &seen, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c, _ := time.Parse(time.RFC3339Nano, created)
	l, _ := time.Parse(time.RFC3339Nano, seen)
	if disabled || now.Sub(c) > sessionLifetime || now.Sub(l) > sessionIdle {
		s.SignOut(ctx, token)
		return nil, nil
	}
	if now.Sub(l) > time.Minute {
		s.db.ExecContext(ctx, `UPDATE staff_sessions SET seen_at = ? WHERE token_hash = ?`, now.Format(time.RFC3339Nano), tokenHash(token))
	}
	return &who, nil
}

// SignOut ends a session.
func (s *Store) SignOut(ctx context.Context, token string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM staff_sessions WHERE token_hash = ?`, tokenHash(token))
	return err
}

// StaffAudit appends a line to the staff audit log.
func (s *Store) StaffAudit(ctx context.Context, username, ip, action, subject, detail string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO staff_audit (at, username, ip, action, subject, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		s.now(), username, ip, action, subject, detail)
	return err
}

// AuditLine is one line of the staff audit log.
type AuditLine struct {
	At                                    time.Time
	Username, IP, Action, Subject, Detail string
}

// StaffAuditLog returns the newest lines first, those about subject only
// when it is given.
func (s *Store) StaffAuditLog(ctx context.Context, subject string, limit int) ([]AuditLine, error) {
	q := `SELECT at, username, ip, action, subject, detail FROM staff_audit`
	args := []any{}
	if subject != "" {
		q += ` WHERE subject = ?`
		args = append(args, subject)
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	rows, err := s.db.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditLine
	for rows.Next() {
		var l AuditLine
		var at string
		if err := rows.Scan(&at, &l.Username, &l.IP, &l.Action, &l.Subject, &l.Detail); err != nil {
			return nil, err
		}
		l.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, l)
	}
	return out, rows.Err()
}

// InboxFilter narrows the staff inbox.
type InboxFilter struct {
	Status, Point, Matter, Receipt string
	From, To                       time.Time // received, China dates; zero for open
	Page                           int       // from 0
}

// InboxRow is one submission in the staff inbox.
type InboxRow struct {
	ID, ReceiptNo, Matter, MatterName, PointCode, PointName, Status string
	ReceivedAt                                                      time.Time
	// TakenAt is when the village agent took the matter: the receipt's
	// promise counts from it.
	TakenAt time.Time
}

const inboxPage = 50

// Inbox lists received submissions, newest first, a page at a time, and
// whether there is a next page. Every filter is a bound parameter; LIKE
// wildcards typed by staff are matched literally.
func (s *Store) Inbox(ctx context.Context, f InboxFilter) ([]InboxRow, bool, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "s.status = ?"), append(args, f.Status)
	}
	if p := strings.TrimSpace(f.Point); p != "" {
		where = append(where, `(d.point_code LIKE ? ESCAPE '\' OR d.point_name LIKE ? ESCAPE '\')`)
		args = append(args, "%"+sqlitedb.EscapeLike(p)+"%", "%"+sqlitedb.EscapeLike(p)+"%")
	}
	if m := strings.TrimSpace(f.Matter); m != "" {
		where = append(where, `(s.matter LIKE ? ESCAPE '\' OR s.matter_name LIKE ? ESCAPE '\')`)
		args = append(args, "%"+sqlitedb.EscapeLike(m)+"%", "%"+sqlitedb.EscapeLike(m)+"%")
	}
	if r := strings.TrimSpace(f.Receipt); r != "" {
		where, args = append(where, `s.receipt_no LIKE ? ESCAPE '\'`), append(args, "%"+sqlitedb.EscapeLike(r)+"%")
	}
	if !f.From.IsZero() {
		where, args = append(where, "s.received_at >= ?"), append(args, f.From.UTC().Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		where, args = append(where, "s.received_at < ?"), append(args, f.To.UTC().Format(time.RFC3339Nano))
	}
	q := `SELECT s.id, s.receipt_no, s.matter, s.matter_name, d.point_code, d.point_name, s.status, s.received_at, s.payload
		FROM submissions s JOIN devices d ON d.id = s.device_id`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY s.received_at DESC, s.receipt_no DESC LIMIT ? OFFSET ?"
	args = append(args, inboxPage+1, max(f.Page, 0)*inboxPage)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var out []InboxRow
	for rows.Next() {
		var r InboxRow
		var at string
		var payload []byte
		if err := rows.Scan(&r.ID, &r.ReceiptNo, &r.Matter, &r.MatterName, &r.PointCode, &r.PointName, &r.Status, &at, &payload); err != nil {
			return nil, false, err
		}
		r.ReceivedAt, _ = time.Parse(time.RFC3339Nano, at)
		var taken struct {
			CreatedAt time.Time `json:"created_at"`
		}
		if json.Unmarshal(payload, &taken) == nil && !taken.CreatedAt.IsZero() {
			r.TakenAt = taken.CreatedAt
		} else {
			r.TakenAt = r.ReceivedAt
		}
		out = append(out, r)
	}
	more := len(out) > inboxPage
	if more {
		out = out[:inboxPage]
	}
	return out, more, rows.Err()
}

// HistoryLine is one status a submission took.
type HistoryLine struct {
	At                     time.Time
	Status, Note, Operator string
}

// SubmissionDetail is everything the district holds of one submission.
type SubmissionDetail struct {
	Submission kiosk.Submission
	Status     string
	ReceivedAt time.Time
	Device     Device
	History    []HistoryLine
}

// Detail returns a submission with its history; ENotFound if unknown.
func (s *Store) Detail(ctx context.Context, id string) (*SubmissionDetail, error) {
	var d SubmissionDetail
	var payload []byte
	var at, device string
	err := s.db.QueryRowContext(ctx, `SELECT payload, status, received_at, device_id FROM submissions WHERE id = ?`, id).
		Scan(&payload, &d.Status, &at, &device)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kiosk.Errorf(kiosk.ENotFound, "没有这个办件。")
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(payload, &d.Submission); err != nil {
		return nil, kiosk.Errorf(kiosk.ECorrupt, "办件内容损坏：%v", err)
	}
	d.ReceivedAt, _ = time.Parse(time.RFC3339Nano, at)
	dev, err := s.Device(ctx, device)
	if err != nil {
		return nil, err
	}
	d.Device = *dev
	rows, err := s.db.QueryContext(ctx, `SELECT at, status, note, operator FROM changes WHERE submission_id = ? AND kind = 'status' ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var l HistoryLine
		var at string
		if err := rows.Scan(&at, &l.Status, &l.Note, &l.Operator); err != nil {
			return nil, err
		}
		l.At, _ = time.Parse(time.RFC3339Nano, at)
		d.History = append(d.History, l)
	}
	return &d, rows.Err()
}
