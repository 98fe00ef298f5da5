package kiosk_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDependencies keeps dependencies pointing inward: the store and the sync
// protocol never pull in the UI toolkit, the UI never reaches the database,
// and the domain stays on the standard library.
func TestDependencies(t *testing.T) {
	for _, tc := range []struct {
		pkg       string
		forbidden []string
		allowed   []string // exceptions to forbidden
	}{
		{"./store", []string{"fyne.io/"}, nil},
		{"./sync/...", []string{"fyne.io/", "github.com/keqiao/villagekiosk/store", "github.com/keqiao/villagekiosk/app"}, nil},
		{"./search", []string{"fyne.io/", "modernc.org/sqlite", "github.com/keqiao/villagekiosk/store"}, nil},
		{"./app/...", []string{"github.com/keqiao/villagekiosk/store", "modernc.org/sqlite", "database/sql"}, nil},
		{".", []string{"fyne.io/", "modernc.org/", "database/sql", "net/http", "github.com/"}, []string{"github.com/keqiao/villagekiosk"}},
		{"./assets", []string{"github.com/keqiao/villagekiosk"}, []string{"github.com/keqiao/villagekiosk/assets"}},
	} {
		t.Run(tc.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", tc.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps %s: %v\n%s", tc.pkg, err, out)
			}
			deps := strings.Fields(string(out))
			if len(deps) == 0 {
				t.Fatalf("go list -deps %s listed %v; the check would see nothing", tc.pkg, deps)
			}
			for _, dep := range deps {
				for _, f := range tc.forbidden {
					if strings.HasPrefix(dep, f) && !slices.Contains(tc.allowed, dep) {
						t.Errorf("%s depends on %s", tc.pkg, dep)
					}
				}
			}
		})
	}
}
