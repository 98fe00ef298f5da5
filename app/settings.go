package app

import (
	"context"
	"encoding/json"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/receipt"
)

// printerKinds are the printer choices in the agent's words.
var printerKinds = []struct{ label, kind, paper, hint string }{
	{"热敏小票打印机（USB）", receipt.KindUSB, "58", "设备文件，一般是 /dev/usb/lp0"},
	{"热敏小票打印机（网络）", receipt.KindTCP, "58", "打印机的网络地址，如 192.168.1.50:9100"},
	{"办公室打印机（A4/A5）", receipt.KindCUPS, "A5", "系统打印机名称，不填用默认打印机"},
	{"保存为文件", receipt.KindFile, "png", "保存回执的文件夹"},
}

var paperChoices = map[string][]string{
	receipt.KindUSB: {"58", "80"}, receipt.KindTCP: {"58", "80"}, receipt.KindCUPS: {"A5", "A4"}, receipt.KindFile: {"png", "pdf"},
}

// settingsScreen lets an admin agent choose the printer and test it.
type settingsScreen struct {
	ui     *UI
	kind   *widget.RadioGroup
	target *widget.Entry
	paper  *widget.Select
	hint   *widget.Label
	errl   *widget.Label
	status *widget.Label
	root   fyne.CanvasObject

	enrollState, enrollErr *widget.Label
}

func (s *settingsScreen) title() string { return "设置" }

func (s *settingsScreen) content() fyne.CanvasObject { return s.root }

func (u *UI) newSettingsScreen() *settingsScreen {
	s := &settingsScreen{ui: u, target: widget.NewEntry(), hint: widget.NewLabel(""), errl: errorLabel(), status: widget.NewLabel("")}
	var labels []string
	for _, k := range printerKinds {
		labels = append(labels, k.label)
	}
	s.paper = widget.NewSelect(nil, nil)
	s.paper.PlaceHolder = "请选择"
	s.kind = widget.NewRadioGroup(labels, func(string) { u.touch(); s.onKind() })
	s.hint.Wrapping = fyne.TextWrapWord
	s.status.Wrapping = fyne.TextWrapWord

	raw, _ := u.svc.Settings.Get(context.Background(), kiosk.SettingPrinter)
	var cfg receipt.Config
	if json.Unmarshal([]byte(raw), &cfg) == nil {
		for _, k := range printerKinds {
			if k.kind == cfg.Kind {
				s.kind.SetSelected(k.label)
			}
		}
		s.target.SetText(cfg.Target)
		s.paper.SetSelected(cfg.Paper)
	} else {
		s.status.SetText("还没有设置打印机：回执暂时保存为图片文件。")
	}

	save := widget.NewButtonWithIcon("保存", theme.DocumentSaveIcon(), func() { s.onSave() })
	save.Importance = widget.HighImportance
	testPrint := widget.NewButtonWithIcon("打印测试页", theme.DocumentPrintIcon(), s.onTest)
	right := container.NewVBox(
		field("打印机位置", s.target, s.errl, ""), s.hint,
		widget.NewLabelWithStyle("纸张", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), tall(s.paper),
		container.NewHBox(tall(save), tall(testPrint)), s.status,
	)
	form := container.NewVBox()
	if u.opts.Enroll != nil {
		form.Add(s.districtSection())
		form.Add(widget.NewSeparator())
	}
	form.Add(heading("回执打印机"))
	form.Add(container.NewGridWithColumns(2, s.kind, right))
	s.root = container.NewVScroll(container.NewPadded(form))
	return s
}

// districtSection enrols the kiosk with the district: the technician types
// the district's address and the one-time code the district issued.
func (s *settingsScreen) districtSection() fyne.CanvasObject {
	u := s.ui
	ctx := context.Background()
	url, code, ca := widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	url.SetPlaceHolder("https://rs.keqiao.example")
	code.SetPlaceHolder("区里发的10位登记码")
	ca.SetPlaceHolder("可不填：区平台自有证书的 PEM 文件路径")
	state := widget.NewLabel("")
	state.Wrapping = fyne.TextWrapWord
	if base, _ := u.svc.Settings.Get(ctx, kiosk.SettingDistrictURL); base != "" {
		if key, _ := u.svc.Settings.Get(ctx, kiosk.SettingSealKey); key != "" {
			state.SetText("已接入区平台：" + base + "。换一个登记码可以重新接入（例如本机资料损坏后）。")
			url.SetText(base)
		}
	}
	if state.Text == "" {
		state.SetText("还没有接入区平台：可以办件查询和浏览事项，但不能保存新办件。")
	}
	s.enrollErr, s.enrollState = errorLabel(), state
	var enroll *widget.Button
	enroll = widget.NewButtonWithIcon("接入区平台", theme.LoginIcon(), func() {
		u.touch()
		enroll.Disable()
		state.SetText("正在连接区平台…")
		setError(s.enrollErr, "")
		base, c, caFile := url.Text, code.Text, ca.Text
		u.background(func() {
			ectx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			msg, err := u.opts.Enroll(ectx, base, c, caFile)
			fyne.Do(func() {
				enroll.Enable()
				defer relayout(s.root)
				if err != nil {
					state.SetText("没有接入。")
					setError(s.enrollErr, kiosk.ErrorMessage(err))
					return
				}
				code.SetText("")
				state.SetText(msg)
			})
		})
	})
	enroll.Importance = widget.HighImportance
	return container.NewVBox(heading("接入区平台"), state,
		container.NewGridWithColumns(2,
			container.NewVBox(field("区平台地址", url, errorLabel(), ""), field("登记码", code, s.enrollErr, "")),
			container.NewVBox(field("证书文件", ca, errorLabel(), ""), tall(enroll))))
}

func (s *settingsScreen) selected() (kind, hint string) {
	for _, k := range printerKinds {
		if k.label == s.kind.Selected {
			return k.kind, k.hint
		}
	}
	return "", ""
}

func (s *settingsScreen) onKind() {
	kind, hint := s.selected()
	s.hint.SetText(hint)
	s.paper.Options = paperChoices[kind]
	if len(s.paper.Options) > 0 {
		s.paper.SetSelected(s.paper.Options[0])
	}
	s.paper.Refresh()
}

func (s *settingsScreen) onSave() bool {
	s.ui.touch()
	kind, _ := s.selected()
	cfg := receipt.Config{Kind: kind, Target: s.target.Text, Paper: s.paper.Selected}
	defer relayout(s.root)
	if err := cfg.Validate(); err != nil {
		setError(s.errl, kiosk.ErrorMessage(err))
		return false
	}
	setError(s.errl, "")
	data, _ := json.Marshal(cfg)
	if err := s.ui.svc.Settings.Set(context.Background(), kiosk.SettingPrinter, string(data)); err != nil {
		s.status.SetText("没有保存：" + kiosk.ErrorMessage(err))
		return false
	}
	s.status.SetText("已保存。")
	return true
}

func (s *settingsScreen) onTest() {
	if !s.onSave() {
		return
	}
	if err := s.ui.svc.Receipts.PrintTest(context.Background()); err != nil {
		s.status.SetText("测试页没有打印出来：" + kiosk.ErrorMessage(err))
		return
	}
	s.status.SetText("测试页已发送到打印机，请看看是否清楚、完整。")
}
