package district

import (
	"strings"
	"testing"

	kiosk "github.com/keqiao/villagekiosk"
)

// TestCatalogProblemsZh breaks a catalog in every way Validate reports and
// checks that each problem reads in Chinese, naming its item.
func TestCatalogProblemsZh(t *testing.T) {
	sub := kiosk.SubItem{Code: "x", MainCode: "NOPE", LegalBasis: []kiosk.LegalBasis{{}},
		Materials: []kiosk.Material{{Name: "a", Form: "paper", Copies: 0, Deferrable: true}, {Name: "a", Form: kiosk.Copy, Copies: 1}},
		Procedure: []kiosk.Step{{Name: "受理"}}, TimeLimit: kiosk.TimeLimit{OnTheSpot: true, PromisedDays: 3},
		Form: []kiosk.Field{{ID: "Bad"}, {ID: "name", Label: "n", Kind: kiosk.KindText}, {ID: "c", Label: "c", Kind: kiosk.KindChoice},
			{ID: "c", Label: "d", Kind: "colour", Options: []string{"a"}}},
		Channels: []kiosk.Channel{"fax"}}
	second := kiosk.SubItem{Code: "M2-01", MainCode: "M1", Name: "第二", TimeLimit: kiosk.TimeLimit{PromisedDays: 9, StatutoryDays: 5}}
	c := &kiosk.Catalog{PublishedAt: "2026/1/1", MainItems: []kiosk.MainItem{
		{Code: "M1", SubItems: []kiosk.SubItem{sub}},
		{Code: "M2", Name: "主二", Category: "c", Source: "s", SubItems: []kiosk.SubItem{second}},
		{Code: "M1", Name: "重复", Category: "c", Source: "s"},
	}}
	err := c.Validate()
	if err == nil {
		t.Fatal("the broken catalog passed")
	}
	lines := catalogProblemsZh(err)
	if len(lines) < 30 {
		t.Errorf("got %d problems, want every one of them", len(lines))
	}
	for _, l := range lines {
		if strings.Contains(l, "原文") || strings.ContainsAny(l, "abcdefghijklmnopqrstuvwxyz") && !strings.Contains(l, "“") && !strings.Contains(l, "（") {
			t.Errorf("not translated: %s", l)
		}
	}
	for _, want := range []string{
		"第1个主项“”（M1）：缺少主项名称",
		"第3个主项“重复”（M1）：事项编码 M1 与前面的“第1个主项“”（M1）”重复",
		"子项“”（x）：事项编码“x”缺失或格式不对",
		"子项“”（x）：所属主项 NOPE 不存在",
		"子项“第二”（M2-01）：放在主项 M2 下面，却写着属于主项 M1",
		"子项“第二”（M2-01）：承诺时限9个工作日超过了法定时限5个工作日",
		"子项“”（x）：即办事项的承诺时限应为0",
		"子项“”（x）：申请材料第2项“a”重名",
		"子项“”（x）：表单第4项“c”的类型“colour”无法识别",
		"子项“”（x）：办理渠道“fax”无法识别",
		"发布日期“2026/1/1”不是“年-月-日”格式",
	} {
		found := false
		for _, l := range lines {
			found = found || strings.Contains(l, want)
		}
		if !found {
			t.Errorf("missing %q in:\n%s", want, strings.Join(lines, "\n"))
		}
	}
}

func TestDiffCatalogs(t *testing.T) {
	item := func(code, name string) kiosk.SubItem {
		return kiosk.SubItem{Code: code, MainCode: "M", Name: name, Fee: "不收费", TimeLimit: kiosk.TimeLimit{PromisedDays: 5},
			Materials: []kiosk.Material{{Name: "身份证", Form: kiosk.Original, Copies: 1, Required: true}},
			Channels:  []kiosk.Channel{kiosk.ChannelAgent}}
	}
	old := &kiosk.Catalog{Version: "1", MainItems: []kiosk.MainItem{{Code: "M", Name: "主", SubItems: []kiosk.SubItem{item("A", "甲"), item("B", "乙"), item("C", "丙")}}}}
	nw := &kiosk.Catalog{Version: "2", MainItems: []kiosk.MainItem{{Code: "M", Name: "主项", SubItems: []kiosk.SubItem{item("A", "甲"), item("B", "乙"), item("D", "丁")}}}}
	b := &nw.MainItems[0].SubItems[1]
	b.TimeLimit = kiosk.TimeLimit{OnTheSpot: true}
	b.Materials[0].Deferrable = true
	b.Channels = append(b.Channels, kiosk.ChannelOnline)
	b.Fee = "10元"
	b.LegalBasis = []kiosk.LegalBasis{{Title: "《社会保险法》", Article: "第二十条"}}
	d := diffCatalogs(old, nw)
	if len(d.Added) != 1 || d.Added[0].Code != "D" || len(d.Removed) != 1 || d.Removed[0].Code != "C" || d.Unchanged != 1 {
		t.Fatalf("got %+v", d)
	}
	if len(d.MainChanged) != 1 || d.MainChanged[0].Elements[0].Detail != "“主” → “主项”" {
		t.Errorf("main item rename: got %+v", d.MainChanged)
	}
	got := map[string]string{}
	for _, e := range d.Changed[0].Elements {
		got[e.Element] = e.Detail
	}
	want := map[string]string{
		"办理时限": "承诺5个工作日 → 即办",
		"申请材料": "修改：身份证（原件 1份，必交 → 原件 1份，必交，可容缺）",
		"办理渠道": "增加：网上办",
		"收费":   "“不收费” → “10元”",
		"办理依据": "增加：《社会保险法》第二十条",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got elements %v, want only %v", got, want)
	}
	if same := diffCatalogs(old, old); !same.Empty() {
		t.Errorf("a catalog against itself: got %+v", same)
	}
}
