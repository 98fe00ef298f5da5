package app

import (
	"context"
	"fmt"
	"image"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	kiosk "github.com/keqiao/villagekiosk"
)

// Screens lists what Shot can render, for help texts.
const Screens = "lock, setup, home, category:NAME, search:QUERY, item:CODE, intake:CODE[:STEP] (STEP 1-4), submissions, submission:RECEIPT-NO, receipt:RECEIPT-NO"

// Shot renders one screen to an image with Fyne's software test driver, so
// screenshots need no display. Screens behind the lock are shown as the
// kiosk's first agent would see them; nothing is written.
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
	if name != "lock" && name != "setup" {
		agents, err := svc.Agents.Agents(context.Background())
		if err != nil || len(agents) == 0 {
			return nil, fmt.Errorf("screen %q is behind the sign-in: set up the kiosk first (kiosk setup, kiosk agent add)", name)
		}
		u.signedIn(&agents[0])
	}
	if err := u.Open(name); err != nil {
		return nil, err
	}
	w.Resize(size)
	return w.Canvas().Capture(), nil
}

// Open navigates to a named screen (see Screens).
func (u *UI) Open(name string) error {
	kind, arg, _ := strings.Cut(name, ":")
	switch kind {
	case "lock":
		u.Lock()
	case "setup":
		u.win.SetContent(u.newSetupScreen().root)
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
	case "item", "intake":
		code, step, _ := strings.Cut(arg, ":")
		m, s, ok := u.cat.Sub(code)
		if !ok {
			return fmt.Errorf("no sub-item with code %q in the catalog", code)
		}
		u.onHome()
		u.Go(&categoryScreen{ui: u, category: m.Category})
		u.Go(&detailScreen{ui: u, main: m, sub: s})
		if kind == "intake" {
			in := u.newIntake(m, s)
			u.Go(in)
			if step != "" {
				n := int(step[0] - '1')
				if len(step) != 1 || n < stepApplicant || n > stepReview {
					return fmt.Errorf("intake step %q: use 1 to 4", step)
				}
				in.fillExample()
				in.show(n)
			}
		}
	case "submissions":
		u.onHome()
		u.openSubmissions()
	case "submission", "receipt":
		u.onHome()
		u.openSubmissions()
		sub, err := u.svc.Submissions.Get(context.Background(), arg)
		if err != nil {
			return err
		}
		u.Go(&submissionScreen{ui: u, sub: sub})
		if kind == "receipt" {
			u.Go(&receiptScreen{ui: u, sub: sub})
		}
	default:
		return fmt.Errorf("unknown screen %q (screens: %s)", name, Screens)
	}
	return nil
}

// fillExample fills the form with a made-up villager, for screenshots of the
// later steps.
func (in *intakeScreen) fillExample() {
	in.name.SetText("𠮷野")
	in.idNumber.SetText("330621198001010014")
	in.phone.SetText("13800138000")
	for _, f := range in.sub.Form {
		if f.Required {
			in.setField(f, exampleValue(f))
		}
	}
	for _, mp := range in.materials {
		mp.received.SetChecked(!mp.mat.Deferrable)
	}
	in.consent.SetChecked(true)
}

func exampleValue(f kiosk.Field) string {
	switch f.Kind {
	case kiosk.KindChoice:
		return f.Options[0]
	case kiosk.KindDate:
		return "2026-10-31"
	case kiosk.KindIDNumber:
		return "11010519491231002X"
	case kiosk.KindPhone:
		return "13900139000"
	case kiosk.KindNumber:
		return "3"
	case kiosk.KindBankAccount:
		return "6228480012345678901"
	}
	return "示例"
}
