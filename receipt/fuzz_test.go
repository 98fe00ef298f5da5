package receipt_test

import (
	"crypto/ed25519"
	"image"
	"testing"

	"github.com/keqiao/villagekiosk/receipt"
)

// FuzzVerify: only a token signed by a known key verifies; anything else is
// refused with a reason; never a panic.
func FuzzVerify(f *testing.F) {
	tok, _ := receipt.NewToken(testSubmission(), testKey, received).Sign(testKey)
	f.Add(tok)
	f.Add("https://rs.keqiao.example/r/" + tok)
	f.Add("")
	f.Add("AQ")
	keys := receipt.Keyring{}
	keys.Add(testKey.Public().(ed25519.PublicKey), "test")
	f.Fuzz(func(t *testing.T, text string) {
		got, _, err := receipt.Verify(text, keys)
		if err == nil && got.ReceiptNo == "" && got.Matter == "" && text != tok {
			t.Fatalf("accepted an empty token from %q", text)
		}
	})
}

// FuzzEncodeESCPOS: any small image encodes to a stream that decodes back
// to the same black and white pixels.
func FuzzEncodeESCPOS(f *testing.F) {
	f.Add(uint8(10), uint8(2), []byte{0, 255, 128, 127})
	f.Fuzz(func(t *testing.T, w, h uint8, pix []byte) {
		if w == 0 || h == 0 {
			return
		}
		img := image.NewGray(image.Rect(0, 0, int(w), int(h)))
		for i := range img.Pix {
			if len(pix) > 0 {
				img.Pix[i] = pix[i%len(pix)]
			}
		}
		back, err := receipt.DecodeESCPOS(receipt.EncodeESCPOS(img))
		if err != nil {
			t.Fatal(err)
		}
		for y := 0; y < int(h); y++ {
			for x := 0; x < int(w); x++ {
				if (img.GrayAt(x, y).Y < 128) != (back.GrayAt(x, y).Y == 0) {
					t.Fatalf("pixel %d,%d differs", x, y)
				}
			}
		}
	})
}
