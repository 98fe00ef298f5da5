package receipt

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"strings"

	"github.com/signintech/gopdf"
	"github.com/skip2/go-qrcode"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/assets"
)

// writePDF lays the receipt out on A4 or A5 paper with the CJK font embedded
// (gopdf subsets it to the glyphs used, and reads the font's format-12 cmap,
// so names beyond the BMP such as 𠮷 print too), for office laser printers
// through CUPS.
func writePDF(r *Receipt, paper, path string) error {
	pdf, err := buildPDF(r, paper)
	if err != nil {
		return err
	}
	if err := pdf.WritePdf(path); err != nil {
		return kiosk.Errorf(kiosk.EUnavailable, "无法写入回执文件 %s：%v", path, err)
	}
	return nil
}

// pt is one millimetre in PDF points.
const pt = 72 / 25.4

func buildPDF(r *Receipt, paper string) (*gopdf.GoPdf, error) {
	size, margin, base := gopdf.PageSizeA5, 14*pt, 11.0
	if paper == "A4" {
		size, margin, base = gopdf.PageSizeA4, 20*pt, 13.0
	}
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *size})
	pdf.SetInfo(gopdf.PdfInfo{Title: "受理回执 " + r.ReceiptNo, Creator: "村级便民服务"})
	if err := pdf.AddTTFFontData("noto", assets.FontRegularTTF); err != nil {
		return nil, fmt.Errorf("embed receipt font: %w", err)
	}
	pdf.AddPage()
	textW := size.W - 2*margin
	y := margin
	newPageIfNeeded := func(h float64) {
		if y+h > size.H-margin {
			pdf.AddPage()
			y = margin
		}
	}
	write := func(text string, fontSize float64, centered bool) error {
		if err := pdf.SetFont("noto", "", fontSize); err != nil {
			return err
		}
		lines, err := pdf.SplitText(text, textW)
		if err != nil {
			return err
		}
		for _, line := range lines {
			lh := fontSize * 1.45
			newPageIfNeeded(lh)
			x := margin
			if centered {
				w, _ := pdf.MeasureTextWidth(line)
				x = (size.W - w) / 2
			}
			pdf.SetXY(x, y)
			if err := pdf.Cell(nil, line); err != nil {
				return err
			}
			y += lh
		}
		return nil
	}
	for _, l := range r.Lines() {
		var err error
		switch l.Style {
		case Title:
			err = write(l.Text, base*2, true)
			y += base * 0.3
		case Centered:
			err = write(l.Text, base, true)
		case RuleLine:
			pdf.SetLineWidth(0.5)
			pdf.SetLineType("dashed")
			pdf.Line(margin, y+base*0.4, size.W-margin, y+base*0.4)
			pdf.SetLineType("")
			y += base
		case QR:
			img, qerr := qrImage(r.QRText)
			if qerr != nil {
				return nil, qerr
			}
			side := 40 * pt
			newPageIfNeeded(side)
			err = pdf.ImageFrom(img, (size.W-side)/2, y, &gopdf.Rect{W: side, H: side})
			y += side + base*0.5
		case Small:
			err = write(l.Text, base*0.8, false)
		case Strong:
			err = write(l.Text, base*1.1, false)
		default:
			err = write(l.Text, base, false)
		}
		if err != nil {
			return nil, fmt.Errorf("lay out PDF receipt: %w", err)
		}
	}
	return pdf, nil
}

// qrImage draws the QR code with whole pixels per module, so the PDF viewer
// or printer scales sharp squares.
func qrImage(text string) (image.Image, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("make QR code: %w", err)
	}
	bits := q.Bitmap()
	const px = 8
	img := image.NewGray(image.Rect(0, 0, len(bits)*px, len(bits)*px))
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			c := color.Gray{0xFF}
			if bits[y/px][x/px] {
				c = color.Gray{0}
			}
			img.SetGray(x, y, c)
		}
	}
	return img, nil
}

// printCUPS prints the PDF receipt on a CUPS queue with lp.
func printCUPS(ctx context.Context, c Config, r *Receipt) error {
	lp, err := exec.LookPath("lp")
	if err != nil {
		return kiosk.Errorf(kiosk.EUnavailable, "本机没有安装系统打印服务（CUPS 的 lp 命令），请改用热敏打印机或联系技术人员")
	}
	f, err := os.CreateTemp("", "receipt-*.pdf")
	if err != nil {
		return fmt.Errorf("print: %w", err)
	}
	f.Close()
	defer os.Remove(f.Name())
	if err := writePDF(r, c.Paper, f.Name()); err != nil {
		return err
	}
	args := []string{"-o", "media=" + c.Paper, "-t", "受理回执 " + r.ReceiptNo}
	if c.Target != "" {
		args = append(args, "-d", c.Target)
	}
	args = append(args, f.Name())
	ctx, cancel := context.WithTimeout(ctx, printerTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, lp, args...).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		var exit *exec.ExitError
		switch {
		case strings.Contains(msg, "does not exist"):
			return offline(fmt.Sprintf("找不到系统打印机“%s”", c.Target), errors.New(msg))
		case strings.Contains(msg, "No default destination"):
			return offline("没有设置默认打印机，请在设置里填写打印机名称", errors.New(msg))
		case strings.Contains(msg, "not accepting"), strings.Contains(msg, "disabled"):
			return offline(fmt.Sprintf("系统打印机“%s”已暂停", c.Target), errors.New(msg))
		case errors.As(err, &exit):
			return offline("系统打印机不能打印", errors.New(msg))
		}
		return offline("系统打印机不能打印", err)
	}
	return nil
}
