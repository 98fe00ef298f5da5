package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// minTouch is the smallest height of anything a finger must hit (48 px is
// the common touch-target guideline; we keep a margin above it).
const minTouch = 56

// card is a tappable panel: a rounded background around any content. It is
// the kiosk's one building block for tiles and list rows.
type card struct {
	widget.BaseWidget
	content fyne.CanvasObject
	onTap   func()
	bg      *canvas.Rectangle
	minH    float32
}

func newCard(content fyne.CanvasObject, fill color.Color, minH float32, onTap func()) *card {
	bg := canvas.NewRectangle(fill)
	bg.CornerRadius = 10
	bg.StrokeColor = colBorder
	bg.StrokeWidth = 1
	c := &card{content: content, onTap: onTap, bg: bg, minH: max(minH, minTouch)}
	c.ExtendBaseWidget(c)
	return c
}

func (c *card) CreateRenderer() fyne.WidgetRenderer {
	spacer := canvas.NewRectangle(color.Transparent)
	spacer.SetMinSize(fyne.NewSize(0, c.minH))
	return widget.NewSimpleRenderer(container.NewStack(spacer, c.bg, container.NewPadded(container.NewPadded(c.content))))
}

// Tapped runs the card's action.
func (c *card) Tapped(*fyne.PointEvent) {
	if c.onTap != nil {
		c.onTap()
	}
}

// text makes a canvas text of a given size and colour.
func text(s string, size float32, col color.Color, bold bool) *canvas.Text {
	t := canvas.NewText(s, col)
	t.TextSize = size
	t.TextStyle.Bold = bold
	return t
}

// wrapped is a word-wrapping label, for text of any length.
func wrapped(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// heading is a section heading.
func heading(s string) *widget.Label {
	l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = "subHeadingText"
	return l
}

// badge is a small coloured tag such as 即办 or 可容缺.
func badge(s string, col color.Color) fyne.CanvasObject {
	bg := canvas.NewRectangle(col)
	bg.CornerRadius = 6
	return container.NewStack(bg, container.New(layout.NewCustomPaddedLayout(2, 2, 10, 10), text(s, 17, color.White, true)))
}

// tall gives an object at least the touch height.
func tall(o fyne.CanvasObject) fyne.CanvasObject {
	return container.NewStack(tallBy(minTouch), o)
}

// tallBy is an invisible spacer of at least h pixels of height.
func tallBy(h float32) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(0, h))
	return r
}

// relayout lays out a tree of containers again from the leaves up, after
// objects inside it were shown or hidden (an error line under a field).
func relayout(o fyne.CanvasObject) {
	switch c := o.(type) {
	case *fyne.Container:
		for _, child := range c.Objects {
			relayout(child)
		}
		c.Refresh()
	case *container.Scroll:
		relayout(c.Content)
		c.Refresh()
	case *card:
		relayout(c.content)
		c.Refresh()
	}
}

// opaque puts a background behind o. Bars next to a scrolled page get one:
// Fyne's software renderer (tests, kiosk shot) does not clip a scroller
// nested in another (an entry inside the page) to the outer one, and its
// overflow would show through a transparent bar.
func opaque(o fyne.CanvasObject) fyne.CanvasObject {
	return container.NewStack(canvas.NewRectangle(colBackground), o)
}
