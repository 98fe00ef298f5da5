package kiosk

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// codePattern is what an item code may look like: letters, digits, dashes and
// dots, as the national and local code schemes use.
var codePattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.\-]{1,39}$`)

var fieldIDPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// reservedFieldIDs are collected for every matter by the intake screens.
var reservedFieldIDs = map[string]bool{"name": true, "id_number": true, "phone": true}

// Validate checks the whole catalog. It reports every problem it finds, one per
// line, each naming the item and the element, so a district can fix a file in
// one pass.
func (c *Catalog) Validate() error {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }

	if strings.TrimSpace(c.Version) == "" {
		add("catalog: version is missing")
	}
	if strings.TrimSpace(c.Publisher) == "" {
		add("catalog: publisher is missing")
	}
	if _, err := time.Parse("2006-01-02", c.PublishedAt); err != nil {
		add("catalog: published_at %q is not a date in the form YYYY-MM-DD", c.PublishedAt)
	}
	if len(c.MainItems) == 0 {
		add("catalog: main_items is empty")
	}

	mains := map[string]bool{}
	for _, m := range c.MainItems {
		mains[m.Code] = true
	}
	codes := map[string]string{} // code -> where it was first seen
	claim := func(code, where string) {
		if first, dup := codes[code]; dup {
			add("%s: code %s is already used by %s", where, code, first)
			return
		}
		codes[code] = where
	}

	for i, m := range c.MainItems {
		where := fmt.Sprintf("main item %d %q (%s)", i+1, m.Name, m.Code)
		if !codePattern.MatchString(m.Code) {
			add("%s: code %q is missing or malformed (letters, digits, '-' and '.', 2-40 characters)", where, m.Code)
		} else {
			claim(m.Code, where)
		}
		if strings.TrimSpace(m.Name) == "" {
			add("%s: name (主项名称) is missing", where)
		}
		if strings.TrimSpace(m.Category) == "" {
			add("%s: category is missing", where)
		}
		if strings.TrimSpace(m.Source) == "" {
			add("%s: source is missing", where)
		}
		if len(m.SubItems) == 0 {
			add("%s: has no sub-items (子项)", where)
		}
		for _, s := range m.SubItems {
			probs = append(probs, s.problems(m, mains, claim)...)
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return &Error{Code: EInvalid, Message: "catalog is invalid:\n  " + strings.Join(probs, "\n  ")}
}

func (s *SubItem) problems(m MainItem, mains map[string]bool, claim func(code, where string)) []string {
	var probs []string
	where := fmt.Sprintf("sub-item %q (%s)", s.Name, s.Code)
	add := func(format string, args ...any) {
		probs = append(probs, where+": "+fmt.Sprintf(format, args...))
	}
	if !codePattern.MatchString(s.Code) {
		add("code (事项编码) %q is missing or malformed", s.Code)
	} else {
		claim(s.Code, where)
	}
	switch {
	case s.MainCode == "":
		add("main_code is missing")
	case !mains[s.MainCode]:
		add("main item %s does not exist", s.MainCode)
	case s.MainCode != m.Code:
		add("is listed under main item %s but names main item %s", m.Code, s.MainCode)
	}
	if strings.TrimSpace(s.Name) == "" {
		add("name (子项名称) is missing")
	}
	if len(s.LegalBasis) == 0 {
		add("legal_basis (办理依据) is missing")
	}
	for i, b := range s.LegalBasis {
		if strings.TrimSpace(b.Title) == "" {
			add("legal_basis %d: title is missing", i+1)
		}
	}
	if len(s.Materials) == 0 {
		add("materials (申请材料) is missing")
	}
	matNames := map[string]bool{}
	for i, mt := range s.Materials {
		mw := fmt.Sprintf("materials %d %q", i+1, mt.Name)
		if matNames[mt.Name] {
			add("%s: name is used twice", mw)
		}
		matNames[mt.Name] = true
		if strings.TrimSpace(mt.Name) == "" {
			add("%s: name is missing", mw)
		}
		switch mt.Form {
		case Original, Copy, OriginalAndCopy, Electronic:
		default:
			add("%s: form %q is unknown (original, copy, original_and_copy, electronic)", mw, mt.Form)
		}
		if mt.Copies < 1 {
			add("%s: copies must be at least 1", mw)
		}
		if mt.Deferrable && !mt.Required {
			add("%s: only a required material can be deferrable (容缺)", mw)
		}
	}
	checkSteps := func(name, label string, steps []Step) {
		if len(steps) == 0 {
			add("%s (%s) is missing", name, label)
		}
		for i, st := range steps {
			if strings.TrimSpace(st.Name) == "" || strings.TrimSpace(st.Actor) == "" {
				add("%s step %d: name and actor are required", name, i+1)
			}
		}
	}
	checkSteps("procedure", "办理流程", s.Procedure)
	checkSteps("back_office", "业务经办流程", s.BackOffice)

	tl := s.TimeLimit
	switch {
	case tl.StatutoryDays < 0 || tl.PromisedDays < 0:
		add("time_limit (办理时限): days cannot be negative")
	case tl.OnTheSpot && tl.PromisedDays != 0:
		add("time_limit (办理时限): an on-the-spot (即办) matter has promised_days 0")
	case !tl.OnTheSpot && tl.PromisedDays == 0:
		add("time_limit (办理时限): promised_days is missing")
	case tl.StatutoryDays > 0 && tl.PromisedDays > tl.StatutoryDays:
		add("time_limit (办理时限): promised %d days exceeds statutory %d days", tl.PromisedDays, tl.StatutoryDays)
	}

	if len(s.Form) == 0 {
		add("form (表单内容) is missing")
	}
	ids := map[string]bool{}
	for i, f := range s.Form {
		fw := fmt.Sprintf("form field %d %q", i+1, f.ID)
		switch {
		case !fieldIDPattern.MatchString(f.ID):
			add("%s: id must be lower-case letters, digits and '_'", fw)
		case reservedFieldIDs[f.ID]:
			add("%s: id is reserved for the applicant's own details", fw)
		case ids[f.ID]:
			add("%s: id is used twice", fw)
		}
		ids[f.ID] = true
		if strings.TrimSpace(f.Label) == "" {
			add("%s: label is missing", fw)
		}
		if !f.Kind.known() {
			add("%s: kind %q is unknown (text, id_number, phone, date, choice, number, bank_account)", fw, f.Kind)
		}
		if f.Kind == KindChoice && len(f.Options) < 2 {
			add("%s: a choice needs at least two options", fw)
		}
		if f.Kind != KindChoice && len(f.Options) > 0 {
			add("%s: options are only for kind choice", fw)
		}
	}

	if len(s.Channels) == 0 {
		add("channels is missing")
	}
	for _, ch := range s.Channels {
		switch ch {
		case ChannelWindow, ChannelAgent, ChannelOnline, ChannelPhone:
		default:
			add("channel %q is unknown (window, agent, online, phone)", ch)
		}
	}
	if strings.TrimSpace(s.Fee) == "" {
		add("fee is missing (write 不收费 when there is none)")
	}
	if strings.TrimSpace(s.Result) == "" {
		add("result is missing")
	}
	if strings.TrimSpace(s.Source) == "" {
		add("source is missing")
	}
	return probs
}
