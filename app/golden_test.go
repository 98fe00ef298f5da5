package app

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
)

// assertScreen compares the window with the golden image testdata/name. A
// missing or different golden is written to testdata/failed/name for a
// person to look at (and move over the old one when the change is meant).
// Unlike test.AssertImageMatches it reports a short count, not every byte.
func assertScreen(t *testing.T, name string, w fyne.Window) {
	t.Helper()
	got := w.Canvas().Capture()
	want, err := readPNG(filepath.Join("testdata", name))
	if err != nil {
		writeFailed(t, name, got)
		t.Errorf("golden %s: %v; the rendering is in testdata/failed/%s", name, err, name)
		return
	}
	if n := differentPixels(want, got); n > 0 {
		writeFailed(t, name, got)
		t.Errorf("screen differs from golden %s in %d pixels; see testdata/failed/%s", name, n, name)
	}
}

func readPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return png.Decode(f)
}

func writeFailed(t *testing.T, name string, img image.Image) {
	t.Helper()
	os.MkdirAll(filepath.Join("testdata", "failed"), 0o755)
	f, err := os.Create(filepath.Join("testdata", "failed", name))
	if err != nil {
		t.Log(err)
		return
	}
	defer f.Close()
	png.Encode(f, img)
}

// differentPixels counts pixels whose colour differs by more than a little in
// any channel (anti-aliasing may round differently on another CPU).
func differentPixels(a, b image.Image) int {
	if a.Bounds().Size() != b.Bounds().Size() {
		return a.Bounds().Dx() * a.Bounds().Dy()
	}
	n := 0
	ab, bb := a.Bounds(), b.Bounds()
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			if far(r1, r2) || far(g1, g2) || far(b1, b2) {
				n++
			}
		}
	}
	return n
}

func far(a, b uint32) bool {
	const tolerance = 8 * 257
	return a > b+tolerance || b > a+tolerance
}
