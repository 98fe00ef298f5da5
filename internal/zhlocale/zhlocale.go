// Package zhlocale makes the kiosk's process Chinese-speaking before Fyne
// reads the locale. Fyne's lang package reads it in its init, so this must be
// a package of its own with no dependencies but the standard library: Go
// initialises such a package before any package that sorts after it in
// import-path order and waits on other dependencies (fyne.io/fyne/v2/lang
// waits on golang.org/x/text and go-i18n).
//
// LANGUAGE only chooses message catalogs (gettext and Fyne's own texts, such
// as the file dialog's buttons); it changes no formatting, and a LANGUAGE the
// user set is kept. It also avoids Fyne's error about the C.UTF-8 locale that
// services and CI run with.
package zhlocale

import "os"

func init() {
	if os.Getenv("LANGUAGE") == "" {
		os.Setenv("LANGUAGE", "zh_CN")
	}
}
