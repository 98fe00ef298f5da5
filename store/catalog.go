package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	kiosk "github.com/keqiao/villagekiosk"
)

// CatalogService keeps the versioned catalog: one active version at a time,
// swapped atomically.
type CatalogService struct {
	db *DB

	mu     sync.Mutex
	cached *kiosk.Catalog // the last catalog parsed, by document hash: a
	sha    string         // save checks against it without re-parsing 400 KB
}

var _ kiosk.CatalogService = (*CatalogService)(nil)

// NewCatalogService returns the catalog service of db.
func NewCatalogService(db *DB) *CatalogService { return &CatalogService{db: db} }

// Active returns the active catalog, or ENotFound when none is installed.
func (s *CatalogService) Active(ctx context.Context) (*kiosk.Catalog, kiosk.CatalogInfo, error) {
	var info kiosk.CatalogInfo
	err := s.db.db.QueryRowContext(ctx,
		`SELECT version, origin, sha256, installed_at FROM catalog_versions WHERE active = 1`).
		Scan(&info.Version, &info.Origin, &info.SHA256, &info.InstalledAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, info, kiosk.Errorf(kiosk.ENotFound, "no catalog is installed")
	}
	if err != nil {
		return nil, info, fmt.Errorf("read active catalog: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sha == info.SHA256 {
		return s.cached, info, nil
	}
	var doc []byte
	if err := s.db.db.QueryRowContext(ctx, `SELECT document FROM catalog_versions WHERE sha256 = ?`, info.SHA256).Scan(&doc); err != nil {
		return nil, info, fmt.Errorf("read active catalog: %w", err)
	}
	c, err := kiosk.ParseCatalog(doc)
	if err != nil {
		return nil, info, kiosk.Errorf(kiosk.ECorrupt, "the stored catalog %s no longer validates: %v", info.Version, err)
	}
	s.cached, s.sha = c, info.SHA256
	return c, info, nil
}

// Install validates doc and makes it the active catalog. An invalid document
// returns EInvalid naming the item and element, and the active catalog stays.
// Installing the document that is already active changes nothing.
func (s *CatalogService) Install(ctx context.Context, doc []byte, origin string) (*kiosk.Catalog, error) {
	c, err := kiosk.ParseCatalog(doc)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(doc)
	sha := hex.EncodeToString(sum[:])

	tx, err := s.db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("install catalog: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE catalog_versions SET active = 0 WHERE active = 1`); err != nil {
		return nil, fmt.Errorf("install catalog: %w", err)
	}
	// The same document seen before is re-activated rather than stored twice.
	res, err := tx.ExecContext(ctx, `UPDATE catalog_versions SET active = 1 WHERE sha256 = ?`, sha)
	if err != nil {
		return nil, fmt.Errorf("install catalog: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO catalog_versions (version, origin, sha256, document, installed_at, active) VALUES (?, ?, ?, ?, ?, 1)`,
			c.Version, origin, sha, doc, s.db.now()); err != nil {
			return nil, fmt.Errorf("install catalog: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("install catalog: %w", err)
	}
	return c, nil
}

// EnsureDefault installs the shipped default catalog when none is active, or
// when the active one is an older shipped default. A catalog the district
// published is never replaced by the shipped one.
func (s *CatalogService) EnsureDefault(ctx context.Context, doc []byte) (*kiosk.Catalog, error) {
	c, info, err := s.Active(ctx)
	switch {
	case kiosk.ErrorCode(err) == kiosk.ENotFound:
	case err != nil:
		return nil, err
	case info.Origin != kiosk.OriginDefault:
		return c, nil
	default:
		sum := sha256.Sum256(doc)
		if info.SHA256 == hex.EncodeToString(sum[:]) {
			return c, nil
		}
	}
	return s.Install(ctx, doc, kiosk.OriginDefault)
}
