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
