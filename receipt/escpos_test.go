package receipt_test

import (
	"bytes"
	"image"
	"image/color"
	"os/exec"
	"strings"
	"testing"

	"github.com/keqiao/villagekiosk/receipt"
)

// TestEncodeESCPOS_Golden checks the exact bytes for a tiny image: 10×2
// pixels, the first row's outer pixels and the second row's 9th pixel black.
func TestEncodeESCPOS_Golden(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 10, 2))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	img.SetGray(0, 0, color.Gray{0})
	img.SetGray(9, 0, color.Gray{0x40})
	img.SetGray(8, 1, color.Gray{0})
	img.SetGray(3, 1, color.Gray{0xC0}) // light grey: not printed
	want := []byte{
		0x1B, 0x40, // ESC @
		0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x02, 0x00, // GS v 0, 2 bytes wide, 2 rows
		0x80, 0x40, // row 0: pixel 0, pixel 9
		0x00, 0x80, // row 1: pixel 8
		0x1B, 0x64, 0x04, // ESC d 4
		0x1D, 0x56, 0x42, 0x00, // GS V 66 0
	}
	if got := receipt.EncodeESCPOS(img); !bytes.Equal(got, want) {
		t.Fatalf("got  % x\nwant % x", got, want)
	}
}

// TestESCPOS_RoundTrip encodes a whole 58 mm receipt, decodes the printer
// stream back to an image, and scans the QR code from what would be printed.
func TestESCPOS_RoundTrip(t *testing.T) {
	r := testReceipt(t, receipt.Options{DistrictURL: "https://rs.keqiao.example"})
	img, err := receipt.Render(r, receipt.Width58mm)
	if err != nil {
		t.Fatal(err)
	}
	stream := receipt.EncodeESCPOS(img)
	if bands := bytes.Count(stream, []byte{0x1D, 0x76, 0x30, 0x00}); bands != (img.Bounds().Dy()+23)/24 {
		t.Fatalf("%d raster bands for %d rows", bands, img.Bounds().Dy())
	}
	back, err := receipt.DecodeESCPOS(stream)
	if err != nil {
		t.Fatal(err)
	}
	if back.Bounds() != img.Bounds() {
		t.Fatalf("decoded %v, rendered %v", back.Bounds(), img.Bounds())
	}
	for i := range img.Pix {
		if (img.Pix[i] < 128) != (back.Pix[i] == 0) {
			t.Fatalf("pixel %d differs after the round trip", i)
		}
	}
	out, err := exec.Command("zbarimg", "--quiet", "--raw", writePNG(t, back)).Output()
	if err != nil || strings.TrimSpace(string(out)) != r.QRText {
		t.Fatalf("QR from the printer stream: %q %v", out, err)
	}
	if _, err := receipt.DecodeESCPOS(stream[:len(stream)-30]); err == nil {
		t.Fatal("a truncated stream decoded")
	}
}
