package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/search"
)

// homeScreen shows the catalog's categories as large tiles.
type homeScreen struct{ ui *UI }

func (u *UI) homeScreen() *homeScreen { return &homeScreen{ui: u} }

func (s *homeScreen) title() string { return "首页" }

func (s *homeScreen) content() fyne.CanvasObject {
	var tiles []fyne.CanvasObject
	for _, cat := range s.ui.cat.Categories() {
		mains := s.ui.cat.InCategory(cat)
		subs := 0
		for _, m := range mains {
			subs += len(m.SubItems)
		}
		body := container.NewVBox(
			container.NewCenter(text(cat, 30, colPrimary, true)),
			container.NewCenter(text(fmt.Sprintf("%d 个事项", subs), 19, colMuted, false)),
		)
		tiles = append(tiles, newCard(container.NewCenter(body), colCard, 120, func() {
			s.ui.Go(&categoryScreen{ui: s.ui, category: cat})
		}))
	}
	intro := text("请选择办事类别，或在上方输入事项名称、拼音搜索", 22, colText, false)
	grid := container.NewGridWithColumns(3, tiles...)
	return container.NewVScroll(container.NewPadded(container.NewVBox(intro, grid)))
}

// categoryScreen lists a category's main items with their sub-items.
type categoryScreen struct {
	ui       *UI
	category string
}

func (s *categoryScreen) title() string { return s.category }

func (s *categoryScreen) content() fyne.CanvasObject {
	list := container.NewVBox()
	for _, m := range s.ui.cat.InCategory(s.category) {
		list.Add(container.NewPadded(heading(m.Name)))
		for i := range m.SubItems {
			list.Add(s.ui.subRow(m, &m.SubItems[i], false))
		}
	}
	return container.NewVScroll(container.NewPadded(list))
}

// subRow is a tappable row for one sub-item with its key facts.
func (u *UI) subRow(m *kiosk.MainItem, sub *kiosk.SubItem, showMain bool) fyne.CanvasObject {
	name := text(sub.Name, 23, colText, true)
	facts := sub.TimeLimit.Text()
	if showMain {
		facts = m.Name + "　·　" + facts
	}
	var badges []fyne.CanvasObject
	if sub.TimeLimit.OnTheSpot {
		badges = append(badges, badge("即办", colGreen))
	}
	if sub.IDCardOnly {
		badges = append(badges, badge("一证通办", colPrimary))
	}
	if hasDeferrable(sub) {
		badges = append(badges, badge("可容缺受理", colOrange))
	}
	left := container.NewVBox(name, text(facts, 18, colMuted, false))
	right := container.NewHBox(append(badges, widget.NewIcon(theme.NavigateNextIcon()))...)
	row := container.NewBorder(nil, nil, nil, container.NewCenter(right), left)
	return newCard(row, colCard, 72, func() { u.Go(&detailScreen{ui: u, main: m, sub: sub}) })
}

func hasDeferrable(sub *kiosk.SubItem) bool {
	for _, m := range sub.Materials {
		if m.Deferrable {
			return true
		}
	}
	return false
}

// searchScreen shows the items matching what the agent typed.
type searchScreen struct {
	ui    *UI
	query string
	hits  []search.Hit
}

func (s *searchScreen) title() string {
	return fmt.Sprintf("搜索“%s”", strings.TrimSpace(s.query))
}

func (s *searchScreen) content() fyne.CanvasObject {
	list := container.NewVBox()
	if len(s.hits) == 0 {
		list.Add(heading(fmt.Sprintf("没有找到与“%s”相关的事项", strings.TrimSpace(s.query))))
		list.Add(wrapped("可以试试：输入事项名称中的几个字（如“养老”“失业”），或拼音（如 yanglao），或拼音首字母（如 sbk 表示社保卡）。也可以点“首页”按类别查找。"))
	} else {
		list.Add(text(fmt.Sprintf("找到 %d 个事项", len(s.hits)), 20, colMuted, false))
		for _, h := range s.hits {
			list.Add(s.ui.subRow(h.Main, h.Sub, true))
		}
	}
	return container.NewVScroll(container.NewPadded(list))
}

// detailScreen shows all eight unified elements of one sub-item.
type detailScreen struct {
	ui   *UI
	main *kiosk.MainItem
	sub  *kiosk.SubItem
}

func (s *detailScreen) title() string { return s.sub.Name }

func (s *detailScreen) content() fyne.CanvasObject {
	sub := s.sub
	title := widget.NewLabelWithStyle(sub.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	title.Wrapping = fyne.TextWrapWord
	sub1 := wrapped(fmt.Sprintf("主项：%s　　事项编码：%s", s.main.Name, sub.Code))
	sub1.Importance = widget.MediumImportance

	limit := "即办"
	if !sub.TimeLimit.OnTheSpot {
		limit = fmt.Sprintf("%d 个工作日", sub.TimeLimit.PromisedDays)
	}
	statutory := "法定时限：无规定"
	if sub.TimeLimit.StatutoryDays > 0 {
		statutory = fmt.Sprintf("法定 %d 个工作日", sub.TimeLimit.StatutoryDays)
	}
	var channels []string
	for _, c := range sub.Channels {
		channels = append(channels, c.Label())
	}
	idOnly := "否"
	if sub.IDCardOnly {
		idOnly = "是，只需身份证"
	}
	facts := container.NewGridWithColumns(4,
		fact("承诺时限", limit, statutory, true),
		fact("收费", sub.Fee, "", false),
		fact("一证通办", idOnly, "", false),
		fact("办理渠道", strings.Join(channels, "、"), "", false),
	)

	// Two columns at kiosk widths: what the villager brings on the left,
	// what happens next on the right.
	left := container.NewVBox(heading(fmt.Sprintf("申请材料（%d 项）", len(sub.Materials))))
	for i, m := range sub.Materials {
		left.Add(materialRow(i+1, m))
	}
	left.Add(heading("表单内容"))
	for _, f := range sub.Form {
		req := "选填"
		if f.Required {
			req = "必填"
		}
		line := fmt.Sprintf("• %s（%s，%s）", f.Label, kindLabel(f.Kind), req)
		if len(f.Options) > 0 {
			line += "：" + strings.Join(f.Options, " / ")
		}
		if f.Hint != "" {
			line += "。" + f.Hint
		}
		left.Add(wrapped(line))
	}

	right := container.NewVBox(heading("办理流程"), steps(sub.Procedure), heading("业务经办流程"), steps(sub.BackOffice))
	right.Add(heading("办理依据"))
	for _, b := range sub.LegalBasis {
		right.Add(wrapped("• " + b.Title + b.Article))
	}
	right.Add(heading("办理结果"))
	right.Add(wrapped(sub.Result))
	src := wrapped("信息来源：" + sub.Source)
	src.Importance = widget.MediumImportance
	right.Add(src)

	var action fyne.CanvasObject
	if slices.Contains(sub.Channels, kiosk.ChannelAgent) {
		start := widget.NewButtonWithIcon("开始办理", theme.DocumentCreateIcon(), func() {
			// Said before the villager's details are typed in, not at the end.
			if key, _ := s.ui.svc.Settings.Get(context.Background(), kiosk.SettingSealKey); key == "" {
				s.ui.showNotice("本机还没有登记到区平台，现在不能办理：办件资料要加密给区人社局保存。请技术员在“设置”里完成登记（接入区平台）。")
				return
			}
			s.ui.Go(s.ui.newIntake(s.main, s.sub))
		})
		start.Importance = widget.HighImportance
		action = container.NewStack(tallBy(72), start)
	} else {
		note := widget.NewLabel("本事项不能在村代办，请告知申请人到区行政服务中心窗口或网上办理")
		note.Importance = widget.WarningImportance
		note.Wrapping = fyne.TextWrapWord
		action = note
	}
	head := container.NewBorder(nil, nil, nil, container.NewCenter(action), container.NewVBox(title, sub1))
	body := container.NewVBox(head, facts, container.NewGridWithColumns(2, left, right))
	return container.NewVScroll(container.NewPadded(body))
}

// fact is one of the boxes of key facts at the top of the detail screen.
func fact(label, value, note string, strong bool) fyne.CanvasObject {
	v := widget.NewLabelWithStyle(value, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.Wrapping = fyne.TextWrapWord
	if strong {
		v.SizeName = theme.SizeNameSubHeadingText
	}
	box := container.NewVBox(text(label, 17, colMuted, false), v)
	if note != "" {
		box.Add(text(note, 17, colMuted, false))
	}
	return newCard(box, colCard, 0, nil)
}

func materialRow(n int, m kiosk.Material) fyne.CanvasObject {
	need := "选交"
	if m.Required {
		need = "必交"
	}
	name := widget.NewLabelWithStyle(fmt.Sprintf("%d. %s", n, m.Name), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Wrapping = fyne.TextWrapWord
	detail := container.NewHBox(text(fmt.Sprintf("%s %d 份 · %s", m.Form.Label(), m.Copies, need), 18, colMuted, false))
	if m.Deferrable {
		detail.Add(badge("可容缺，后补", colOrange))
	}
	box := container.NewVBox(name, container.New(layout.NewCustomPaddedLayout(0, 0, 12, 0), detail))
	if m.Note != "" {
		note := wrapped(m.Note)
		note.Importance = widget.MediumImportance
		box.Add(note)
	}
	icon := container.NewVBox(container.New(layout.NewCustomPaddedLayout(8, 0, 0, 0), widget.NewIcon(theme.CheckButtonIcon())))
	return container.NewBorder(nil, nil, icon, nil, box)
}

func steps(st []kiosk.Step) fyne.CanvasObject {
	box := container.NewVBox()
	for i, s := range st {
		line := fmt.Sprintf("%d. %s —— %s", i+1, s.Name, s.Actor)
		if s.Note != "" {
			line += "（" + s.Note + "）"
		}
		box.Add(wrapped(line))
	}
	return container.New(layout.NewCustomPaddedLayout(0, 0, 12, 0), box)
}

func kindLabel(k kiosk.FieldKind) string {
	switch k {
	case kiosk.KindText:
		return "文字"
	case kiosk.KindIDNumber:
		return "身份证号"
	case kiosk.KindPhone:
		return "手机号"
	case kiosk.KindDate:
		return "日期"
	case kiosk.KindChoice:
		return "选择"
	case kiosk.KindNumber:
		return "数字"
	case kiosk.KindBankAccount:
		return "银行账号"
	}
	return string(k)
}
