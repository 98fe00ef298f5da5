package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	kiosk "github.com/keqiao/villagekiosk"
)

// The steps of taking a matter.
const (
	stepApplicant = iota
	stepMaterials
	stepConsent
	stepReview
	stepSaved
)

var stepNames = []string{"申请人信息", "收取材料", "告知与同意", "核对提交"}

// consentNotice is what the agent reads or shows to the villager before
// anything is saved (PIPL: what, why, how long, who).
const consentNotice = `为办理您申请的事项，我们需要收集：您的姓名、身份证号、手机号，本事项表单中的内容，以及您提供的证件和材料的扫描件或照片。

这些信息只用于办理本事项：由村代办员录入，上传到柯桥区人力资源和社会保障局，由区里的经办人员审核办理。不会用于其他用途，也不会提供给其他单位，法律法规另有规定的除外。

本机上的完整资料是加密的，只有区人社局能打开，区里确认收到后7天内删除；本机办件记录中的姓名在办结后90天删除。区里按社会保险、就业等业务档案管理规定的期限保存。

您可以随时向代办员或拨打12333查询、更正您的信息。回执上的二维码不含您的姓名和身份证号。`

// pickedFile is an attachment staged for a material, with the path it was
// picked from for the thumbnail, or the image itself when the scanner's
// copy was taken away (the kiosk keeps its own sealed and cannot read it).
type pickedFile struct {
	att   kiosk.Attachment
	src   string
	image []byte
}

// intakeScreen takes one matter through the steps. It holds the draft in
// memory only; locking the kiosk drops it.
type intakeScreen struct {
	ui   *UI
	main *kiosk.MainItem
	sub  *kiosk.SubItem
	step int

	draftID               string
	name, idNumber, phone *widget.Entry
	errs                  map[string]*widget.Label // by field path
	fields                map[string]func() string
	setters               map[string]func(string)
	materials             []*materialPick
	consent               *widget.Check

	pages   [stepSaved + 1]fyne.CanvasObject
	saved   *kiosk.Submission
	printed bool

	// scanNote says how many scans wait in the scanner's folder while the
	// agent is on the materials step; stopWatch ends its polling.
	scanNote  *widget.Label
	stopWatch func()
	submit    *widget.Button
	body      *fyne.Container
	bar       *fyne.Container
	nav       *fyne.Container
	root      fyne.CanvasObject
}

// materialPick is one catalog material on the materials step.
type materialPick struct {
	mat      kiosk.Material
	received *widget.Check
	files    []pickedFile
	thumbs   *fyne.Container
	owedNote *widget.Label
	errl     *widget.Label
	changed  func() // lays the page out again after thumbnails or notes change
}

func (u *UI) newIntake(m *kiosk.MainItem, s *kiosk.SubItem) *intakeScreen {
	in := &intakeScreen{ui: u, main: m, sub: s, errs: map[string]*widget.Label{}, fields: map[string]func() string{}, setters: map[string]func(string){},
		draftID: fmt.Sprintf("%s-%d", s.Code, u.now().UnixNano())}
	in.body = container.NewStack()
	in.bar = container.NewHBox()
	in.nav = container.NewHBox()
	in.buildApplicant()
	in.buildMaterials()
	in.consent = widget.NewCheck("申请人已知悉以上内容，同意收集和使用其个人信息", func(bool) { in.ui.touch(); in.clearErr("consent") })
	in.errs["consent"] = errorLabel()
	in.submit = widget.NewButtonWithIcon("确认提交", theme.ConfirmIcon(), in.onSubmit)
	in.submit.Importance = widget.HighImportance
	in.root = container.NewBorder(opaque(container.NewPadded(in.bar)), opaque(container.NewPadded(in.nav)), nil, nil, in.body)
	in.show(stepApplicant)
	return in
}

func (in *intakeScreen) title() string { return "办理：" + in.sub.Name }

func (in *intakeScreen) content() fyne.CanvasObject { return in.root }

// goBack moves one step back; on the first step it asks before dropping
// what was typed.
func (in *intakeScreen) goBack() bool {
	switch {
	case in.step == stepSaved:
		in.ui.onHome()
	case in.step > stepApplicant:
		in.show(in.step - 1)
	default:
		dialog.ShowConfirm("放弃办理", "放弃这次录入吗？已填写的内容不会保存。", func(yes bool) {
			if yes {
				in.ui.popScreen()
			}
		}, in.ui.win)
	}
	return true
}

func (in *intakeScreen) entry(path, placeholder string) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder(placeholder)
	e.OnChanged = func(string) { in.ui.touch(); in.clearErr(path) }
	in.errs[path] = errorLabel()
	return e
}

func (in *intakeScreen) clearErr(path string) {
	if l := in.errs[path]; l != nil && l.Visible() {
		setError(l, "")
		relayout(in.body)
	}
}

func (in *intakeScreen) buildApplicant() {
	in.name = in.entry("applicant.name", "与身份证一致，生僻字可用手写输入")
	in.idNumber = in.entry("applicant.id_number", "18位，最后一位可能是X")
	in.phone = in.entry("applicant.phone", "11位手机号")
	blocks := []fyne.CanvasObject{
		field("申请人姓名 *", in.name, in.errs["applicant.name"], ""),
		field("身份证号 *", in.idNumber, in.errs["applicant.id_number"], ""),
		field("手机号 *", in.phone, in.errs["applicant.phone"], ""),
	}
	for _, f := range in.sub.Form {
		path := "fields." + f.ID
		label := f.Label
		if f.Required {
			label += " *"
		}
		var input fyne.CanvasObject
		switch f.Kind {
		case kiosk.KindChoice:
			in.errs[path] = errorLabel()
			onPick := func(string) { in.ui.touch(); in.clearErr(path) }
			if len(f.Options) <= 3 {
				r := widget.NewRadioGroup(f.Options, onPick)
				r.Horizontal = true
				in.fields[f.ID] = func() string { return r.Selected }
				in.setters[f.ID] = r.SetSelected
				input = r
			} else {
				s := widget.NewSelect(f.Options, onPick)
				s.PlaceHolder = "请选择"
				in.fields[f.ID] = func() string { return s.Selected }
				in.setters[f.ID] = s.SetSelected
				input = s
			}
		default:
			e := in.entry(path, placeholderFor(f.Kind))
			in.fields[f.ID] = func() string { return e.Text }
			in.setters[f.ID] = e.SetText
			input = e
		}
		blocks = append(blocks, field(label, input, in.errs[path], f.Hint))
	}
	note := widget.NewLabel("带 * 的必须填写。")
	note.Importance = widget.MediumImportance
	in.pages[stepApplicant] = container.NewVScroll(container.NewPadded(container.NewVBox(
		heading(in.sub.Name), note, twoColumns(blocks))))
}

func placeholderFor(k kiosk.FieldKind) string {
	switch k {
	case kiosk.KindDate:
		return "年-月-日，如 2026-03-01"
	case kiosk.KindIDNumber:
		return "18位身份证号"
	case kiosk.KindPhone:
		return "11位手机号"
	case kiosk.KindNumber:
		return "数字"
	case kiosk.KindBankAccount:
		return "银行卡号，12到19位数字"
	}
	return ""
}

func (in *intakeScreen) buildMaterials() {
	in.scanNote = widget.NewLabel("")
	in.scanNote.Importance = widget.HighImportance
	in.scanNote.TextStyle.Bold = true
	in.scanNote.Hide()
	list := container.NewVBox(heading(fmt.Sprintf("请逐项核对申请人带来的材料（共%d项）", len(in.sub.Materials))), in.scanNote)
	for _, m := range in.sub.Materials {
		path := "materials." + m.Name
		mp, row := in.ui.newMaterialPick(m, func() { relayout(in.body) }, func() { in.clearErr(path) })
		in.errs[path] = mp.errl
		list.Add(row)
		in.materials = append(in.materials, mp)
	}
	list.Add(attachmentLimits())
	in.pages[stepMaterials] = container.NewVScroll(container.NewPadded(list))
}

// checkScans shows how many scans wait in the scanner's folder: a scan the
// agent added is taken out of it, so each one there is still to be added.
func (in *intakeScreen) checkScans() {
	n := len(scanFiles(in.ui.opts.ScanFolder, 100))
	if n == 0 || in.ui.opts.ScanFolder == "" {
		if in.scanNote.Visible() {
			in.scanNote.Hide()
			relayout(in.body)
		}
		return
	}
	text := fmt.Sprintf("扫描仪里有 %d 份新扫描件还没有添加：点对应材料下的“从扫描仪取”。", n)
	if text != in.scanNote.Text || !in.scanNote.Visible() {
		in.scanNote.SetText(text)
		in.scanNote.Show()
		relayout(in.body)
	}
}

// watchScans polls the scanner's folder while the materials step is shown
// (Options.ScanPoll), so a scan is noticed the moment it lands. It stops
// itself once the agent has moved on.
func (in *intakeScreen) watchScans() {
	every := in.ui.opts.ScanPoll
	if every <= 0 || in.ui.opts.ScanFolder == "" || in.stopWatch != nil {
		return
	}
	stop := make(chan struct{})
	in.stopWatch = func() { close(stop); in.stopWatch = nil }
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fyne.Do(func() {
					if in.stopWatch == nil {
						return
					}
					if in.step != stepMaterials || len(in.ui.stack) == 0 || in.ui.stack[len(in.ui.stack)-1] != screen(in) {
						in.stopWatch()
						return
					}
					in.checkScans()
				})
			}
		}
	}()
}

func attachmentLimits() fyne.CanvasObject {
	l := widget.NewLabel("附件只能是图片（JPG、PNG等）或PDF，单个不超过10 MB。")
	l.Importance = widget.MediumImportance
	return l
}

// newMaterialPick builds the card of one material: its name and form, the
// 已收到 check, buttons to add a file or a scan, thumbnails, and whether it
// will be owed. changed lays the page out again; ticked runs on each tick.
func (u *UI) newMaterialPick(m kiosk.Material, changed, ticked func()) (*materialPick, fyne.CanvasObject) {
	mp := &materialPick{mat: m, thumbs: container.NewHBox(), owedNote: widget.NewLabel(""), errl: errorLabel(), changed: changed}
	mp.owedNote.Importance = widget.WarningImportance
	mp.owedNote.Wrapping = fyne.TextWrapWord
	mp.received = widget.NewCheck("已收到", func(bool) { u.touch(); ticked(); mp.refresh() })
	need := "选交"
	if m.Required {
		need = "必交"
	}
	name := widget.NewLabelWithStyle(m.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Wrapping = fyne.TextWrapWord
	info := fmt.Sprintf("%s %d 份 · %s", m.Form.Label(), m.Copies, need)
	if m.Deferrable {
		info += " · 可容缺，后补"
	}
	if m.Note != "" {
		info += " · " + m.Note
	}
	infoLabel := widget.NewLabel(info)
	infoLabel.Importance = widget.MediumImportance
	infoLabel.Wrapping = fyne.TextWrapWord
	pick := widget.NewButtonWithIcon("选择文件", theme.FolderOpenIcon(), func() { u.pickFile(mp) })
	scan := widget.NewButtonWithIcon("从扫描仪取", theme.DocumentIcon(), func() { u.pickScan(mp) })
	if u.opts.ScanFolder == "" {
		scan.Disable()
	}
	top := container.NewBorder(nil, nil, nil, container.NewCenter(container.NewHBox(container.NewCenter(mp.received), tall(pick), tall(scan))), container.NewVBox(name, infoLabel))
	row := newCard(container.NewVBox(top, mp.thumbs, mp.owedNote, mp.errl), colCard, 0, nil)
	mp.refresh()
	return mp, row
}

// refresh shows the thumbnails and whether the material will be owed.
func (mp *materialPick) refresh() {
	mp.thumbs.Objects = nil
	for i := range mp.files {
		mp.thumbs.Add(thumbnail(mp.files[i], func() { mp.remove(i) }))
	}
	mp.thumbs.Refresh()
	switch {
	case mp.received.Checked:
		mp.owedNote.Hide()
	case mp.mat.Required && mp.mat.Deferrable:
		mp.owedNote.SetText("未收到：将记为容缺，回执上写明需补交")
		mp.owedNote.Show()
	default:
		mp.owedNote.Hide()
	}
	if mp.changed != nil {
		mp.changed()
	}
}

func (mp *materialPick) remove(i int) {
	mp.files = append(mp.files[:i], mp.files[i+1:]...)
	mp.refresh()
}

// thumbnail shows a picked image small, or a document icon for a PDF, with a
// button to take it away again.
func thumbnail(f pickedFile, onRemove func()) fyne.CanvasObject {
	var pic fyne.CanvasObject
	if strings.HasPrefix(f.att.MIME, "image/") && (f.src != "" || f.image != nil) {
		img := canvas.NewImageFromFile(f.src)
		if f.image != nil {
			img = canvas.NewImageFromResource(fyne.NewStaticResource(f.att.Name, f.image))
		}
		img.FillMode = canvas.ImageFillContain
		img.ScaleMode = canvas.ImageScaleFastest
		img.SetMinSize(fyne.NewSize(120, 90))
		pic = img
	} else {
		pic = container.NewCenter(widget.NewIcon(theme.FileIcon()))
	}
	name := text(shorten(f.att.Name, 10), 15, colMuted, false)
	rm := widget.NewButtonWithIcon("", theme.DeleteIcon(), onRemove)
	return container.NewVBox(container.NewStack(tallBy(90), pic), container.NewBorder(nil, nil, nil, rm, name))
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// addFile stages a file for a material: copied into the data folder now, so
// a scan that is moved or deleted afterwards is not lost.
func (in *intakeScreen) addFile(mp *materialPick, path string) { in.ui.stageInto(mp, path) }

// stageInto copies a picked or scanned file into the data folder for a
// material and shows it; a refused file says why under the material.
func (u *UI) stageInto(mp *materialPick, path string) {
	u.touch()
	a, err := u.svc.Submissions.Stage(context.Background(), path)
	if err != nil {
		setError(mp.errl, kiosk.ErrorMessage(err))
		mp.refresh()
		return
	}
	setError(mp.errl, "")
	pf := pickedFile{att: a, src: path}
	if u.fromScanner(path) {
		// The scan is now kept sealed in the data folder; the scanner's
		// copy in the clear goes, so no villager's ID card waits there for
		// the next person at this terminal. The thumbnail keeps the picture
		// in memory until the matter is saved or dropped.
		if data, err := os.ReadFile(path); err == nil && strings.HasPrefix(a.MIME, "image/") {
			pf.image = data
		}
		if err := os.Remove(path); err == nil {
			pf.src = ""
		}
	}
	mp.files = append(mp.files, pf)
	mp.received.SetChecked(true)
	mp.refresh()
}

// pickFile lets the agent choose a file from disk for a material.
func (u *UI) pickFile(mp *materialPick) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		u.stageInto(mp, path)
	}, u.win)
	d.Resize(fyne.NewSize(1000, 680))
	d.Show()
}

// scanFiles lists the newest files in the watched scanner folder.
func scanFiles(dir string, max int) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	type file struct {
		path string
		mod  time.Time
	}
	var files []file
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if info, err := e.Info(); err == nil {
			files = append(files, file{filepath.Join(dir, e.Name()), info.ModTime()})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.After(files[j].mod) })
	var out []string
	for i := 0; i < len(files) && i < max; i++ {
		out = append(out, files[i].path)
	}
	return out
}

// fromScanner says whether path is in the scanner's folder.
func (u *UI) fromScanner(path string) bool {
	if u.opts.ScanFolder == "" {
		return false
	}
	rel, err := filepath.Rel(u.opts.ScanFolder, path)
	return err == nil && rel == filepath.Base(path)
}

// pickScan offers the newest scans from the scanner's folder as large tiles.
func (u *UI) pickScan(mp *materialPick) {
	files := scanFiles(u.opts.ScanFolder, 12)
	if len(files) == 0 {
		dialog.ShowInformation("扫描仪文件夹是空的", "请先在扫描仪或高拍仪上扫描，再点“从扫描仪取”。\n文件夹："+u.opts.ScanFolder, u.win)
		return
	}
	grid := container.NewGridWithColumns(4)
	var pop *widget.PopUp
	for _, f := range files {
		f := f
		pf := pickedFile{att: kiosk.Attachment{Name: filepath.Base(f), MIME: mimeByName(f)}, src: f}
		grid.Add(newCard(thumbnail(pf, nil), colCard, 0, func() { pop.Hide(); u.stageInto(mp, f) }))
	}
	cancel := widget.NewButton("取消", func() { pop.Hide() })
	pop = widget.NewModalPopUp(container.NewBorder(heading("点一下要添加的扫描件"), tall(cancel), nil, nil, container.NewVScroll(grid)), u.win.Canvas())
	pop.Resize(fyne.NewSize(1000, 640))
	pop.Show()
}

func mimeByName(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".pdf":
		return "application/pdf"
	case ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp":
		return "image/"
	}
	return ""
}

// draft collects what has been entered.
func (in *intakeScreen) draft() *kiosk.Draft {
	d := &kiosk.Draft{
		DraftID:   in.draftID,
		Matter:    in.sub.Code,
		Applicant: kiosk.Applicant{Name: in.name.Text, IDNumber: in.idNumber.Text, Phone: in.phone.Text},
		Fields:    map[string]string{},
		Consent:   in.consent.Checked,
	}
	for id, get := range in.fields {
		if v := get(); v != "" {
			d.Fields[id] = v
		}
	}
	for _, mp := range in.materials {
		mi := kiosk.MaterialInput{Name: mp.mat.Name, Received: mp.received.Checked}
		for _, f := range mp.files {
			mi.Attachments = append(mi.Attachments, f.att)
		}
		d.Materials = append(d.Materials, mi)
	}
	return d
}

// stepPrefixes says which field errors belong to which step.
var stepPrefixes = map[int][]string{
	stepApplicant: {"applicant.", "fields.", "matter"},
	stepMaterials: {"materials"},
	stepConsent:   {"consent"},
}

// check validates the draft and shows the errors of the given steps next to
// their fields; it reports whether those steps are fine.
func (in *intakeScreen) check(steps ...int) bool {
	_, _, errs := in.ui.cat.Check(in.draft(), in.ui.now(), in.ui.limits())
	return in.showErrors(errs, steps...)
}

func (in *intakeScreen) showErrors(errs kiosk.FieldErrors, steps ...int) bool {
	defer relayout(in.body)
	ok := true
	for _, step := range steps {
		for path, l := range in.errs {
			for _, p := range stepPrefixes[step] {
				if strings.HasPrefix(path, p) {
					setError(l, errs.For(path))
				}
			}
		}
		for _, e := range errs {
			for _, p := range stepPrefixes[step] {
				if strings.HasPrefix(e.Field, p) {
					ok = false
					if in.errs[e.Field] == nil { // an error not tied to one field
						dialog.ShowInformation("请检查", e.Message, in.ui.win)
					}
				}
			}
		}
	}
	return ok
}

func (in *intakeScreen) onNext() {
	in.ui.touch()
	if !in.check(in.step) {
		return
	}
	in.show(in.step + 1)
}

func (in *intakeScreen) onSubmit() {
	in.ui.touch()
	if in.saved != nil {
		return
	}
	in.submit.Disable() // a second tap while saving does nothing
	defer in.submit.Enable()
	sub, err := in.ui.svc.Submissions.Save(context.Background(), in.draft(), in.ui.agent)
	var errs kiosk.FieldErrors
	if errors.As(err, &errs) {
		for _, step := range []int{stepApplicant, stepMaterials, stepConsent} {
			if !in.showErrors(errs, step) {
				in.show(step)
				return
			}
		}
	}
	if err != nil {
		dialog.ShowInformation("没有保存", kiosk.ErrorMessage(err)+"\n\n已录入的内容还在，可以稍后再点“确认提交”。", in.ui.win)
		return
	}
	in.saved = sub
	in.printed = in.ui.printReceipt(sub, false) // the villager leaves with it
	if in.ui.opts.SyncNow != nil {
		in.ui.opts.SyncNow() // upload at once when the district is reachable
	}
	in.show(stepSaved)
}

// show switches to a step and rebuilds the step bar and the buttons.
func (in *intakeScreen) show(step int) {
	in.step = step
	in.bar.Objects = nil
	for i, n := range stepNames {
		col, bold := colMuted, false
		switch {
		case i == step:
			col, bold = colPrimary, true
		case i < step:
			col = colGreen
		}
		mark := fmt.Sprintf("%d", i+1)
		if i < step {
			mark = "✓"
		}
		in.bar.Add(text(fmt.Sprintf("%s %s", mark, n), 22, col, bold))
		if i < len(stepNames)-1 {
			in.bar.Add(text("  ›  ", 22, colMuted, false))
		}
	}
	in.bar.Refresh()

	back := widget.NewButtonWithIcon("上一步", theme.NavigateBackIcon(), func() { in.goBack() })
	next := widget.NewButtonWithIcon("下一步", theme.NavigateNextIcon(), in.onNext)
	next.Importance = widget.HighImportance
	next.IconPlacement = widget.ButtonIconTrailingText
	var page fyne.CanvasObject
	switch step {
	case stepApplicant:
		back.SetText("取消办理")
		page = in.pages[stepApplicant]
		in.nav.Objects = []fyne.CanvasObject{tall(back), layout.NewSpacer(), tall(next)}
	case stepMaterials:
		page = in.pages[stepMaterials]
		in.nav.Objects = []fyne.CanvasObject{tall(back), layout.NewSpacer(), tall(next)}
		in.checkScans()
		in.watchScans()
	case stepConsent:
		notice := wrapped(consentNotice)
		notice.SizeName = theme.SizeNameSubHeadingText
		page = container.NewVScroll(container.NewPadded(container.NewVBox(
			heading("请向申请人说明（也可以请申请人自己看屏幕）"), notice, in.consent, in.errs["consent"])))
		in.nav.Objects = []fyne.CanvasObject{tall(back), layout.NewSpacer(), tall(next)}
	case stepReview:
		page = in.reviewPage()
		in.nav.Objects = []fyne.CanvasObject{tall(back), layout.NewSpacer(), tall(in.submit)}
	case stepSaved:
		page = in.savedPage()
		home := widget.NewButtonWithIcon("返回首页", theme.HomeIcon(), in.ui.onHome)
		home.Importance = widget.HighImportance
		list := widget.NewButtonWithIcon("办件查询", theme.ListIcon(), in.ui.openSubmissions)
		label := "再打一张"
		if !in.printed {
			label = "打印回执"
		}
		again := widget.NewButtonWithIcon(label, theme.DocumentPrintIcon(), func() {
			if in.ui.printReceipt(in.saved, in.printed) {
				in.printed = true
				in.show(stepSaved)
			}
		})
		in.nav.Objects = []fyne.CanvasObject{tall(list), tall(again), layout.NewSpacer(), tall(home)}
	}
	in.nav.Refresh()
	in.body.Objects = []fyne.CanvasObject{page}
	in.body.Refresh()
}

func (in *intakeScreen) reviewPage() fyne.CanvasObject {
	d := in.draft()
	d2 := *d
	in.ui.cat.Check(&d2, in.ui.now(), in.ui.limits()) // normalised values, as they will be saved
	rows := [][2]string{
		{"事项", fmt.Sprintf("%s（%s）", in.sub.Name, in.sub.Code)},
		{"申请人", d2.Applicant.Name},
		{"身份证号", d2.Applicant.IDNumber},
		{"手机号", d2.Applicant.Phone},
	}
	for _, f := range in.sub.Form {
		if v := d2.Fields[f.ID]; v != "" {
			rows = append(rows, [2]string{f.Label, v})
		}
	}
	grid := container.New(layout.NewFormLayout())
	for _, r := range rows {
		k := widget.NewLabel(r[0])
		k.Importance = widget.MediumImportance
		grid.Add(k)
		grid.Add(wrapped(r[1]))
	}
	mats := container.NewVBox(heading("材料"))
	for _, mp := range in.materials {
		state := "✓ 已收到"
		col := colGreen
		switch {
		case mp.received.Checked && len(mp.files) > 0:
			state = fmt.Sprintf("✓ 已收到，附件%d个", len(mp.files))
		case !mp.received.Checked && mp.mat.Required:
			state, col = "容缺，需补交", colOrange
		case !mp.received.Checked:
			state, col = "未提供（选交）", colMuted
		}
		mats.Add(container.NewBorder(nil, nil, nil, text(state, 20, col, true), wrapped(mp.mat.Name)))
	}
	limit := newCard(container.NewVBox(text("办理时限", 17, colMuted, false), text(in.sub.TimeLimit.Text(), 24, colPrimary, true)), colCard, 0, nil)
	return container.NewVScroll(container.NewPadded(container.NewVBox(
		heading("请与申请人一起核对，无误后点“确认提交”"), limit,
		// Room on the right so the scroll bar never covers a material's state.
		container.NewGridWithColumns(2, grid, container.New(layout.NewCustomPaddedLayout(0, 0, 0, 20), mats)))))
}

func (in *intakeScreen) savedPage() fyne.CanvasObject {
	s := in.saved
	lines := container.NewVBox(
		container.NewCenter(text("已保存", 40, colGreen, true)),
		container.NewCenter(text("回执编号", 20, colMuted, false)),
		container.NewCenter(text(s.ReceiptNo, 36, colText, true)),
		container.NewCenter(text(fmt.Sprintf("%s · %s · %s", s.MatterName, s.Applicant.Name, kiosk.StatusLabel(s.Status)), 22, colText, false)),
		container.NewCenter(text("本机已保存，联网后自动上传到区人社局。", 20, colMuted, false)),
	)
	if owed := s.Owed(); len(owed) > 0 {
		lines.Add(container.NewCenter(text("需补交："+strings.Join(owed, "、"), 22, colOrange, true)))
	}
	if in.printed {
		lines.Add(container.NewCenter(text("回执已打印，请交给申请人。", 22, colGreen, true)))
	} else {
		lines.Add(container.NewCenter(text("回执没有打印出来，请检查打印机后点“打印回执”。", 22, colDanger, true)))
	}
	return container.NewCenter(lines)
}

// setField sets a form field as the agent would.
func (in *intakeScreen) setField(f kiosk.Field, v string) { in.setters[f.ID](v) }

// twoColumns lays blocks out two to a row, each row as tall as its own
// tallest block (a grid would make every row as tall as the tallest of all).
func twoColumns(blocks []fyne.CanvasObject) fyne.CanvasObject {
	rows := container.NewVBox()
	for i := 0; i < len(blocks); i += 2 {
		row := container.NewGridWithColumns(2, blocks[i])
		if i+1 < len(blocks) {
			row.Add(blocks[i+1])
		}
		rows.Add(row)
	}
	return rows
}
