// Package store keeps the kiosk's data in one SQLite file (modernc.org/sqlite,
// no cgo): the catalog versions, settings, submissions and the outbox. It
// implements the domain's service interfaces and never imports the UI.
package store

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/sqlitedb"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ApplicationID marks a SQLite file as the kiosk's ("VKSK"), so a foreign
// database is refused rather than migrated.
const ApplicationID = 0x564B534B

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is the kiosk's database.
type DB struct {
	db   *sql.DB
	path string

	// Recovered is set when Open found the file corrupt and moved it aside;
	// it names where the old file went, so the UI can tell the agent.
	Recovered string

	// LostReceipts is set when Open found that receipts were handed out
	// that the database no longer has (see receiptmark.go): the numbers, in
	// words, for the agent to look for with the villagers.
	LostReceipts string

	// RecoveredSaves are the receipt numbers Open put back from the copies
	// kept beside the database (savecopy.go): saves the database had lost.
	RecoveredSaves []string

	// Now is the clock; tests replace it.
	Now func() time.Time
}

var sqliteHeader = []byte("SQLite format 3\x00")

// Open opens (creating if needed) the database at path, checks it is the
// kiosk's and intact, and migrates it. A corrupt file is moved aside and a new
// one started, with DB.Recovered saying where the old one went; a foreign or
// newer file is refused and left untouched.
func Open(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	if err := refuseForeign(path); err != nil {
		return nil, err
	}
	d := &DB{path: path, Now: time.Now}
	for attempt := 0; ; attempt++ {
		err := d.open(ctx)
		if err == nil {
			break
		}
		if kiosk.ErrorCode(err) != kiosk.ECorrupt || attempt > 0 {
			return nil, err
		}
		moved, merr := moveAside(path, d.Now())
		if merr != nil {
			return nil, fmt.Errorf("%v; moving it aside failed too: %w", err, merr)
		}
		d.Recovered = moved
	}
	if err := os.Chmod(path, 0o600); err != nil {
		d.Close()
		return nil, fmt.Errorf("restrict database permissions: %w", err)
	}
	// The copies of saves are read only when the database may have lost
	// some (moved aside, or behind the receipt mark): a kiosk with a
	// month's queue does not read thousands of files at every start.
	_, _, _, _, behind := d.markGap(ctx)
	var err error
	if d.RecoveredSaves, err = d.recoverSaves(ctx, d.Recovered != "" || behind); err != nil {
		d.Close()
		return nil, err
	}
	lost, err := d.checkReceiptMark(ctx)
	if err != nil {
		d.Close()
		return nil, err
	}
	d.LostReceipts = lost
	return d, nil
}

// refuseForeign rejects an existing non-empty file that is not SQLite at all:
// it may be someone's document chosen by mistake, so it is never touched.
func refuseForeign(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	n, _ := f.Read(head)
	if n == 0 {
		return nil
	}
	if !bytes.Equal(head[:n], sqliteHeader[:n]) || n < len(sqliteHeader) {
		return kiosk.Errorf(kiosk.EForeign, "%s is not a kiosk database (not an SQLite file); it was left untouched. Choose another data folder with --data, or move the file away", path)
	}
	return nil
}

func (d *DB) open(ctx context.Context) error {
	db, err := sql.Open("sqlite", sqlitedb.DSN(d.path))
	if err != nil {
		return fmt.Errorf("open database %s: %w", d.path, err)
	}
	d.db = db
	if err := d.check(ctx); err != nil {
		db.Close()
		return err
	}
	if err := d.migrate(ctx); err != nil {
		db.Close()
		return err
	}
	return nil
}

// check refuses a foreign or newer file and detects corruption.
func (d *DB) check(ctx context.Context) error {
	var appID, version int
	if err := d.db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return corrupt(d.path, err)
	}
	if err := d.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return corrupt(d.path, err)
	}
	if appID != 0 && appID != ApplicationID {
		return kiosk.Errorf(kiosk.EForeign, "%s belongs to another program (application_id %#x); it was left untouched. Choose another data folder with --data", d.path, appID)
	}
	if appID == 0 && version != 0 {
		return kiosk.Errorf(kiosk.EForeign, "%s is an SQLite database of another program; it was left untouched. Choose another data folder with --data", d.path)
	}
	if n := len(migrationNames()); version > n {
		return kiosk.Errorf(kiosk.EForeign, "%s was written by a newer kiosk version (schema %d, this version knows %d); it was left untouched. Install the newer kiosk", d.path, version, n)
	}
	rows, err := d.db.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return corrupt(d.path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return corrupt(d.path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return corrupt(d.path, err)
	}
	if len(problems) > 0 {
		return corrupt(d.path, errors.New(strings.Join(problems, "; ")))
	}
	return nil
}

func corrupt(path string, err error) error {
	if sqlitedb.IsDiskFull(err) {
		// Not damage: SQLite found no room for the WAL index. The file is
		// left where it is, untouched.
		return kiosk.Errorf(kiosk.EUnavailable, "磁盘空间已满，无法打开本机数据文件，资料都在、没有改动。请联系技术人员清理磁盘后再试。（%s: %v）", path, err)
	}
	return kiosk.Errorf(kiosk.ECorrupt, "database %s is damaged: %v", path, err)
}

// moveAside renames a damaged database and its WAL files out of the way,
// keeping them for recovery, and returns the new name of the main file.
func moveAside(path string, now time.Time) (string, error) {
	stamp := now.UTC().Format("20060102T150405Z")
	dst := path + ".corrupt-" + stamp
	for _, suffix := range []string{"", "-wal", "-shm"} {
		err := os.Rename(path+suffix, dst+suffix)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("move %s aside: %w", path+suffix, err)
		}
	}
	return dst, nil
}

func migrationNames() []string {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		panic(err) // the pattern is constant
	}
	sort.Strings(names)
	return names
}

// migrate applies the embedded migrations newer than user_version, all in one
// transaction, so a file is either at the old or at the new schema.
func (d *DB) migrate(ctx context.Context) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names := migrationNames()
	if version == len(names) {
		return nil
	}
	for i, name := range names[version:] {
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version+i+1)); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", ApplicationID)); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return tx.Commit()
}

// Close closes the database.
func (d *DB) Close() error {
	if d.db == nil {
		return nil
	}
	return d.db.Close()
}

// Path is the database file's path.
func (d *DB) Path() string { return d.path }

// SQL exposes the handle for packages of this module's tests and tools.
func (d *DB) SQL() *sql.DB { return d.db }

func (d *DB) now() string { return d.Now().UTC().Format(time.RFC3339Nano) }
