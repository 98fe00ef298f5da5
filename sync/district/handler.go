package district

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/seal"
	"github.com/keqiao/villagekiosk/internal/sqlitedb"
	kiosksync "github.com/keqiao/villagekiosk/sync"
)

// Options tune the handler.
type Options struct {
	Name        string // the district, shown in Hello
	MaxInFlight int    // concurrent requests before shedding load with 429; default 64
	// SecureCookies marks the staff session cookie Secure even when TLS ends
	// at a proxy in front of districtd (requests over TLS always are).
	SecureCookies bool
	Logger        *log.Logger
}

// Limits on request bodies.
const (
	maxJSON  = 1 << 20
	maxChunk = 2 * kiosksync.ChunkSize
)

type handler struct {
	st    *Store
	opts  Options
	slots chan struct{}
}

// MaxFileBytes bounds one attachment; kiosks refuse files over 10 MB.
const MaxFileBytes = 64 << 20

// NewHandler serves the sync protocol v1.
func NewHandler(st *Store, opts Options) http.Handler {
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 64
	}
	h := &handler{st: st, opts: opts, slots: make(chan struct{}, opts.MaxInFlight)}
	m := newMetrics(st)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.handler())
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /v1/hello", h.hello)
	mux.HandleFunc("POST /v1/enroll", h.enroll)
	mux.HandleFunc("GET /v1/attachments/{sha}", h.signed(maxJSON, h.attachmentState))
	mux.HandleFunc("PUT /v1/attachments/{sha}", h.signed(maxChunk, h.putChunk))
	mux.HandleFunc("POST /v1/submissions", h.signed(maxJSON, h.postSubmission))
	mux.HandleFunc("GET /v1/changes", h.signed(maxJSON, h.changes))
	mux.HandleFunc("GET /v1/submissions", h.signed(maxJSON, h.held))
	mux.HandleFunc("POST /v1/heartbeat", h.signed(maxJSON, h.heartbeat))
	mux.HandleFunc("GET /v1/catalog", h.signed(maxJSON, h.catalog))
	mux.HandleFunc("GET /v1/holidays/{year}", h.signed(maxJSON, h.holidays))
	mux.HandleFunc("GET /v1/roster", h.signed(maxJSON, h.roster))
	mux.HandleFunc("GET /r/{token}", h.statusPage)
	// The staff workbench: sign-in, the inbox, a submission and its actions.
	mux.HandleFunc("GET /staff/login", h.loginForm)
	mux.HandleFunc("POST /staff/login", h.login)
	mux.HandleFunc("POST /staff/logout", h.staff(h.logout))
	mux.Handle("GET /staff", http.RedirectHandler("/staff/", http.StatusSeeOther))
	mux.HandleFunc("GET /staff/{$}", h.staff(h.inbox))
	mux.HandleFunc("GET /staff/submissions/{id}", h.staff(h.submissionPage))
	mux.HandleFunc("POST /staff/submissions/{id}/status", h.staff(h.act))
	mux.HandleFunc("GET /staff/submissions/{id}/attachments/{sha}", h.staff(h.attachment))
	// Staff pages: the service point monitor, the catalog, devices and agents.
	mux.HandleFunc("GET /staff/points", h.staff(h.pointsPage))
	mux.HandleFunc("GET /staff/catalog", h.staff(h.catalogPage))
	mux.HandleFunc("POST /staff/catalog/upload", limitBody(maxCatalogUpload+64<<10, "目录文件", h.staff(h.catalogUpload)))
	mux.HandleFunc("GET /staff/catalog/staged/{sha}", h.staff(h.catalogStaged))
	mux.HandleFunc("POST /staff/catalog/publish", h.staff(h.catalogPublish))
	mux.HandleFunc("POST /staff/catalog/holidays", limitBody(maxHolidaysUpload+64<<10, "节假日安排", h.staff(h.holidaysPublish)))
	mux.HandleFunc("GET /staff/devices", h.staff(h.devicesPage))
	mux.HandleFunc("POST /staff/devices/code", h.staff(h.enrollCode))
	mux.HandleFunc("GET /staff/devices/{id}/revoke", h.staff(h.revokeConfirm))
	mux.HandleFunc("POST /staff/devices/{id}/revoke", h.staff(h.revoke))
	mux.HandleFunc("POST /staff/devices/agent", h.staff(h.setAgent))
	mux.HandleFunc("POST /staff/devices/agent/stop", h.staff(h.stopAgent))
	counted := m.observe(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(kiosksync.ProtocolHeader, kiosksync.Protocol)
		select {
		case h.slots <- struct{}{}:
			defer func() { <-h.slots }()
		default:
			w.Header().Set("Retry-After", "5")
			problem(w, http.StatusTooManyRequests, kiosk.EUnavailable, "the district is busy: try again in a few seconds")
			return
		}
		if strings.HasPrefix(r.URL.Path, "/v1/") && !routed(w, mux, r) {
			return
		}
		counted.ServeHTTP(w, r)
	})
}

// routed answers a /v1 request that no route takes with a problem a kiosk
// can read (404, or 405 naming the methods the path takes) instead of the
// mux's plain text; it reports whether a route takes r.
func routed(w http.ResponseWriter, mux *http.ServeMux, r *http.Request) bool {
	if _, pattern := mux.Handler(r); pattern != "" {
		return true
	}
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		problem(w, http.StatusMethodNotAllowed, kiosk.EInvalid, fmt.Sprintf("%s is not allowed on %s (allowed: %s); see docs/protocol.md", r.Method, r.URL.Path, strings.Join(allow, ", ")))
		return false
	}
	problem(w, http.StatusNotFound, kiosk.ENotFound, fmt.Sprintf("no such endpoint %s %s; see docs/protocol.md", r.Method, r.URL.Path))
	return false
}

func problem(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(kiosksync.Problem{Code: code, Message: msg})
}

func (h *handler) fail(w http.ResponseWriter, err error) {
	code := kiosk.ErrorCode(err)
	msg := kiosk.ErrorMessage(err)
	if code == kiosk.EInternal {
		if h.opts.Logger != nil {
			h.opts.Logger.Printf("internal error: %v", err)
		}
		if sqlitedb.IsDiskFull(err) {
			code, msg = kiosk.EUnavailable, "the district's disk is full: try again later"
		}
	}
	problem(w, kiosksync.StatusFor(code), code, msg)
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			problem(w, http.StatusRequestEntityTooLarge, kiosksync.ETooLarge, fmt.Sprintf("request body over %d bytes", limit))
		} else {
			problem(w, http.StatusBadRequest, kiosk.EInvalid, "request body unreadable")
		}
		return nil, false
	}
	return body, true
}

func (h *handler) hello(w http.ResponseWriter, r *http.Request) {
	reply(w, kiosksync.Hello{Protocol: kiosksync.Protocol, Time: h.st.Now().UTC(), District: h.opts.Name})
}

func (h *handler) enroll(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, maxJSON)
	if !ok {
		return
	}
	var req kiosksync.EnrollRequest
	if err := json.Unmarshal(body, &req); err != nil {
		problem(w, http.StatusBadRequest, kiosk.EInvalid, "enrolment request is not JSON")
		return
	}
	pub, err := base64.RawURLEncoding.DecodeString(req.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		problem(w, http.StatusBadRequest, kiosk.EInvalid, "public_key must be a base64url Ed25519 public key")
		return
	}
	d, err := h.st.Enroll(r.Context(), req.Code, pub, req.AppVersion)
	if err != nil {
		h.fail(w, err)
		return
	}
	reply(w, kiosksync.EnrollReply{DeviceID: d.ID, PointCode: d.PointCode, PointName: d.PointName, Reattached: d.Reattached,
		SealKey: seal.Encode(h.st.SealKey())})
}

type signedFunc func(w http.ResponseWriter, r *http.Request, dev *Device, body []byte)

// signed checks a request's device, signature, timestamp and nonce.
func (h *handler) signed(limit int64, next signedFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := readBody(w, r, limit)
		if !ok {
			return
		}
		id := r.Header.Get(kiosksync.HeaderDevice)
		if id == "" {
			problem(w, http.StatusUnauthorized, kiosksync.EUnauthorized, kiosksync.ErrUnsigned.Error())
			return
		}
		dev, err := h.st.Device(r.Context(), id)
		if kiosk.ErrorCode(err) == kiosk.ENotFound {
			problem(w, http.StatusUnauthorized, kiosksync.EUnauthorized, "unknown device: enrol this kiosk first")
			return
		} else if err != nil {
			h.fail(w, err)
			return
		}
		if dev.Revoked {
			problem(w, http.StatusForbidden, kiosksync.ERevoked, "this kiosk was revoked by the district; its data stays on the kiosk")
			return
		}
		if err := kiosksync.VerifySignature(r, body, ed25519.PublicKey(dev.PublicKey), h.st.Now()); err != nil {
			problem(w, http.StatusUnauthorized, kiosksync.EUnauthorized, err.Error())
			return
		}
		replay, err := h.st.seen(r.Context(), dev.ID, r.Header.Get(kiosksync.HeaderNonce))
		if err != nil {
			h.fail(w, err)
			return
		}
		if replay {
			problem(w, http.StatusUnauthorized, kiosksync.EUnauthorized, "replayed request (nonce seen before)")
			return
		}
		next(w, r, dev, body)
	}
}

func (h *handler) attachmentState(w http.ResponseWriter, r *http.Request, _ *Device, _ []byte) {
	sha := r.PathValue("sha")
	have, complete, err := h.st.Blobs.Have(sha)
	if err != nil {
		h.fail(w, err)
		return
	}
	reply(w, kiosksync.AttachmentState{SHA256: sha, Have: have, Complete: complete})
}

// putChunk appends a chunk at the offset the server has reached; the last
// chunk is checked against the hash before the file is kept.
func (h *handler) putChunk(w http.ResponseWriter, r *http.Request, _ *Device, chunk []byte) {
	sha := r.PathValue("sha")
	offset, err1 := strconv.ParseInt(r.URL.Query().Get("offset"), 10, 64)
	total, err2 := strconv.ParseInt(r.Header.Get("X-Total-Size"), 10, 64)
	if err1 != nil || err2 != nil || total <= 0 || total > MaxFileBytes || offset < 0 || offset+int64(len(chunk)) > total {
		h.fail(w, errTotal)
		return
	}
	if !ValidSHA(sha) { // checked before the name goes into a lock
		h.fail(w, errBadSHA)
		return
	}
	unlock, err := h.st.db.lockFile(r.Context(), sha)
	if err != nil {
		h.fail(w, err)
		return
	}
	have, complete, err := h.st.Blobs.Append(sha, offset, total, chunk)
	unlock()
	if err != nil {
		h.fail(w, err)
		return
	}
	reply(w, kiosksync.AttachmentState{SHA256: sha, Have: have, Complete: complete})
}

// postSubmission opens a submission's sealed parts and stores it once; a
// replay gets the stored reply.
func (h *handler) postSubmission(w http.ResponseWriter, r *http.Request, dev *Device, body []byte) {
	var up kiosksync.SubmissionUpload
	if err := json.Unmarshal(body, &up); err != nil {
		problem(w, http.StatusBadRequest, kiosk.EInvalid, "submission is not in the protocol's JSON")
		return
	}
	in, err := h.st.openUpload(&up)
	if err != nil {
		h.fail(w, err)
		return
	}
	var missing []string
	for _, a := range in.attachments() {
		if _, complete, err := h.st.Blobs.Have(a.SHA256); err != nil {
			h.fail(w, err)
			return
		} else if !complete {
			missing = append(missing, a.SHA256)
		}
	}
	replyJSON, err := h.st.receive(r.Context(), dev.ID, in, missing)
	if err != nil {
		h.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(replyJSON)
}

// upload is a SubmissionUpload opened: the submission as first saved (when
// From is 0) and the supplements after it, each checked against the chain.
type upload struct {
	*kiosksync.SubmissionUpload
	first       *kiosk.Submission
	firstPlain  []byte
	supplements []*kiosk.Supplement // revisions max(From, 1)..Revision
}

func (u *upload) attachments() []kiosk.Attachment {
	var out []kiosk.Attachment
	if u.first != nil {
		for _, m := range u.first.Materials {
			out = append(out, m.Attachments...)
		}
	}
	for _, sup := range u.supplements {
		for _, m := range sup.Materials {
			out = append(out, m.Attachments...)
		}
	}
	return out
}

// maxRevisions bounds how often one matter can come back for 补正.
const maxRevisions = 100

// openUpload checks an upload's shape, opens each sealed part with the
// district's key and checks it against the content chain.
func (s *Store) openUpload(up *kiosksync.SubmissionUpload) (*upload, error) {
	bad := func(format string, args ...any) error { return kiosk.Errorf(kiosk.EInvalid, format, args...) }
	if up.ID == "" || up.ReceiptNo == "" || up.Revision < 0 || up.Revision > maxRevisions ||
		len(up.Chain) != up.Revision+1 || up.From < 0 || up.From > up.Revision || len(up.Sealed) != up.Revision-up.From+1 {
		return nil, bad("a submission upload needs its id, receipt number, a chain of revision+1 hashes and the sealed parts from revision from to revision")
	}
	for _, h := range up.Chain {
		if !ValidSHA(h) {
			return nil, bad("a content hash is malformed")
		}
	}
	in := &upload{SubmissionUpload: up}
	for i, sealed := range up.Sealed {
		rev := up.From + i
		plain, err := s.open(sealed)
		if err != nil {
			return nil, bad("part %d of the submission does not open with this district's key: it was sealed for another district, or damaged on the way", rev)
		}
		if rev == 0 {
			var sub kiosk.Submission
			if kiosk.PartHash(plain) != up.Chain[0] || json.Unmarshal(plain, &sub) != nil || sub.ID != up.ID || sub.ReceiptNo != up.ReceiptNo || sub.Revision != 0 {
				return nil, bad("the submission does not match its content hash, id or receipt number")
			}
			in.first, in.firstPlain = &sub, plain
			continue
		}
		var sup kiosk.Supplement
		if kiosk.ChainHash(up.Chain[rev-1], plain) != up.Chain[rev] || json.Unmarshal(plain, &sup) != nil || sup.SubmissionID != up.ID || sup.Revision != rev {
			return nil, bad("supplement %d does not match its content hash or submission", rev)
		}
		in.supplements = append(in.supplements, &sup)
	}
	for _, a := range in.attachments() {
		if !ValidSHA(a.SHA256) {
			return nil, bad("an attachment hash is malformed")
		}
	}
	return in, nil
}

// receive decides, under the write lock, between a first upload, a replay
// (the stored reply), a resubmission that extends what the district holds
// (after 退回补正), and a conflict, so two copies of the same upload arriving
// at once are one first upload and one replay, never a false conflict.
func (s *Store) receive(ctx context.Context, device string, in *upload, missing []string) ([]byte, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := tx.lockEntry(ctx, in.ID); err != nil {
		return nil, err
	}
	if err := tx.lockFeed(ctx, device); err != nil {
		return nil, err
	}
	head := in.Chain[in.Revision]
	var stored, storedHash, storedReceipt string
	var storedPayload []byte
	err = tx.QueryRowContext(ctx, `SELECT reply, content_hash, receipt_no, payload FROM submissions WHERE id = ?`, in.ID).
		Scan(&stored, &storedHash, &storedReceipt, &storedPayload)
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if found && storedHash == head {
		return []byte(stored), nil
	}
	// What to build on: the copy held (a resubmission), or the first part.
	var merged kiosk.Submission
	switch {
	case found:
		k := slices.Index(in.Chain[:in.Revision], storedHash)
		if k < 0 || storedReceipt != in.ReceiptNo {
			return nil, kiosk.Errorf(kiosk.EConflict, "the district already has %s with different content; set aside for a person to compare", in.ReceiptNo)
		}
		if in.From > k+1 {
			return nil, kiosk.Errorf(kiosk.EConflict, "the district holds revision %d of %s and the kiosk sent only from revision %d", k, in.ReceiptNo, in.From)
		}
		if err := json.Unmarshal(storedPayload, &merged); err != nil {
			return nil, fmt.Errorf("read stored submission %s: %w", in.ReceiptNo, err)
		}
	case in.From > 0:
		return nil, kiosk.Errorf(kiosk.EConflict, "the district does not hold %s, and the kiosk no longer keeps its first part (deleted after the district confirmed it; the district may have restored an old backup): the district's staff must take it up with the service point", in.ReceiptNo)
	default:
		merged = *in.first
	}
	for _, sup := range in.supplements {
		if sup.Revision <= merged.Revision {
			continue
		}
		if err := merged.ApplySupplement(sup); err != nil {
			return nil, err
		}
	}
	if len(missing) > 0 {
		return nil, kiosk.Errorf(kiosksync.EIncomplete, "attachments not received yet: %s", strings.Join(missing, ","))
	}
	if !found {
		var taken int
		tx.QueryRowContext(ctx, `SELECT count(*) FROM submissions WHERE receipt_no = ?`, in.ReceiptNo).Scan(&taken)
		if taken > 0 {
			return nil, kiosk.Errorf(kiosk.EConflict, "receipt number %s is taken by another submission", in.ReceiptNo)
		}
	}
	payload := in.firstPlain
	if merged.Revision > 0 {
		if payload, err = json.Marshal(&merged); err != nil {
			return nil, err
		}
	}
	now := s.Now().UTC()
	reply, _ := json.Marshal(kiosksync.SubmissionReceipt{ID: in.ID, ReceiptNo: in.ReceiptNo, ReceivedAt: now.Truncate(time.Second)})
	at := now.Format(time.RFC3339Nano)
	note := ""
	if found {
		note = fmt.Sprintf("补正材料已收到（第%d次提交）", merged.Revision+1)
		_, err = tx.ExecContext(ctx, `UPDATE submissions SET content_hash = ?, payload = ?, status = ?, reply = ? WHERE id = ? AND device_id = ?`,
			head, payload, kiosk.StatusReceived, string(reply), in.ID, device)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO submissions (id, device_id, receipt_no, matter, matter_name, content_hash, payload, received_at, status, reply)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.ID, device, in.ReceiptNo, merged.Matter, merged.MatterName, head, payload, at, kiosk.StatusReceived, string(reply))
	}
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO changes (device_id, submission_id, receipt_no, kind, status, note, at) VALUES (?, ?, ?, 'status', ?, ?, ?)`,
		device, in.ID, in.ReceiptNo, kiosk.StatusReceived, note, at); err != nil {
		return nil, err
	}
	return reply, tx.Commit()
}

func (h *handler) changes(w http.ResponseWriter, r *http.Request, dev *Device, _ []byte) {
	q := r.URL.Query()
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if q.Get("after") == "" {
		after, err = 0, nil
	}
	limit, lerr := strconv.Atoi(q.Get("limit"))
	if q.Get("limit") == "" {
		limit, lerr = 100, nil
	}
	if err != nil || after < 0 || lerr != nil || limit <= 0 {
		problem(w, http.StatusBadRequest, kiosk.EInvalid, "after must be a cursor (a whole number from 0) and limit a positive whole number")
		return
	}
	limit = min(limit, 500)
	ctx := r.Context()
	epoch, err := h.st.Epoch(ctx)
	if err != nil {
		h.fail(w, err)
		return
	}
	rows, err := h.st.db.QueryContext(ctx, `SELECT seq, kind, submission_id, receipt_no, status, note, at FROM changes
		WHERE device_id = ? AND seq > ? ORDER BY seq LIMIT ?`, dev.ID, after, limit+1)
	if err != nil {
		h.fail(w, err)
		return
	}
	defer rows.Close()
	out := kiosksync.Changes{Epoch: epoch, Cursor: after, Changes: []kiosksync.Change{}}
	for rows.Next() {
		var c kiosksync.Change
		var at string
		if err := rows.Scan(&c.Seq, &c.Kind, &c.SubmissionID, &c.ReceiptNo, &c.Status, &c.Note, &at); err != nil {
			h.fail(w, err)
			return
		}
		if len(out.Changes) == limit {
			out.More = true
			break
		}
		c.At, _ = time.Parse(time.RFC3339Nano, at)
		out.Changes = append(out.Changes, c)
		out.Cursor = c.Seq
	}
	reply(w, out)
}

func (h *handler) heartbeat(w http.ResponseWriter, r *http.Request, dev *Device, body []byte) {
	var hb kiosksync.Heartbeat
	if err := json.Unmarshal(body, &hb); err != nil {
		problem(w, http.StatusBadRequest, kiosk.EInvalid, "heartbeat is not JSON")
		return
	}
	if _, err := h.st.db.ExecContext(r.Context(), `UPDATE devices SET heartbeat = ?, app_version = ? WHERE id = ?`, string(body), hb.AppVersion, dev.ID); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// catalog serves the published catalog whole, with its hash in a header so
// the kiosk can check the download before swapping it in.
func (h *handler) catalog(w http.ResponseWriter, r *http.Request, _ *Device, _ []byte) {
	doc, sha, err := h.st.Catalog(r.Context())
	if err != nil {
		h.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-SHA256", sha)
	w.Write(doc)
}

func (h *handler) holidays(w http.ResponseWriter, r *http.Request, _ *Device, _ []byte) {
	doc, sha, err := h.st.Document(r.Context(), "holidays", r.PathValue("year"))
	if err != nil {
		h.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-SHA256", sha)
	w.Write(doc)
}

// roster serves the agents of the requesting kiosk's service point.
func (h *handler) roster(w http.ResponseWriter, r *http.Request, dev *Device, _ []byte) {
	list, err := h.st.Roster(r.Context(), dev.PointCode)
	if err != nil {
		h.fail(w, err)
		return
	}
	reply(w, list)
}

// held answers a kiosk that lost its database with what the district holds
// of its own submissions, a page at a time in id order.
func (h *handler) held(w http.ResponseWriter, r *http.Request, dev *Device, _ []byte) {
	page, err := h.st.Held(r.Context(), dev.ID, r.URL.Query().Get("after"), 100)
	if err != nil {
		h.fail(w, err)
		return
	}
	reply(w, page)
}
