package search_test

import (
	"os"
	"testing"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/search"
)

func index(t *testing.T) *search.Index {
	t.Helper()
	data, err := os.ReadFile("../testdata/catalog-small.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := kiosk.ParseCatalog(data)
	if err != nil {
		t.Fatal(err)
	}
	return search.New(c)
}

func TestFind(t *testing.T) {
	idx := index(t)
	for _, tc := range []struct {
		query string
		want  []string // sub-item codes, best first; nil for no hit
	}{
		{"社保卡", []string{"3306210001-01"}}, // keyword only on the first-time application
		{"补领", []string{"3306210001-02"}},
		{"社会保障卡", []string{"3306210001-01", "3306210001-02"}},
		{"sbk", []string{"3306210001-01"}},
		{"SBK", []string{"3306210001-01"}},
		{"shbzk", []string{"3306210001-01", "3306210001-02"}},
		{"shehuibaozhangka", []string{"3306210001-01", "3306210001-02"}},
		{"yanglao", []string{"3306211136-01"}},
		{"yang lao", []string{"3306211136-01"}},
		{"ylbx", []string{"3306211136-01"}},
		{"yangl", []string{"3306211136-01"}},
		{"nongbao", []string{"3306211136-01"}},
		{"buling", []string{"3306210001-02"}},
		{"3306211136", []string{"3306211136-01"}},
		{"", nil},
		{"   ", nil},
		{"火箭", nil},
		{"xyz", nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			hits := idx.Find(tc.query)
			var got []string
			for _, h := range hits {
				got = append(got, h.Sub.Code)
			}
			if len(got) < len(tc.want) || (tc.want == nil && got != nil) {
				t.Fatalf("got %v, want %v first", got, tc.want)
			}
			for i := range tc.want {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v first", got, tc.want)
				}
			}
		})
	}
}

// A polyphonic character is found by any of its readings: 长 in 长期 is chang.
func TestFind_Heteronym(t *testing.T) {
	c := &kiosk.Catalog{MainItems: []kiosk.MainItem{{Code: "M1", Name: "长期护理", SubItems: []kiosk.SubItem{
		{Code: "M1-01", MainCode: "M1", Name: "长期护理保险待遇申请"},
	}}}}
	idx := search.New(c)
	for _, q := range []string{"changqi", "zhangqi", "cqhl"} {
		if hits := idx.Find(q); len(hits) != 1 {
			t.Errorf("%s: got %d hits, want 1", q, len(hits))
		}
	}
}
