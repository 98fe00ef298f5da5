package district

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	kiosk "github.com/keqiao/villagekiosk"
)

// itemRef names an item in a diff.
type itemRef struct{ Code, Name, Main string }

// elementChange is one of the eight unified elements (or another part) of an
// item that changed, and how, in words.
type elementChange struct{ Element, Detail string }

type itemChange struct {
	itemRef
	Elements []elementChange
}

// catalogDiff is what publishing a catalog would change.
type catalogDiff struct {
	OldVersion, NewVersion     string
	MainAdded, MainRemoved     []itemRef
	MainChanged                []itemChange
	Added, Removed             []itemRef
	Changed                    []itemChange
	Unchanged, OldSubs, NewSub int
}

// Empty says whether the two catalogs describe the same items.
func (d *catalogDiff) Empty() bool {
	return len(d.MainAdded)+len(d.MainRemoved)+len(d.MainChanged)+len(d.Added)+len(d.Removed)+len(d.Changed) == 0
}

// listDiff says which entries were added and removed, in order.
func listDiff(old, new []string) string {
	var added, removed []string
	for _, n := range new {
		if !slices.Contains(old, n) {
			added = append(added, n)
		}
	}
	for _, o := range old {
		if !slices.Contains(new, o) {
			removed = append(removed, o)
		}
	}
	var parts []string
	if len(added) > 0 {
		parts = append(parts, "增加："+strings.Join(added, "、"))
	}
	if len(removed) > 0 {
		parts = append(parts, "删除："+strings.Join(removed, "、"))
	}
	if len(parts) == 0 && !slices.Equal(old, new) {
		return "顺序或内容有调整"
	}
	return strings.Join(parts, "；")
}

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

func materialText(m kiosk.Material) string {
	s := fmt.Sprintf("%s %d份", m.Form.Label(), m.Copies)
	if m.Required {
		s += "，必交"
	} else {
		s += "，非必交"
	}
	if m.Deferrable {
		s += "，可容缺"
	}
	if m.Note != "" {
		s += "，" + m.Note
	}
	return s
}

func fieldText(f kiosk.Field) string {
	s := f.Label + "（" + string(f.Kind)
	if f.Required {
		s += "，必填"
	}
	if len(f.Options) > 0 {
		s += "，选项：" + strings.Join(f.Options, "/")
	}
	return s + "）"
}

// keyedDiff compares lists of named things: added, removed, and changed
// (the same key with other content), each described.
func keyedDiff[T any](old, new []T, key func(T) string, text func(T) string) string {
	oldBy := map[string]T{}
	for _, o := range old {
		oldBy[key(o)] = o
	}
	newBy := map[string]bool{}
	var added, removed, changed []string
	for _, n := range new {
		newBy[key(n)] = true
		o, ok := oldBy[key(n)]
		switch {
		case !ok:
			added = append(added, key(n))
		case text(o) != text(n):
			changed = append(changed, key(n)+"（"+text(o)+" → "+text(n)+"）")
		}
	}
	for _, o := range old {
		if !newBy[key(o)] {
			removed = append(removed, key(o))
		}
	}
	var parts []string
	if len(added) > 0 {
		parts = append(parts, "增加："+strings.Join(added, "、"))
	}
	if len(removed) > 0 {
		parts = append(parts, "删除："+strings.Join(removed, "、"))
	}
	if len(changed) > 0 {
		parts = append(parts, "修改："+strings.Join(changed, "；"))
	}
	if len(parts) == 0 {
		return "顺序有调整"
	}
	return strings.Join(parts, "；")
}

func mapStrings[T any](xs []T, f func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func stepText(s kiosk.Step) string {
	t := s.Name + "（" + s.Actor + "）"
	if s.Note != "" {
		t += "：" + s.Note
	}
	return t
}

func timeLimitText(t kiosk.TimeLimit) string {
	if !t.OnTheSpot && t.PromisedDays == 0 && t.StatutoryDays == 0 {
		return "未填写"
	}
	return t.Text()
}

// subChanges lists the elements of a sub-item that differ.
func subChanges(o, n *kiosk.SubItem) []elementChange {
	var out []elementChange
	add := func(el, detail string) { out = append(out, elementChange{el, detail}) }
	was := func(a, b string) string { return "“" + a + "” → “" + b + "”" }
	if o.Name != n.Name {
		add("子项名称", was(o.Name, n.Name))
	}
	if o.MainCode != n.MainCode {
		add("所属主项", o.MainCode+" → "+n.MainCode)
	}
	basis := func(b kiosk.LegalBasis) string { return strings.TrimSpace(b.Title + b.Article) }
	if !slices.Equal(mapStrings(o.LegalBasis, basis), mapStrings(n.LegalBasis, basis)) {
		add("办理依据", listDiff(mapStrings(o.LegalBasis, basis), mapStrings(n.LegalBasis, basis)))
	}
	if !slices.Equal(mapStrings(o.Materials, materialKey), mapStrings(n.Materials, materialKey)) {
		add("申请材料", keyedDiff(o.Materials, n.Materials, func(m kiosk.Material) string { return m.Name }, materialText))
	}
	if !slices.Equal(mapStrings(o.Procedure, stepText), mapStrings(n.Procedure, stepText)) {
		add("办理流程", listDiff(mapStrings(o.Procedure, stepText), mapStrings(n.Procedure, stepText)))
	}
	if !slices.Equal(mapStrings(o.BackOffice, stepText), mapStrings(n.BackOffice, stepText)) {
		add("业务经办流程", listDiff(mapStrings(o.BackOffice, stepText), mapStrings(n.BackOffice, stepText)))
	}
	if o.TimeLimit != n.TimeLimit {
		add("办理时限", timeLimitText(o.TimeLimit)+" → "+timeLimitText(n.TimeLimit))
	}
	fieldKey := func(f kiosk.Field) string { return f.ID + "|" + fieldText(f) + "|" + f.Hint }
	if !slices.Equal(mapStrings(o.Form, fieldKey), mapStrings(n.Form, fieldKey)) {
		add("表单内容", keyedDiff(o.Form, n.Form, func(f kiosk.Field) string { return f.ID }, func(f kiosk.Field) string { return fieldText(f) + f.Hint }))
	}
	ch := func(c kiosk.Channel) string { return c.Label() }
	if !slices.Equal(o.Channels, n.Channels) {
		add("办理渠道", listDiff(mapStrings(o.Channels, ch), mapStrings(n.Channels, ch)))
	}
	if o.Fee != n.Fee {
		add("收费", was(o.Fee, n.Fee))
	}
	if o.IDCardOnly != n.IDCardOnly {
		add("一证通办", yesNo(o.IDCardOnly)+" → "+yesNo(n.IDCardOnly))
	}
	if o.Result != n.Result {
		add("办理结果", was(o.Result, n.Result))
	}
	if o.Source != n.Source {
		add("名称来源", was(o.Source, n.Source))
	}
	if !slices.Equal(o.Keywords, n.Keywords) {
		add("搜索关键词", listDiff(o.Keywords, n.Keywords))
	}
	return out
}

func materialKey(m kiosk.Material) string { return m.Name + "|" + materialText(m) }

// diffCatalogs compares the catalog in use with one about to be published.
func diffCatalogs(old, new *kiosk.Catalog) *catalogDiff {
	d := &catalogDiff{OldVersion: old.Version, NewVersion: new.Version}
	_, d.OldSubs = old.Stats()
	_, d.NewSub = new.Stats()
	for _, m := range new.MainItems {
		om, ok := old.Main(m.Code)
		if !ok {
			d.MainAdded = append(d.MainAdded, itemRef{Code: m.Code, Name: m.Name})
			continue
		}
		var els []elementChange
		if om.Name != m.Name {
			els = append(els, elementChange{"主项名称", "“" + om.Name + "” → “" + m.Name + "”"})
		}
		if om.Category != m.Category {
			els = append(els, elementChange{"分类", "“" + om.Category + "” → “" + m.Category + "”"})
		}
		if om.Source != m.Source {
			els = append(els, elementChange{"名称来源", "“" + om.Source + "” → “" + m.Source + "”"})
		}
		if len(els) > 0 {
			d.MainChanged = append(d.MainChanged, itemChange{itemRef{Code: m.Code, Name: m.Name}, els})
		}
	}
	for _, m := range old.MainItems {
		if _, ok := new.Main(m.Code); !ok {
			d.MainRemoved = append(d.MainRemoved, itemRef{Code: m.Code, Name: m.Name})
		}
	}
	for _, m := range new.MainItems {
		for i := range m.SubItems {
			n := &m.SubItems[i]
			ref := itemRef{Code: n.Code, Name: n.Name, Main: m.Name}
			_, o, ok := old.Sub(n.Code)
			if !ok {
				d.Added = append(d.Added, ref)
				continue
			}
			if els := subChanges(o, n); len(els) > 0 {
				d.Changed = append(d.Changed, itemChange{ref, els})
			} else {
				d.Unchanged++
			}
		}
	}
	for _, m := range old.MainItems {
		for _, o := range m.SubItems {
			if _, _, ok := new.Sub(o.Code); !ok {
				d.Removed = append(d.Removed, itemRef{Code: o.Code, Name: o.Name, Main: m.Name})
			}
		}
	}
	return d
}

// Validation messages (kiosk.Catalog.Validate, ParseCatalog) in plain
// Chinese for the staff page, each still naming the item.
var (
	whereMain = regexp.MustCompile(`^main item (\d+) "(.*?)" \(([^)]*)\): `)
	whereSub  = regexp.MustCompile(`^sub-item "(.*?)" \(([^)]*)\): `)
	innerMain = regexp.MustCompile(`main item (\d+) "(.*?)" \(([^)]*)\)`)
	innerSub  = regexp.MustCompile(`sub-item "(.*?)" \(([^)]*)\)`)
	zhRules   = []struct {
		re *regexp.Regexp
		zh string
	}{
		{regexp.MustCompile(`^catalog: version is missing$`), "缺少目录版本号（version）"},
		{regexp.MustCompile(`^catalog: publisher is missing$`), "缺少发布单位（publisher）"},
		{regexp.MustCompile(`^catalog: published_at "(.*)" is not a date in the form YYYY-MM-DD$`), "发布日期“${1}”不是“年-月-日”格式（如 2026-11-28）"},
		{regexp.MustCompile(`^catalog: main_items is empty$`), "目录中没有任何主项"},
		{regexp.MustCompile(`^code "(.*)" is missing or malformed.*$`), "事项编码“${1}”缺失或格式不对（只能用字母、数字、“-”和“.”，2到40个字符）"},
		{regexp.MustCompile(`^code \(事项编码\) "(.*)" is missing or malformed$`), "事项编码“${1}”缺失或格式不对"},
		{regexp.MustCompile(`^code (.*) is already used by (.*)$`), "事项编码 ${1} 与前面的“${2}”重复"},
		{regexp.MustCompile(`^name \(主项名称\) is missing$`), "缺少主项名称"},
		{regexp.MustCompile(`^name \(子项名称\) is missing$`), "缺少子项名称"},
		{regexp.MustCompile(`^category is missing$`), "缺少分类"},
		{regexp.MustCompile(`^source is missing$`), "缺少名称来源（source）"},
		{regexp.MustCompile(`^has no sub-items \(子项\)$`), "没有任何子项"},
		{regexp.MustCompile(`^main_code is missing$`), "缺少所属主项编码（main_code）"},
		{regexp.MustCompile(`^main item (.*) does not exist$`), "所属主项 ${1} 不存在"},
		{regexp.MustCompile(`^is listed under main item (.*) but names main item (.*)$`), "放在主项 ${1} 下面，却写着属于主项 ${2}"},
		{regexp.MustCompile(`^legal_basis \(办理依据\) is missing$`), "缺少办理依据"},
		{regexp.MustCompile(`^legal_basis (\d+): title is missing$`), "第${1}条办理依据缺少法规名称"},
		{regexp.MustCompile(`^materials \(申请材料\) is missing$`), "缺少申请材料"},
		{regexp.MustCompile(`^materials (\d+) "(.*)": name is used twice$`), "申请材料第${1}项“${2}”重名"},
		{regexp.MustCompile(`^materials (\d+) "(.*)": name is missing$`), "申请材料第${1}项缺少名称"},
		{regexp.MustCompile(`^materials (\d+) "(.*)": form "(.*)" is unknown.*$`), "申请材料第${1}项“${2}”的形式“${3}”无法识别（应为 original、copy、original_and_copy 或 electronic）"},
		{regexp.MustCompile(`^materials (\d+) "(.*)": copies must be at least 1$`), "申请材料第${1}项“${2}”的份数至少为1"},
		{regexp.MustCompile(`^materials (\d+) "(.*)": only a required material can be deferrable.*$`), "申请材料第${1}项“${2}”：只有必交材料才能容缺"},
		{regexp.MustCompile(`^procedure \(办理流程\) is missing$`), "缺少办理流程"},
		{regexp.MustCompile(`^back_office \(业务经办流程\) is missing$`), "缺少业务经办流程"},
		{regexp.MustCompile(`^procedure step (\d+): name and actor are required$`), "办理流程第${1}步缺少名称或经办人"},
		{regexp.MustCompile(`^back_office step (\d+): name and actor are required$`), "业务经办流程第${1}步缺少名称或经办人"},
		{regexp.MustCompile(`^time_limit \(办理时限\): days cannot be negative$`), "办理时限的天数不能为负数"},
		{regexp.MustCompile(`^time_limit \(办理时限\): an on-the-spot \(即办\) matter has promised_days 0$`), "即办事项的承诺时限应为0"},
		{regexp.MustCompile(`^time_limit \(办理时限\): promised_days is missing$`), "缺少承诺时限（不是即办事项）"},
		{regexp.MustCompile(`^time_limit \(办理时限\): promised (\d+) days exceeds statutory (\d+) days$`), "承诺时限${1}个工作日超过了法定时限${2}个工作日"},
		{regexp.MustCompile(`^form \(表单内容\) is missing$`), "缺少表单内容"},
		{regexp.MustCompile(`^form field (\d+) "(.*)": id must be .*$`), "表单第${1}项“${2}”的编号只能用小写字母、数字和下划线"},
		{regexp.MustCompile(`^form field (\d+) "(.*)": id is reserved.*$`), "表单第${1}项“${2}”的编号与申请人本人信息（姓名、身份证号、电话）重复"},
		{regexp.MustCompile(`^form field (\d+) "(.*)": id is used twice$`), "表单第${1}项“${2}”的编号重复"},
		{regexp.MustCompile(`^form field (\d+) "(.*)": label is missing$`), "表单第${1}项“${2}”缺少标题"},
		{regexp.MustCompile(`^form field (\d+) "(.*)": kind "(.*)" is unknown.*$`), "表单第${1}项“${2}”的类型“${3}”无法识别"},
		{regexp.MustCompile(`^form field (\d+) "(.*)": a choice needs at least two options$`), "表单第${1}项“${2}”是选择题，至少要有两个选项"},
		{regexp.MustCompile(`^form field (\d+) "(.*)": options are only for kind choice$`), "表单第${1}项“${2}”不是选择题，不能有选项"},
		{regexp.MustCompile(`^channels is missing$`), "缺少办理渠道"},
		{regexp.MustCompile(`^channel "(.*)" is unknown.*$`), "办理渠道“${1}”无法识别（应为 window、agent、online 或 phone）"},
		{regexp.MustCompile(`^fee is missing.*$`), "缺少收费说明（不收费请写“不收费”）"},
		{regexp.MustCompile(`^result is missing$`), "缺少办理结果"},
		{regexp.MustCompile(`^catalog has trailing data after the JSON object$`), "文件在目录 JSON 之后还有多余的内容"},
		{regexp.MustCompile(`^catalog is not valid JSON in the published format: json: unknown field "(.*)"$`), "有无法识别的字段“${1}”（可能拼错了，请对照目录格式说明）"},
		{regexp.MustCompile(`^catalog is not valid JSON in the published format: json: cannot unmarshal (\S+) into Go struct field (\S+) of type (\S+)$`), "字段 ${2} 的值类型不对（应为 ${3}，文件里是 ${1}）"},
		{regexp.MustCompile(`^catalog is not valid JSON in the published format: (.*)$`), "文件不是规定格式的 JSON 目录（${1}）"},
	}
)

// catalogProblemsZh turns a catalog's validation error into one line per
// problem, in Chinese, naming the item.
func catalogProblemsZh(err error) []string {
	msg := kiosk.ErrorMessage(err)
	msg = strings.TrimPrefix(msg, "catalog is invalid:\n")
	var out []string
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		prefix := ""
		if m := whereMain.FindStringSubmatch(line); m != nil {
			prefix = fmt.Sprintf("第%s个主项“%s”（%s）：", m[1], m[2], m[3])
			line = line[len(m[0]):]
		} else if m := whereSub.FindStringSubmatch(line); m != nil {
			prefix = fmt.Sprintf("子项“%s”（%s）：", m[1], m[2])
			line = line[len(m[0]):]
		}
		zh := ""
		for _, r := range zhRules {
			if r.re.MatchString(line) {
				zh = r.re.ReplaceAllString(line, r.zh)
				break
			}
		}
		if zh == "" {
			zh = "格式问题（原文：" + line + "）"
		}
		zh = innerMain.ReplaceAllString(zh, "第${1}个主项“${2}”（${3}）")
		zh = innerSub.ReplaceAllString(zh, "子项“${1}”（${2}）")
		out = append(out, prefix+zh)
	}
	return out
}

// holidayProblemZh is a holiday calendar's validation error in Chinese.
func holidayProblemZh(err error) string {
	msg := kiosk.ErrorMessage(err)
	for _, r := range []struct {
		re *regexp.Regexp
		zh string
	}{
		{regexp.MustCompile(`^holiday calendar is not valid JSON: (.*)$`), "文件不是规定格式的节假日安排 JSON（${1}）"},
		{regexp.MustCompile(`^holiday calendar: year (-?\d+) is not plausible$`), "年份 ${1} 不合理"},
		{regexp.MustCompile(`^holiday calendar (\d+): days_off date "(.*)" is not a date in \d+$`), "${1}年的放假日期“${2}”不是${1}年内的日期"},
		{regexp.MustCompile(`^holiday calendar (\d+): working_weekends date "(.*)" is not a date in \d+$`), "${1}年的调休上班日期“${2}”不是${1}年内的日期"},
		{regexp.MustCompile(`^holiday calendar (\d+): working weekend (\S+) is a (\w+)$`), "${1}年的调休上班日 ${2} 不是周末（是 ${3}）"},
		{regexp.MustCompile(`^holiday calendar (\d+): (\S+) is both a day off and a working day$`), "${1}年的 ${2} 既是放假日又是调休上班日"},
	} {
		if r.re.MatchString(msg) {
			return r.re.ReplaceAllString(msg, r.zh)
		}
	}
	return "节假日安排有误（原文：" + msg + "）"
}
