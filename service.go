package kiosk

import "context"

// Where an installed catalog came from.
const (
	OriginDefault  = "default"  // shipped inside the kiosk
	OriginDistrict = "district" // published by the district and synced down
	OriginFile     = "file"     // installed by a technician from a file
)

// CatalogInfo describes the installed catalog version.
type CatalogInfo struct {
	Version     string
	Origin      string
	SHA256      string
	InstalledAt string
}

// CatalogService keeps the catalog the kiosk works from.
type CatalogService interface {
	// Active returns the active catalog. ENotFound when none is installed,
	// ECorrupt when the stored one no longer validates.
	Active(ctx context.Context) (*Catalog, CatalogInfo, error)

	// Install validates doc and makes it the active catalog atomically.
	// EInvalid (naming item and element) leaves the active catalog in place.
	Install(ctx context.Context, doc []byte, origin string) (*Catalog, error)
}
