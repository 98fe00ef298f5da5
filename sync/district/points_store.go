package district

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/assets"
)

// factTime is how submission_facts keeps times: UTC, fixed width, so that
// comparing the text compares the times.
const factTime = "2006-01-02T15:04:05Z"

func factStamp(t time.Time) string { return t.UTC().Format(factTime) }

// refreshFacts reads, once, the facts of each submission not yet in
// submission_facts from its payload. Safe to run on several servers at once.
func (s *Store) refreshFacts(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT s.id, s.device_id, d.point_code, s.matter, s.payload
		FROM submissions s JOIN devices d ON d.id = s.device_id
		LEFT JOIN submission_facts f ON f.submission_id = s.id
		WHERE f.submission_id IS NULL`)
	if err != nil {
		return fmt.Errorf("find new submissions: %w", err)
	}
	type fact struct{ id, device, point, matter, version, created string }
	var todo []fact
	for rows.Next() {
		var f fact
		var payload []byte
		if err := rows.Scan(&f.id, &f.device, &f.point, &f.matter, &payload); err != nil {
			rows.Close()
			return err
		}
		var sub struct {
			CatalogVersion string    `json:"catalog_version"`
			CreatedAt      time.Time `json:"created_at"`
		}
		json.Unmarshal(payload, &sub)
		f.version, f.created = sub.CatalogVersion, factStamp(sub.CreatedAt)
		todo = append(todo, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(todo) == 0 {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, f := range todo {
		if _, err := tx.ExecContext(ctx, `INSERT INTO submission_facts (submission_id, device_id, point_code, matter, catalog_version, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (submission_id) DO NOTHING`, f.id, f.device, f.point, f.matter, f.version, f.created); err != nil {
			return fmt.Errorf("record submission facts: %w", err)
		}
	}
	return tx.Commit()
}

// factRecord is a matterRecord with what the lookups need.
type factRecord struct {
	matterRecord
	Device, CatalogVersion string
}

// matterRecords returns the submissions saved at or after from, with their
// status history in order.
func (s *Store) matterRecords(ctx context.Context, from time.Time) ([]factRecord, error) {
	if err := s.refreshFacts(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT submission_id, device_id, point_code, matter, catalog_version, created_at
		FROM submission_facts WHERE created_at >= ? ORDER BY created_at`, factStamp(from))
	if err != nil {
		return nil, err
	}
	var out []factRecord
	index := map[string]int{}
	for rows.Next() {
		var r factRecord
		var id, created string
		if err := rows.Scan(&id, &r.Device, &r.Point, &r.Matter, &r.CatalogVersion, &created); err != nil {
			rows.Close()
			return nil, err
		}
		r.Created, _ = time.Parse(factTime, created)
		index[id] = len(out)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.db.QueryContext(ctx, `SELECT c.submission_id, c.status, c.at FROM changes c
		JOIN submission_facts f ON f.submission_id = c.submission_id
		WHERE c.kind = 'status' AND f.created_at >= ? ORDER BY c.seq`, factStamp(from))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, status, at string
		if err := rows.Scan(&id, &status, &at); err != nil {
			return nil, err
		}
		i, ok := index[id]
		if !ok {
			continue
		}
		t, _ := time.Parse(time.RFC3339Nano, at)
		out[i].History = append(out[i].History, statusEvent{Status: status, At: t})
	}
	return out, rows.Err()
}

// deviceCounts counts each device's submissions saved since today and since
// month (start of the day and of the month in China time).
func (s *Store) deviceCounts(ctx context.Context, today, month time.Time) (map[string][2]int, error) {
	if err := s.refreshFacts(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT device_id, count(*) FILTER (WHERE created_at >= ?), count(*)
		FROM submission_facts WHERE created_at >= ? GROUP BY device_id`, factStamp(today), factStamp(month))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][2]int{}
	for rows.Next() {
		var id string
		var d, m int
		if err := rows.Scan(&id, &d, &m); err != nil {
			return nil, err
		}
		out[id] = [2]int{d, m}
	}
	return out, rows.Err()
}

// holidayCalendar is the shipped holiday arrangements replaced, year by
// year, by those the district published.
func (s *Store) holidayCalendar(ctx context.Context) (*kiosk.Calendar, error) {
	docs := assets.HolidayYears()
	rows, err := s.db.QueryContext(ctx, `SELECT document FROM documents WHERE kind = 'holidays' ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var d []byte
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return kiosk.ParseHolidayYears(docs...)
}

// limitBook finds a matter's time limit: in the catalog version the
// submission was made under, else in the newest published catalog, else in
// the shipped one.
type limitBook struct {
	byVersion map[string]map[string]kiosk.TimeLimit
	newest    map[string]kiosk.TimeLimit
}

func (b *limitBook) lookup(version, matter string) (kiosk.TimeLimit, bool) {
	if m, ok := b.byVersion[version]; ok {
		if l, ok := m[matter]; ok {
			return l, true
		}
	}
	l, ok := b.newest[matter]
	return l, ok
}

func limitsOf(c *kiosk.Catalog) map[string]kiosk.TimeLimit {
	out := map[string]kiosk.TimeLimit{}
	for _, m := range c.MainItems {
		for _, sub := range m.SubItems {
			out[sub.Code] = sub.TimeLimit
		}
	}
	return out
}

// parsedCatalogs caches catalogs by SHA-256: they never change.
var parsedCatalogs sync.Map // sha256 -> *kiosk.Catalog

// shippedLimits are the time limits of the catalog built into districtd,
// parsed once: every status page and inbox view asks for them.
var shippedLimits = sync.OnceValues(func() (string, map[string]kiosk.TimeLimit) {
	c, err := kiosk.ParseCatalog(assets.DefaultCatalog)
	if err != nil {
		return "", nil
	}
	return c.Version, limitsOf(c)
})

func (s *Store) limitBook(ctx context.Context) (*limitBook, error) {
	b := &limitBook{byVersion: map[string]map[string]kiosk.TimeLimit{}}
	if version, limits := shippedLimits(); limits != nil {
		b.byVersion[version] = limits
		b.newest = limits
	}
	rows, err := s.db.QueryContext(ctx, `SELECT sha256 FROM catalogs ORDER BY published_at, id`)
	if err != nil {
		return nil, err
	}
	var shas []string
	for rows.Next() {
		var sha string
		rows.Scan(&sha)
		shas = append(shas, sha)
	}
	rows.Close()
	for _, sha := range shas {
		c, err := s.catalogBySHA(ctx, sha)
		if err != nil {
			return nil, err
		}
		b.byVersion[c.Version] = limitsOf(c)
		b.newest = b.byVersion[c.Version]
	}
	return b, nil
}

func (s *Store) catalogBySHA(ctx context.Context, sha string) (*kiosk.Catalog, error) {
	if c, ok := parsedCatalogs.Load(sha); ok {
		return c.(*kiosk.Catalog), nil
	}
	var doc []byte
	if err := s.db.QueryRowContext(ctx, `SELECT document FROM catalogs WHERE sha256 = ?`, sha).Scan(&doc); err != nil {
		return nil, err
	}
	c, err := kiosk.ParseCatalog(doc)
	if err != nil {
		return nil, fmt.Errorf("published catalog %s: %w", sha[:12], err)
	}
	parsedCatalogs.Store(sha, c)
	return c, nil
}
