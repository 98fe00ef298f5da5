// Package sqlitedb holds what the kiosk's and the district's SQLite stores
// share: the connection string (pragmas are per connection, so they go in the
// DSN where every pooled connection gets them), telling a full disk, and
// escaping search text for LIKE (also used on the district's PostgreSQL).
package sqlitedb

import (
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
)

// DSN returns the DSN of a database file: WAL, a busy timeout, foreign keys,
// synchronous=FULL (a commit a villager is told about survives power loss)
// and immediate transactions (writers queue instead of failing to upgrade).
func DSN(path string) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "foreign_keys(1)", "journal_mode(WAL)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	return "file:" + filepath.ToSlash(path) + "?" + q.Encode()
}

// IsDiskFull recognises a full disk from the OS (ENOSPC) or from SQLite
// (SQLITE_FULL, or SQLITE_IOERR_SHMSIZE: no room to grow the WAL index when
// a database is opened), so callers can answer "try again once space is
// freed".
func IsDiskFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) {
		return true
	}
	var coded interface{ Code() int }
	return errors.As(err, &coded) && (coded.Code()&0xff == sqliteFull || coded.Code() == sqliteIOErrShmSize)
}

const (
	sqliteFull         = 13
	sqliteIOErrShmSize = 10 | 19<<8 // SQLITE_IOERR_SHMSIZE
)

// EscapeLike makes s match literally inside a LIKE pattern written with
// ESCAPE '\' (the same in PostgreSQL): what a person types in a search box
// is text, its % and _ included.
func EscapeLike(s string) string {
	return likeEscaper.Replace(s)
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
