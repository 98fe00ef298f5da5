package district

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// dialect is which SQL engine a Store runs on. Queries are written once, in
// the SQL both engines share, with ? placeholders; db rewrites them to $n for
// PostgreSQL.
type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

// db is the district's connection pool; its Context methods take portable
// SQL (? placeholders, TRUE/FALSE, timestamps as RFC 3339 text).
type db struct {
	*sql.DB
	dialect dialect
}

func (d *db) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.DB.ExecContext(ctx, d.rebind(q), args...)
}

func (d *db) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.DB.QueryContext(ctx, d.rebind(q), args...)
}

func (d *db) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return d.DB.QueryRowContext(ctx, d.rebind(q), args...)
}

// BeginTx starts a transaction whose Context methods take portable SQL too.
func (d *db) BeginTx(ctx context.Context, opts *sql.TxOptions) (*tx, error) {
	t, err := d.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &tx{Tx: t, dialect: d.dialect}, nil
}

type tx struct {
	*sql.Tx
	dialect dialect
}

func (t *tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.dialect.rebind(q), args...)
}

func (t *tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.dialect.rebind(q), args...)
}

func (t *tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.dialect.rebind(q), args...)
}

func (d *db) rebind(q string) string { return d.dialect.rebind(q) }

// rebind turns ? placeholders into $1, $2, ... for PostgreSQL, leaving
// question marks inside quoted strings alone.
func (d dialect) rebind(q string) string {
	if d != postgresDialect || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n, quoted := 0, false
	for _, r := range q {
		switch {
		case r == '\'':
			quoted = !quoted
		case r == '?' && !quoted:
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Advisory lock classes (PostgreSQL). SQLite needs none: its transactions
// are immediate, one writer at a time.
const (
	lockAllFeeds   = int64(0x564B4454) // shared by one feed's writers, exclusive for all
	lockClassFeed  = int32(1)
	lockClassEntry = int32(2)
	lockClassFile  = int32(3)
)

// lockFeed is taken before a transaction adds to device's change feed (""
// for every device's). PostgreSQL hands out seq numbers at insert, not at
// commit: without it a kiosk could read seq 11 before seq 10 commits, move
// its cursor past 10 and never see it.
func (t *tx) lockFeed(ctx context.Context, device string) error {
	if t.dialect != postgresDialect {
		return nil
	}
	if device == "" {
		_, err := t.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, lockAllFeeds)
		return err
	}
	if _, err := t.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared(?)`, lockAllFeeds); err != nil {
		return err
	}
	_, err := t.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?, hashtext(?))`, lockClassFeed, device)
	return err
}

// lockEntry serialises transactions about one key (a submission id), so two
// copies of one upload are a first upload and a replay, never a unique-key
// failure. Take it before lockFeed.
func (t *tx) lockEntry(ctx context.Context, key string) error {
	if t.dialect != postgresDialect {
		return nil
	}
	_, err := t.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?, hashtext(?))`, lockClassEntry, key)
	return err
}

// lockFile holds, across every districtd instance sharing this PostgreSQL
// database, the right to append to the attachment named sha, until the
// returned func is called: two instances behind a load balancer sharing one
// attachment folder must not append the same chunk twice. DirBlobs'
// in-process lock covers SQLite's single instance.
func (d *db) lockFile(ctx context.Context, sha string) (func(), error) {
	if d.dialect != postgresDialect {
		return func() {}, nil
	}
	conn, err := d.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, lockClassFile, sha); err != nil {
		conn.Close()
		return nil, err
	}
	return func() {
		// A fresh context: the request's may be cancelled, and the lock must
		// go back with the connection either way.
		conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1, hashtext($2))`, lockClassFile, sha)
		conn.Close()
	}, nil
}
