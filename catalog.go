// Package kiosk holds the domain of the village service kiosk: the standard
// catalog of matters (八统一), its validation, and the error type every other
// package speaks. It imports the standard library only.
package kiosk

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Catalog is the whole standard catalog as a district publishes it: main items
// (主项), each split into sub-items (子项). The JSON form is documented in
// docs/catalog.md and is the same one `kiosk catalog --json` prints.
type Catalog struct {
	Version     string     `json:"version"`      // e.g. "2026.1"; a new publication gets a new version
	Publisher   string     `json:"publisher"`    // the issuing bureau
	PublishedAt string     `json:"published_at"` // YYYY-MM-DD
	MainItems   []MainItem `json:"main_items"`
}

// MainItem is a 主项: a matter as the law names it, split into sub-items by
// case or applicant type.
type MainItem struct {
	Code     string    `json:"code"`
	Name     string    `json:"name"`
	Category string    `json:"category"` // browsing group shown as a tile on the home screen
	Source   string    `json:"source"`   // where the name comes from: a published source, or "composed"
	SubItems []SubItem `json:"sub_items"`
}

// SubItem is a 子项: the unit a villager actually applies for. It carries all
// eight unified elements plus what a service point needs to take it.
type SubItem struct {
	Code       string       `json:"code"`      // 事项编码, unique across the catalog
	MainCode   string       `json:"main_code"` // the code of its main item
	Name       string       `json:"name"`
	LegalBasis []LegalBasis `json:"legal_basis"`        // 办理依据
	Materials  []Material   `json:"materials"`          // 申请材料
	Procedure  []Step       `json:"procedure"`          // 办理流程, as the villager meets it
	BackOffice []Step       `json:"back_office"`        // 业务经办流程, inside the bureau
	TimeLimit  TimeLimit    `json:"time_limit"`         // 办理时限
	Form       []Field      `json:"form"`               // 表单内容
	Channels   []Channel    `json:"channels"`           // where it can be handled
	Fee        string       `json:"fee"`                // "不收费" or the fee and its basis
	IDCardOnly bool         `json:"id_card_only"`       // 一证通办: the ID card alone suffices
	Result     string       `json:"result"`             // what the villager gets and how it is collected
	Source     string       `json:"source"`             // published source of the name, or "composed"
	Keywords   []string     `json:"keywords,omitempty"` // extra search words villagers use
}

// LegalBasis is one law or regulation and the article it rests on.
type LegalBasis struct {
	Title   string `json:"title"`   // e.g. 《中华人民共和国社会保险法》
	Article string `json:"article"` // e.g. 第二十条; empty when the whole document applies
}

// MaterialForm says whether the service point needs the original, a copy, or both.
type MaterialForm string

const (
	Original        MaterialForm = "original"
	Copy            MaterialForm = "copy"
	OriginalAndCopy MaterialForm = "original_and_copy"
	Electronic      MaterialForm = "electronic"
)

// Label is the form's Chinese name as printed in a service guide.
func (f MaterialForm) Label() string {
	switch f {
	case Original:
		return "原件"
	case Copy:
		return "复印件"
	case OriginalAndCopy:
		return "原件和复印件"
	case Electronic:
		return "电子材料"
	}
	return string(f)
}

// Material is one entry of 申请材料.
type Material struct {
	Name       string       `json:"name"`
	Form       MaterialForm `json:"form"`
	Copies     int          `json:"copies"`
	Required   bool         `json:"required"`
	Deferrable bool         `json:"deferrable"` // 容缺: may be supplied after acceptance
	Note       string       `json:"note,omitempty"`
}

// Step is one step of a procedure and who performs it.
type Step struct {
	Name  string `json:"name"`
	Actor string `json:"actor"` // e.g. 申请人, 村代办员, 区人社局经办窗口
	Note  string `json:"note,omitempty"`
}

// TimeLimit is 办理时限 in working days.
type TimeLimit struct {
	StatutoryDays int  `json:"statutory_days"` // 法定时限; 0 when the law sets none
	PromisedDays  int  `json:"promised_days"`  // 承诺时限; 0 with OnTheSpot
	OnTheSpot     bool `json:"on_the_spot"`    // 即办: finished while the villager waits
}

// Text is the time limit in the words a service guide uses.
func (t TimeLimit) Text() string {
	var parts []string
	if t.OnTheSpot {
		parts = append(parts, "即办")
	} else {
		parts = append(parts, fmt.Sprintf("承诺%d个工作日", t.PromisedDays))
	}
	if t.StatutoryDays > 0 {
		parts = append(parts, fmt.Sprintf("法定%d个工作日", t.StatutoryDays))
	}
	return strings.Join(parts, "，")
}

// FieldKind is the kind of value a form field holds; it decides validation.
type FieldKind string

const (
	KindText        FieldKind = "text"
	KindIDNumber    FieldKind = "id_number"
	KindPhone       FieldKind = "phone"
	KindDate        FieldKind = "date"
	KindChoice      FieldKind = "choice"
	KindNumber      FieldKind = "number"
	KindBankAccount FieldKind = "bank_account"
)

// FieldKinds lists every kind a catalog may use.
var FieldKinds = []FieldKind{KindText, KindIDNumber, KindPhone, KindDate, KindChoice, KindNumber, KindBankAccount}

func (k FieldKind) known() bool {
	for _, x := range FieldKinds {
		if k == x {
			return true
		}
	}
	return false
}

// Field is one entry of a sub-item's form (表单). The applicant's name, ID
// number and phone are collected for every matter and are not repeated here.
type Field struct {
	ID       string    `json:"id"`
	Label    string    `json:"label"`
	Kind     FieldKind `json:"kind"`
	Required bool      `json:"required"`
	Options  []string  `json:"options,omitempty"` // for choice
	Hint     string    `json:"hint,omitempty"`
}

// Channel is a way a matter can be handled.
type Channel string

const (
	ChannelWindow Channel = "window" // 窗口办理
	ChannelAgent  Channel = "agent"  // 村代办
	ChannelOnline Channel = "online" // 网上办 / 掌上办
	ChannelPhone  Channel = "phone"  // 电话办 (12333)
)

// Label is the channel's Chinese name.
func (c Channel) Label() string {
	switch c {
	case ChannelWindow:
		return "窗口办理"
	case ChannelAgent:
		return "村代办"
	case ChannelOnline:
		return "网上办"
	case ChannelPhone:
		return "电话办"
	}
	return string(c)
}

// ParseCatalog decodes a catalog document and validates it. Unknown fields are
// refused so that a misspelt element is not silently dropped.
func ParseCatalog(data []byte) (*Catalog, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var c Catalog
	if err := dec.Decode(&c); err != nil {
		return nil, Errorf(EInvalid, "catalog is not valid JSON in the published format: %v", err)
	}
	if dec.More() {
		return nil, Errorf(EInvalid, "catalog has trailing data after the JSON object")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Stats counts main and sub-items.
func (c *Catalog) Stats() (mains, subs int) {
	for _, m := range c.MainItems {
		subs += len(m.SubItems)
	}
	return len(c.MainItems), subs
}

// Sub finds a sub-item and its main item by sub-item code.
func (c *Catalog) Sub(code string) (*MainItem, *SubItem, bool) {
	for i := range c.MainItems {
		m := &c.MainItems[i]
		for j := range m.SubItems {
			if m.SubItems[j].Code == code {
				return m, &m.SubItems[j], true
			}
		}
	}
	return nil, nil, false
}

// Main finds a main item by code.
func (c *Catalog) Main(code string) (*MainItem, bool) {
	for i := range c.MainItems {
		if c.MainItems[i].Code == code {
			return &c.MainItems[i], true
		}
	}
	return nil, false
}

// Categories lists browsing categories in the order they first appear.
func (c *Catalog) Categories() []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range c.MainItems {
		if !seen[m.Category] {
			seen[m.Category] = true
			out = append(out, m.Category)
		}
	}
	return out
}

// InCategory returns the main items of one category.
func (c *Catalog) InCategory(cat string) []*MainItem {
	var out []*MainItem
	for i := range c.MainItems {
		if c.MainItems[i].Category == cat {
			out = append(out, &c.MainItems[i])
		}
	}
	return out
}
