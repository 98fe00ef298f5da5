// Package assets embeds what the kiosk ships with: the default standard
// catalog and the bundled CJK fonts. It is a leaf package: it imports nothing
// of the project, so anything may depend on it.
package assets

import (
	"embed"
	"io/fs"
)

// DefaultCatalog is the standard catalog the kiosk starts with until the
// district publishes its own (format: docs/catalog.md).
//
//go:embed catalog/default.json
var DefaultCatalog []byte

// FontRegular and FontBold are Noto Sans CJK SC, subset to GBK's Chinese
// characters by fonts/mkfont.py (SIL Open Font License, fonts/OFL.txt).
//
//go:embed fonts/NotoSansSC-Regular-subset.otf
var FontRegular []byte

//go:embed fonts/NotoSansSC-Bold-subset.otf
var FontBold []byte

// FontRegularTTF is the regular weight with TrueType outlines, made by
// fonts/mkttf.py, for PDF receipts (the PDF library embeds TrueType only).
//
//go:embed fonts/NotoSansSC-Regular-subset.ttf
var FontRegularTTF []byte

// holidays holds the official holiday arrangement per year (docs/receipts.md),
// replaceable by what the district publishes each November.
//
//go:embed holidays/*.json
var holidays embed.FS

// HolidayYears returns the shipped calendar documents, one per year.
func HolidayYears() [][]byte {
	names, _ := fs.Glob(holidays, "holidays/*.json")
	var out [][]byte
	for _, n := range names {
		data, _ := holidays.ReadFile(n)
		out = append(out, data)
	}
	return out
}
