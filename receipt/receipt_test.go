package receipt_test

import (
	"crypto/ed25519"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/assets"
	"github.com/keqiao/villagekiosk/receipt"
)

var (
	received = time.Date(2026, 9, 29, 2, 30, 0, 0, time.UTC) // 10:30 in China, just before National Day
	seed     = []byte("a fixed test seed, 32 bytes long")
	testKey  = ed25519.NewKeyFromSeed(seed)
)

func testSubmission() *kiosk.Submission {
	return &kiosk.Submission{
		ID: "0190a1b2-0000-7000-8000-000000000001", ReceiptNo: "330603101201-20260929-0007", PointCode: "330603101201",
		Matter: "3306213360-01", MatterName: "失业保险金申领", MainName: "失业保险金申领", CatalogVersion: "2026.1",
		Applicant: kiosk.Applicant{Name: "𠮷野", IDNumber: "330621198001010014", Phone: "13800138000"},
		Materials: []kiosk.MaterialRecord{
			{Name: "居民身份证", Required: true, Received: true},
			{Name: "解除或终止劳动合同证明", Required: true, Owed: true},
		},
		Agent: "王芳", CreatedAt: received, Status: kiosk.StatusPending,
	}
}

func testReceipt(t *testing.T, o receipt.Options) *receipt.Receipt {
	t.Helper()
	cal, err := kiosk.ParseHolidayYears(assets.HolidayYears()...)
	if err != nil {
		t.Fatal(err)
	}
	sub := &kiosk.SubItem{Name: "失业保险金申领", TimeLimit: kiosk.TimeLimit{StatutoryDays: 15, PromisedDays: 5}, Result: "失业保险金按月发放至本人社保卡"}
	if o.Now.IsZero() {
		o.Now = received
	}
	r, err := receipt.Build(testSubmission(), sub, kiosk.PointInfo{Code: "330603101201", Name: "王化村便民服务中心"}, cal, testKey, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBuild(t *testing.T) {
	r := testReceipt(t, receipt.Options{DistrictURL: "https://rs.keqiao.example/", Signature: true})
	text := r.Text()
	for _, want := range []string{
		"受理回执", "回执编号：330603101201-20260929-0007", "事项：失业保险金申领", "事项编码：3306213360-01",
		"申请人：𠮷野", "身份证号：330621********0014", "1. 居民身份证",
		// five working days from Tue Sep 29: Sep 30, then National Day Oct 1-7, Oct 8, 9, Sat Oct 10 (make-up), Mon Oct 12
		"需补交材料（容缺受理，请于2026年10月12日前补交）", "承诺时限：5个工作日（法定15个工作日）", "预计办结：2026年10月12日前",
		"受理时间：2026年9月29日 10:30", "代办员：王芳", "申请人签名",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("receipt lacks %q:\n%s", want, text)
		}
	}
	for _, secret := range []string{"330621198001010014", "13800138000"} {
		if strings.Contains(text, secret) || strings.Contains(r.QRText, secret) {
			t.Errorf("receipt carries %s in full", secret)
		}
	}
	if !strings.HasPrefix(r.QRText, "https://rs.keqiao.example/r/") {
		t.Fatalf("QR text %q", r.QRText)
	}
	if copyText := testReceipt(t, receipt.Options{Copy: true}).Text(); !strings.Contains(copyText, "受理回执（补打）") {
		t.Fatal("a reprint is not marked as a copy")
	}
}

// TestQRScans renders the receipt for 58 mm and 80 mm paper, decodes the QR
// code from the PNG with a real decoder (zbarimg), and verifies the token.
func TestQRScans(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Fatalf("zbarimg is missing: make test installs zbar-tools (%v)", err)
	}
	keys := receipt.Keyring{}
	keys.Add(testKey.Public().(ed25519.PublicKey), "王化村便民服务中心")
	for _, width := range []int{receipt.Width58mm, receipt.Width80mm} {
		r := testReceipt(t, receipt.Options{DistrictURL: "https://rs.keqiao.example"})
		img, err := receipt.Render(r, width)
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() != width {
			t.Fatalf("width %d, want %d", img.Bounds().Dx(), width)
		}
		path := writePNG(t, img)
		out, err := exec.Command(zbar, "--quiet", "--raw", "-Sqrcode.enable", path).Output()
		if err != nil {
			t.Fatalf("zbarimg found no QR code in the %d px receipt: %v", width, err)
		}
		scanned := strings.TrimSpace(string(out))
		if scanned != r.QRText {
			t.Fatalf("scanned %q, want %q", scanned, r.QRText)
		}
		tok, who, err := receipt.Verify(scanned, keys)
		if err != nil {
			t.Fatal(err)
		}
		if tok.ReceiptNo != r.ReceiptNo || tok.Matter != "3306213360-01" || who.Name != "王化村便民服务中心" || !tok.IssuedAt.Equal(received) {
			t.Fatalf("token %+v", tok)
		}
		if tok.ContentHash != receipt.ContentHash(testSubmission()) {
			t.Fatal("the token does not bind the submission's content")
		}
	}
}

func writePNG(t *testing.T, img image.Image) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "receipt.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if dir := os.Getenv("RECEIPT_PNG_DIR"); dir != "" { // for people looking at the layout
		data, _ := os.ReadFile(path)
		os.WriteFile(filepath.Join(dir, "receipt-"+time.Now().Format("150405.000")+".png"), data, 0o644)
	}
	return path
}

func TestVerify_Errors(t *testing.T) {
	keys := receipt.Keyring{}
	keys.Add(testKey.Public().(ed25519.PublicKey), "王化村")
	good := testReceipt(t, receipt.Options{}).Token
	_, foreign, _ := ed25519.GenerateKey(nil)
	foreignTok, _ := receipt.NewToken(testSubmission(), foreign, received).Sign(foreign)

	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for _, tc := range []struct{ name, text, want string }{
		{"ErrAlteredReceiptNo", flip(good, 20), "altered"},
		{"ErrAlteredSignature", flip(good, len(good)-5), "altered"},
		{"ErrTruncated", good[:40], "truncated"},
		{"ErrTruncatedSignature", good[:len(good)-10], "truncated"},
		{"ErrForeignKey", foreignTok, "unknown key"},
		{"ErrNotAToken", "https://example.com/hello world", "not a receipt token"},
		{"ErrEmpty", "", "not a receipt token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := receipt.Verify(tc.text, keys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	if _, _, err := receipt.Verify("https://rs.keqiao.example/r/"+good, keys); err != nil {
		t.Fatalf("a URL with the token: %v", err)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := receipt.LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := receipt.LoadOrCreateKey(dir)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("the key changed between starts: %v", err)
	}
	fi, _ := os.Stat(filepath.Join(dir, receipt.DeviceKeyFile))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	os.WriteFile(filepath.Join(dir, receipt.DeviceKeyFile), []byte("garbage"), 0o600)
	if _, err := receipt.LoadOrCreateKey(dir); err == nil || !strings.Contains(err.Error(), "left untouched") {
		t.Fatalf("a damaged key: %v", err)
	}
}
