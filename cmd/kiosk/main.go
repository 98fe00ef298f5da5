// Command kiosk is the village service kiosk: with no arguments it opens the
// touchscreen window; subcommands serve scripts, tests and technicians.
package main

import (
	"context"
	"crypto/ed25519"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/app"
	"github.com/keqiao/villagekiosk/assets"
	_ "github.com/keqiao/villagekiosk/internal/zhlocale" // before Fyne reads the locale
	"github.com/keqiao/villagekiosk/receipt"
	"github.com/keqiao/villagekiosk/store"
)

const usage = `usage: kiosk [--data DIR] [--fullscreen]         open the kiosk window
       kiosk catalog --json                        print the effective catalog
       kiosk catalog install FILE                  validate and install a catalog file
       kiosk setup --point CODE --point-name NAME  set the service point (first start)
       kiosk agent add NAME --pin PIN [--admin]    add a village agent
       kiosk agent list
       kiosk submit --json FILE                    save a submission (docs/intake.md); prints the receipt number
       kiosk submissions [--json] [--status S] [--q TEXT]
                                                   list submissions
       kiosk receipt RECEIPT-NO [--out FILE.png|FILE.pdf] [--print] [--copy]
                                                   render or print a submission's receipt
       kiosk verify TEXT                           check a scanned receipt QR code offline
       kiosk printer set --kind K --target T --paper P | printer show | printer test
                                                   kinds: escpos-usb, escpos-tcp, cups, file
       kiosk settings set district-url URL | signature-line true|false | seal-key KEY
                         | sealed-keep-days N | retention-days N
       kiosk enroll --district URL --code CODE [--ca FILE]
                                                   enrol with the district platform (one-time code)
       kiosk sync --once                           one sync round: upload, statuses, heartbeat
       kiosk status --json                         the sync state
       kiosk shot SCREEN --out FILE.png [--size WxH]
                                                   render a screen without a display
                                                   (screens: ` + app.Screens + `)

Every command takes --data DIR (or KIOSK_DATA) to choose the data folder.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

//go:embed Icon.png
var icon []byte

func main() {
	os.Exit(Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs the kiosk with args and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd, args := splitCommand(args)
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	run, ok := commands[cmd]
	var err error
	if ok {
		err = run(ctx, args, stdout, stderr)
	} else {
		err = fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "kiosk:", err)
		return 1
	}
	return 0
}

// commands maps each subcommand to its function; "" opens the window.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"": runWindow, "catalog": runCatalog, "shot": runShot, "submit": runSubmit, "submissions": runSubmissions,
	"setup": runSetup, "agent": runAgent, "receipt": runReceipt, "verify": runVerify, "printer": runPrinter,
	"settings": runSettings, "enroll": runEnroll, "sync": runSync, "status": runStatus,
}

// splitCommand finds the subcommand wherever it stands among the global flags
// (`kiosk --data DIR shot home` and `kiosk shot home --data DIR` both work).
func splitCommand(args []string) (string, []string) {
	for i, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		if i > 0 && (args[i-1] == "--data" || args[i-1] == "-data") {
			continue
		}
		rest := append(append([]string(nil), args[:i]...), args[i+1:]...)
		return a, rest
	}
	return "", args
}

// flags is a flag set that accepts flags before and after positional
// arguments (`kiosk shot home --out x.png`) and always knows --data.
type flags struct {
	*flag.FlagSet
	data *string
}

func newFlags(name string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flags{FlagSet: fs, data: fs.String("data", os.Getenv("KIOSK_DATA"), "data folder")}
}

func (f *flags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			return nil, fmt.Errorf("%v\n\n%s", err, usage)
		}
		if f.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, f.Arg(0))
		args = f.Args()[1:]
	}
}

// open parses the arguments and opens the kiosk's services: the start of
// every command that works on the data folder.
func (f *flags) open(ctx context.Context, args []string) (*services, []string, error) {
	pos, err := f.parse(args)
	if err != nil {
		return nil, nil, err
	}
	s, err := openServices(ctx, f)
	return s, pos, err
}

// dataDir is the chosen data folder, or the OS user data folder.
func (f *flags) dataDir() (string, error) {
	if *f.data != "" {
		return filepath.Abs(*f.data)
	}
	return defaultDataDir()
}

func defaultDataDir() (string, error) {
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "VillageKiosk"), nil
		}
	case "darwin":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Application Support", "VillageKiosk"), nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "villagekiosk"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no data folder: set --data or KIOSK_DATA (%v)", err)
	}
	return filepath.Join(home, ".local", "share", "villagekiosk"), nil
}

// services opens the data folder's database and makes sure a catalog is
// installed.
type services struct {
	dir         string
	key         ed25519.PrivateKey
	receipts    *receipt.Service
	db          *store.DB
	catalog     *store.CatalogService
	settings    *store.SettingsService
	agents      *store.AgentService
	submissions *store.SubmissionService
	audit       *store.AuditService
}

func openServices(ctx context.Context, f *flags) (*services, error) {
	dir, err := f.dataDir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder %s: %w", dir, err)
	}
	db, err := store.Open(ctx, filepath.Join(dir, "kiosk.db"))
	if err != nil {
		return nil, err
	}
	// Every command says it, not only the window: a technician at the
	// command line must learn it too.
	if db.Recovered != "" {
		fmt.Fprintf(os.Stderr, "kiosk: warning: the database was damaged and moved to %s; a new one was started (re-enrol with a new code to take back the submissions)\n", db.Recovered)
	}
	if db.LostReceipts != "" {
		fmt.Fprintf(os.Stderr, "kiosk: warning: receipts %s were handed out but are missing from the database; numbering continues after them\n", db.LostReceipts)
	}
	if len(db.RecoveredSaves) > 0 {
		fmt.Fprintf(os.Stderr, "kiosk: the database had lost %d saves; they were put back from the copies beside it: %s\n", len(db.RecoveredSaves), strings.Join(db.RecoveredSaves, ", "))
	}
	cs := store.NewCatalogService(db)
	if _, err := cs.EnsureDefault(ctx, assets.DefaultCatalog); err != nil {
		db.Close()
		return nil, fmt.Errorf("install the default catalog: %w", err)
	}
	key, err := receipt.LoadOrCreateKey(dir)
	if err != nil {
		db.Close()
		return nil, err
	}
	cal, err := kiosk.ParseHolidayYears(assets.HolidayYears()...)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("holiday calendar: %w", err)
	}
	s := &services{
		dir: dir, key: key, db: db, catalog: cs, settings: store.NewSettingsService(db), agents: store.NewAgentService(db),
		submissions: store.NewSubmissionService(db), audit: store.NewAuditService(db),
	}
	s.receipts = &receipt.Service{Submissions: s.submissions, Catalog: s.catalog, Settings: s.settings, Audit: s.audit,
		Calendar: cal, ExtraHolidays: s.districtHolidays, Key: key, FileDir: filepath.Join(dir, "receipts")}
	s.sealLegacy(ctx)
	return s, nil
}

// sealLegacy seals what an older version kept in the clear, once the
// district's key is known (at start, and after enrolment).
func (s *services) sealLegacy(ctx context.Context) {
	if n, err := s.submissions.SealLegacy(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "kiosk: warning: sealing the submissions an older version kept in the clear: %v\n", err)
	} else if n > 0 {
		fmt.Fprintf(os.Stderr, "kiosk: sealed %d submissions an older version kept in the clear\n", n)
	}
}

// agentByName finds an agent account for commands that act as one.
func (s *services) agentByName(ctx context.Context, name string) (*kiosk.Agent, error) {
	list, err := s.agents.Agents(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range list {
		if a.Name == name {
			return &a, nil
		}
	}
	return nil, kiosk.Errorf(kiosk.ENotFound, "agent %q does not exist on this kiosk; add one with `kiosk agent add NAME --pin PIN`", name)
}

func (s *services) Close() error { return s.db.Close() }

func (s *services) ui() app.Services {
	return app.Services{Catalog: s.catalog, Settings: s.settings, Agents: s.agents, Submissions: s.submissions, Audit: s.audit, Receipts: s.receipts}
}

func runCatalog(ctx context.Context, args []string, stdout, _ io.Writer) error {
	f := newFlags("catalog")
	asJSON := f.Bool("json", false, "print the effective catalog as JSON")
	s, pos, err := f.open(ctx, args)
	if err != nil {
		return err
	}
	defer s.Close()
	switch {
	case len(pos) == 2 && pos[0] == "install":
		doc, err := os.ReadFile(pos[1])
		if err != nil {
			return fmt.Errorf("read catalog file: %w", err)
		}
		c, err := s.catalog.Install(ctx, doc, kiosk.OriginFile)
		if err != nil {
			_, info, _ := s.catalog.Active(ctx)
			return fmt.Errorf("%s: %w\nthe catalog in use is still version %s", pos[1], err, info.Version)
		}
		mains, subs := c.Stats()
		fmt.Fprintf(stdout, "installed catalog %s: %d main items, %d sub-items\n", c.Version, mains, subs)
		return nil
	case len(pos) == 0 && *asJSON:
		c, _, err := s.catalog.Active(ctx)
		if err != nil {
			return err
		}
		return printJSON(stdout, c)
	case len(pos) == 0:
		c, info, err := s.catalog.Active(ctx)
		if err != nil {
			return err
		}
		mains, subs := c.Stats()
		fmt.Fprintf(stdout, "catalog %s (%s, installed %s): %d main items, %d sub-items\n", info.Version, info.Origin, info.InstalledAt, mains, subs)
		return nil
	}
	return fmt.Errorf("catalog: unexpected arguments %q\n\n%s", pos, usage)
}

func runShot(ctx context.Context, args []string, stdout, _ io.Writer) error {
	f := newFlags("shot")
	out := f.String("out", "", "PNG file to write")
	size := f.String("size", "1280x800", "window size WxH")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return fmt.Errorf("shot needs one SCREEN and --out FILE.png\n\n%s", usage)
	}
	w, h, err := parseSize(*size)
	if err != nil {
		return err
	}
	s, err := openServices(ctx, f)
	if err != nil {
		return err
	}
	defer s.Close()
	// Off the main goroutine: Fyne's thread checks treat the main goroutine
	// as the GL driver's, which the software driver does not have.
	var img image.Image
	done := make(chan struct{})
	go func() {
		defer close(done)
		img, err = app.Shot(pos[0], fyne.NewSize(w, h), s.ui())
	}()
	<-done
	if err != nil {
		return err
	}
	file, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := png.Encode(file, img); err != nil {
		file.Close()
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if err := file.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%dx%d)\n", *out, img.Bounds().Dx(), img.Bounds().Dy())
	return nil
}

func parseSize(s string) (float32, float32, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w < 320 || h < 240 || w > 7680 || h > 4320 {
		return 0, 0, fmt.Errorf("size %q is not WIDTHxHEIGHT in pixels, e.g. 1280x800", s)
	}
	return float32(w), float32(h), nil
}

func runWindow(ctx context.Context, args []string, _, stderr io.Writer) error {
	f := newFlags("kiosk")
	fullscreen := f.Bool("fullscreen", false, "fill the screen (kiosk mode)")
	idle := f.Duration("idle", 3*time.Minute, "lock the screen after this long without a touch")
	scanDir := f.String("scan-dir", os.Getenv("KIOSK_SCAN_DIR"), "folder where the scanner or document camera saves files")
	if pos, err := f.parse(args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected arguments %q\n\n%s", pos, usage)
	}
	if runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errors.New("no display: the kiosk window needs a graphical session (DISPLAY or WAYLAND_DISPLAY is not set). Start it from the terminal's desktop, or try it without a screen with: xvfb-run kiosk")
	}
	s, err := openServices(ctx, f)
	if err != nil {
		return err
	}
	defer s.Close()

	// go build does not read FyneApp.toml (only the fyne tool does), so the
	// metadata it holds is set here too; fyneDo says every UI update from
	// another goroutine goes through fyne.Do.
	fyneapp.SetMetadata(fyne.AppMetadata{
		ID: "cn.gov.keqiao.villagekiosk", Name: "村级便民服务", Version: version,
		Migrations: map[string]bool{"fyneDo": true},
	})
	a := fyneapp.NewWithID("cn.gov.keqiao.villagekiosk")
	a.Settings().SetTheme(app.Theme())
	a.SetIcon(fyne.NewStaticResource("Icon.png", icon))
	w := a.NewWindow("村级便民服务")
	w.Resize(fyne.NewSize(1280, 800))
	w.SetFullScreen(*fullscreen)
	opts := app.Options{IdleTimeout: *idle, ScanFolder: *scanDir, ScanPoll: 2 * time.Second}
	var ui *app.UI
	show := func(online bool, waiting int, last time.Time, problem string) {
		fyne.Do(func() {
			if ui != nil {
				ui.SetSyncStatus(online, waiting, last, problem)
			}
		})
	}
	progress := func(sent, total int64) {
		fyne.Do(func() {
			if ui != nil {
				ui.SetSyncProgress(sent, total)
			}
		})
	}
	var schedMu sync.Mutex // the scheduler may start later, after enrolment on the settings screen
	sched, syncNow, err := s.startSync(ctx, show, progress)
	if err != nil {
		return err
	}
	defer func() {
		schedMu.Lock()
		defer schedMu.Unlock()
		if sched != nil {
			sched.Shutdown()
		}
	}()
	if sched != nil {
		opts.SyncNow = syncNow
	}
	opts.Enroll = func(ectx context.Context, base, code, ca string) (string, error) {
		e, err := s.enroll(ectx, base, code, ca)
		if err != nil {
			return "", enrollProblem(err)
		}
		msg := fmt.Sprintf("已接入区平台：%s（%s），设备编号 %s。", e.pointName, e.pointCode, e.device)
		if e.reattached {
			msg += fmt.Sprintf("本机资料曾经损坏，已从区平台取回 %d 件办件。", e.takenBack)
		}
		schedMu.Lock()
		defer schedMu.Unlock()
		if sched == nil {
			if sched, syncNow, err = s.startSync(ctx, show, progress); err == nil && sched != nil {
				fyne.Do(func() { ui.EnableSync(syncNow) })
			}
		}
		return msg, nil
	}
	if s.db.Recovered != "" {
		opts.Notice = fmt.Sprintf("本机数据文件损坏，已原样移到 %s 保存，系统已新建数据文件继续使用。请联系技术人员恢复数据，不要删除该文件。", s.db.Recovered)
	}
	if len(s.db.RecoveredSaves) > 0 {
		opts.Notice = strings.TrimSpace(opts.Notice + "\n\n" + fmt.Sprintf("本机数据文件在断电时丢失了最近保存的办件，已从本机的保存副本中全部恢复：\n%s\n这些办件会照常上传，回执编号不变。", strings.Join(s.db.RecoveredSaves, "、")))
	}
	if s.db.LostReceipts != "" {
		// The numbers on a line of their own: the villagers' receipts are
		// searched for by them.
		lost := fmt.Sprintf("本机缺少以下已发出的回执（可能因断电受损）：\n%s\n这些办件没有上传到区里，请联系持有这些回执的村民重新办理。新回执编号会接着往后排，不会重复。", s.db.LostReceipts)
		opts.Notice = strings.TrimSpace(opts.Notice + "\n\n" + lost)
	}
	u, err := app.New(w, s.ui(), opts)
	if err != nil {
		return err
	}
	fyne.Do(func() { ui = u })
	go func() {
		for range time.Tick(5 * time.Second) {
			fyne.Do(u.CheckIdle)
		}
	}()
	w.ShowAndRun()
	return nil
}

// printJSON writes v indented, with Chinese left readable.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
