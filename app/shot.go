package app

import (
	"fmt"
	"image"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// Screens lists what Shot can render, for help texts.
const Screens = "home, category:NAME, search:QUERY, item:CODE"

// Shot renders one screen to an image with Fyne's software test driver, so
// screenshots need no display.
func Shot(name string, size fyne.Size, svc Services) (image.Image, error) {
	a := test.NewApp()
	defer a.Quit()
	a.Settings().SetTheme(Theme())
	w := a.NewWindow("村级便民服务")
	defer w.Close()
	w.Resize(size)
	u, err := New(w, svc, Options{})
	if err != nil {
		return nil, err
	}
	if err := u.Open(name); err != nil {
		return nil, err
	}
	w.Resize(size)
	return w.Canvas().Capture(), nil
}

// Open navigates to a named screen: home, category:NAME, search:QUERY or
// item:CODE.
func (u *UI) Open(name string) error {
	kind, arg, _ := strings.Cut(name, ":")
	switch kind {
	case "home":
		u.onHome()
	case "category":
		if len(u.cat.InCategory(arg)) == 0 {
			return fmt.Errorf("no category %q in the catalog (have: %s)", arg, strings.Join(u.cat.Categories(), ", "))
		}
		u.onHome()
		u.Go(&categoryScreen{ui: u, category: arg})
	case "search":
		u.onHome()
		u.Search(arg)
	case "item":
		m, s, ok := u.cat.Sub(arg)
		if !ok {
			return fmt.Errorf("no sub-item with code %q in the catalog", arg)
		}
		u.onHome()
		u.Go(&categoryScreen{ui: u, category: m.Category})
		u.Go(&detailScreen{ui: u, main: m, sub: s})
	default:
		return fmt.Errorf("unknown screen %q (screens: %s)", name, Screens)
	}
	return nil
}
