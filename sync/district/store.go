// Package district is the district platform's end of the kiosk sync: its
// SQLite store (enrolment codes, devices, submissions, the change feed,
// attachments by hash) and the /v1 HTTP handler (docs/protocol.md).
package district

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/pinhash"
	"github.com/keqiao/villagekiosk/internal/seal"
	"github.com/keqiao/villagekiosk/internal/sqlitedb"
	kiosksync "github.com/keqiao/villagekiosk/sync"
)

// ApplicationID marks the district's database ("VKDT").
const ApplicationID = 0x564B4454

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// Store is the district's database and attachment folder.
type Store struct {
	db     *db
	dir    string
	mu     sync.Mutex
	pruned time.Time // when old nonces were last dropped
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Blobs keeps the attachments.
	Blobs Blobs
	// sealPub and sealPriv are the district's key pair for what kiosks keep
	// sealed (package seal); kiosks learn sealPub at enrolment.
	sealPub, sealPriv *seal.Key
}

// Open opens (creating if needed) the SQLite store district.db in dir.
func Open(ctx context.Context, dir string) (*Store, error) { return OpenDB(ctx, dir, "") }

// OpenDB opens the district's store: SQLite in dir when dbURL is empty, or
// the PostgreSQL database at dbURL (postgres://...), which many districtd
// instances may share. Attachments are kept under dir either way.
func OpenDB(ctx context.Context, dir, dbURL string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "attachments", "partial"), 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	var d *db
	if dbURL == "" {
		conn, err := sql.Open("sqlite", sqlitedb.DSN(filepath.Join(dir, "district.db")))
		if err != nil {
			return nil, err
		}
		d = &db{DB: conn, dialect: sqliteDialect}
	} else {
		if !strings.HasPrefix(dbURL, "postgres://") && !strings.HasPrefix(dbURL, "postgresql://") {
			return nil, kiosk.Errorf(kiosk.EInvalid, "--db must be a postgres:// URL (SQLite needs no --db: it lives in --data)")
		}
		conn, err := sql.Open("pgx", dbURL)
		if err != nil {
			return nil, err
		}
		conn.SetMaxOpenConns(32)
		d = &db{DB: conn, dialect: postgresDialect}
	}
	s := &Store{db: d, dir: dir, Now: time.Now}
	migrate := s.migrateSQLite
	if d.dialect == postgresDialect {
		migrate = s.migratePostgres
	}
	if err := migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	if err := s.loadSealKey(ctx); err != nil {
		d.Close()
		return nil, err
	}
	s.Blobs = &DirBlobs{Dir: filepath.Join(dir, "attachments"), Unseal: s.unsealFile}
	// Everything villagers gave lives here: the folder and the database
	// file are the service account's alone.
	if err := os.Chmod(dir, 0o700); err != nil {
		d.Close()
		return nil, fmt.Errorf("restrict the data folder: %w", err)
	}
	if d.dialect == sqliteDialect {
		if err := os.Chmod(filepath.Join(dir, "district.db"), 0o600); err != nil {
			d.Close()
			return nil, fmt.Errorf("restrict the database file: %w", err)
		}
	}
	return s, nil
}

func migrations(d string) []string {
	names, _ := fs.Glob(migrationFS, "migrations/"+d+"/*.sql")
	sort.Strings(names)
	return names
}

func (s *Store) migrateSQLite(ctx context.Context) error {
	var appID, version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("open district database: %w", err)
	}
	if appID != 0 && appID != ApplicationID {
		return fmt.Errorf("district.db belongs to another program (application_id %#x); it was left untouched", appID)
	}
	names := migrations("sqlite")
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version > len(names) {
		return fmt.Errorf("district.db was written by a newer districtd (schema %d); it was left untouched", version)
	}
	for i, n := range names[version:] {
		body, _ := migrationFS.ReadFile(n)
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("migrate %s: %w", n, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version+i+1)); err != nil {
			return err
		}
	}
	if version == 0 {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", ApplicationID)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('epoch', ?)`, randomHex(8)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// migratePostgres brings a PostgreSQL database to the current schema. An
// advisory lock lets many districtd instances start at once.
func (s *Store) migratePostgres(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("open district database: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(ApplicationID)); err != nil {
		return fmt.Errorf("open district database: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS villagekiosk_schema (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	var version int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM villagekiosk_schema`).Scan(&version); err != nil {
		return err
	}
	names := migrations("postgres")
	if version > len(names) {
		return fmt.Errorf("the database was written by a newer districtd (schema %d); it was left untouched", version)
	}
	for i, n := range names[version:] {
		body, _ := migrationFS.ReadFile(n)
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("migrate %s: %w", n, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO villagekiosk_schema (version) VALUES (?)`, version+i+1); err != nil {
			return err
		}
	}
	if version == 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('epoch', ?)`, randomHex(8)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Close closes the database.
func (s *Store) Close() error {
	tallies.Delete(s) // the monitor's cached figures go with the store
	return s.db.Close()
}

func (s *Store) now() string { return s.Now().UTC().Format(time.RFC3339Nano) }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Epoch names this database's history.
func (s *Store) Epoch(ctx context.Context) (string, error) {
	var e string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'epoch'`).Scan(&e)
	return e, err
}

// NewEpoch gives the database a new epoch: run after restoring a backup,
// so kiosks send again what the backup lacks.
func (s *Store) NewEpoch(ctx context.Context) (string, error) {
	e := randomHex(8)
	_, err := s.db.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'epoch'`, e)
	return e, err
}

// loadSealKey reads the district's sealing key pair, making it on the first
// start. Instances sharing one PostgreSQL database race to make it; the
// first insert wins and every instance reads that one.
func (s *Store) loadSealKey(ctx context.Context) error {
	pub, priv, err := seal.GenerateKey()
	if err != nil {
		return fmt.Errorf("make the sealing key: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('seal_key', ?) ON CONFLICT (key) DO NOTHING`,
		seal.Encode(pub)+" "+seal.Encode(priv)); err != nil {
		return fmt.Errorf("store the sealing key: %w", err)
	}
	var v string
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'seal_key'`).Scan(&v); err != nil {
		return fmt.Errorf("read the sealing key: %w", err)
	}
	pubText, privText, _ := strings.Cut(v, " ")
	if s.sealPub, err = seal.Decode(pubText); err == nil {
		s.sealPriv, err = seal.Decode(privText)
	}
	if err != nil {
		return fmt.Errorf("the sealing key in the database is damaged: %w", err)
	}
	return nil
}

// SealKey is the public key kiosks seal for.
func (s *Store) SealKey() *seal.Key { return s.sealPub }

// open decrypts what a kiosk sealed for this district.
func (s *Store) open(sealed []byte) ([]byte, error) { return seal.Open(s.sealPub, s.sealPriv, sealed) }

// unsealFile decrypts a sealed attachment from r into w.
func (s *Store) unsealFile(w io.Writer, r io.Reader) error {
	_, err := seal.OpenFile(w, r, s.sealPriv)
	return err
}

// codeAlphabet has no characters that read alike (0/O, 1/I/L).
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// CreateEnrollCode issues a one-time code for a service point, valid 24 hours.
func (s *Store) CreateEnrollCode(ctx context.Context, pointCode, pointName string) (string, time.Time, error) {
	pointCode, pointName = strings.TrimSpace(pointCode), strings.TrimSpace(pointName)
	if pointCode == "" || pointName == "" {
		return "", time.Time{}, kiosk.Errorf(kiosk.EInvalid, "an enrolment code needs the service point's code and name")
	}
	b := make([]byte, 10)
	rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	code := string(b)
	expires := s.Now().Add(24 * time.Hour).UTC()
	_, err := s.db.ExecContext(ctx, `INSERT INTO enroll_codes (code, point_code, point_name, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		code, pointCode, pointName, s.now(), expires.Format(time.RFC3339Nano))
	return code, expires, err
}

// Device is an enrolled kiosk.
type Device struct {
	ID         string    `json:"id"`
	PointCode  string    `json:"point_code"`
	PointName  string    `json:"point_name"`
	AppVersion string    `json:"app_version"`
	EnrolledAt time.Time `json:"enrolled_at"`
	Revoked    bool      `json:"revoked"`
	LastSeen   time.Time `json:"last_seen"`
	Heartbeat  string    `json:"heartbeat"`
	PublicKey  []byte    `json:"-"`
	// Reattached: Enroll found this key enrolled at the same point already.
	Reattached bool `json:"-"`
}

// Enroll uses a code for a public key and returns the new device.
func (s *Store) Enroll(ctx context.Context, code string, pub []byte, appVersion string) (*Device, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	code = strings.ToUpper(strings.TrimSpace(code))
	var point, name, expires string
	var used sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT point_code, point_name, expires_at, used_at FROM enroll_codes WHERE code = ?`, code).
		Scan(&point, &name, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kiosk.Errorf(kiosk.EInvalid, "unknown enrolment code: check it, or ask the district for a new one")
	}
	if err != nil {
		return nil, err
	}
	if used.Valid {
		return nil, kiosk.Errorf(kiosk.EInvalid, "this enrolment code was used already: ask the district for a new one")
	}
	if exp, _ := time.Parse(time.RFC3339Nano, expires); s.Now().After(exp) {
		return nil, kiosk.Errorf(kiosk.EInvalid, "this enrolment code expired: ask the district for a new one")
	}
	var known Device
	var revoked sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT id, point_code, point_name, revoked_at FROM devices WHERE public_key = ?`, pub).
		Scan(&known.ID, &known.PointCode, &known.PointName, &revoked)
	switch {
	case err == nil && revoked.Valid:
		return nil, kiosk.Errorf(kiosk.EConflict, "this kiosk was revoked by the district; it cannot enrol again with the same key")
	case err == nil && known.PointCode != point:
		return nil, kiosk.Errorf(kiosk.EConflict, "this kiosk is enrolled for service point %s; ask for a code for %s", known.PointCode, known.PointCode)
	case err == nil:
		// The kiosk lost its database but kept its key: a technician with a
		// new code for the same point re-attaches it to its old device, so
		// it can take back its submissions and its receipt numbers go on.
		if err := useCode(ctx, tx, code, known.ID, s.now()); err != nil {
			return nil, err
		}
		known.Reattached = true
		return &known, tx.Commit()
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	d := &Device{ID: "dev-" + randomHex(6), PointCode: point, PointName: name, AppVersion: appVersion, EnrolledAt: s.Now().UTC()}
	if _, err := tx.ExecContext(ctx, `INSERT INTO devices (id, public_key, point_code, point_name, app_version, enrolled_at) VALUES (?, ?, ?, ?, ?, ?)`,
		d.ID, pub, point, name, appVersion, s.now()); err != nil {
		return nil, err
	}
	if err := useCode(ctx, tx, code, d.ID, s.now()); err != nil {
		return nil, err
	}
	return d, tx.Commit()
}

// useCode marks an enrolment code used by device; of two kiosks racing with
// the same code only one may take it.
func useCode(ctx context.Context, tx *tx, code, device, now string) error {
	res, err := tx.ExecContext(ctx, `UPDATE enroll_codes SET used_at = ?, device_id = ? WHERE code = ? AND used_at IS NULL`, now, device, code)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return kiosk.Errorf(kiosk.EInvalid, "this enrolment code was used already: ask the district for a new one")
	}
	return nil
}

// Device finds a device by id; ENotFound if unknown.
func (s *Store) Device(ctx context.Context, id string) (*Device, error) {
	var d Device
	var enrolled string
	var revoked, seen sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT id, public_key, point_code, point_name, app_version, enrolled_at, revoked_at, last_seen, heartbeat FROM devices WHERE id = ?`, id).
		Scan(&d.ID, &d.PublicKey, &d.PointCode, &d.PointName, &d.AppVersion, &enrolled, &revoked, &seen, &d.Heartbeat)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kiosk.Errorf(kiosk.ENotFound, "unknown device %q", id)
	}
	if err != nil {
		return nil, err
	}
	d.EnrolledAt, _ = time.Parse(time.RFC3339Nano, enrolled)
	d.Revoked = revoked.Valid
	if seen.Valid {
		d.LastSeen, _ = time.Parse(time.RFC3339Nano, seen.String)
	}
	return &d, nil
}

// Devices lists all devices.
func (s *Store) Devices(ctx context.Context) ([]Device, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM devices ORDER BY enrolled_at`)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	var out []Device
	for _, id := range ids {
		d, err := s.Device(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, nil
}

// Revoke stops a device; it keeps its data but is refused from now on.
func (s *Store) Revoke(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE devices SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, s.now(), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return kiosk.Errorf(kiosk.ENotFound, "unknown device %q", id)
	}
	return nil
}

// seen records a request's nonce and the device's last contact in one
// commit: a nonce used twice is a replay.
func (s *Store) seen(ctx context.Context, device, nonce string) (replay bool, err error) {
	now := s.Now().UTC()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO nonces (device_id, nonce, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, device, nonce, now.Format(time.RFC3339Nano))
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return true, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE devices SET last_seen = ? WHERE id = ?`, now.Format(time.RFC3339Nano), device); err != nil {
		return false, err
	}
	// Nonces older than twice the allowed skew can no longer pass the
	// timestamp check; they are dropped once a minute, not on every request.
	s.mu.Lock()
	prune := now.Sub(s.pruned) > time.Minute
	if prune {
		s.pruned = now
	}
	s.mu.Unlock()
	if prune {
		if _, err := tx.ExecContext(ctx, `DELETE FROM nonces WHERE seen_at < ?`, now.Add(-11*time.Minute).Format(time.RFC3339Nano)); err != nil {
			return false, err
		}
	}
	return false, tx.Commit()
}

// Summary is one submission in the operator's list.
type Summary struct {
	ID         string    `json:"id"`
	ReceiptNo  string    `json:"receipt_no"`
	Matter     string    `json:"matter"`
	DeviceID   string    `json:"device_id"`
	Status     string    `json:"status"`
	ReceivedAt time.Time `json:"received_at"`
}

// Submissions lists what the district has received.
func (s *Store) Submissions(ctx context.Context) ([]Summary, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, receipt_no, matter, device_id, status, received_at FROM submissions ORDER BY received_at, receipt_no`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var r Summary
		var at string
		if err := rows.Scan(&r.ID, &r.ReceiptNo, &r.Matter, &r.DeviceID, &r.Status, &at); err != nil {
			return nil, err
		}
		r.ReceivedAt, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, r)
	}
	return out, rows.Err()
}

var settable = map[string]bool{kiosk.StatusAccepted: true, kiosk.StatusInProgress: true, kiosk.StatusDone: true, kiosk.StatusReturned: true, kiosk.StatusRefused: true}

// SetStatus moves a submission on and puts the change in the feed of the
// kiosk that sent it, in one transaction.
func (s *Store) SetStatus(ctx context.Context, receiptNo, status, note, operator string) error {
	return s.SetStatusFrom(ctx, receiptNo, "", status, note, operator)
}

// SetStatusFrom is SetStatus for a move decided on a status seen earlier (a
// staff member's page): when the submission is no longer in status from,
// it is refused with EConflict and nothing changes. The status is read and
// changed in one transaction, so of two staff moving the same matter at
// once only the first succeeds. from "" takes any status.
func (s *Store) SetStatusFrom(ctx context.Context, receiptNo, from, status, note, operator string) error {
	if !settable[status] {
		return kiosk.Errorf(kiosk.EInvalid, "status %q is not one of accepted, in_progress, done, returned, refused", status)
	}
	note = strings.TrimSpace(note)
	if (status == kiosk.StatusReturned || status == kiosk.StatusRefused) && note == "" {
		return kiosk.Errorf(kiosk.EInvalid, "a %s status needs a note saying why (the village agent shows it to the villager)", status)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var id, device string
	err = tx.QueryRowContext(ctx, `SELECT id, device_id FROM submissions WHERE receipt_no = ?`, receiptNo).Scan(&id, &device)
	if errors.Is(err, sql.ErrNoRows) {
		return kiosk.Errorf(kiosk.ENotFound, "no submission with receipt number %s", receiptNo)
	}
	if err != nil {
		return err
	}
	if err := tx.lockFeed(ctx, device); err != nil {
		return err
	}
	// Read under the lock (SQLite's write lock, PostgreSQL's feed lock), and
	// the update names what was read: a move made meanwhile updates nothing.
	var current string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM submissions WHERE id = ?`, id).Scan(&current); err != nil {
		return err
	}
	if from != "" && current != from {
		return kiosk.Errorf(kiosk.EConflict, "%s is %s now, not %s: someone moved it meanwhile", receiptNo, current, from)
	}
	res, err := tx.ExecContext(ctx, `UPDATE submissions SET status = ? WHERE id = ? AND status = ?`, status, id, current)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return kiosk.Errorf(kiosk.EConflict, "%s changed status meanwhile: look again", receiptNo)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO changes (device_id, submission_id, receipt_no, kind, status, note, operator, at) VALUES (?, ?, ?, 'status', ?, ?, ?, ?)`,
		device, id, receiptNo, status, note, operator, s.now()); err != nil {
		return err
	}
	return tx.Commit()
}

// PublishCatalog validates a catalog document and makes it the one kiosks
// download; every kiosk's feed gets a "catalog" change. An invalid document
// is refused naming the item and element, and nothing changes.
func (s *Store) PublishCatalog(ctx context.Context, doc []byte) (*kiosk.Catalog, error) {
	c, err := kiosk.ParseCatalog(doc)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(doc)
	sha := hex.EncodeToString(sum[:])
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO catalogs (version, sha256, document, published_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (sha256) DO UPDATE SET published_at = excluded.published_at`, c.Version, sha, doc, s.now()); err != nil {
		return nil, err
	}
	if err := tx.lockFeed(ctx, ""); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO changes (device_id, submission_id, receipt_no, kind, status, note, at)
		SELECT id, '', '', 'catalog', CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT) FROM devices WHERE revoked_at IS NULL`, c.Version, sha, s.now()); err != nil {
		return nil, err
	}
	return c, tx.Commit()
}

// Catalog returns the published catalog document with the newest
// publication, and its SHA-256; ENotFound before the first.
func (s *Store) Catalog(ctx context.Context) ([]byte, string, error) {
	var doc []byte
	var sha string
	err := s.db.QueryRowContext(ctx, `SELECT document, sha256 FROM catalogs ORDER BY published_at DESC, id DESC LIMIT 1`).Scan(&doc, &sha)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", kiosk.Errorf(kiosk.ENotFound, "the district has not published a catalog")
	}
	return doc, sha, err
}

// PublishHolidays validates a year's holiday arrangement and announces it in
// every kiosk's feed; receipts then count working days by it.
func (s *Store) PublishHolidays(ctx context.Context, doc []byte) (int, error) {
	if _, err := kiosk.ParseHolidayYears(doc); err != nil {
		return 0, err
	}
	var y kiosk.HolidayYear
	json.Unmarshal(doc, &y)
	sum := sha256.Sum256(doc)
	sha := hex.EncodeToString(sum[:])
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO documents (kind, version, sha256, document, published_at) VALUES ('holidays', ?, ?, ?, ?)
		ON CONFLICT (kind, version) DO UPDATE SET sha256 = excluded.sha256, document = excluded.document, published_at = excluded.published_at`,
		fmt.Sprint(y.Year), sha, doc, s.now()); err != nil {
		return 0, err
	}
	if err := tx.lockFeed(ctx, ""); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO changes (device_id, submission_id, receipt_no, kind, status, note, at)
		SELECT id, '', '', 'holidays', CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT) FROM devices WHERE revoked_at IS NULL`, fmt.Sprint(y.Year), sha, s.now()); err != nil {
		return 0, err
	}
	return y.Year, tx.Commit()
}

// Document returns a published document of a kind and version.
func (s *Store) Document(ctx context.Context, kind, version string) ([]byte, string, error) {
	var doc []byte
	var sha string
	err := s.db.QueryRowContext(ctx, `SELECT document, sha256 FROM documents WHERE kind = ? AND version = ?`, kind, version).Scan(&doc, &sha)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", kiosk.Errorf(kiosk.ENotFound, "no %s %s published", kind, version)
	}
	return doc, sha, err
}

// SetAgent adds or changes an agent of a service point (a new PIN, a role)
// and announces the roster change to that point's kiosks.
func (s *Store) SetAgent(ctx context.Context, point, name, pin string, admin bool) error {
	name = kiosk.NormalizeName(name)
	if err := kiosk.CheckName(name); err != nil || strings.TrimSpace(point) == "" {
		return kiosk.Errorf(kiosk.EInvalid, "an agent needs a service point code and a name (%v)", err)
	}
	if !pinhash.Valid(pin) {
		return kiosk.Errorf(kiosk.EInvalid, "the PIN must be 4 to 8 digits")
	}
	hash, err := pinhash.Hash(pin)
	if err != nil {
		return err
	}
	return s.rosterChange(ctx, point, `INSERT INTO roster (point_code, name, pin_hash, admin, active, updated_at) VALUES (?, ?, ?, ?, TRUE, ?)
		ON CONFLICT (point_code, name) DO UPDATE SET pin_hash = excluded.pin_hash, admin = excluded.admin, active = TRUE, updated_at = excluded.updated_at`,
		point, name, hash, admin, s.now())
}

// StopAgent stops an agent at a service point: its kiosks refuse the
// agent's PIN from their next sync on.
func (s *Store) StopAgent(ctx context.Context, point, name string) error {
	return s.rosterChange(ctx, point, `UPDATE roster SET active = FALSE, updated_at = ? WHERE point_code = ? AND name = ?`, s.now(), point, name)
}

func (s *Store) rosterChange(ctx context.Context, point, query string, args ...any) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return kiosk.Errorf(kiosk.ENotFound, "no such agent at service point %s", point)
	}
	if err := tx.lockFeed(ctx, ""); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO changes (device_id, submission_id, receipt_no, kind, status, note, at)
		SELECT id, '', '', 'roster', '', '', CAST(? AS TEXT) FROM devices WHERE point_code = ? AND revoked_at IS NULL`, s.now(), point); err != nil {
		return err
	}
	return tx.Commit()
}

// Roster lists a service point's agents as kiosks receive them.
func (s *Store) Roster(ctx context.Context, point string) ([]kiosk.RosterEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, pin_hash, admin, active FROM roster WHERE point_code = ? ORDER BY name`, point)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []kiosk.RosterEntry{}
	for rows.Next() {
		var r kiosk.RosterEntry
		if err := rows.Scan(&r.Name, &r.PINHash, &r.Admin, &r.Active); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Held returns up to limit of device's submissions with ids after after,
// reduced to what the kiosk's list shows (see kiosksync.Held).
func (s *Store) Held(ctx context.Context, device, after string, limit int) (kiosksync.HeldPage, error) {
	page := kiosksync.HeldPage{Submissions: []kiosksync.Held{}}
	rows, err := s.db.QueryContext(ctx, `SELECT id, payload, status, received_at FROM submissions
		WHERE device_id = ? AND id > ? ORDER BY id LIMIT ?`, device, after, limit+1)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		if len(page.Submissions) == limit {
			page.More = true
			break
		}
		var payload []byte
		var status, received, id string
		if err := rows.Scan(&id, &payload, &status, &received); err != nil {
			return page, err
		}
		var sub kiosk.Submission
		json.Unmarshal(payload, &sub)
		h := kiosksync.Held{ID: id, ReceiptNo: sub.ReceiptNo, Matter: sub.Matter, MatterName: sub.MatterName, MainName: sub.MainName,
			ApplicantName: sub.Applicant.Name, IDMasked: kiosk.MaskIDNumber(sub.Applicant.IDNumber), Agent: sub.Agent,
			CreatedAt: sub.CreatedAt, Revision: sub.Revision, Status: status, Materials: []kiosk.MaterialRecord{}}
		h.ReceivedAt, _ = time.Parse(time.RFC3339Nano, received)
		for _, m := range sub.Materials {
			m.Attachments = nil
			h.Materials = append(h.Materials, m)
		}
		page.Submissions = append(page.Submissions, h)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	rows.Close()
	for i := range page.Submissions {
		h := &page.Submissions[i]
		err := s.db.QueryRowContext(ctx, `SELECT note FROM changes WHERE submission_id = ? AND kind = 'status' ORDER BY seq DESC LIMIT 1`, h.ID).Scan(&h.Note)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return page, err
		}
	}
	return page, nil
}
