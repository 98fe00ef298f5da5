package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/seal"
	"github.com/keqiao/villagekiosk/sync/district"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCatalogJSON checks the shipped default catalog as `kiosk catalog --json`
// prints it: the standard 37 main items and 131 sub-items, each complete.
func TestCatalogJSON(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := run(t, "catalog", "--json", "--data", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var raw struct {
		MainItems []struct {
			Code     string            `json:"code"`
			Name     string            `json:"name"`
			SubItems []json.RawMessage `json:"sub_items"`
		} `json:"main_items"`
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	c, err := kiosk.ParseCatalog([]byte(out))
	if err != nil {
		t.Fatalf("printed catalog does not validate: %v", err)
	}
	if m, s := c.Stats(); m != 37 || s != 131 {
		t.Fatalf("got %d main items and %d sub-items, want 37 and 131", m, s)
	}
	if len(raw.MainItems) != 37 {
		t.Fatalf("main_items has %d entries, want 37", len(raw.MainItems))
	}
	for _, m := range c.MainItems {
		for _, s := range m.SubItems {
			if len(s.LegalBasis) == 0 || len(s.Materials) == 0 || len(s.Procedure) == 0 || len(s.BackOffice) == 0 ||
				len(s.Form) == 0 || len(s.Channels) == 0 || s.Fee == "" || s.Result == "" {
				t.Errorf("%s %s: an element is empty", s.Code, s.Name)
			}
		}
	}
}

func TestCatalogInstall(t *testing.T) {
	data := t.TempDir()
	good, err := os.ReadFile("../../testdata/catalog-small.json")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "district.json")
	os.WriteFile(file, good, 0o644)
	if code, out, errOut := run(t, "catalog", "install", file, "--data", data); code != 0 || !strings.Contains(out, "installed catalog test.1: 2 main items, 3 sub-items") {
		t.Fatalf("install: exit %d, %q %q", code, out, errOut)
	}

	t.Run("ErrInvalidKeepsOld", func(t *testing.T) {
		broken := strings.Replace(string(good), `"procedure": [
            {"name": "村代办员录入参保信息", "actor": "村代办员"}
          ],`, `"procedure": [],`, 1)
		broken = strings.Replace(broken, `"version": "test.1"`, `"version": "test.2"`, 1)
		os.WriteFile(file, []byte(broken), 0o644)
		code, _, errOut := run(t, "catalog", "install", file, "--data", data)
		if code == 0 {
			t.Fatal("a broken catalog was installed")
		}
		for _, want := range []string{"城乡居民基本养老保险参保登记", "3306211136-01", "procedure (办理流程) is missing", "still version test.1"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("message %q lacks %q", errOut, want)
			}
		}
		if _, out, _ := run(t, "catalog", "--data", data); !strings.Contains(out, "catalog test.1") {
			t.Fatalf("active catalog changed: %s", out)
		}
	})
	t.Run("ErrMissingFile", func(t *testing.T) {
		code, _, errOut := run(t, "catalog", "install", filepath.Join(data, "nope.json"), "--data", data)
		if code == 0 || !strings.Contains(errOut, "read catalog file") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
}

func TestShot(t *testing.T) {
	data := setUpKiosk(t)
	out := filepath.Join(t.TempDir(), "home.png")
	if code, _, errOut := run(t, "shot", "home", "--out", out, "--size", "1920x1080", "--data", data); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	img := decodePNG(t, out)
	if b := img.Bounds(); b.Dx() != 1920 || b.Dy() != 1080 {
		t.Fatalf("got %v, want 1920x1080", b)
	}
	if code, _, errOut := run(t, "submit", "--json", "../../docs/examples/submission.json", "--data", data); code != 0 {
		t.Fatal(errOut)
	}
	for _, screen := range []string{"lock", "setup", "intake:3306213360-01", "intake:3306213360-01:2", "intake:3306213360-01:4",
		"submissions", "submission:330603101201-" + time.Now().In(kiosk.ChinaTime).Format("20060102") + "-0001"} {
		if code, _, errOut := run(t, "shot", screen, "--out", out, "--data", data); code != 0 {
			t.Errorf("shot %s: %s", screen, errOut)
		}
	}
	for _, bad := range [][]string{
		{"shot", "item:nosuch", "--out", out},
		{"shot", "intake:3306213360-01:9", "--out", out},
		{"shot", "home"},
		{"shot", "home", "--out", out, "--size", "big"},
		{"frobnicate"},
	} {
		if code, _, errOut := run(t, append(bad, "--data", data)...); code == 0 || errOut == "" {
			t.Errorf("%v: exit %d with message %q, want a failure with a message", bad, code, errOut)
		}
	}
}

func TestNoDisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	code, _, errOut := run(t, "--data", t.TempDir())
	if code == 0 || !strings.Contains(errOut, "no display") {
		t.Fatalf("exit %d: %q", code, errOut)
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestRealWindow starts the real kiosk binary in a real X server (Xvfb),
// screenshots the screen with ImageMagick, and compares it with the software
// rendering of the same screen: if the Chinese text showed as boxes, or the
// window were blank, the two would differ.
func TestRealWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real X server")
	}
	for _, tool := range []string{"xvfb-run", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: run `make test`, which installs it (%v)", tool, err)
		}
	}
	bin := os.Getenv("KIOSK_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "kiosk")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
	}
	data := setUpKiosk(t)
	want := filepath.Join(t.TempDir(), "want.png")
	if code, _, errOut := run(t, "shot", "lock", "--out", want, "--data", data); code != 0 {
		t.Fatal(errOut)
	}
	got := filepath.Join(t.TempDir(), "got.png")
	// Poll until the window has drawn: a screenshot that matches ends the wait.
	script := `"$0" --data "$1" --fullscreen & pid=$!
for i in $(seq 1 60); do sleep 0.5; import -window root "$2" 2>/dev/null && [ "$(stat -c %s "$2")" -gt 20000 ] && break; done
sleep 1; import -window root "$2"; kill $pid; wait $pid 2>/dev/null; true`
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "bash", "-c", script, bin, data, got)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xvfb-run: %v\n%s", err, out)
	}
	diff := cellDiff(decodePNG(t, want), decodePNG(t, got))
	t.Logf("largest difference of one 24 px cell between the real window and the software rendering: %.1f/255", diff)
	if diff > 16 {
		os.MkdirAll("testdata/failed", 0o755)
		copyFile(got, "testdata/failed/xvfb-lock.png")
		t.Fatalf("the real window differs from the expected rendering by %.2f/255 (kept as testdata/failed/xvfb-lock.png)", diff)
	}
}

// cellDiff compares two screenshots cell by cell (24×24 px mean luminance)
// and returns the largest difference. GL and software rendering place glyph
// edges a pixel apart, which a cell's mean absorbs; a glyph drawn as a box, a
// missing text or a blank window does not.
func cellDiff(a, b image.Image) float64 {
	if a.Bounds() != b.Bounds() {
		return 255
	}
	const cell = 24
	r := a.Bounds()
	worst := 0.0
	for y0 := r.Min.Y; y0+cell <= r.Max.Y; y0 += cell {
		for x0 := r.Min.X; x0+cell <= r.Max.X; x0 += cell {
			var sum float64
			for y := y0; y < y0+cell; y++ {
				for x := x0; x < x0+cell; x++ {
					sum += luma(a.At(x, y)) - luma(b.At(x, y))
				}
			}
			worst = max(worst, math.Abs(sum)/(cell*cell))
		}
	}
	return worst
}

func luma(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)) / 257
}

func copyFile(src, dst string) {
	if data, err := os.ReadFile(src); err == nil {
		os.WriteFile(dst, data, 0o644)
	}
}

// setUpKiosk prepares a data folder as a technician would on first start.
func setUpKiosk(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	for _, args := range [][]string{
		{"setup", "--point", "330603101201", "--point-name", "王化村便民服务中心"},
		{"agent", "add", "王芳", "--pin", "2468", "--admin"},
		// The district's key, as a technician sets it where enrolment must wait
		// for the network; the tests that talk to a district enrol instead.
		{"settings", "set", "seal-key", testSealKey},
	} {
		if code, _, errOut := run(t, append(args, "--data", data)...); code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
	}
	return data
}

// TestSubmitExample saves the documented example through the same path as
// the UI and lists it back.
func TestSubmitExample(t *testing.T) {
	data := setUpKiosk(t)
	code, out, errOut := run(t, "submit", "--json", "../../docs/examples/submission.json", "--data", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	receipt := strings.TrimSpace(out)
	if !strings.HasPrefix(receipt, "330603101201-") || !strings.HasSuffix(receipt, "-0001") {
		t.Fatalf("receipt number %q", receipt)
	}
	code, out, errOut = run(t, "submissions", "--json", "--data", data)
	if code != 0 {
		t.Fatal(errOut)
	}
	var list []kiosk.SubmissionSummary
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ReceiptNo != receipt || list[0].Applicant != "𠮷野" || list[0].IDMasked != "330621********0014" ||
		list[0].Status != kiosk.StatusPending || list[0].MatterName != "失业保险金申领" {
		t.Fatalf("got %+v", list)
	}
}

func TestSubmit_Errors(t *testing.T) {
	data := setUpKiosk(t)
	example, err := os.ReadFile("../../docs/examples/submission.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "id-card-sample.jpg"), must(os.ReadFile("../../docs/examples/id-card-sample.jpg")), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a scan"), 0o644)
	for _, tc := range []struct {
		name    string
		replace []string // old, new pairs applied to the example
		want    []string
	}{
		{"ErrIDCheck", []string{"330621198001010014", "330621198001010015"}, []string{"applicant.id_number: 身份证号校验位不对"}},
		{"ErrIDFeb30", []string{"330621198001010014", "330603199002300015"}, []string{"不是真实的日期"}},
		{"ErrID17", []string{"330621198001010014", "33062119800101001"}, []string{"现在是17位"}},
		{"ErrPhone", []string{"13800138000", "0575-8412345"}, []string{"applicant.phone:"}},
		{"ErrName", []string{`"name": "𠮷野"`, `"name": "  "`}, []string{"applicant.name: 请填写申请人姓名"}},
		{"ErrMatter", []string{"3306213360-01", "3306219999-01"}, []string{"matter: 事项编码“3306219999-01”不在当前事项目录中"}},
		{"ErrChoice", []string{"劳动合同期满终止", "不想干了"}, []string{"fields.leave_reason: 离职原因"}},
		{"ErrDate", []string{"2026-10-31", "2026-02-30"}, []string{"fields.leave_date:", "不是真实的日期"}},
		{"ErrNotImage", []string{"id-card-sample.jpg", "notes.txt"}, []string{"materials.居民身份证:", "不是图片或PDF文件"}},
		{"ErrVanished", []string{"id-card-sample.jpg", "deleted.jpg"}, []string{"materials.居民身份证:", "找不到了"}},
		{"ErrRequiredMaterial", []string{`"received": true`, `"received": false`}, []string{"materials.居民身份证:"}},
		{"ErrNoConsent", []string{`"consent": true`, `"consent": false`}, []string{"consent:"}},
		{"ErrUnknownAgent", []string{`"agent": "王芳"`, `"agent": "冒名者"`}, []string{`agent "冒名者" does not exist`}},
		{"ErrMalformed", []string{`"consent": true`, `"consent": "yes"`}, []string{"not a submission in the documented format"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := string(example)
			for i := 0; i < len(tc.replace); i += 2 {
				if !strings.Contains(doc, tc.replace[i]) {
					t.Fatalf("example lacks %q", tc.replace[i])
				}
				doc = strings.Replace(doc, tc.replace[i], tc.replace[i+1], 1)
			}
			file := filepath.Join(dir, "s.json")
			os.WriteFile(file, []byte(doc), 0o644)
			code, out, errOut := run(t, "submit", "--json", file, "--data", data)
			if code == 0 || out != "" {
				t.Fatalf("exit %d, printed %q; want a failure", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("message %q lacks %q", errOut, w)
				}
			}
		})
	}
	if _, out, _ := run(t, "submissions", "--json", "--data", data); strings.TrimSpace(out) != "[]" {
		t.Fatalf("something was saved: %s", out)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestReceiptCommands renders a saved submission's receipt to PNG and PDF,
// scans the QR code from the PNG, and checks `kiosk verify` accepts it and
// refuses it altered.
func TestReceiptCommands(t *testing.T) {
	data := setUpKiosk(t)
	if code, _, errOut := run(t, "settings", "set", "district-url", "https://rs.keqiao.example", "--data", data); code != 0 {
		t.Fatal(errOut)
	}
	_, out, errOut := run(t, "submit", "--json", "../../docs/examples/submission.json", "--data", data)
	receiptNo := strings.TrimSpace(out)
	if receiptNo == "" {
		t.Fatal(errOut)
	}
	dir := t.TempDir()
	for _, name := range []string{"r.png", "r.pdf"} {
		if code, _, errOut := run(t, "receipt", receiptNo, "--out", filepath.Join(dir, name), "--data", data); code != 0 {
			t.Fatalf("%s: %s", name, errOut)
		}
	}
	scanned, err := exec.Command("zbarimg", "--quiet", "--raw", filepath.Join(dir, "r.png")).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	url := strings.TrimSpace(string(scanned))
	if !strings.HasPrefix(url, "https://rs.keqiao.example/r/") {
		t.Fatalf("QR holds %q", url)
	}
	code, out, errOut := run(t, "verify", url, "--data", data)
	if code != 0 || !strings.Contains(out, "genuine receipt") || !strings.Contains(out, receiptNo) || !strings.Contains(out, "3306213360-01") {
		t.Fatalf("verify: exit %d %q %q", code, out, errOut)
	}
	altered := url[:len(url)-90] + "A" + url[len(url)-89:]
	if altered == url {
		altered = url[:len(url)-90] + "B" + url[len(url)-89:]
	}
	if code, _, errOut := run(t, "verify", altered, "--data", data); code == 0 || !strings.Contains(errOut, "NOT a genuine receipt") {
		t.Fatalf("an altered token verified: %q", errOut)
	}
	other := setUpKiosk(t) // another kiosk, another key
	if code, _, errOut := run(t, "verify", url, "--data", other); code == 0 || !strings.Contains(errOut, "unknown key") {
		t.Fatalf("a foreign kiosk's token verified: %q", errOut)
	}
	// Printing with no printer set up saves the receipt as a file, audited.
	if code, _, errOut := run(t, "receipt", receiptNo, "--print", "--agent", "王芳", "--data", data); code != 0 {
		t.Fatal(errOut)
	}
	if files, _ := filepath.Glob(filepath.Join(data, "receipts", "*.png")); len(files) != 1 {
		t.Fatalf("printed files: %v", files)
	}
	if code, _, errOut := run(t, "printer", "set", "--kind", "escpos-usb", "--target", "/dev/usb/lp9", "--paper", "58", "--data", data); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := run(t, "receipt", receiptNo, "--print", "--data", data); code == 0 || !strings.Contains(errOut, "找不到打印机") {
		t.Fatalf("missing printer: exit %d %q", code, errOut)
	}
	// What the heartbeat tells the district's monitor: the last print failed, and why.
	var status struct{ Printer string }
	_, statusOut, _ := run(t, "status", "--json", "--data", data)
	if json.Unmarshal([]byte(statusOut), &status); !strings.Contains(status.Printer, "escpos-usb 58, last print failed") || !strings.Contains(status.Printer, "找不到打印机") {
		t.Fatalf("printer state: %q", status.Printer)
	}
	if code, _, errOut := run(t, "shot", "receipt:"+receiptNo, "--out", filepath.Join(dir, "shot.png"), "--data", data); code != 0 {
		t.Fatal(errOut)
	}
}

// TestEnrollTLS enrols over HTTPS with the district's CA given by --ca; the
// same server is refused without it, and plain HTTP to another host is
// refused outright.
func TestEnrollTLS(t *testing.T) {
	ctx := context.Background()
	st, err := district.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewTLSServer(district.NewHandler(st, district.Options{}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "district-ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)

	data := setUpKiosk(t)
	code, _, _ := st.CreateEnrollCode(ctx, "330603101201", "王化村便民服务中心")
	if c, _, errOut := run(t, "enroll", "--district", srv.URL, "--code", code, "--data", data); c == 0 || !strings.Contains(errOut, "certificate") {
		t.Fatalf("without the CA: exit %d %q", c, errOut)
	}
	if c, out, errOut := run(t, "enroll", "--district", srv.URL, "--code", code, "--ca", ca, "--data", data); c != 0 || !strings.Contains(out, "enrolled as device dev-") {
		t.Fatalf("with the CA: exit %d %q %q", c, out, errOut)
	}
	if c, out, errOut := run(t, "sync", "--once", "--data", data); c != 0 || !strings.Contains(out, "uploaded 0,") {
		t.Fatalf("sync over TLS: exit %d %q %q", c, out, errOut)
	}
	if c, _, errOut := run(t, "enroll", "--district", "http://rs.keqiao.example", "--code", "X", "--data", t.TempDir()); c == 0 || !strings.Contains(errOut, "must use https://") {
		t.Fatalf("plain http: exit %d %q", c, errOut)
	}
}

// TestDataFolderPrivate: the data folder, the database and the device key
// are the kiosk user's alone.
func TestDataFolderPrivate(t *testing.T) {
	data := filepath.Join(t.TempDir(), "kiosk-data")
	if code, _, errOut := run(t, "catalog", "--data", data); code != 0 {
		t.Fatal(errOut)
	}
	for path, want := range map[string]os.FileMode{data: 0o700, filepath.Join(data, "kiosk.db"): 0o600, filepath.Join(data, "device.key"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), fi.Mode().Perm(), want)
		}
	}
}

// testSealKey is a district's public sealing key for the tests that save
// without a district.
var testSealKey = func() string {
	pub, _, err := seal.GenerateKey()
	if err != nil {
		panic(err)
	}
	return seal.Encode(pub)
}()

// TestDataFromEnvironment: KIOSK_DATA chooses the data folder when --data
// is not given; --data wins over it.
func TestDataFromEnvironment(t *testing.T) {
	env, flag := filepath.Join(t.TempDir(), "env"), filepath.Join(t.TempDir(), "flag")
	t.Setenv("KIOSK_DATA", env)
	if code, _, errOut := run(t, "setup", "--point", "330603101201", "--point-name", "王化村便民服务中心"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := run(t, "setup", "--point", "330603101202", "--point-name", "新桥村便民服务中心", "--data", flag); code != 0 {
		t.Fatal(errOut)
	}
	for _, dir := range []string{env, flag} {
		if _, err := os.Stat(filepath.Join(dir, "kiosk.db")); err != nil {
			t.Errorf("no database in %s: %v", dir, err)
		}
	}
	if _, out, _ := run(t, "status", "--json"); !strings.Contains(out, `"waiting": 0`) {
		t.Fatalf("status from KIOSK_DATA: %s", out)
	}
}

// TestSettingsChecked: a value the kiosk could not use is refused, saying
// what is wanted, and nothing is stored.
func TestSettingsChecked(t *testing.T) {
	data := t.TempDir()
	for _, tc := range []struct{ name, value, want string }{
		{"district-url", "http://rs.keqiao.example", "must use https://"},
		{"signature-line", "yes", "true or false"},
		{"seal-key", "not-a-key", "districtd seal-key"},
		{"sealed-keep-days", "400", "from 0 to 365"},
		{"retention-days", "0", "from 1 to 3650"},
	} {
		if code, _, errOut := run(t, "settings", "set", tc.name, tc.value, "--data", data); code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s %q: exit %d %q", tc.name, tc.value, code, errOut)
		}
	}
	if code, out, errOut := run(t, "settings", "set", "sealed-keep-days", "0", "--data", data); code != 0 || !strings.Contains(out, "set") {
		t.Fatalf("a good value: exit %d %q", code, errOut)
	}
}
