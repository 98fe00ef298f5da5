// Package browsertest runs Debian's headless Chromium for tests through
// chromedp: a fresh profile per test, the flags that work as root on a
// closed network, and screenshots for the docs. A test that needs the
// browser fails, never skips, when Chromium is missing.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	gosync "sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Chromium is the browser the tests drive (Debian's chromium package).
const Chromium = "/usr/bin/chromium"

// New starts a headless Chromium with a window of width×height and returns
// a context for chromedp.Run; the browser is closed when the test ends.
func New(t testing.TB, width, height int) context.Context {
	t.Helper()
	path := Chromium
	if p := os.Getenv("CHROMIUM"); p != "" {
		path = p
	}
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("headless Chromium is needed for this test and %s is missing (apt-get install chromium): %v", path, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser: no timeout on it, or the timeout
	// would stop the browser too (chromedp.Run's doc); later actions get one.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// Screenshot writes a PNG of the whole page to path (relative to the
// repository's root) when UPDATE_SCREENSHOTS=1, so the docs show what the
// tests saw.
func Screenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	shoot(t, ctx, path, chromedp.FullScreenshot(100))
}

// ScreenshotWindow is Screenshot of what the window shows, as a person
// sees it before scrolling.
func ScreenshotWindow(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	shoot(t, ctx, path, chromedp.CaptureScreenshot())
}

func shoot(t testing.TB, ctx context.Context, path string, action chromedp.Action[[]byte]) {
	t.Helper()
	if os.Getenv("UPDATE_SCREENSHOTS") != "1" {
		return
	}
	png, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, path)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", out)
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// WatchDialogs records every JavaScript dialog (alert, confirm, prompt) that
// opens in the tab of ctx from now on, and dismisses it; the returned func
// lists their messages. A page that escapes what people typed opens none.
func WatchDialogs(t testing.TB, ctx context.Context) func() []string {
	t.Helper()
	var mu gosync.Mutex
	var seen []string
	// The listener may not send commands: the dialog is dismissed from
	// another goroutine.
	err := chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			mu.Lock()
			seen = append(seen, d.Message)
			mu.Unlock()
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	})
	if err != nil {
		t.Fatalf("watch for dialogs: %v", err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}
