// Package app is the kiosk's Fyne user interface, in Simplified Chinese, for a
// touchscreen. Each screen is a struct holding its widgets; services come in
// through domain interfaces, so the UI never touches the database.
package app

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

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
	Catalog     kiosk.CatalogService
	Settings    kiosk.SettingsService
	Agents      kiosk.AgentService
	Submissions kiosk.SubmissionService
	Audit       kiosk.AuditService
	Receipts    kiosk.ReceiptService
}

// Options are start-up notices and settings.
type Options struct {
	// Notice is shown once at start, e.g. that a damaged database was moved aside.
	Notice string
	// IdleTimeout locks the kiosk after this long without a touch; 0 means
	// the default of 3 minutes.
	IdleTimeout time.Duration
	// ScanFolder is where the scanner or document camera saves its files.
	ScanFolder string
	// ScanPoll is how often the materials step looks for new scans in
	// ScanFolder; 0 looks only when the step is shown.
	ScanPoll time.Duration
	// Limits on attachments; zero means kiosk.DefaultLimits.
	Limits kiosk.Limits
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SyncNow starts a sync round at once (the 立即同步 button, and after
	// each save); nil while the kiosk is not enrolled with a district.
	SyncNow func()
	// Enroll enrols the kiosk with the district (the settings screen's
	// 接入区平台): the district's URL, its one-time code and, for a district
	// with its own CA, the CA's PEM file. It returns what to tell the
	// technician, in Chinese, or an error in Chinese. nil: no enrolment here.
	Enroll func(ctx context.Context, districtURL, code, caFile string) (string, error)
}

// screen is one page of the kiosk.
type screen interface {
	title() string
	content() fyne.CanvasObject
}

// backer is a screen that handles 返回 itself (the intake steps).
type backer interface{ goBack() bool }

// UI is the kiosk window's content and navigation.
type UI struct {
	win  fyne.Window
	svc  Services
	opts Options

	cat     *kiosk.Catalog
	catInfo kiosk.CatalogInfo
	index   *search.Index

	agent        *kiosk.Agent // nil while locked
	lockView     *lockScreen  // the sign-in or set-up screen while locked
	setupView    *setupScreen
	lastActivity time.Time

	stack       []screen // navigation history; the last is shown
	beforeQuery []screen // the history to return to when the search is cleared

	main     fyne.CanvasObject // header, body and footer, shown when signed in
	search   *widget.Entry
	back     *widget.Button
	audit    *widget.Button
	settings *widget.Button
	crumb    *widget.Label
	body     *fyne.Container
	who      *canvas.Text
	footer   *canvas.Text
	sync     *canvas.Text    // the sync state in the footer
	status   *fyne.Container // the sync state, the bar and 立即同步
	// background runs slow work (network) off the UI's goroutine; tests
	// run it in place.
	background func(func())
	progress   *widget.ProgressBar
	progBox    *fyne.Container // holds the bar; hidden, it takes no room
}

// New builds the UI in win. It shows first-start set-up when the kiosk has
// no service point or agent yet, and the lock screen otherwise.
func New(win fyne.Window, svc Services, opts Options) (*UI, error) {
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 3 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	u := &UI{win: win, svc: svc, opts: opts, background: func(f func()) { go f() }}
	if err := u.reloadCatalog(); err != nil {
		return nil, err
	}
	u.build()
	u.Lock()
	if opts.Notice != "" {
		u.showNotice(opts.Notice)
	}
	return u, nil
}

func (u *UI) now() time.Time { return u.opts.Now() }

func (u *UI) limits() kiosk.Limits {
	if u.opts.Limits.MaxFileBytes == 0 {
		return kiosk.DefaultLimits
	}
	return u.opts.Limits
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
	u.search.SetPlaceHolder("搜索事项：汉字或拼音，如 社保卡、sbk")
	u.search.OnChanged = u.onSearch

	u.back = widget.NewButtonWithIcon("返回", theme.NavigateBackIcon(), u.onBack)
	home := widget.NewButtonWithIcon("首页", theme.HomeIcon(), u.onHome)
	home.Importance = widget.HighImportance
	clear := widget.NewButtonWithIcon("", theme.ContentClearIcon(), func() { u.search.SetText("") })
	records := widget.NewButtonWithIcon("办件查询", theme.ListIcon(), u.openSubmissions)
	u.audit = widget.NewButtonWithIcon("操作记录", theme.HistoryIcon(), func() { u.touch(); u.Go(&auditScreen{ui: u}) })
	u.settings = widget.NewButtonWithIcon("设置", theme.SettingsIcon(), func() { u.onHome(); u.Go(u.newSettingsScreen()) })
	lock := widget.NewButtonWithIcon("锁屏", theme.LogoutIcon(), u.onLock)

	header := container.NewBorder(nil, nil,
		container.NewHBox(tall(u.back), tall(home)),
		container.NewHBox(tall(clear), tall(records), tall(u.audit), tall(u.settings), tall(lock)),
		tall(u.search))

	u.crumb = widget.NewLabel("")
	u.crumb.Truncation = fyne.TextTruncateEllipsis

	u.who = text("", 17, colText, true)
	mains, subs := u.cat.Stats()
	u.footer = text(fmt.Sprintf("事项目录 %s · %d 个主项 · %d 个子项 · 无网络也可使用", u.catInfo.Version, mains, subs), 17, colMuted, false)

	u.body = container.NewStack()
	top := container.NewVBox(container.NewPadded(header), widget.NewSeparator(), u.crumb)
	u.sync = text("未连接区平台：办件保存在本机", 17, colMuted, false)
	u.progress = widget.NewProgressBar()
	u.progBox = container.NewGridWrap(fyne.NewSize(160, 28), u.progress)
	u.progBox.Hide()
	u.status = container.NewHBox(u.sync, u.progBox)
	if u.opts.SyncNow != nil {
		u.addSyncNow()
	}
	bottom := container.NewPadded(container.NewHBox(u.who, layout.NewSpacer(), u.status, layout.NewSpacer(), u.footer))
	u.main = container.NewBorder(opaque(top), opaque(bottom), nil, nil, u.body)
}

// needsSetup says whether the first start has not been completed.
func (u *UI) needsSetup() bool {
	ctx := context.Background()
	if _, err := u.svc.Settings.Point(ctx); err != nil {
		return true
	}
	agents, err := u.svc.Agents.Agents(ctx)
	return err != nil || len(agents) == 0
}

// Lock drops everything on screen and in memory about the current work and
// shows the sign-in screen.
func (u *UI) Lock() {
	if u.agent != nil {
		u.svc.Audit.Record(context.Background(), u.agent.Name, kiosk.ActionSignOut, u.agent.Name, "")
	}
	u.agent = nil
	u.stack, u.beforeQuery = nil, nil
	// A catalog the district published meanwhile takes effect here, between
	// two agents' work, never in the middle of a matter.
	if err := u.reloadCatalog(); err != nil {
		log.Printf("catalog: %v", err)
	}
	u.body.Objects = nil
	u.search.OnChanged = nil
	u.search.SetText("")
	u.search.OnChanged = u.onSearch
	for _, o := range u.win.Canvas().Overlays().List() {
		u.win.Canvas().Overlays().Remove(o)
	}
	u.lockView, u.setupView = nil, nil
	if u.needsSetup() {
		u.setupView = u.newSetupScreen()
		u.win.SetContent(u.setupView.root)
		return
	}
	u.lockView = u.newLockScreen()
	u.win.SetContent(u.lockView.root)
}

func (u *UI) onLock() { u.Lock() }

func (u *UI) signedIn(a *kiosk.Agent) {
	u.agent = a
	u.touch()
	point := ""
	if p, err := u.svc.Settings.Point(context.Background()); err == nil {
		point = p.Name + " · "
	}
	u.who.Text = point + "代办员 " + a.Name
	u.who.Refresh()
	if a.Admin {
		u.audit.Show()
		u.settings.Show()
	} else {
		u.audit.Hide()
		u.settings.Hide()
	}
	u.stack = []screen{u.homeScreen()}
	u.win.SetContent(u.main)
	u.render()
}

// touch records activity, pushing the idle lock back.
func (u *UI) touch() { u.lastActivity = u.now() }

// CheckIdle locks the kiosk if nobody has touched it for the idle timeout.
// cmd/kiosk calls it every few seconds through fyne.Do.
func (u *UI) CheckIdle() {
	if u.agent != nil && u.now().Sub(u.lastActivity) >= u.opts.IdleTimeout {
		u.Lock()
	}
}

// Go shows s, adding it to the history.
func (u *UI) Go(s screen) {
	u.touch()
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
	u.touch()
	if b, ok := u.stack[len(u.stack)-1].(backer); ok && b.goBack() {
		return
	}
	u.popScreen()
}

// popScreen leaves the current screen.
func (u *UI) popScreen() {
	if len(u.stack) <= 1 {
		return
	}
	u.stack = u.stack[:len(u.stack)-1]
	if _, ok := u.stack[len(u.stack)-1].(*searchScreen); !ok && u.search.Text != "" {
		u.beforeQuery = nil
		u.search.OnChanged = nil
		u.search.SetText("")
		u.search.OnChanged = u.onSearch
	}
	u.render()
}

func (u *UI) onHome() {
	u.touch()
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
	u.touch()
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

// addSyncNow puts 立即同步 in the footer.
func (u *UI) addSyncNow() {
	u.sync.Text = "正在连接区平台…"
	u.status.Add(widget.NewButtonWithIcon("立即同步", theme.ViewRefreshIcon(), func() { u.touch(); u.opts.SyncNow() }))
}

// EnableSync shows 立即同步 once the kiosk is enrolled from the settings
// screen and its sync rounds have started.
func (u *UI) EnableSync(now func()) {
	if u.opts.SyncNow != nil || now == nil {
		return
	}
	u.opts.SyncNow = now
	u.addSyncNow()
	u.status.Refresh()
}

// SetSyncStatus shows the sync state in the footer: online or not, how many
// wait, when the last round succeeded. Call it through fyne.Do.
func (u *UI) SetSyncStatus(online bool, waiting int, last time.Time, problem string) {
	switch {
	case problem != "":
		u.sync.Text, u.sync.Color = fmt.Sprintf("离线 · %d 件待上传 · %s", waiting, problem), colOrange
	case waiting > 0:
		u.sync.Text, u.sync.Color = fmt.Sprintf("在线 · %d 件待上传", waiting), colPrimary
	default:
		u.sync.Text, u.sync.Color = "在线 · 全部已上传", colGreen
	}
	if !last.IsZero() {
		u.sync.Text += " · 上次同步 " + last.In(kiosk.ChinaTime).Format("15:04")
	}
	u.sync.Refresh()
}

// SetSyncProgress shows how much of the round's attachments went out; a
// total of 0 hides the bar. Call it through fyne.Do.
func (u *UI) SetSyncProgress(sent, total int64) {
	if total <= 0 {
		u.progBox.Hide()
		return
	}
	u.progress.SetValue(float64(sent) / float64(total))
	u.progBox.Show()
}
