package receipt

import (
	"bytes"
	"fmt"
	"image"
)

// ESC/POS commands used here; they are common to Epson-compatible thermal
// printers, including the inexpensive 58 mm ones of village service points.
var (
	escInit    = []byte{0x1B, 0x40}             // ESC @: reset
	escFeed    = []byte{0x1B, 0x64, 0x04}       // ESC d 4: feed four lines
	escCut     = []byte{0x1D, 0x56, 0x42, 0x00} // GS V 66 0: feed to the cutter and cut
	rasterHead = []byte{0x1D, 0x76, 0x30, 0x00} // GS v 0 m=0: raster bit image, normal size
)

// bandRows is how many rows go in one raster command; small printers have
// small buffers, and 24 rows of 72 bytes stay well within them.
const bandRows = 24

// threshold decides which grey pixels print black.
const threshold = 128

// EncodeESCPOS turns an image into the bytes for a thermal printer: reset,
// the image as raster bands (GS v 0), feed and cut. Pixels darker than
// mid-grey print.
func EncodeESCPOS(img image.Image) []byte {
	b := img.Bounds()
	widthBytes := (b.Dx() + 7) / 8
	var out bytes.Buffer
	out.Write(escInit)
	for y0 := b.Min.Y; y0 < b.Max.Y; y0 += bandRows {
		rows := min(bandRows, b.Max.Y-y0)
		out.Write(rasterHead)
		out.Write([]byte{byte(widthBytes), byte(widthBytes >> 8), byte(rows), byte(rows >> 8)})
		for y := y0; y < y0+rows; y++ {
			row := make([]byte, widthBytes)
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				lum := (299*r + 587*g + 114*bl) / 1000 >> 8
				if lum < threshold {
					i := x - b.Min.X
					row[i/8] |= 0x80 >> (i % 8)
				}
			}
			out.Write(row)
		}
	}
	out.Write(escFeed)
	out.Write(escCut)
	return out.Bytes()
}

// DecodeESCPOS reads back the raster bands of a stream made by EncodeESCPOS
// into a black-and-white image: tests use it to check what the printer
// would print.
func DecodeESCPOS(data []byte) (*image.Gray, error) {
	if !bytes.HasPrefix(data, escInit) {
		return nil, fmt.Errorf("stream does not start with ESC @")
	}
	var bands []struct {
		w, h int
		bits []byte
	}
	p := data[len(escInit):]
	width := 0
	for bytes.HasPrefix(p, rasterHead) {
		if len(p) < 8 {
			return nil, fmt.Errorf("truncated raster header")
		}
		w := int(p[4]) | int(p[5])<<8
		h := int(p[6]) | int(p[7])<<8
		n := w * h
		if len(p) < 8+n {
			return nil, fmt.Errorf("truncated raster band: %d of %d bytes", len(p)-8, n)
		}
		if width != 0 && w != width {
			return nil, fmt.Errorf("band width changed from %d to %d bytes", width, w)
		}
		width = w
		bands = append(bands, struct {
			w, h int
			bits []byte
		}{w, h, p[8 : 8+n]})
		p = p[8+n:]
	}
	if !bytes.Equal(p, append(append([]byte(nil), escFeed...), escCut...)) {
		return nil, fmt.Errorf("stream does not end with feed and cut: % x", p)
	}
	height := 0
	for _, b := range bands {
		height += b.h
	}
	img := image.NewGray(image.Rect(0, 0, width*8, height))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	y := 0
	for _, b := range bands {
		for row := 0; row < b.h; row++ {
			for x := 0; x < b.w*8; x++ {
				if b.bits[row*b.w+x/8]&(0x80>>(x%8)) != 0 {
					img.Pix[(y+row)*img.Stride+x] = 0
				}
			}
		}
		y += b.h
	}
	return img, nil
}
