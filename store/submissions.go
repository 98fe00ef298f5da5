package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/seal"
	"github.com/keqiao/villagekiosk/internal/sqlitedb"
	"github.com/keqiao/villagekiosk/receipt/token"
)

// SubmissionService implements kiosk.SubmissionService.
type SubmissionService struct {
	db       *DB
	catalog  *CatalogService
	settings *SettingsService
	Limits   kiosk.Limits
}

var _ kiosk.SubmissionService = (*SubmissionService)(nil)

// NewSubmissionService returns the submission service of db.
func NewSubmissionService(db *DB) *SubmissionService {
	return &SubmissionService{db: db, catalog: NewCatalogService(db), settings: NewSettingsService(db), Limits: kiosk.DefaultLimits}
}

// Stage seals a file into the data folder under its hash.
func (s *SubmissionService) Stage(ctx context.Context, path string) (kiosk.Attachment, error) {
	key, err := s.sealKey(ctx)
	if err != nil {
		return kiosk.Attachment{}, err
	}
	return s.db.stage(path, s.Limits.MaxFileBytes, key)
}

// ErrNoSealKey is the answer to saving before enrolment: what a villager
// gives is kept sealed for the district's key, learnt at enrolment.
var ErrNoSealKey = kiosk.Errorf(kiosk.EUnavailable, "本机还没有登记到区平台，不能保存办件：办件资料要加密给区平台保存，本机自己也打不开。请技术员在“设置”里完成登记后再办理。")

// sealKey is the district's public key, or ErrNoSealKey before enrolment.
func (s *SubmissionService) sealKey(ctx context.Context) (*seal.Key, error) {
	v, err := s.settings.get(ctx, kiosk.SettingSealKey)
	if err != nil {
		return nil, err
	}
	if v == "" {
		return nil, ErrNoSealKey
	}
	key, err := seal.Decode(v)
	if err != nil {
		return nil, kiosk.Errorf(kiosk.ECorrupt, "the district's sealing key in the settings is damaged (%v): enrol the kiosk again", err)
	}
	return key, nil
}

// Save checks and saves a draft in one transaction.
func (s *SubmissionService) Save(ctx context.Context, d *kiosk.Draft, agent *kiosk.Agent) (*kiosk.Submission, error) {
	if agent == nil {
		return nil, kiosk.Errorf(kiosk.EInvalid, "没有登录的代办员，请先登录")
	}
	if d.DraftID != "" {
		if sub, err := s.byDraft(ctx, d.DraftID); err == nil {
			return sub, nil // a second tap on confirm: the first save stands
		} else if kiosk.ErrorCode(err) != kiosk.ENotFound {
			return nil, err
		}
	}
	cat, info, err := s.catalog.Active(ctx)
	if err != nil {
		return nil, err
	}
	now := s.db.Now()
	main, sub, errs := cat.Check(d, now.In(kiosk.ChinaTime), s.Limits)
	if errs == nil {
		errs = s.checkFiles(d)
	}
	if errs != nil {
		return nil, errs
	}
	point, err := s.settings.Point(ctx)
	if err != nil {
		return nil, err
	}
	key, err := s.sealKey(ctx)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("make submission id: %w", err)
	}
	out := &kiosk.Submission{
		ID:             id.String(),
		PointCode:      point.Code,
		Matter:         sub.Code,
		MatterName:     sub.Name,
		MainName:       main.Name,
		CatalogVersion: info.Version,
		Applicant:      d.Applicant,
		Agent:          agent.Name,
		CreatedAt:      now.UTC().Truncate(time.Second),
		Status:         kiosk.StatusPending,
	}
	for _, f := range sub.Form {
		if v := d.Fields[f.ID]; v != "" {
			out.Fields = append(out.Fields, kiosk.FieldValue{ID: f.ID, Label: f.Label, Value: v})
		}
	}
	given := map[string]kiosk.MaterialInput{}
	for _, m := range d.Materials {
		given[m.Name] = m
	}
	for _, m := range sub.Materials {
		in := given[m.Name]
		out.Materials = append(out.Materials, kiosk.MaterialRecord{
			Name: m.Name, Required: m.Required, Received: in.Received,
			Owed: m.Required && !in.Received, Attachments: in.Attachments,
		})
	}

	tx, err := s.db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, diskError("save submission", err)
	}
	defer tx.Rollback()
	if d.DraftID != "" {
		// Checked again under the write lock: two taps racing both got here.
		var first string
		err := tx.QueryRowContext(ctx, `SELECT id FROM submissions WHERE draft_id = ?`, d.DraftID).Scan(&first)
		if err == nil {
			tx.Rollback()
			return s.Get(ctx, first)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("save submission: %w", err)
		}
	}
	if out.ReceiptNo, err = nextReceiptNo(ctx, tx, point.Code, now); err != nil {
		return nil, err
	}
	row, err := insertSubmission(ctx, tx, out, d.DraftID, key)
	if err != nil {
		return nil, diskError("save submission", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (submission_id, kind, created_at) VALUES (?, 'submission', ?)`, out.ID, s.db.now()); err != nil {
		return nil, diskError("save submission", err)
	}
	if err := audit(ctx, tx, s.db.now(), agent.Name, kiosk.ActionCreate, out.ReceiptNo, out.Matter); err != nil {
		return nil, diskError("save submission", err)
	}
	// The copy beside the database is on disk before the commit: a commit
	// is never without it (savecopy.go).
	if err := s.db.writeSaveCopy(row); err != nil {
		return nil, diskError("save submission", err)
	}
	if err := tx.Commit(); err != nil {
		s.db.dropSaveCopy(out.ID)
		return nil, diskError("save submission", err)
	}
	// Committed: the copy now stands for a save the villager is told of.
	// Should marking it fail, the database has the row and the next start
	// keeps the copy all the same.
	s.db.keepSaveCopy(out.ID)
	s.db.markReceipt(out.ReceiptNo)
	out.IDMasked = kiosk.MaskIDNumber(out.Applicant.IDNumber)
	return out, nil
}

// checkFiles confirms every attachment named in the draft was staged and is
// still on disk.
func (s *SubmissionService) checkFiles(d *kiosk.Draft) kiosk.FieldErrors {
	var errs kiosk.FieldErrors
	for _, m := range d.Materials {
		for _, a := range m.Attachments {
			if err := s.db.checkStaged(a); err != nil {
				errs = append(errs, kiosk.FieldError{Field: "materials." + m.Name, Message: err.Error()})
			}
		}
	}
	return errs
}

// nextReceiptNo takes the next number of the day inside the saving
// transaction: point code + date + sequence, unique across all points
// without asking anyone.
func nextReceiptNo(ctx context.Context, tx *sql.Tx, point string, now time.Time) (string, error) {
	day := now.In(kiosk.ChinaTime).Format("20060102")
	var last int
	err := tx.QueryRowContext(ctx, `INSERT INTO receipt_counters (point_code, day, last) VALUES (?, ?, 1)
		ON CONFLICT (point_code, day) DO UPDATE SET last = last + 1 RETURNING last`, point, day).Scan(&last)
	if err != nil {
		return "", diskError("number the receipt", err)
	}
	return formatReceiptNo(point, day, last), nil
}

func formatReceiptNo(point, day string, seq int) string {
	return fmt.Sprintf("%s-%s-%04d", point, day, seq)
}

// splitReceiptNo reads <point>-<YYYYMMDD>-<seq>.
func splitReceiptNo(no string) (point, day string, seq int, ok bool) {
	parts := strings.Split(no, "-")
	if len(parts) != 3 || len(parts[1]) != 8 {
		return "", "", 0, false
	}
	seq, err := strconv.Atoi(parts[2])
	return parts[0], parts[1], seq, err == nil && seq > 0
}

// raiseReceiptCounter moves a day's counter to at least seq, so the next
// receipt of that day comes after it (after restoring from the district, or
// after a database that lost saves).
func raiseReceiptCounter(ctx context.Context, x execer, point, day string, seq int) error {
	_, err := x.ExecContext(ctx, `INSERT INTO receipt_counters (point_code, day, last) VALUES (?, ?, ?)
		ON CONFLICT (point_code, day) DO UPDATE SET last = max(last, excluded.last)`, point, day, seq)
	return err
}

// insertSubmission writes a new submission: its list fields in the clear,
// the whole of it sealed for the district, with its materials and files. It
// returns the row as kept, for the save's copy.
func insertSubmission(ctx context.Context, tx *sql.Tx, s *kiosk.Submission, draftID string, key *seal.Key) (*savedRow, error) {
	payload, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	sealed, err := seal.Seal(key, payload)
	if err != nil {
		return nil, err
	}
	s.ReceiptHash = token.ContentHash(s)
	r := &savedRow{Sub: *s, IDMasked: kiosk.MaskIDNumber(s.Applicant.IDNumber), DraftID: draftID, Sealed: sealed,
		ContentHash: kiosk.PartHash(payload), ReceiptHash: hex.EncodeToString(s.ReceiptHash[:])}
	r.Sub.Applicant, r.Sub.Fields = kiosk.Applicant{Name: s.Applicant.Name}, nil // only the list's fields in the clear
	return r, insertRow(ctx, tx, r)
}

func insertAttachments(ctx context.Context, tx *sql.Tx, id string, position, revision int, files []kiosk.Attachment) error {
	for _, a := range files {
		if _, err := tx.ExecContext(ctx, `INSERT INTO submission_attachments (submission_id, material_position, sha256, name, mime, size, revision)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, id, position, a.SHA256, a.Name, a.MIME, a.Size, revision); err != nil {
			return err
		}
	}
	return nil
}

func (s *SubmissionService) byDraft(ctx context.Context, draftID string) (*kiosk.Submission, error) {
	var id string
	err := s.db.db.QueryRowContext(ctx, `SELECT id FROM submissions WHERE draft_id = ?`, draftID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kiosk.Errorf(kiosk.ENotFound, "no submission of draft %s", draftID)
	}
	if err != nil {
		return nil, fmt.Errorf("find draft: %w", err)
	}
	return s.Get(ctx, id)
}

// Get returns what the kiosk keeps of one submission: the list's fields,
// the materials and files by name, the status. The rest (ID number, phone,
// form answers, the files themselves) is sealed for the district.
func (s *SubmissionService) Get(ctx context.Context, id string) (*kiosk.Submission, error) {
	var sub kiosk.Submission
	var created, receiptHash string
	var purged, restored sql.NullString
	err := s.db.db.QueryRowContext(ctx, `SELECT id, receipt_no, matter, matter_name, main_name, applicant_name, id_masked, agent,
		created_at, status, district_note, revision, receipt_hash, purged_at, restored_at FROM submissions WHERE id = ? OR receipt_no = ?`, id, id).
		Scan(&sub.ID, &sub.ReceiptNo, &sub.Matter, &sub.MatterName, &sub.MainName, &sub.Applicant.Name, &sub.IDMasked, &sub.Agent,
			&created, &sub.Status, &sub.DistrictNote, &sub.Revision, &receiptHash, &purged, &restored)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kiosk.Errorf(kiosk.ENotFound, "没有找到办件 %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read submission: %w", err)
	}
	sub.CreatedAt, _ = time.Parse(time.RFC3339, created)
	sub.PointCode, _, _, _ = splitReceiptNo(sub.ReceiptNo)
	if b, err := hex.DecodeString(receiptHash); err == nil && len(b) == len(sub.ReceiptHash) {
		copy(sub.ReceiptHash[:], b)
	}
	if purged.Valid {
		sub.PurgedAt, _ = time.Parse(time.RFC3339, purged.String)
	}
	if restored.Valid {
		sub.RestoredAt, _ = time.Parse(time.RFC3339Nano, restored.String)
	}
	if sub.Materials, err = s.materials(ctx, sub.ID); err != nil {
		return nil, err
	}
	return &sub, nil
}

// materials reads a submission's materials with the files kept for each.
func (s *SubmissionService) materials(ctx context.Context, id string) ([]kiosk.MaterialRecord, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT m.name, m.required, m.received, m.owed, a.sha256, a.name, a.mime, a.size
		FROM submission_materials m LEFT JOIN submission_attachments a ON a.submission_id = m.submission_id AND a.material_position = m.position
		WHERE m.submission_id = ? ORDER BY m.position, a.revision, a.rowid`, id)
	if err != nil {
		return nil, fmt.Errorf("read materials: %w", err)
	}
	defer rows.Close()
	var out []kiosk.MaterialRecord
	for rows.Next() {
		var m kiosk.MaterialRecord
		var sha, name, mime sql.NullString
		var size sql.NullInt64
		if err := rows.Scan(&m.Name, &m.Required, &m.Received, &m.Owed, &sha, &name, &mime, &size); err != nil {
			return nil, fmt.Errorf("read materials: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].Name != m.Name {
			out = append(out, m)
		}
		if sha.Valid {
			last := &out[len(out)-1]
			last.Attachments = append(last.Attachments, kiosk.Attachment{SHA256: sha.String, Name: name.String, MIME: mime.String, Size: size.Int64})
		}
	}
	return out, rows.Err()
}

// List returns submissions matching f, newest first.
func (s *SubmissionService) List(ctx context.Context, f kiosk.SubmissionFilter) ([]kiosk.SubmissionSummary, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if !f.From.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, f.From.UTC().Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, f.To.UTC().Format(time.RFC3339))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		like := "%" + sqlitedb.EscapeLike(q) + "%"
		cond := `applicant_name LIKE ? ESCAPE '\' OR receipt_no LIKE ? ESCAPE '\'`
		args = append(args, like, like)
		if tail := strings.ToUpper(q); isIDTail(tail) {
			// Only the last four digits are kept (in the masked number);
			// a longer tail the villager reads out is matched on its last four.
			cond += ` OR id_masked LIKE ? ESCAPE '\'`
			args = append(args, "%"+sqlitedb.EscapeLike(tail[len(tail)-4:]))
		}
		where = append(where, "("+cond+")")
	}
	query := `SELECT id, receipt_no, matter, matter_name, applicant_name, id_masked, agent, created_at, status FROM submissions`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 500
	}
	query += " ORDER BY created_at DESC, receipt_no DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list submissions: %w", err)
	}
	defer rows.Close()
	var out []kiosk.SubmissionSummary
	for rows.Next() {
		var r kiosk.SubmissionSummary
		var at string
		if err := rows.Scan(&r.ID, &r.ReceiptNo, &r.Matter, &r.MatterName, &r.Applicant, &r.IDMasked, &r.Agent, &at, &r.Status); err != nil {
			return nil, fmt.Errorf("list submissions: %w", err)
		}
		r.CreatedAt, _ = time.Parse(time.RFC3339, at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// isIDTail says whether q looks like the last digits of an ID number: the
// agent asks the villager for the last four to six.
func isIDTail(q string) bool {
	if len(q) < 4 || len(q) > 8 {
		return false
	}
	for i, r := range q {
		if !(r >= '0' && r <= '9') && !(r == 'X' && i == len(q)-1) {
			return false
		}
	}
	return true
}

// Supplement adds the material a returned matter (退回补正) was missing and
// queues it again under the same receipt number as the next revision, in one
// transaction. Only a returned submission can be supplemented.
func (s *SubmissionService) Supplement(ctx context.Context, id string, added []kiosk.MaterialInput, agent *kiosk.Agent) (*kiosk.Submission, error) {
	if agent == nil {
		return nil, kiosk.Errorf(kiosk.EInvalid, "没有登录的代办员，请先登录")
	}
	cur, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if cur.Status != kiosk.StatusReturned {
		return nil, kiosk.Errorf(kiosk.EInvalid, "只有“退回补正”的办件可以补交材料，这件是“%s”", kiosk.StatusLabel(cur.Status))
	}
	if cur.ListOnly() {
		// Resubmitting the list fields would replace the district's full
		// copy with one that lacks the applicant.
		return nil, kiosk.Errorf(kiosk.EInvalid, "本机只有这个办件的列表信息（本机资料曾损坏，已从区平台取回），不能在这里补交材料。请联系区人社局办理补正。")
	}
	key, err := s.sealKey(ctx)
	if err != nil {
		return nil, err
	}
	sub := *cur
	byName := map[string]int{}
	for i, m := range sub.Materials {
		byName[m.Name] = i
	}
	sup := kiosk.Supplement{SubmissionID: sub.ID, ReceiptNo: sub.ReceiptNo, Revision: sub.Revision + 1, Agent: agent.Name, At: s.db.Now().UTC().Truncate(time.Second)}
	var errs kiosk.FieldErrors
	for _, in := range added {
		if _, ok := byName[in.Name]; !ok {
			errs = append(errs, kiosk.FieldError{Field: "materials." + in.Name, Message: fmt.Sprintf("“%s”不是这个办件的申请材料", in.Name)})
			continue
		}
		for _, a := range in.Attachments {
			if err := s.db.checkStaged(a); err != nil {
				errs = append(errs, kiosk.FieldError{Field: "materials." + in.Name, Message: err.Error()})
			}
		}
		if in.Received || len(in.Attachments) > 0 {
			sup.Materials = append(sup.Materials, kiosk.MaterialInput{Name: in.Name, Received: true, Attachments: in.Attachments})
		}
	}
	if errs != nil {
		return nil, errs
	}
	if len(sup.Materials) == 0 {
		return nil, kiosk.Errorf(kiosk.EInvalid, "请勾选补交的材料或添加附件")
	}
	if err := sub.ApplySupplement(&sup); err != nil {
		return nil, err
	}
	sub.Status, sub.DistrictNote = kiosk.StatusPending, ""
	part, err := json.Marshal(&sup)
	if err != nil {
		return nil, err
	}
	sealed, err := seal.Seal(key, part)
	if err != nil {
		return nil, err
	}
	var prev string // the head of the chain: the last supplement's link, or the first save's hash
	if err := s.db.db.QueryRowContext(ctx, `SELECT coalesce((SELECT content_hash FROM supplements WHERE submission_id = s.id ORDER BY revision DESC LIMIT 1), s.content_hash)
		FROM submissions s WHERE id = ?`, sub.ID).Scan(&prev); err != nil {
		return nil, fmt.Errorf("supplement: %w", err)
	}
	chain := kiosk.ChainHash(prev, part)
	tx, err := s.db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, diskError("supplement", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO supplements (submission_id, revision, content_hash, sealed, created_at) VALUES (?, ?, ?, ?, ?)`,
		sub.ID, sup.Revision, chain, sealed, s.db.now()); err != nil {
		return nil, diskError("supplement", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE submissions SET revision = ?, status = ?, district_note = '', confirmed_at = NULL WHERE id = ?`,
		sup.Revision, kiosk.StatusPending, sub.ID); err != nil {
		return nil, diskError("supplement", err)
	}
	for _, in := range sup.Materials {
		i := byName[in.Name]
		if _, err := tx.ExecContext(ctx, `UPDATE submission_materials SET received = 1, owed = 0 WHERE submission_id = ? AND position = ?`,
			sub.ID, i); err != nil {
			return nil, diskError("supplement", err)
		}
		if err := insertAttachments(ctx, tx, sub.ID, i, sup.Revision, in.Attachments); err != nil {
			return nil, diskError("supplement", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (submission_id, kind, created_at) SELECT ?, 'submission', ?
		WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE submission_id = ? AND parked = 0)`, sub.ID, s.db.now(), sub.ID); err != nil {
		return nil, diskError("supplement", err)
	}
	if err := audit(ctx, tx, s.db.now(), agent.Name, kiosk.ActionSupplement, sub.ReceiptNo, fmt.Sprintf("revision %d", sub.Revision)); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, diskError("supplement", err)
	}
	return &sub, nil
}
