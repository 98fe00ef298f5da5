package app

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	kiosk "github.com/keqiao/villagekiosk"
)

// errorLabel is red text shown under a field; empty hides it.
func errorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

func setError(l *widget.Label, msg string) {
	l.SetText(msg)
	if msg == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

// field is a labelled input with its error line.
func field(label string, input fyne.CanvasObject, errl *widget.Label, hint string) fyne.CanvasObject {
	box := container.NewVBox(widget.NewLabelWithStyle(label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), tall(input))
	if hint != "" {
		h := widget.NewLabel(hint)
		h.Importance = widget.MediumImportance
		h.Wrapping = fyne.TextWrapWord
		box.Add(h)
	}
	box.Add(errl)
	return box
}

// setupScreen is shown on first start: the service point and the first agent.
type setupScreen struct {
	ui                                 *UI
	code, name, agent, p1, p2          *widget.Entry
	errCode, errName, errAgent, errPIN *widget.Label
	root                               fyne.CanvasObject
}

func (u *UI) newSetupScreen() *setupScreen {
	s := &setupScreen{ui: u,
		code: widget.NewEntry(), name: widget.NewEntry(), agent: widget.NewEntry(),
		p1: widget.NewPasswordEntry(), p2: widget.NewPasswordEntry(),
		errCode: errorLabel(), errName: errorLabel(), errAgent: errorLabel(), errPIN: errorLabel(),
	}
	s.code.SetPlaceHolder("例如 330603101201")
	s.name.SetPlaceHolder("例如 柯桥区平水镇王化村便民服务中心")
	s.agent.SetPlaceHolder("代办员的真实姓名")
	s.p1.SetPlaceHolder("4到8位数字")
	s.p2.SetPlaceHolder("再输入一次")
	if p, err := u.svc.Settings.Point(context.Background()); err == nil {
		s.code.SetText(p.Code)
		s.name.SetText(p.Name)
	}
	done := widget.NewButtonWithIcon("完成设置", theme.ConfirmIcon(), s.onDone)
	done.Importance = widget.HighImportance
	title := widget.NewLabelWithStyle("首次使用：设置本服务点", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	form := container.NewGridWithColumns(2,
		field("服务点编码", s.code, s.errCode, "写进每张回执的编号里，必须是本服务点自己的编码（如村的12位统计区划代码）"),
		field("服务点名称", s.name, s.errName, ""),
		field("第一位代办员姓名", s.agent, s.errAgent, "第一位代办员是管理员，可以查看操作记录、添加其他代办员"),
		container.NewVBox(field("登录密码", s.p1, s.errPIN, ""), field("确认密码", s.p2, errorLabel(), "")),
	)
	s.root = container.NewVScroll(container.NewPadded(container.NewVBox(title, form, container.NewHBox(layout.NewSpacer(), tall(done)))))
	return s
}

func (s *setupScreen) onDone() {
	ctx := context.Background()
	defer relayout(s.root)
	for _, l := range []*widget.Label{s.errCode, s.errName, s.errAgent, s.errPIN} {
		setError(l, "")
	}
	if s.p1.Text != s.p2.Text {
		setError(s.errPIN, "两次输入的密码不一样，请重新输入")
		return
	}
	err := s.ui.svc.Settings.SetPoint(ctx, kiosk.PointInfo{Code: s.code.Text, Name: s.name.Text})
	if err != nil {
		msg := kiosk.ErrorMessage(err)
		if strings.Contains(msg, "名称") {
			setError(s.errName, msg)
		} else {
			setError(s.errCode, msg)
		}
		return
	}
	a, err := s.ui.svc.Agents.CreateAgent(ctx, s.agent.Text, s.p1.Text, true)
	if err != nil {
		msg := kiosk.ErrorMessage(err)
		if strings.Contains(msg, "密码") {
			setError(s.errPIN, msg)
		} else {
			setError(s.errAgent, msg)
		}
		return
	}
	s.ui.signedIn(a)
}

// lockScreen asks an agent to sign in. It shows nothing about any villager.
type lockScreen struct {
	ui     *UI
	agents []kiosk.Agent
	chosen *kiosk.Agent
	pin    *widget.Entry
	who    *widget.Label
	errl   *widget.Label
	names  *fyne.Container
	pinPad *fyne.Container
	root   fyne.CanvasObject
}

func (u *UI) newLockScreen() *lockScreen {
	s := &lockScreen{ui: u, pin: widget.NewPasswordEntry(), who: widget.NewLabel(""), errl: errorLabel()}
	s.agents, _ = u.svc.Agents.Agents(context.Background())
	s.pin.SetPlaceHolder("输入密码")
	s.pin.OnSubmitted = func(string) { s.onSignIn() }
	s.who.TextStyle.Bold = true
	s.who.SizeName = theme.SizeNameSubHeadingText

	s.names = container.NewGridWithColumns(3)
	for i := range s.agents {
		a := &s.agents[i]
		s.names.Add(newCard(container.NewCenter(text(a.Name, 28, colPrimary, true)), colCard, 96, func() { s.choose(a) }))
	}

	keys := container.NewGridWithColumns(3)
	for _, k := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "删除", "0", "确定"} {
		k := k
		b := widget.NewButton(k, func() { s.key(k) })
		if k == "确定" {
			b.Importance = widget.HighImportance
		}
		keys.Add(container.NewStack(tallBy(72), b))
	}
	other := widget.NewButton("换一位代办员", func() { s.choose(nil) })
	s.pinPad = container.NewVBox(s.who, tall(s.pin), s.errl, keys, tall(other))

	point := ""
	if p, err := u.svc.Settings.Point(context.Background()); err == nil {
		point = p.Name
	}
	title := container.NewVBox(
		container.NewCenter(text("村级便民服务", 40, colPrimary, true)),
		container.NewCenter(text(point, 22, colMuted, false)),
		container.NewCenter(text("请代办员登录", 24, colText, false)),
	)
	body := container.NewStack(container.NewVBox(s.names), s.pinPad)
	s.root = container.NewPadded(container.NewBorder(container.NewPadded(title), nil, nil, nil,
		container.NewCenter(container.NewGridWrap(fyne.NewSize(720, 560), container.NewVScroll(body)))))
	s.choose(nil)
	if len(s.agents) == 1 {
		s.choose(&s.agents[0])
	}
	return s
}

func (s *lockScreen) choose(a *kiosk.Agent) {
	s.chosen = a
	s.pin.SetText("")
	setError(s.errl, "")
	defer relayout(s.root)
	if a == nil {
		s.pinPad.Hide()
		s.names.Show()
		return
	}
	s.who.SetText(a.Name + "，请输入密码")
	s.names.Hide()
	s.pinPad.Show()
	if c := fyne.CurrentApp().Driver().CanvasForObject(s.pin); c != nil {
		c.Focus(s.pin)
	}
}

func (s *lockScreen) key(k string) {
	switch k {
	case "删除":
		if t := s.pin.Text; t != "" {
			s.pin.SetText(t[:len(t)-1])
		}
	case "确定":
		s.onSignIn()
	default:
		if len(s.pin.Text) < 8 {
			s.pin.SetText(s.pin.Text + k)
		}
	}
}

func (s *lockScreen) onSignIn() {
	if s.chosen == nil {
		return
	}
	a, err := s.ui.svc.Agents.SignIn(context.Background(), s.chosen.Name, s.pin.Text)
	s.pin.SetText("")
	if err != nil {
		setError(s.errl, kiosk.ErrorMessage(err))
		relayout(s.root)
		return
	}
	s.ui.signedIn(a)
}
