package kiosk_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	kiosk "github.com/keqiao/villagekiosk"
)

func mustSmall(t *testing.T) *kiosk.Catalog {
	t.Helper()
	data, err := os.ReadFile("testdata/catalog-small.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := kiosk.ParseCatalog(data)
	if err != nil {
		t.Fatalf("small catalog: %v", err)
	}
	return c
}

func TestParseCatalog_OK(t *testing.T) {
	c := mustSmall(t)
	if m, s := c.Stats(); m != 2 || s != 3 {
		t.Fatalf("got %d main / %d sub, want 2 / 3", m, s)
	}
	main, sub, ok := c.Sub("3306210001-02")
	if !ok || main.Code != "3306210001" || sub.Name != "社会保障卡补领" {
		t.Fatalf("Sub lookup: got %v %v %v", main, sub, ok)
	}
	if got := c.Categories(); strings.Join(got, ",") != "社会保障卡,养老保险" {
		t.Fatalf("got categories %v", got)
	}
}

// TestValidate_Errors breaks one element at a time and checks the message
// names the item and the element, as a district fixing its file needs.
func TestValidate_Errors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(c *kiosk.Catalog)
		want   []string
	}{
		{"ErrMissingLegalBasis", func(c *kiosk.Catalog) { c.MainItems[0].SubItems[0].LegalBasis = nil },
			[]string{"社会保障卡首次申领", "3306210001-01", "legal_basis (办理依据) is missing"}},
		{"ErrMissingMaterials", func(c *kiosk.Catalog) { c.MainItems[0].SubItems[1].Materials = nil },
			[]string{"社会保障卡补领", "materials (申请材料) is missing"}},
		{"ErrMissingProcedure", func(c *kiosk.Catalog) { c.MainItems[1].SubItems[0].Procedure = nil },
			[]string{"3306211136-01", "procedure (办理流程) is missing"}},
		{"ErrMissingBackOffice", func(c *kiosk.Catalog) { c.MainItems[1].SubItems[0].BackOffice = nil },
			[]string{"back_office (业务经办流程) is missing"}},
		{"ErrMissingForm", func(c *kiosk.Catalog) { c.MainItems[1].SubItems[0].Form = nil },
			[]string{"form (表单内容) is missing"}},
		{"ErrMissingTimeLimit", func(c *kiosk.Catalog) { c.MainItems[0].SubItems[0].TimeLimit = kiosk.TimeLimit{} },
			[]string{"社会保障卡首次申领", "time_limit (办理时限): promised_days is missing"}},
		{"ErrPromisedOverStatutory", func(c *kiosk.Catalog) {
			c.MainItems[0].SubItems[0].TimeLimit = kiosk.TimeLimit{StatutoryDays: 5, PromisedDays: 10}
		}, []string{"promised 10 days exceeds statutory 5 days"}},
		{"ErrMissingSubName", func(c *kiosk.Catalog) { c.MainItems[0].SubItems[0].Name = " " },
			[]string{"3306210001-01", "name (子项名称) is missing"}},
		{"ErrMissingMainName", func(c *kiosk.Catalog) { c.MainItems[1].Name = "" },
			[]string{"main item 2", "3306211136", "name (主项名称) is missing"}},
		{"ErrDuplicateCode", func(c *kiosk.Catalog) { c.MainItems[0].SubItems[1].Code = "3306210001-01" },
			[]string{"code 3306210001-01 is already used by sub-item \"社会保障卡首次申领\""}},
		{"ErrDuplicateMainCode", func(c *kiosk.Catalog) { c.MainItems[1].Code = "3306210001" },
			[]string{"code 3306210001 is already used by main item 1"}},
		{"ErrUnknownFieldKind", func(c *kiosk.Catalog) { c.MainItems[0].SubItems[0].Form[1].Kind = "email" },
			[]string{"社会保障卡首次申领", "form field 2 \"mail_address\"", "kind \"email\" is unknown"}},
		{"ErrChoiceWithoutOptions", func(c *kiosk.Catalog) { c.MainItems[0].SubItems[1].Form[0].Options = nil },
			[]string{"form field 1 \"reason\": a choice needs at least two options"}},
		{"ErrReservedField", func(c *kiosk.Catalog) { c.MainItems[0].SubItems[1].Form[0].ID = "id_number" },
			[]string{"id is reserved"}},
		{"ErrOrphanSubItem", func(c *kiosk.Catalog) { c.MainItems[0].SubItems[0].MainCode = "3306219999" },
			[]string{"社会保障卡首次申领", "main item 3306219999 does not exist"}},
		{"ErrSubItemUnderWrongMain", func(c *kiosk.Catalog) { c.MainItems[0].SubItems[0].MainCode = "3306211136" },
			[]string{"is listed under main item 3306210001 but names main item 3306211136"}},
		{"ErrUnknownChannel", func(c *kiosk.Catalog) {
			c.MainItems[0].SubItems[0].Channels = append(c.MainItems[0].SubItems[0].Channels, "fax")
		}, []string{"channel \"fax\" is unknown"}},
		{"ErrMissingFee", func(c *kiosk.Catalog) { c.MainItems[0].SubItems[0].Fee = "" },
			[]string{"fee is missing"}},
		{"ErrUnknownMaterialForm", func(c *kiosk.Catalog) { c.MainItems[0].SubItems[0].Materials[0].Form = "scan" },
			[]string{"materials 1 \"居民身份证\": form \"scan\" is unknown"}},
		{"ErrDeferrableOptional", func(c *kiosk.Catalog) {
			m := &c.MainItems[0].SubItems[0].Materials[1]
			m.Required = false
		}, []string{"only a required material can be deferrable"}},
		{"ErrNoSubItems", func(c *kiosk.Catalog) { c.MainItems[1].SubItems = nil },
			[]string{"main item 2", "has no sub-items"}},
		{"ErrMissingVersion", func(c *kiosk.Catalog) { c.Version = "" },
			[]string{"catalog: version is missing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustSmall(t)
			tc.mutate(c)
			err := c.Validate()
			if err == nil {
				t.Fatal("got nil error, want one")
			}
			if code := kiosk.ErrorCode(err); code != kiosk.EInvalid {
				t.Errorf("got code %q, want %q", code, kiosk.EInvalid)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to contain %q", err, w)
				}
			}
			// The same failure through the JSON path the kiosk uses.
			data, _ := json.Marshal(c)
			if _, err := kiosk.ParseCatalog(data); err == nil {
				t.Error("ParseCatalog accepted the broken catalog")
			}
		})
	}
}

func TestParseCatalog_Malformed(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"ErrNotJSON", "catalog", "not valid JSON"},
		{"ErrUnknownElement", `{"version":"1","publisher":"x","published_at":"2026-01-01","main_items":[],"mainitems":[]}`, `unknown field "mainitems"`},
		{"ErrTrailing", `{"version":"1"} {}`, "trailing data"},
		{"ErrEmpty", `{"version":"1","publisher":"x","published_at":"2026-01-01","main_items":[]}`, "main_items is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kiosk.ParseCatalog([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestTimeLimitText(t *testing.T) {
	for _, tc := range []struct {
		tl   kiosk.TimeLimit
		want string
	}{
		{kiosk.TimeLimit{OnTheSpot: true}, "即办"},
		{kiosk.TimeLimit{StatutoryDays: 60, PromisedDays: 20}, "承诺20个工作日，法定60个工作日"},
	} {
		if got := tc.tl.Text(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
