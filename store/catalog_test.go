package store_test

import (
	"context"
	"strings"
	"testing"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/store"
)

func TestCatalog_InstallAndSwap(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := store.NewCatalogService(db)
	if _, _, err := s.Active(ctx); kiosk.ErrorCode(err) != kiosk.ENotFound {
		t.Fatalf("got %v, want ENotFound on a new database", err)
	}
	v1 := smallCatalog(t)
	if _, err := s.EnsureDefault(ctx, v1); err != nil {
		t.Fatal(err)
	}
	v2 := []byte(strings.Replace(string(v1), `"version": "test.1"`, `"version": "test.2"`, 1))
	if _, err := s.Install(ctx, v2, kiosk.OriginDistrict); err != nil {
		t.Fatal(err)
	}
	c, info, err := s.Active(ctx)
	if err != nil || c.Version != "test.2" || info.Origin != kiosk.OriginDistrict {
		t.Fatalf("got %v %+v %v, want test.2 from the district", c, info, err)
	}
	// A shipped default never replaces what the district published.
	if c, err := s.EnsureDefault(ctx, v1); err != nil || c.Version != "test.2" {
		t.Fatalf("EnsureDefault replaced the district catalog: %v %v", c, err)
	}
	// Installing an older document again re-activates it without a copy.
	if _, err := s.Install(ctx, v1, kiosk.OriginFile); err != nil {
		t.Fatal(err)
	}
	if c, _, _ := s.Active(ctx); c.Version != "test.1" {
		t.Fatalf("got %s, want test.1", c.Version)
	}
	var rows, active int
	if err := db.SQL().QueryRow(`SELECT count(*), sum(active) FROM catalog_versions`).Scan(&rows, &active); err != nil {
		t.Fatal(err)
	}
	if rows != 2 || active != 1 {
		t.Fatalf("got %d versions with %d active, want 2 with 1", rows, active)
	}
}

func TestCatalog_ErrInvalidKeepsOld(t *testing.T) {
	ctx := context.Background()
	s := store.NewCatalogService(MustOpen(t))
	if _, err := s.Install(ctx, smallCatalog(t), kiosk.OriginFile); err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(smallCatalog(t)), `"kind": "date"`, `"kind": "calendar"`, 1)
	broken = strings.Replace(broken, `"version": "test.1"`, `"version": "test.9"`, 1)
	_, err := s.Install(ctx, []byte(broken), kiosk.OriginDistrict)
	if kiosk.ErrorCode(err) != kiosk.EInvalid || !strings.Contains(err.Error(), `kind "calendar" is unknown`) ||
		!strings.Contains(err.Error(), "城乡居民基本养老保险参保登记") {
		t.Fatalf("got %v, want an invalid-catalog error naming the item", err)
	}
	c, _, err := s.Active(ctx)
	if err != nil || c.Version != "test.1" {
		t.Fatalf("got %v %v, want the old catalog still active", c, err)
	}
}
