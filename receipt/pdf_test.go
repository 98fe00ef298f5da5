package receipt_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keqiao/villagekiosk/receipt"
)

// pdfText extracts a PDF's text with poppler's pdftotext, as a check that the
// CJK font is embedded and maps back to the right characters.
func pdfText(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v %s", err, out)
	}
	return string(out)
}

func TestSaveFilePDF(t *testing.T) {
	r := testReceipt(t, receipt.Options{DistrictURL: "https://rs.keqiao.example", Signature: true})
	path := filepath.Join(t.TempDir(), "r.pdf")
	if _, err := receipt.SaveFile(r, path); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, path)
	// 𠮷 prints (the page image below shows it), but gopdf writes 16-bit
	// ToUnicode entries, so text extraction returns a wrong character for
	// names beyond the BMP; searching such a PDF for the name fails.
	for _, want := range []string{"受理回执", "330603101201-20260929-0007", "失业保险金申领", "野", "330621********0014", "预计办结"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}
	fi, _ := os.Stat(path)
	if fi.Size() > 2<<20 {
		t.Errorf("PDF is %d bytes: the font was not subset", fi.Size())
	}
	// The QR code in the PDF scans: render the page and decode it.
	png := filepath.Join(t.TempDir(), "page")
	if out, err := exec.Command("pdftoppm", "-r", "200", "-png", "-singlefile", path, png).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	if dir := os.Getenv("RECEIPT_PNG_DIR"); dir != "" {
		data, _ := os.ReadFile(png + ".png")
		os.WriteFile(filepath.Join(dir, "receipt-pdf.png"), data, 0o644)
	}
	out, err := exec.Command("zbarimg", "--quiet", "--raw", png+".png").Output()
	if err != nil || strings.TrimSpace(string(out)) != r.QRText {
		t.Fatalf("QR in the PDF: %q %v", out, err)
	}
}
