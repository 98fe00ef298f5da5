package receipt

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"sync"

	"github.com/skip2/go-qrcode"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/keqiao/villagekiosk/assets"
)

// Paper widths in printer dots at 203 dpi, the resolution of the common
// village thermal printers.
const (
	Width58mm = 384
	Width80mm = 576
)

var (
	fontsOnce         sync.Once
	regular, boldFont *opentype.Font
	fontErr           error
)

func loadFonts() error {
	fontsOnce.Do(func() {
		if regular, fontErr = opentype.Parse(assets.FontRegular); fontErr != nil {
			return
		}
		boldFont, fontErr = opentype.Parse(assets.FontBold)
	})
	return fontErr
}

// Render draws the receipt as a white image of the given width in pixels,
// black text and QR code, as long as it needs. Everything is pixels, so a
// thermal printer needs no Chinese font of its own.
func Render(r *Receipt, width int) (*image.Gray, error) {
	if err := loadFonts(); err != nil {
		return nil, fmt.Errorf("load receipt font: %w", err)
	}
	unit := float64(width) / 384 // sizes below are for 58 mm paper
	margin := int(8 * unit)
	faces := map[LineStyle]font.Face{}
	face := func(st LineStyle) (font.Face, error) {
		if f, ok := faces[st]; ok {
			return f, nil
		}
		size, f := 22.0, regular
		switch st {
		case Title:
			size, f = 34, boldFont
		case Strong:
			f = boldFont
		case Small:
			size = 18
		}
		fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size * unit, DPI: 72, Hinting: font.HintingNone})
		faces[st] = fc
		return fc, err
	}

	// Lay out first to know the height, then draw.
	type placed struct {
		line  Line
		parts []string
		y     int
		h     int
	}
	var items []placed
	y := margin
	qrSize := 0
	var qrBits [][]bool
	for _, l := range r.Lines() {
		switch l.Style {
		case RuleLine:
			items = append(items, placed{line: l, y: y, h: int(14 * unit)})
			y += int(14 * unit)
			continue
		case QR:
			q, err := qrcode.New(r.QRText, qrcode.Medium)
			if err != nil {
				return nil, fmt.Errorf("make QR code: %w", err)
			}
			bits := q.Bitmap()
			qrBits = bits
			module := (width - 2*margin) * 85 / 100 / len(bits)
			if module < 3 {
				return nil, fmt.Errorf("QR code of %d modules does not fit %d px paper", len(bits), width)
			}
			qrSize = module * len(bits)
			items = append(items, placed{line: l, y: y, h: qrSize})
			y += qrSize
			continue
		}
		fc, err := face(l.Style)
		if err != nil {
			return nil, err
		}
		parts := wrap(fc, l.Text, width-2*margin)
		lh := fc.Metrics().Height.Ceil() * 6 / 5
		items = append(items, placed{line: l, parts: parts, y: y, h: lh * len(parts)})
		y += lh * len(parts)
	}
	height := y + margin + int(40*unit) // room before the cutter

	img := image.NewGray(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for _, it := range items {
		switch it.line.Style {
		case RuleLine:
			mid := it.y + it.h/2
			for x := margin; x < width-margin; x++ {
				if (x/int(4*unit+1))%2 == 0 {
					img.SetGray(x, mid, color.Gray{0})
				}
			}
		case QR:
			bits := qrBits
			module := qrSize / len(bits)
			x0 := (width - qrSize) / 2
			for by, row := range bits {
				for bx, on := range row {
					if on {
						draw.Draw(img, image.Rect(x0+bx*module, it.y+by*module, x0+(bx+1)*module, it.y+(by+1)*module), image.Black, image.Point{}, draw.Src)
					}
				}
			}
		default:
			fc, _ := face(it.line.Style)
			lh := it.h / max(1, len(it.parts))
			for i, p := range it.parts {
				x := margin
				if it.line.Style == Title || it.line.Style == Centered {
					x = (width - font.MeasureString(fc, p).Ceil()) / 2
				}
				d := font.Drawer{Dst: img, Src: image.Black, Face: fc,
					Dot: fixed.P(x, it.y+i*lh+fc.Metrics().Ascent.Ceil())}
				d.DrawString(p)
			}
		}
	}
	return img, nil
}

// wrap breaks text into lines no wider than width: at any character, as
// Chinese is set, keeping runs of Latin letters and digits together when
// they fit on a line.
func wrap(fc font.Face, s string, width int) []string {
	if s == "" {
		return []string{""}
	}
	var lines []string
	var cur []rune
	limit := fixed.I(width)
	for _, r := range s {
		next := append(cur, r)
		if len(cur) > 0 && font.MeasureString(fc, string(next)) > limit {
			// Move a trailing Latin word to the next line if it can stand there.
			cut := len(cur)
			for cut > 0 && isWordRune(cur[cut-1]) && isWordRune(r) {
				cut--
			}
			if cut == 0 || cut == len(cur) {
				cut = len(cur)
			}
			lines = append(lines, string(cur[:cut]))
			cur = append([]rune(nil), cur[cut:]...)
			cur = append(cur, r)
			continue
		}
		cur = next
	}
	return append(lines, string(cur))
}

func isWordRune(r rune) bool {
	return r < 0x80 && (r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-')
}
