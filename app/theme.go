package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/keqiao/villagekiosk/assets"
)

var (
	fontRegular = fyne.NewStaticResource("NotoSansSC-Regular-subset.otf", assets.FontRegular)
	fontBold    = fyne.NewStaticResource("NotoSansSC-Bold-subset.otf", assets.FontBold)
)

// Colours chosen for contrast on a touchscreen in a bright village office:
// near-black text on white, a deep blue that passes WCAG AA with white text.
var (
	colPrimary    = color.NRGBA{0x0b, 0x4f, 0x9c, 0xff}
	colPrimaryDim = color.NRGBA{0xe6, 0xef, 0xfa, 0xff}
	colBackground = color.NRGBA{0xf3, 0xf5, 0xf8, 0xff}
	colCard       = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	colText       = color.NRGBA{0x14, 0x18, 0x1f, 0xff}
	colMuted      = color.NRGBA{0x4a, 0x52, 0x5e, 0xff}
	colGreen      = color.NRGBA{0x1b, 0x6e, 0x3a, 0xff}
	colOrange     = color.NRGBA{0xa8, 0x4b, 0x00, 0xff}
	colBorder     = color.NRGBA{0xc9, 0xd1, 0xdc, 0xff}
	colDanger     = color.NRGBA{0xb3, 0x1d, 0x1d, 0xff}
	colButton     = color.NRGBA{0xdc, 0xe4, 0xee, 0xff} // plain buttons must read as buttons on the grey background
	colHover      = color.NRGBA{0x0b, 0x4f, 0x9c, 0x22}
)

// kioskTheme is Fyne's default light theme with the bundled CJK font and
// sizes for a touchscreen read by elderly villagers over the agent's shoulder.
type kioskTheme struct{ fyne.Theme }

// Theme returns the kiosk's theme.
func Theme() fyne.Theme { return &kioskTheme{theme.DefaultTheme()} }

func (t *kioskTheme) Font(s fyne.TextStyle) fyne.Resource {
	switch {
	case s.Monospace || s.Symbol:
		return t.Theme.Font(s)
	case s.Bold:
		return fontBold
	}
	return fontRegular
}

func (t *kioskTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNamePrimary, theme.ColorNameHyperlink, theme.ColorNameFocus:
		return colPrimary
	case theme.ColorNameBackground:
		return colBackground
	case theme.ColorNameInputBackground, theme.ColorNameMenuBackground, theme.ColorNameOverlayBackground:
		return colCard
	case theme.ColorNameForeground:
		return colText
	case theme.ColorNamePlaceHolder:
		return colMuted
	case theme.ColorNameSuccess:
		return colGreen
	case theme.ColorNameWarning:
		return colOrange
	case theme.ColorNameError:
		return colDanger
	case theme.ColorNameButton:
		return colButton
	case theme.ColorNameHover:
		return colHover
	case theme.ColorNameInputBorder, theme.ColorNameSeparator:
		return colBorder
	case theme.ColorNameSelection:
		return colPrimaryDim
	}
	// The kiosk is always light: dark mode on a shared office screen only
	// confuses, and contrast was checked for light.
	return t.Theme.Color(n, theme.VariantLight)
}

func (t *kioskTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText:
		return 20
	case theme.SizeNameHeadingText:
		return 32
	case theme.SizeNameSubHeadingText:
		return 25
	case theme.SizeNameCaptionText:
		return 17
	case theme.SizeNamePadding:
		return 6
	case theme.SizeNameInnerPadding:
		return 12
	case theme.SizeNameInlineIcon:
		return 26
	case theme.SizeNameScrollBar:
		return 14
	case theme.SizeNameScrollBarSmall:
		return 8
	case theme.SizeNameInputBorder:
		return 2
	case theme.SizeNameInputRadius, theme.SizeNameSelectionRadius:
		return 6
	}
	return t.Theme.Size(n)
}
