package kiosk

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Submission statuses. The kiosk sets the first; the district sets the rest
// through the sync feed.
const (
	StatusPending    = "pending_upload" // 待上传: saved on the kiosk only
	StatusReceived   = "received"       // 区里已收到
	StatusAccepted   = "accepted"       // 已受理
	StatusInProgress = "in_progress"    // 办理中
	StatusDone       = "done"           // 已办结
	StatusReturned   = "returned"       // 退回补正
	StatusRefused    = "refused"        // 不予受理
)

// StatusLabel is a status in the words the agent tells the villager.
func StatusLabel(s string) string {
	switch s {
	case StatusPending:
		return "待上传"
	case StatusReceived:
		return "区里已收到"
	case StatusAccepted:
		return "已受理"
	case StatusInProgress:
		return "办理中"
	case StatusDone:
		return "已办结"
	case StatusReturned:
		return "退回补正"
	case StatusRefused:
		return "不予受理"
	}
	return s
}

// Applicant is the villager a matter is for.
type Applicant struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone"`
}

// Draft is what the agent collects before saving: the same data whether it
// comes from the touchscreen or from `kiosk submit --json`.
type Draft struct {
	// DraftID is made when the agent starts a matter; saving the same draft
	// twice (a second tap on confirm) returns the first save.
	DraftID   string            `json:"draft_id,omitempty"`
	Matter    string            `json:"matter"` // sub-item code
	Applicant Applicant         `json:"applicant"`
	Fields    map[string]string `json:"fields"`
	Materials []MaterialInput   `json:"materials"`
	Consent   bool              `json:"consent"` // the villager agreed to the notice
}

// MaterialInput says whether a catalog material was received, with the files
// scanned or photographed for it.
type MaterialInput struct {
	Name        string       `json:"name"`
	Received    bool         `json:"received"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is a file kept under its content hash in the kiosk's data folder.
type Attachment struct {
	SHA256 string `json:"sha256"`
	Name   string `json:"name"` // the original file name, for people
	MIME   string `json:"mime"`
	Size   int64  `json:"size"`
}

// Submission is a saved matter.
type Submission struct {
	ID             string           `json:"id"` // unique across all kiosks, made at save time
	ReceiptNo      string           `json:"receipt_no"`
	PointCode      string           `json:"point_code"`
	Matter         string           `json:"matter"`
	MatterName     string           `json:"matter_name"`
	MainName       string           `json:"main_name"`
	CatalogVersion string           `json:"catalog_version"`
	Applicant      Applicant        `json:"applicant"`
	Fields         []FieldValue     `json:"fields"`
	Materials      []MaterialRecord `json:"materials"`
	Agent          string           `json:"agent"`
	CreatedAt      time.Time        `json:"created_at"`
	Status         string           `json:"status"`
	// Revision counts resubmissions after 退回补正: the same receipt number
	// with the missing material added. The first submission is revision 0.
	Revision int `json:"revision,omitempty"`
	// DistrictNote is what the district said with its last status (the
	// reason for 退回补正); it is not part of what the kiosk uploads.
	DistrictNote string `json:"district_note,omitempty"`
	// PurgedAt is when the kiosk removed the applicant's personal data and
	// the attachments, a while after the matter was finished; zero before.
	PurgedAt time.Time `json:"purged_at,omitzero"`
	// RestoredAt is when the kiosk took this submission back from the
	// district after losing its database: only what its list shows is kept.
	RestoredAt time.Time `json:"restored_at,omitzero"`

	// What the kiosk keeps beside its list, never uploaded: the masked ID
	// number, and the hash the receipt's token binds (made at save, as the
	// kiosk cannot read the submission again to make it).
	IDMasked    string   `json:"-"`
	ReceiptHash [16]byte `json:"-"`
}

// ListOnly says the kiosk holds only this submission's list fields (it was
// purged after the retention, or taken back from the district after a lost
// database): no receipt can be reprinted and no material supplemented here.
func (s *Submission) ListOnly() bool { return !s.PurgedAt.IsZero() || !s.RestoredAt.IsZero() }

// RestoredSubmission is what the district gives back of a submission to a
// kiosk that lost its database: the list's fields, the status and its note.
type RestoredSubmission struct {
	Submission Submission // Applicant holds the name only
	IDMasked   string
	ReceivedAt time.Time
}

// StatusAdvice is what the agent should do about a status, in plain words.
func StatusAdvice(status, note string) string {
	switch status {
	case StatusPending:
		return "本机已保存，联网后自动上传到区人社局。"
	case StatusReceived, StatusAccepted, StatusInProgress:
		return "区人社局正在办理，办结后会在这里显示。"
	case StatusDone:
		return "已办结：请通知申请人领取办理结果。"
	case StatusReturned:
		return "退回补正：" + note + "。请通知申请人补交材料。"
	case StatusRefused:
		return "不予受理：" + note + "。请告知申请人。"
	}
	return ""
}

// FieldValue is one filled form field.
type FieldValue struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	Value string `json:"value"`
}

// MaterialRecord is what happened to one catalog material.
type MaterialRecord struct {
	Name        string       `json:"name"`
	Required    bool         `json:"required"`
	Received    bool         `json:"received"`
	Owed        bool         `json:"owed"` // 容缺: required, not received, to be supplied later
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Owed lists the materials to be supplied later.
func (s *Submission) Owed() []string {
	var out []string
	for _, m := range s.Materials {
		if m.Owed {
			out = append(out, m.Name)
		}
	}
	return out
}

// FieldError is a problem with one field, in plain Chinese for the agent.
// Field is a path such as "applicant.id_number", "fields.bank" or
// "materials.居民身份证".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// FieldErrors is every problem found in a draft; the agent fixes them all in
// one pass.
type FieldErrors []FieldError

func (e FieldErrors) Error() string {
	var lines []string
	for _, f := range e {
		lines = append(lines, f.Field+": "+f.Message)
	}
	return strings.Join(lines, "\n")
}

// For returns the message for one field, or "".
func (e FieldErrors) For(field string) string {
	for _, f := range e {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

// Limits on attachments.
type Limits struct {
	MaxFileBytes  int64 // per file; default 10 MB
	MaxTotalBytes int64 // per submission; default 50 MB
}

// DefaultLimits are used when settings say nothing.
var DefaultLimits = Limits{MaxFileBytes: 10 << 20, MaxTotalBytes: 50 << 20}

// Check validates a draft against the catalog and normalises it in place
// (trimmed name, upper-case X, plain digits). It returns the sub-item and
// every problem found.
func (c *Catalog) Check(d *Draft, today time.Time, lim Limits) (*MainItem, *SubItem, FieldErrors) {
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	main, sub, ok := c.Sub(strings.TrimSpace(d.Matter))
	if !ok {
		add("matter", "事项编码“%s”不在当前事项目录中，请从目录中选择事项", d.Matter)
		return nil, nil, errs
	}
	d.Matter = sub.Code

	d.Applicant.Name = NormalizeName(d.Applicant.Name)
	if err := CheckName(d.Applicant.Name); err != nil {
		add("applicant.name", "%v", err)
	}
	d.Applicant.IDNumber = NormalizeIDNumber(d.Applicant.IDNumber)
	if d.Applicant.IDNumber == "" {
		add("applicant.id_number", "请填写申请人的身份证号")
	} else if err := CheckIDNumber(d.Applicant.IDNumber, today); err != nil {
		add("applicant.id_number", "%v", err)
	}
	d.Applicant.Phone = NormalizePhone(d.Applicant.Phone)
	if d.Applicant.Phone == "" {
		add("applicant.phone", "请填写申请人的手机号")
	} else if err := CheckPhone(d.Applicant.Phone); err != nil {
		add("applicant.phone", "%v", err)
	}

	known := map[string]bool{}
	for _, f := range sub.Form {
		known[f.ID] = true
		v := strings.TrimSpace(d.Fields[f.ID])
		if v == "" {
			if f.Required {
				add("fields."+f.ID, "请填写“%s”", f.Label)
			}
			continue
		}
		norm, err := checkField(f, v, today)
		if err != nil {
			add("fields."+f.ID, "%s：%v", f.Label, err)
			continue
		}
		if d.Fields == nil {
			d.Fields = map[string]string{}
		}
		d.Fields[f.ID] = norm
	}
	for id := range d.Fields {
		if !known[id] {
			add("fields."+id, "“%s”不是这个事项表单中的项目", id)
		}
	}

	given := map[string]*MaterialInput{}
	for i := range d.Materials {
		m := &d.Materials[i]
		if given[m.Name] != nil {
			add("materials."+m.Name, "材料“%s”重复填写", m.Name)
		}
		given[m.Name] = m
	}
	var total int64
	for _, m := range sub.Materials {
		in := given[m.Name]
		delete(given, m.Name)
		received := in != nil && in.Received
		if in != nil && !in.Received && len(in.Attachments) > 0 {
			add("materials."+m.Name, "材料“%s”有附件，但没有勾选“已收到”", m.Name)
		}
		if m.Required && !received && !m.Deferrable {
			add("materials."+m.Name, "必交材料“%s”未收到，此材料不能容缺，收齐后才能提交", m.Name)
		}
		if in == nil {
			continue
		}
		for _, a := range in.Attachments {
			if a.Size > lim.MaxFileBytes {
				add("materials."+m.Name, "附件“%s”有%s，超过单个文件%s的上限", a.Name, HumanBytes(a.Size), HumanBytes(lim.MaxFileBytes))
			}
			total += a.Size
		}
	}
	for name := range given {
		add("materials."+name, "“%s”不是这个事项的申请材料", name)
	}
	if total > lim.MaxTotalBytes {
		add("materials", "附件合计%s，超过每件%s的上限，请减少或压缩附件", HumanBytes(total), HumanBytes(lim.MaxTotalBytes))
	}
	if !d.Consent {
		add("consent", "请先向申请人说明个人信息的收集和使用，并确认申请人同意")
	}
	return main, sub, errs
}

var (
	datePattern = regexp.MustCompile(`^(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})日?$`)
	bankPattern = regexp.MustCompile(`^\d{12,19}$`)
)

// checkField validates and normalises one form value by its kind.
func checkField(f Field, v string, today time.Time) (string, error) {
	switch f.Kind {
	case KindText:
		if n := utf8.RuneCountInString(v); n > 200 {
			return "", fmt.Errorf("内容过长（%d个字），最多200个字", n)
		}
		return v, nil
	case KindIDNumber:
		id := NormalizeIDNumber(v)
		return id, CheckIDNumber(id, today)
	case KindPhone:
		p := NormalizePhone(v)
		return p, CheckPhone(p)
	case KindDate:
		m := datePattern.FindStringSubmatch(v)
		if m == nil {
			return "", fmt.Errorf("请按“年-月-日”填写日期，例如 2026-03-01")
		}
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
		if t.Year() != y || int(t.Month()) != mo || t.Day() != d {
			return "", fmt.Errorf("%s 不是真实的日期", v)
		}
		if y < 1900 || t.After(today.AddDate(5, 0, 0)) {
			return "", fmt.Errorf("日期 %s 不合理", v)
		}
		return t.Format("2006-01-02"), nil
	case KindChoice:
		for _, o := range f.Options {
			if v == o {
				return v, nil
			}
		}
		return "", fmt.Errorf("请从以下选项中选择：%s", strings.Join(f.Options, "、"))
	case KindNumber:
		if _, err := strconv.ParseFloat(v, 64); err != nil || strings.ContainsAny(v, "eEnN") {
			return "", fmt.Errorf("请填写数字")
		}
		return v, nil
	case KindBankAccount:
		acct := strings.NewReplacer(" ", "", "-", "").Replace(v)
		if !bankPattern.MatchString(acct) {
			return "", fmt.Errorf("银行账号应为12到19位数字，请核对")
		}
		return acct, nil
	}
	return "", fmt.Errorf("未知的字段类型 %s", f.Kind)
}

// HumanBytes is a size as the agent reads it.
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d 字节", n)
}

// Supplement is what a 退回补正 adds to a submission: the materials brought
// since. The kiosk seals it for the district and cannot read the submission
// it adds to, so the district merges it into the copy it holds.
type Supplement struct {
	SubmissionID string          `json:"submission_id"`
	ReceiptNo    string          `json:"receipt_no"`
	Revision     int             `json:"revision"` // the revision this makes: 1 for the first
	Agent        string          `json:"agent"`
	At           time.Time       `json:"at"`
	Materials    []MaterialInput `json:"materials"`
}

// ApplySupplement marks the materials of sup received, with their files, and
// takes its revision. A material the submission does not have is an error.
func (s *Submission) ApplySupplement(sup *Supplement) error {
	if sup.SubmissionID != s.ID || sup.Revision != s.Revision+1 {
		return Errorf(EInvalid, "supplement %d of %s does not follow revision %d of %s", sup.Revision, sup.SubmissionID, s.Revision, s.ID)
	}
	for _, in := range sup.Materials {
		i := slices.IndexFunc(s.Materials, func(m MaterialRecord) bool { return m.Name == in.Name })
		if i < 0 {
			return Errorf(EInvalid, "“%s”不是这个办件的申请材料", in.Name)
		}
		m := &s.Materials[i]
		m.Received, m.Owed = true, false
		for _, a := range in.Attachments {
			if !slices.ContainsFunc(m.Attachments, func(b Attachment) bool { return b.SHA256 == a.SHA256 }) {
				m.Attachments = append(m.Attachments, a)
			}
		}
	}
	s.Revision = sup.Revision
	return nil
}

// PartHash is the hex SHA-256 of a submission's JSON as saved: the first
// link of its content chain.
func PartHash(part []byte) string {
	sum := sha256.Sum256(part)
	return hex.EncodeToString(sum[:])
}

// ChainHash is the content hash after a supplement whose JSON is part was
// added to content whose hash is prev. The chain lets the district tell a
// replay (same head), a resubmission that extends what it holds (its head
// is a link of the chain) and a conflict (neither), without the kiosk ever
// reading the submission back.
func ChainHash(prev string, part []byte) string {
	sum := sha256.Sum256([]byte(prev + "\n" + PartHash(part)))
	return hex.EncodeToString(sum[:])
}

// Outbound is what the kiosk sends for one outbox entry: the sealed parts it
// still holds (the submission, then its supplements) from revision From up
// to Revision, the whole content chain, and the files of those parts.
type Outbound struct {
	ID          string
	ReceiptNo   string
	Revision    int
	From        int
	Chain       []string // Chain[r] is the content hash at revision r
	Sealed      [][]byte // the sealed parts of revisions From..Revision
	Attachments []Attachment
}
