package kiosk

import (
	"context"
	"image"
	"time"
)

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

// Agent is a village agent's account.
type Agent struct {
	ID    int64
	Name  string
	Admin bool
}

// Error codes of sign-in beyond the common ones.
const (
	ELocked = "locked" // too many wrong PINs; wait until the lock ends
)

// AgentService keeps the agents' accounts.
type AgentService interface {
	// Agents lists the accounts, for the sign-in screen.
	Agents(ctx context.Context) ([]Agent, error)
	// CreateAgent adds an account. EInvalid for a bad name or PIN (4-8
	// digits), EConflict when the name exists.
	CreateAgent(ctx context.Context, name, pin string, admin bool) (*Agent, error)
	// SignIn checks a PIN. EInvalid on a wrong PIN (the message says how many
	// tries are left), ELocked after five, ENotFound for an unknown name.
	SignIn(ctx context.Context, name, pin string) (*Agent, error)
}

// PointInfo identifies the service point the kiosk stands in.
type PointInfo struct {
	Code string // 服务点编码, e.g. the village's 12-digit statistical area code
	Name string // e.g. 柯桥区平水镇王化村便民服务中心
}

// SettingsService keeps the kiosk's own settings.
type SettingsService interface {
	// Point returns the service point; ENotFound before set-up.
	Point(ctx context.Context) (PointInfo, error)
	SetPoint(ctx context.Context, p PointInfo) error
	// Get returns a setting, "" when unset.
	Get(ctx context.Context, key string) (string, error)
	Set(ctx context.Context, key, value string) error
}

// SubmissionFilter narrows the submissions list.
type SubmissionFilter struct {
	Status string    // "" for all
	From   time.Time // zero for no lower bound
	To     time.Time // zero for no upper bound (exclusive)
	Query  string    // name, receipt number, or the last digits of the ID number
	Limit  int       // 0 for the default (500)
}

// SubmissionSummary is one row of the submissions list; the ID number is
// masked.
type SubmissionSummary struct {
	ID         string    `json:"id"`
	ReceiptNo  string    `json:"receipt_no"`
	Matter     string    `json:"matter"`
	MatterName string    `json:"matter_name"`
	Applicant  string    `json:"applicant"`
	IDMasked   string    `json:"id_masked"`
	Agent      string    `json:"agent"`
	CreatedAt  time.Time `json:"created_at"`
	Status     string    `json:"status"`
}

// SubmissionService saves and lists villagers' matters.
type SubmissionService interface {
	// Stage copies a picked or scanned file into the data folder under its
	// content hash, durably, and describes it. EInvalid for a file that is too
	// large, not an image or PDF, or unreadable; EUnavailable when the disk is
	// full.
	Stage(ctx context.Context, path string) (Attachment, error)
	// Save checks the draft and saves it atomically and durably with its
	// materials, attachments, outbox entry and audit line. FieldErrors for bad
	// input; EUnavailable when the disk is full (nothing is saved).
	Save(ctx context.Context, d *Draft, agent *Agent) (*Submission, error)
	// List returns the submissions matching f, newest first.
	List(ctx context.Context, f SubmissionFilter) ([]SubmissionSummary, error)
	// Get returns one submission in full; ENotFound if unknown.
	Get(ctx context.Context, id string) (*Submission, error)
	// Supplement adds what a returned matter (退回补正) lacked and queues it
	// again under the same receipt number. EInvalid unless it was returned.
	Supplement(ctx context.Context, id string, added []MaterialInput, agent *Agent) (*Submission, error)
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Seq     int64     `json:"seq"`
	At      time.Time `json:"at"`
	Agent   string    `json:"agent"`
	Action  string    `json:"action"`
	Subject string    `json:"subject"`
	Detail  string    `json:"detail"`
}

// Audit actions.
const (
	ActionSignIn       = "sign_in"
	ActionSignInFailed = "sign_in_failed"
	ActionSignOut      = "sign_out"
	ActionCreate       = "create"
	ActionView         = "view"
	ActionPrint        = "print"
	ActionAgentAdded   = "agent_added"
	ActionSupplement   = "supplement"    // material added to a returned matter
	ActionPurge        = "purge"         // personal data of finished matters removed
	ActionRestore      = "restore"       // submissions taken back from the district after a lost database
	ActionDeleteSealed = "delete_sealed" // sealed copies the district confirmed, deleted
)

// AuditService is the append-only log of who did what.
type AuditService interface {
	Record(ctx context.Context, agent, action, subject, detail string) error
	// List returns the newest entries first.
	List(ctx context.Context, limit int) ([]AuditEntry, error)
}

// SettingsKeys the kiosk keeps beside the service point.
const (
	SettingPrinter     = "printer"      // JSON of the printer configuration
	SettingPrinterLast = "printer_last" // JSON of how the last print went
	SettingDistrictURL = "district_url" // base URL of the district platform
	SettingSignature   = "receipt_signature_line"
	// SettingRetentionDays is how many days after a matter is finished its
	// personal data stays on the kiosk (default 90).
	SettingRetentionDays = "retention_days"
	// SettingSealKey is the district's public key (base64url X25519),
	// learnt at enrolment: every submission and file is kept sealed for it.
	SettingSealKey = "district_seal_key"
	// SettingSealedKeepDays is how many days the sealed copy of a matter
	// stays after the district confirmed it (default 7), so a district that
	// restores a backup a few days old gets it again; 0 deletes it at once.
	SettingSealedKeepDays = "sealed_keep_days"
)

// ReceiptService prints and shows the acknowledgement of a saved submission.
type ReceiptService interface {
	// Print prints the receipt on the configured printer; reprint marks it
	// as a copy (补打). Audited. EUnavailable when the printer fails: the
	// submission stays saved and can be printed later.
	Print(ctx context.Context, id string, reprint bool, agent *Agent) error
	// Preview renders the receipt for the screen.
	Preview(ctx context.Context, id string) (image.Image, error)
	// PrintTest prints a sample page on the configured printer.
	PrintTest(ctx context.Context) error
}

// OutboxItem is one submission waiting for the district.
type OutboxItem struct {
	Seq          int64
	SubmissionID string
	Attempts     int
	CreatedAt    time.Time
}

// StatusChange is one status the district set on a submission.
type StatusChange struct {
	SubmissionID string
	Status       string
	Note         string // e.g. what to bring for 退回补正
	At           time.Time
}

// RosterEntry is one agent in the roster the district pushes to a service
// point's kiosks. PINHash is an argon2id hash: no PIN travels in clear.
type RosterEntry struct {
	Name    string `json:"name"`
	PINHash string `json:"pin_hash"`
	Admin   bool   `json:"admin"`
	Active  bool   `json:"active"`
}
