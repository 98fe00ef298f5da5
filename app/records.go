package app

import (
	"cmp"
	"context"
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	kiosk "github.com/keqiao/villagekiosk"
)

var statusChoices = []struct{ label, status string }{
	{"全部状态", ""},
	{"待上传", kiosk.StatusPending},
	{"区里已收到", kiosk.StatusReceived},
	{"已受理", kiosk.StatusAccepted},
	{"办理中", kiosk.StatusInProgress},
	{"已办结", kiosk.StatusDone},
	{"退回补正", kiosk.StatusReturned},
	{"不予受理", kiosk.StatusRefused},
}

var periodChoices = []struct {
	label string
	days  int
}{{"全部时间", 0}, {"今天", 1}, {"近7天", 7}, {"近30天", 30}}

// submissionsScreen is 办件查询: every submission, filtered and searched.
type submissionsScreen struct {
	ui     *UI
	query  *widget.Entry
	status *widget.Select
	period *widget.Select
	count  *widget.Label
	list   *fyne.Container
	root   fyne.CanvasObject
}

// openSubmissions starts from home, whatever was open: the list is a place
// of its own, not a step of the screen before it.
func (u *UI) openSubmissions() {
	u.onHome()
	u.Go(u.newSubmissionsScreen())
}

func (u *UI) newSubmissionsScreen() *submissionsScreen {
	s := &submissionsScreen{ui: u, query: widget.NewEntry(), count: widget.NewLabel(""), list: container.NewVBox()}
	s.query.SetPlaceHolder("姓名、回执编号，或身份证号后4位")
	s.query.OnChanged = func(string) { s.reload() }
	var labels []string
	for _, c := range statusChoices {
		labels = append(labels, c.label)
	}
	s.status = widget.NewSelect(labels, func(string) { s.reload() })
	var periods []string
	for _, p := range periodChoices {
		periods = append(periods, p.label)
	}
	s.period = widget.NewSelect(periods, func(string) { s.reload() })
	s.status.SetSelectedIndex(0)
	s.period.SetSelectedIndex(0)
	filters := container.NewBorder(nil, nil, nil, container.NewHBox(tall(s.status), tall(s.period)), tall(s.query))
	s.root = container.NewBorder(container.NewPadded(container.NewVBox(filters, s.count)), nil, nil, nil,
		container.NewVScroll(container.NewPadded(s.list)))
	s.reload()
	return s
}

func (s *submissionsScreen) title() string { return "办件查询" }

func (s *submissionsScreen) content() fyne.CanvasObject { return s.root }

func (s *submissionsScreen) reload() {
	s.ui.touch()
	f := kiosk.SubmissionFilter{Query: s.query.Text, Limit: 200}
	if i := s.status.SelectedIndex(); i > 0 {
		f.Status = statusChoices[i].status
	}
	if i := s.period.SelectedIndex(); i > 0 {
		day := s.ui.now().In(kiosk.ChinaTime)
		start := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, kiosk.ChinaTime)
		f.From = start.AddDate(0, 0, 1-periodChoices[i].days)
	}
	list, err := s.ui.svc.Submissions.List(context.Background(), f)
	s.list.Objects = nil
	switch {
	case err != nil:
		s.count.SetText("读取办件失败：" + kiosk.ErrorMessage(err))
	case len(list) == 0:
		s.count.SetText("没有符合条件的办件")
	default:
		s.count.SetText(fmt.Sprintf("共 %d 件（最新的在前）", len(list)))
	}
	for _, r := range list {
		r := r
		left := container.NewVBox(
			text(r.MatterName, 22, colText, true),
			text(fmt.Sprintf("%s　%s　%s", cmp.Or(r.Applicant, purgedLabel), r.IDMasked, r.CreatedAt.In(kiosk.ChinaTime).Format("2006-01-02 15:04")), 19, colMuted, false),
			text("回执编号 "+r.ReceiptNo, 17, colMuted, false),
		)
		row := container.NewBorder(nil, nil, nil, container.NewCenter(statusBadge(r.Status)), left)
		s.list.Add(newCard(row, colCard, 0, func() { s.ui.openSubmission(r.ID) }))
	}
	s.list.Refresh()
}

func statusBadge(status string) fyne.CanvasObject {
	col := colPrimary
	switch status {
	case kiosk.StatusPending:
		col = colOrange
	case kiosk.StatusDone:
		col = colGreen
	case kiosk.StatusReturned, kiosk.StatusRefused:
		col = colDanger
	}
	return badge(kiosk.StatusLabel(status), col)
}

// submissionScreen shows one saved submission. Opening it is audited.
type submissionScreen struct {
	ui  *UI
	sub *kiosk.Submission
}

func (u *UI) openSubmission(id string) {
	u.touch()
	sub, err := u.svc.Submissions.Get(context.Background(), id)
	if err != nil {
		u.showNotice("无法打开这个办件：" + kiosk.ErrorMessage(err))
		return
	}
	u.svc.Audit.Record(context.Background(), u.agent.Name, kiosk.ActionView, sub.ReceiptNo, "")
	u.Go(&submissionScreen{ui: u, sub: sub})
}

func (s *submissionScreen) title() string { return s.sub.ReceiptNo }

func (s *submissionScreen) content() fyne.CanvasObject {
	sub := s.sub
	grid := container.New(layout.NewFormLayout())
	add := func(k, v string) {
		l := widget.NewLabel(k)
		l.Importance = widget.MediumImportance
		grid.Add(l)
		grid.Add(wrapped(v))
	}
	add("回执编号", sub.ReceiptNo)
	add("事项", fmt.Sprintf("%s（%s）", sub.MatterName, sub.Matter))
	if !sub.PurgedAt.IsZero() {
		add("申请人", purgedLabel)
		add("个人信息", "办结后按规定保存期满，已于"+sub.PurgedAt.In(kiosk.ChinaTime).Format("2006年1月2日")+"从本机删除（姓名、身份证号、手机号、表单和附件）。区人社局仍有完整档案。")
	} else if !sub.RestoredAt.IsZero() {
		add("申请人", sub.Applicant.Name)
		add("身份证号", sub.IDMasked)
		add("个人信息", "本机资料曾经损坏，这个办件于"+sub.RestoredAt.In(kiosk.ChinaTime).Format("2006年1月2日")+"从区平台取回，只有列表信息；完整档案在区人社局，需要补交材料也请联系区人社局。")
	} else {
		add("申请人", sub.Applicant.Name)
		add("身份证号", sub.IDMasked)
		add("其余资料", "手机号、表单和附件已加密，只有区人社局能打开。")
	}
	add("受理时间", sub.CreatedAt.In(kiosk.ChinaTime).Format("2006-01-02 15:04"))
	add("代办员", sub.Agent)
	mats := container.NewVBox(heading("材料"))
	for _, m := range sub.Materials {
		state := "已收到"
		if m.Owed {
			state = "容缺，需补交"
		} else if !m.Received {
			state = "未提供"
		}
		if n := len(m.Attachments); n > 0 {
			state += fmt.Sprintf("，附件%d个", n)
		}
		mats.Add(wrapped(fmt.Sprintf("• %s：%s", m.Name, state)))
	}
	actions := container.NewHBox()
	// A receipt without the applicant's details would be no receipt, and a
	// supplement would send the district a copy without them.
	if !sub.ListOnly() {
		actions.Add(tall(widget.NewButtonWithIcon("查看和补打回执", theme.DocumentPrintIcon(), func() { s.ui.Go(&receiptScreen{ui: s.ui, sub: sub}) })))
	}
	if sub.Status == kiosk.StatusReturned && !sub.ListOnly() {
		supplement := widget.NewButtonWithIcon("补交材料", theme.ContentAddIcon(), func() { s.ui.Go(s.ui.newSupplementScreen(sub)) })
		supplement.Importance = widget.HighImportance
		actions.Add(tall(supplement))
	}
	head := container.NewBorder(nil, nil, container.NewHBox(heading(sub.MatterName), container.NewCenter(statusBadge(sub.Status))), actions)
	advice := wrapped(kiosk.StatusAdvice(sub.Status, sub.DistrictNote))
	advice.TextStyle.Bold = true
	if sub.Status == kiosk.StatusReturned || sub.Status == kiosk.StatusRefused {
		advice.Importance = widget.DangerImportance
	}
	return container.NewVScroll(container.NewPadded(container.NewVBox(head, advice, container.NewGridWithColumns(2, grid, mats))))
}

// purgedLabel stands where a purged matter's applicant was.
const purgedLabel = "（已按规定删除）"

// auditScreen shows the audit log to an admin agent.
type auditScreen struct{ ui *UI }

func (s *auditScreen) title() string { return "操作记录" }

var actionLabels = map[string]string{
	kiosk.ActionSignIn:       "登录",
	kiosk.ActionSignInFailed: "登录失败",
	kiosk.ActionSignOut:      "锁屏",
	kiosk.ActionCreate:       "新建办件",
	kiosk.ActionView:         "查看办件",
	kiosk.ActionPrint:        "打印回执",
	kiosk.ActionAgentAdded:   "添加代办员",
	kiosk.ActionSupplement:   "补交材料",
	kiosk.ActionPurge:        "删除到期个人信息",
	kiosk.ActionRestore:      "从区平台取回办件",
	kiosk.ActionDeleteSealed: "删除已确认的加密资料",
}

func (s *auditScreen) content() fyne.CanvasObject {
	entries, err := s.ui.svc.Audit.List(context.Background(), 300)
	list := container.NewVBox(heading("操作记录（最新的在前，只能查看，不能修改）"))
	if err != nil {
		list.Add(wrapped("读取失败：" + kiosk.ErrorMessage(err)))
	}
	for _, e := range entries {
		action := actionLabels[e.Action]
		if action == "" {
			action = e.Action
		}
		line := fmt.Sprintf("%s　%s　%s　%s", e.At.In(kiosk.ChinaTime).Format("2006-01-02 15:04:05"), e.Agent, action, e.Subject)
		list.Add(text(line, 19, colText, false))
	}
	return container.NewVScroll(container.NewPadded(list))
}

// receiptScreen previews a submission's receipt as it will print, with a
// button to print it again (marked 补打 and audited).
type receiptScreen struct {
	ui  *UI
	sub *kiosk.Submission
}

func (s *receiptScreen) title() string { return "回执 " + s.sub.ReceiptNo }

func (s *receiptScreen) content() fyne.CanvasObject {
	img, err := s.ui.svc.Receipts.Preview(context.Background(), s.sub.ID)
	if err != nil {
		return container.NewPadded(wrapped("无法生成回执：" + kiosk.ErrorMessage(err)))
	}
	pic := canvas.NewImageFromImage(img)
	pic.FillMode = canvas.ImageFillContain
	pic.ScaleMode = canvas.ImageScaleSmooth
	// Rendered at twice the 58 mm printer's dots; shown at its paper size.
	pic.SetMinSize(fyne.NewSize(float32(img.Bounds().Dx())/2, float32(img.Bounds().Dy())/2))
	paper := canvas.NewRectangle(color.White)
	paper.StrokeColor = colBorder
	paper.StrokeWidth = 1
	reprint := widget.NewButtonWithIcon("补打回执", theme.DocumentPrintIcon(), func() { s.ui.printReceipt(s.sub, true) })
	reprint.Importance = widget.HighImportance
	note := wrapped("补打的回执会注明“补打”，并记入操作记录。")
	side := container.NewVBox(tall(reprint), note)
	return container.NewBorder(nil, nil, nil, container.NewPadded(container.NewGridWrap(fyne.NewSize(300, 200), side)),
		container.NewVScroll(container.NewCenter(container.NewStack(paper, pic))))
}

// printReceipt prints and tells the agent how it went; a failed print never
// touches the saved submission.
func (u *UI) printReceipt(sub *kiosk.Submission, reprint bool) bool {
	u.touch()
	if err := u.svc.Receipts.Print(context.Background(), sub.ID, reprint, u.agent); err != nil {
		u.showNotice("回执没有打印出来：" + kiosk.ErrorMessage(err))
		return false
	}
	return true
}

// supplementScreen adds what a returned matter (退回补正) lacked and sends it
// again under the same receipt number.
type supplementScreen struct {
	ui    *UI
	sub   *kiosk.Submission
	picks []*materialPick
	body  *fyne.Container
	errl  *widget.Label
}

func (s *supplementScreen) title() string { return "补交材料" }

func (u *UI) newSupplementScreen(sub *kiosk.Submission) *supplementScreen {
	s := &supplementScreen{ui: u, sub: sub, body: container.NewVBox(), errl: errorLabel()}
	reason := wrapped("区里退回的原因：" + sub.DistrictNote)
	reason.TextStyle.Bold = true
	reason.Importance = widget.DangerImportance
	send := widget.NewButtonWithIcon("重新提交", theme.UploadIcon(), s.onSend)
	send.Importance = widget.HighImportance
	s.body.Add(container.NewBorder(nil, nil, nil, tall(send), heading(sub.MatterName+"　"+sub.ReceiptNo)))
	s.body.Add(reason)
	s.body.Add(s.errl)
	catalog := map[string]kiosk.Material{}
	if _, item, ok := u.cat.Sub(sub.Matter); ok {
		for _, m := range item.Materials {
			catalog[m.Name] = m
		}
	}
	for _, m := range sub.Materials {
		def, ok := catalog[m.Name]
		if !ok { // the catalog changed since: what the submission says is enough
			def = kiosk.Material{Name: m.Name, Required: m.Required, Form: kiosk.Original, Copies: 1}
		}
		mp, row := u.newMaterialPick(def, func() { relayout(s.body) }, func() {})
		mp.received.SetChecked(m.Received && !m.Owed)
		s.picks = append(s.picks, mp)
		s.body.Add(row)
	}
	s.body.Add(attachmentLimits())
	return s
}

func (s *supplementScreen) content() fyne.CanvasObject {
	return container.NewVScroll(container.NewPadded(s.body))
}

func (s *supplementScreen) onSend() {
	var added []kiosk.MaterialInput
	for i, mp := range s.picks {
		was := s.sub.Materials[i]
		if mp.received.Checked && (!was.Received || len(mp.files) > 0) {
			in := kiosk.MaterialInput{Name: mp.mat.Name, Received: true}
			for _, f := range mp.files {
				in.Attachments = append(in.Attachments, f.att)
			}
			added = append(added, in)
		}
	}
	defer relayout(s.body)
	sub, err := s.ui.svc.Submissions.Supplement(context.Background(), s.sub.ID, added, s.ui.agent)
	if err != nil {
		setError(s.errl, kiosk.ErrorMessage(err))
		return
	}
	if s.ui.opts.SyncNow != nil {
		s.ui.opts.SyncNow()
	}
	s.ui.popScreen()
	s.ui.popScreen()
	s.ui.Go(&submissionScreen{ui: s.ui, sub: sub})
	s.ui.showNotice(fmt.Sprintf("已补交，回执编号不变（%s），联网后自动上传到区人社局。", sub.ReceiptNo))
}
