package receipt_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/receipt"
)

// CUPSQueue is the cups-pdf queue `make test` creates.
const CUPSQueue = "KioskPDF"

// TestPrintCUPS prints through a real CUPS queue (cups-pdf) and checks the
// PDF that comes out of it.
func TestPrintCUPS(t *testing.T) {
	if out, err := exec.Command("lpstat", "-p", CUPSQueue).CombinedOutput(); err != nil {
		t.Fatalf("the CUPS queue %s is missing (make test starts cupsd and creates it): %v %s", CUPSQueue, err, out)
	}
	home, _ := os.UserHomeDir()
	outDirs := []string{filepath.Join(home, "PDF"), "/var/spool/cups-pdf/ANONYMOUS"}
	r := testReceipt(t, receipt.Options{DistrictURL: "https://rs.keqiao.example"})
	keys := receipt.Keyring{}
	keys.Add(testKey.Public().(ed25519.PublicKey), "王化村")
	// A5 for the office's small sheets, A4 for the rest: each page comes
	// out of the queue at its size.
	for paper, size := range map[string]string{"A5": "pts (A5)", "A4": "pts (A4)"} {
		before := time.Now()
		if err := receipt.Print(context.Background(), receipt.Config{Kind: receipt.KindCUPS, Target: CUPSQueue, Paper: paper}, r); err != nil {
			t.Fatal(err)
		}
		// cups-pdf re-renders the job through Ghostscript, which drops the
		// text layer's Unicode map, so the printed page is checked as a
		// person would: rendered to an image, and its QR code scanned and
		// verified.
		var found string
		for deadline := time.Now().Add(30 * time.Second); found == "" && time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
			for _, dir := range outDirs {
				files, _ := filepath.Glob(filepath.Join(dir, "*.pdf"))
				for _, f := range files {
					if fi, err := os.Stat(f); err != nil || !fi.ModTime().After(before.Add(-time.Second)) || fi.Size() == 0 {
						continue
					}
					info, _ := exec.Command("pdfinfo", f).Output()
					if !strings.Contains(string(info), size) {
						continue
					}
					if tok, ok := scanPDF(t, f, keys); ok && tok.ReceiptNo == r.ReceiptNo && tok.IssuedAt.Equal(received) {
						found = f
					}
				}
			}
		}
		if found == "" {
			t.Fatalf("%s: no %s page with the QR code of %s came out of the queue in %v", paper, size, r.ReceiptNo, outDirs)
		}
		os.Remove(found)
	}

	err := receipt.Print(context.Background(), receipt.Config{Kind: receipt.KindCUPS, Target: "NoSuchPrinter", Paper: "A5"}, r)
	if kiosk.ErrorCode(err) != kiosk.EUnavailable || !strings.Contains(err.Error(), "找不到系统打印机“NoSuchPrinter”") ||
		!strings.Contains(err.Error(), "办件已经保存") {
		t.Fatalf("missing queue: got %v", err)
	}
}

// scanPDF renders a PDF's first page and verifies the QR code on it.
func scanPDF(t *testing.T, path string, keys receipt.Keyring) (receipt.Token, bool) {
	t.Helper()
	png := filepath.Join(t.TempDir(), "page")
	if err := exec.Command("pdftoppm", "-q", "-r", "200", "-png", "-singlefile", path, png).Run(); err != nil {
		return receipt.Token{}, false // still being written
	}
	out, err := exec.Command("zbarimg", "--quiet", "--raw", png+".png").Output()
	if err != nil {
		return receipt.Token{}, false
	}
	tok, _, err := receipt.Verify(strings.TrimSpace(string(out)), keys)
	return tok, err == nil
}

// printer9100 is a network thermal printer on loopback: it answers the paper
// status request as told and keeps what it receives.
func printer9100(t *testing.T, paperOut bool) (string, <-chan []byte) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		status := make([]byte, 3)
		if _, err := io.ReadFull(c, status); err != nil {
			return
		}
		if paperOut {
			c.Write([]byte{0x72}) // paper end bits set
		} else {
			c.Write([]byte{0x12})
		}
		data, _ := io.ReadAll(c)
		got <- append(status, data...)
	}()
	return l.Addr().String(), got
}

func TestPrintTCP(t *testing.T) {
	r := testReceipt(t, receipt.Options{})
	addr, got := printer9100(t, false)
	if err := receipt.Print(context.Background(), receipt.Config{Kind: receipt.KindTCP, Target: addr, Paper: "80"}, r); err != nil {
		t.Fatal(err)
	}
	stream := <-got
	img, _ := receipt.Render(r, receipt.Width80mm)
	want := append([]byte{0x10, 0x04, 0x04}, receipt.EncodeESCPOS(img)...)
	if !bytes.Equal(stream, want) {
		t.Fatalf("printer received %d bytes, want %d", len(stream), len(want))
	}

	t.Run("ErrPaperOut", func(t *testing.T) {
		addr, _ := printer9100(t, true)
		err := receipt.Print(context.Background(), receipt.Config{Kind: receipt.KindTCP, Target: addr, Paper: "58"}, r)
		if kiosk.ErrorCode(err) != kiosk.EUnavailable || !strings.Contains(err.Error(), "打印机缺纸") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrOffline", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close() // nothing listens there any more
		err := receipt.Print(context.Background(), receipt.Config{Kind: receipt.KindTCP, Target: addr, Paper: "58"}, r)
		if kiosk.ErrorCode(err) != kiosk.EUnavailable || !strings.Contains(err.Error(), "连不上打印机") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestPrintUSB(t *testing.T) {
	r := testReceipt(t, receipt.Options{})
	dev := filepath.Join(t.TempDir(), "lp0") // a regular file stands in for the device node
	os.WriteFile(dev, nil, 0o600)
	if err := receipt.Print(context.Background(), receipt.Config{Kind: receipt.KindUSB, Target: dev, Paper: "58"}, r); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(dev)
	if _, err := receipt.DecodeESCPOS(data); err != nil {
		t.Fatalf("device got an unreadable stream: %v", err)
	}
	err := receipt.Print(context.Background(), receipt.Config{Kind: receipt.KindUSB, Target: "/dev/usb/lp9", Paper: "58"}, r)
	if kiosk.ErrorCode(err) != kiosk.EUnavailable || !strings.Contains(err.Error(), "找不到打印机 /dev/usb/lp9") {
		t.Fatalf("missing device: got %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []receipt.Config{
		{Kind: "fax"}, {Kind: receipt.KindUSB, Paper: "58"}, {Kind: receipt.KindTCP, Target: "x", Paper: "57"},
		{Kind: receipt.KindCUPS, Paper: "Letter"}, {Kind: receipt.KindFile, Target: "/tmp", Paper: "jpg"},
	} {
		if err := c.Validate(); kiosk.ErrorCode(err) != kiosk.EInvalid {
			t.Errorf("%+v: got %v", c, err)
		}
	}
}
