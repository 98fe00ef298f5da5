package kiosk_test

import (
	"os"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

// FuzzCheckIDNumber: any input is either accepted, with a real birth date and
// a matching check character, or refused with a message; never a panic.
func FuzzCheckIDNumber(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "11010519491231002x", "330603199002300015", "", "１１０", "33062119800101001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id := kiosk.NormalizeIDNumber(s)
		err := kiosk.CheckIDNumber(id, time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC))
		if err == nil {
			if len(id) != 18 {
				t.Fatalf("accepted %q of length %d", id, len(id))
			}
			if _, perr := time.Parse("20060102", id[6:14]); perr != nil {
				t.Fatalf("accepted %q with birth date %s", id, id[6:14])
			}
		} else if err.Error() == "" {
			t.Fatal("refused without a message")
		}
	})
}

// FuzzParseCatalog: a catalog document either parses into a catalog that
// validates, or is refused with an error; never a panic.
func FuzzParseCatalog(f *testing.F) {
	small, _ := os.ReadFile("testdata/catalog-small.json")
	f.Add(small)
	f.Add([]byte(`{"version":"1"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		c, err := kiosk.ParseCatalog(doc)
		if err == nil && c.Validate() != nil {
			t.Fatal("ParseCatalog returned a catalog that does not validate")
		}
	})
}
