// Package app is the kiosk's Fyne user interface, in Simplified Chinese, for a
// touchscreen. Each screen is a struct holding its widgets; services come in
// through domain interfaces, so the UI never touches the database.
package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/search"
)

// Services are what the UI needs from the rest of the kiosk.
type Services struct {
	Catalog kiosk.CatalogService
}

// Options are start-up notices and settings.
type Options struct {
	// Notice is shown once at start, e.g. that a damaged database was moved aside.
	Notice string
}

// screen is one page of the kiosk.
type screen interface {
	title() string
	content() fyne.CanvasObject
}

// UI is the kiosk window's content and navigation.
type UI struct {
	win  fyne.Window
	svc  Services
	opts Options

	cat     *kiosk.Catalog
	catInfo kiosk.CatalogInfo
	index   *search.Index

	stack       []screen // navigation history; the last is shown
	beforeQuery []screen // the history to return to when the search is cleared

	search *widget.Entry
	back   *widget.Button
	crumb  *widget.Label
	body   *fyne.Container
	footer *canvas.Text
}

// New builds the UI in win and shows the home screen.
func New(win fyne.Window, svc Services, opts Options) (*UI, error) {
	u := &UI{win: win, svc: svc, opts: opts}
	if err := u.reloadCatalog(); err != nil {
		return nil, err
	}
	u.build()
	u.Go(u.homeScreen())
	if opts.Notice != "" {
		u.showNotice(opts.Notice)
	}
	return u, nil
}

func (u *UI) reloadCatalog() error {
	cat, info, err := u.svc.Catalog.Active(context.Background())
	if err != nil {
		return fmt.Errorf("load catalog: %w", err)
	}
	u.cat, u.catInfo, u.index = cat, info, search.New(cat)
	return nil
}

func (u *UI) build() {
	u.search = widget.NewEntry()
	u.search.SetPlaceHolder("搜索事项：输入汉字或拼音，如 社保卡、sbk、yanglao")
	u.search.OnChanged = u.onSearch

	u.back = widget.NewButtonWithIcon("返回", theme.NavigateBackIcon(), u.onBack)
	home := widget.NewButtonWithIcon("首页", theme.HomeIcon(), u.onHome)
	home.Importance = widget.HighImportance
	clear := widget.NewButtonWithIcon("", theme.ContentClearIcon(), func() { u.search.SetText("") })

	brand := text("村级便民服务", 26, colPrimary, true)
	header := container.NewBorder(nil, nil,
		container.NewHBox(container.NewCenter(brand), tall(u.back), tall(home)),
		tall(clear),
		tall(u.search))

	u.crumb = widget.NewLabel("")
	u.crumb.Importance = widget.MediumImportance
	u.crumb.Truncation = fyne.TextTruncateEllipsis

	mains, subs := u.cat.Stats()
	u.footer = text(fmt.Sprintf("事项目录 %s · %d 个主项 · %d 个子项 · 无网络也可使用", u.catInfo.Version, mains, subs), 17, colMuted, false)

	u.body = container.NewStack()
	top := container.NewVBox(container.NewPadded(header), widget.NewSeparator(), u.crumb)
	u.win.SetContent(container.NewBorder(top, container.NewPadded(u.footer), nil, nil, u.body))
}

// Go shows s, adding it to the history.
func (u *UI) Go(s screen) {
	u.stack = append(u.stack, s)
	u.render()
}

func (u *UI) render() {
	s := u.stack[len(u.stack)-1]
	var names []string
	for _, h := range u.stack {
		names = append(names, h.title())
	}
	u.crumb.SetText(strings.Join(names, "  ›  "))
	u.back.Disable()
	if len(u.stack) > 1 {
		u.back.Enable()
	}
	u.body.Objects = []fyne.CanvasObject{s.content()}
	u.body.Refresh()
}

func (u *UI) onBack() {
	if len(u.stack) > 1 {
		u.stack = u.stack[:len(u.stack)-1]
		if _, ok := u.stack[len(u.stack)-1].(*searchScreen); !ok && u.search.Text != "" {
			u.beforeQuery = nil
			u.search.OnChanged = nil
			u.search.SetText("")
			u.search.OnChanged = u.onSearch
		}
		u.render()
	}
}

func (u *UI) onHome() {
	u.search.OnChanged = nil
	u.search.SetText("")
	u.search.OnChanged = u.onSearch
	u.beforeQuery = nil
	u.stack = u.stack[:1]
	u.render()
}

// onSearch updates the results as the agent types; clearing the box returns
// to where the agent was.
func (u *UI) onSearch(q string) {
	if strings.TrimSpace(q) == "" {
		if u.beforeQuery != nil {
			u.stack = u.beforeQuery
			u.beforeQuery = nil
			u.render()
		}
		return
	}
	if u.beforeQuery == nil {
		u.beforeQuery = append([]screen(nil), u.stack...)
	}
	s := &searchScreen{ui: u, query: q, hits: u.index.Find(q)}
	u.stack = append(append([]screen(nil), u.beforeQuery...), s)
	u.render()
}

func (u *UI) showNotice(msg string) {
	d := widget.NewModalPopUp(nil, u.win.Canvas())
	ok := widget.NewButton("知道了", func() { d.Hide() })
	ok.Importance = widget.HighImportance
	body := container.NewVBox(heading("请注意"), wrapped(msg), layout.NewSpacer(), tall(ok))
	d.Content = container.NewPadded(body)
	d.Resize(fyne.NewSize(640, 0))
	d.Show()
}

// Search types q into the search box, as the agent would.
func (u *UI) Search(q string) { u.search.SetText(q) }
