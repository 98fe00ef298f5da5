package assets

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"
	"unicode"

	"golang.org/x/image/font/sfnt"
)

// TestFontsCoverText: every Chinese character the kiosk shows on its own
// (the default catalog, the words of the screens and receipts) is in each
// bundled font, so a machine without Chinese fonts shows no boxes. Only
// villagers' names (e.g. 𠮷) may fall back to installed fonts. The test
// machine has system CJK fonts, which would hide a gap on screen: this
// looks in the font files themselves.
func TestFontsCoverText(t *testing.T) {
	text := map[rune]string{}
	add := func(s, where string) {
		for _, r := range s {
			if unicode.Is(unicode.Han, r) || unicode.In(r, unicode.Punct) && r > 0x2000 {
				if _, ok := text[r]; !ok {
					text[r] = where
				}
			}
		}
	}
	add(string(DefaultCatalog), "the default catalog")
	for _, dir := range []string{"../app", "../receipt", "../cmd/kiosk"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if filepath.Ext(f) != ".go" || len(f) > 8 && f[len(f)-8:] == "_test.go" {
				continue
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(parsed, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil {
						add(s, f)
					}
				}
				return true
			})
		}
	}
	if len(text) < 500 {
		t.Fatalf("found only %d characters to check: the scan is broken", len(text))
	}
	for name, data := range map[string][]byte{"regular": FontRegular, "bold": FontBold, "regular TTF": FontRegularTTF} {
		f, err := sfnt.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var buf sfnt.Buffer
		missing := 0
		for r, where := range text {
			if r == '𠮷' {
				continue // a rare name character: system font fallback, by design
			}
			if i, err := f.GlyphIndex(&buf, r); err != nil || i == 0 {
				if missing++; missing <= 10 {
					t.Errorf("%s font lacks %q (%U), used in %s", name, r, r, where)
				}
			}
		}
		if missing > 10 {
			t.Errorf("%s font lacks %d characters in all", name, missing)
		}
	}
}
