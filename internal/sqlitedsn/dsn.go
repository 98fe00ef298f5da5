// Package sqlitedsn builds the connection string the kiosk and the district
// open their SQLite files with. Pragmas are per connection, so they go in the
// DSN where every pooled connection gets them.
package sqlitedsn

import (
	"net/url"
	"path/filepath"
)

// For returns the DSN of a database file: WAL, a busy timeout, foreign keys,
// synchronous=FULL (a commit a villager is told about survives power loss)
// and immediate transactions (writers queue instead of failing to upgrade).
func For(path string) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "foreign_keys(1)", "journal_mode(WAL)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	return "file:" + filepath.ToSlash(path) + "?" + q.Encode()
}
