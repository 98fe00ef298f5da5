package app

import (
	"context"
	"encoding/json"

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
	form := container.NewVBox(heading("回执打印机"), container.NewGridWithColumns(2, s.kind, right))
	s.root = container.NewVScroll(container.NewPadded(form))
	return s
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
