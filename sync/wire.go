// Package sync is the kiosk<->district protocol (docs/protocol.md): the wire
// types, request signing shared by both ends, the HTTP client, and the
// Syncer that drains the kiosk's outbox and applies the district's change
// feed. It never imports fyne and has no scheduler inside. Import it as
// kiosksync where the standard library's sync is also needed.
package sync

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/seal"
)

// Protocol is sent by the district in the ProtocolHeader of every response:
// a Wi-Fi login page that answers 200 to everything does not send it.
const (
	Protocol       = "village-kiosk/1"
	ProtocolHeader = "X-Kiosk-Protocol"
)

// Headers of a signed request.
const (
	HeaderDevice    = "X-Device"
	HeaderTimestamp = "X-Timestamp" // Unix seconds, corrected by the offset learnt from the server
	HeaderNonce     = "X-Nonce"     // 16 random bytes, base64url; never reused
	HeaderSignature = "X-Signature" // Ed25519, base64url
)

// MaxSkew is how far a request's timestamp may be from the server's clock.
const MaxSkew = 5 * time.Minute

// ChunkSize is the size of one attachment upload; after a cut, at most one
// chunk is sent again.
const ChunkSize = 256 << 10

var requestContext = []byte("villagekiosk request v1\x00")

// SigningString is what a device signs for a request: method, path (with
// query), the SHA-256 of the body, timestamp and nonce.
func SigningString(method, path string, body []byte, timestamp int64, nonce string) []byte {
	sum := sha256.Sum256(body)
	s := fmt.Sprintf("%s\n%s\n%s\n%d\n%s", method, path, hex.EncodeToString(sum[:]), timestamp, nonce)
	return append(append([]byte(nil), requestContext...), s...)
}

// Sign adds the signature headers to a request whose body is body.
func Sign(r *http.Request, body []byte, device string, key ed25519.PrivateKey, now time.Time, nonce string) {
	ts := now.Unix()
	sig := ed25519.Sign(key, SigningString(r.Method, r.URL.RequestURI(), body, ts, nonce))
	r.Header.Set(HeaderDevice, device)
	r.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	r.Header.Set(HeaderNonce, nonce)
	r.Header.Set(HeaderSignature, base64.RawURLEncoding.EncodeToString(sig))
}

// Signature errors, each refused by the server with 401 and its reason.
var (
	ErrUnsigned  = errors.New("request is not signed")
	ErrStale     = errors.New("request timestamp is outside ±5 minutes of the server's clock")
	ErrBadSig    = errors.New("signature does not match the request (altered, or the wrong key)")
	ErrMalformed = errors.New("signature headers are malformed")
)

// VerifySignature checks a request's signature headers against the device's
// public key and the server clock. Replay (a nonce seen before) is the
// server's own check, as it needs storage.
func VerifySignature(r *http.Request, body []byte, pub ed25519.PublicKey, now time.Time) error {
	tsText, nonce, sigText := r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderNonce), r.Header.Get(HeaderSignature)
	if r.Header.Get(HeaderDevice) == "" || tsText == "" || nonce == "" || sigText == "" {
		return ErrUnsigned
	}
	// Only the canonical spellings pass, so a signed request has one form.
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || strconv.FormatInt(ts, 10) != tsText || len(nonce) < 16 || len(nonce) > 64 {
		return ErrMalformed
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return ErrStale
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(sigText)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return ErrMalformed
	}
	if !ed25519.Verify(pub, SigningString(r.Method, r.URL.RequestURI(), body, ts, nonce), sig) {
		return ErrBadSig
	}
	return nil
}

// Hello is the answer of GET /v1/hello: the pre-check and the server clock.
type Hello struct {
	Protocol string    `json:"protocol"`
	Time     time.Time `json:"time"`
	District string    `json:"district"`
}

// EnrollRequest is POST /v1/enroll: a one-time code and the kiosk's public key.
type EnrollRequest struct {
	Code       string `json:"code"`
	PublicKey  string `json:"public_key"` // base64url Ed25519 public key
	AppVersion string `json:"app_version"`
}

// EnrollReply gives the kiosk its identity at the district.
type EnrollReply struct {
	DeviceID  string `json:"device_id"`
	PointCode string `json:"point_code"`
	PointName string `json:"point_name"`
	// Reattached is true when the key was enrolled already at this point:
	// a kiosk whose database was lost gets its old device id back, and
	// should then take back its submissions (GET /v1/submissions).
	Reattached bool `json:"reattached,omitempty"`
	// SealKey is the district's public key (base64url X25519): the kiosk
	// keeps every submission and file sealed for it (package seal).
	SealKey string `json:"seal_key"`
}

// Held is one entry of GET /v1/submissions: what the district holds of a
// submission this kiosk sent, enough for the kiosk's list after it lost its
// database (no ID number beyond the masked one, no phone, no form answers,
// no attachments).
type Held struct {
	ID            string                 `json:"id"`
	ReceiptNo     string                 `json:"receipt_no"`
	Matter        string                 `json:"matter"`
	MatterName    string                 `json:"matter_name"`
	MainName      string                 `json:"main_name"`
	ApplicantName string                 `json:"applicant_name"`
	IDMasked      string                 `json:"id_masked"`
	Agent         string                 `json:"agent"`
	CreatedAt     time.Time              `json:"created_at"`
	ReceivedAt    time.Time              `json:"received_at"`
	Revision      int                    `json:"revision,omitempty"`
	Status        string                 `json:"status"`
	Note          string                 `json:"note,omitempty"`
	Materials     []kiosk.MaterialRecord `json:"materials"`
}

// HeldPage is GET /v1/submissions?after=ID: a page of Held, in id order.
type HeldPage struct {
	Submissions []Held `json:"submissions"`
	More        bool   `json:"more"`
}

// AttachmentState is GET /v1/attachments/{sha256}: how much the server has.
type AttachmentState struct {
	SHA256   string `json:"sha256"`
	Have     int64  `json:"have"`     // bytes received so far
	Complete bool   `json:"complete"` // all bytes received and the hash checked
}

// SubmissionUpload is POST /v1/submissions. The kiosk keeps a submission
// sealed for the district's key and cannot read it back, so it sends the
// sealed parts: the submission as saved (revision 0) and each supplement
// (kiosk.Supplement) after a 退回补正, from revision From on (earlier parts
// the district confirmed may be gone from the kiosk). Chain holds the
// content hash at every revision (kiosk.PartHash, kiosk.ChainHash), by which
// the district tells a replay (it holds Chain[Revision]), a resubmission
// (it holds an earlier link) and a conflict.
type SubmissionUpload struct {
	ID        string   `json:"id"`
	ReceiptNo string   `json:"receipt_no"`
	Revision  int      `json:"revision"`
	From      int      `json:"from"`
	Chain     []string `json:"chain"`
	Sealed    [][]byte `json:"sealed"` // base64 in JSON
}

// SealedUpload seals a submission as first saved for the district's key:
// what a kiosk's store does at save, for tools and tests that hold a
// submission in the clear.
func SealedUpload(sub *kiosk.Submission, key *seal.Key) (*kiosk.Outbound, error) {
	part, err := json.Marshal(sub)
	if err != nil {
		return nil, err
	}
	sealed, err := seal.Seal(key, part)
	if err != nil {
		return nil, err
	}
	out := &kiosk.Outbound{ID: sub.ID, ReceiptNo: sub.ReceiptNo, Chain: []string{kiosk.PartHash(part)}, Sealed: [][]byte{sealed}}
	for _, m := range sub.Materials {
		out.Attachments = append(out.Attachments, m.Attachments...)
	}
	return out, nil
}

// SubmissionReceipt is the district's reply to an upload; the same reply is
// returned for a replay of the same upload.
type SubmissionReceipt struct {
	ID         string    `json:"id"`
	ReceiptNo  string    `json:"receipt_no"`
	ReceivedAt time.Time `json:"received_at"`
}

// Change is one entry of the change feed. Kind "status": a submission took
// Status, with Note. Kind "catalog": a catalog was published; Status holds its
// version and Note its SHA-256 (GET /v1/catalog serves it).
type Change struct {
	Seq          int64     `json:"seq"`
	Kind         string    `json:"kind"` // "status" or "catalog"
	SubmissionID string    `json:"submission_id"`
	ReceiptNo    string    `json:"receipt_no"`
	Status       string    `json:"status"`
	Note         string    `json:"note,omitempty"` // e.g. what to bring for 退回补正
	At           time.Time `json:"at"`
}

// Changes is GET /v1/changes?after=CURSOR: a batch and where to continue.
// A different Epoch means the district restored a backup.
type Changes struct {
	Epoch   string   `json:"epoch"`
	Cursor  int64    `json:"cursor"`
	Changes []Change `json:"changes"`
	More    bool     `json:"more"`
}

// Heartbeat is POST /v1/heartbeat: what the district's monitor shows.
type Heartbeat struct {
	AppVersion   string    `json:"app_version"`
	Queue        int       `json:"queue"`
	OldestUnsent time.Time `json:"oldest_unsent,omitzero"`
	LastSync     time.Time `json:"last_sync,omitzero"`
	DiskFree     int64     `json:"disk_free"`
	ClockOffset  float64   `json:"clock_offset_seconds"`
	Printer      string    `json:"printer"`
}

// Problem is the body of every error reply.
type Problem struct {
	Code    string `json:"code"` // a kiosk error code: invalid, conflict, not_found, unavailable, ...
	Message string `json:"message"`
}

// StatusFor maps a kiosk error code to the HTTP status the server answers
// with; the client maps it back with CodeFor. One table for both ends.
var statusFor = map[string]int{
	kiosk.EInvalid:     http.StatusBadRequest,
	kiosk.ENotFound:    http.StatusNotFound,
	kiosk.EConflict:    http.StatusConflict,
	kiosk.EUnavailable: http.StatusServiceUnavailable,
	kiosk.EInternal:    http.StatusInternalServerError,
	EUnauthorized:      http.StatusUnauthorized,
	ERevoked:           http.StatusForbidden,
	EIncomplete:        http.StatusUnprocessableEntity,
	ETooLarge:          http.StatusRequestEntityTooLarge,
}

// Protocol-only error codes.
const (
	EUnauthorized = "unauthorized" // unsigned, unknown device, bad signature, stale, replayed
	ERevoked      = "revoked"      // the district revoked this device
	EIncomplete   = "incomplete"   // attachments missing: upload them, then the submission
	ETooLarge     = "too_large"    // the request body is over the limit
)

// StatusFor returns the HTTP status of an error code.
func StatusFor(code string) int {
	if s, ok := statusFor[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// CodeFor returns the error code of an HTTP status.
func CodeFor(status int) string {
	for code, s := range statusFor {
		if s == status {
			return code
		}
	}
	if status == http.StatusTooManyRequests || status >= 500 {
		return kiosk.EUnavailable
	}
	return kiosk.EInternal
}
