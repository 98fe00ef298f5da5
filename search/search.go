// Package search finds catalog items the way a village agent types: a Chinese
// substring, full pinyin (yanglao → 养老), pinyin initials (sbk → 社保卡), or a
// mix (shebaok), tolerant of polyphonic characters. It has no UI and no store.
package search

import (
	"sort"
	"strings"
	"unicode"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/mozillazg/go-pinyin"
)

// Hit is one sub-item found, with the main item it belongs to.
type Hit struct {
	Main  *kiosk.MainItem
	Sub   *kiosk.SubItem
	score int
}

// text is one searchable string with each rune's possible pinyin readings.
type text struct {
	plain    string
	readings [][]string
	weight   int // how much a match here counts
}

type entry struct {
	main  *kiosk.MainItem
	sub   *kiosk.SubItem
	code  string
	texts []text
	order int
}

// Index is built once per catalog and is safe for concurrent use.
type Index struct {
	entries []entry
}

// Weights: a match in the sub-item's own name counts most.
const (
	weightSub     = 60
	weightMain    = 50
	weightKeyword = 45
)

// New builds the index of a catalog.
func New(c *kiosk.Catalog) *Index {
	idx := &Index{}
	cache := map[rune][]string{}
	for i := range c.MainItems {
		m := &c.MainItems[i]
		for j := range m.SubItems {
			s := &m.SubItems[j]
			e := entry{main: m, sub: s, code: strings.ToLower(s.Code), order: len(idx.entries)}
			e.texts = append(e.texts, newText(s.Name, weightSub, cache), newText(m.Name, weightMain, cache))
			for _, k := range s.Keywords {
				e.texts = append(e.texts, newText(k, weightKeyword, cache))
			}
			idx.entries = append(idx.entries, e)
		}
	}
	return idx
}

func newText(s string, weight int, cache map[rune][]string) text {
	t := text{plain: s, weight: weight}
	args := pinyin.NewArgs()
	args.Heteronym = true
	for _, r := range s {
		rs, ok := cache[r]
		if !ok {
			switch {
			case unicode.Is(unicode.Han, r):
				rs = dedupe(pinyin.SinglePinyin(r, args))
			case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
				rs = []string{strings.ToLower(string(r))}
			}
			cache[r] = rs
		}
		t.readings = append(t.readings, rs)
	}
	return t
}

func dedupe(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Find returns the sub-items matching query, best first. An empty query
// finds nothing.
func (idx *Index) Find(query string) []Hit {
	q := normalize(query)
	if q == "" {
		return nil
	}
	han := strings.IndexFunc(q, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
	var hits []Hit
	for i := range idx.entries {
		e := &idx.entries[i]
		if score := e.score(q, han); score > 0 {
			hits = append(hits, Hit{Main: e.main, Sub: e.sub, score: score*10000 - e.order})
		}
	}
	sort.SliceStable(hits, func(a, b int) bool { return hits[a].score > hits[b].score })
	return hits
}

func (e *entry) score(q string, han bool) int {
	best := 0
	if strings.HasPrefix(e.code, q) {
		best = 90
	}
	for _, t := range e.texts {
		var s int
		if han {
			if at := strings.Index(strings.ToLower(t.plain), q); at >= 0 {
				s = t.weight + 40
				if at == 0 {
					s += 5
				}
			}
		} else if start := matchPinyin(t.readings, q); start >= 0 {
			s = t.weight
			if start == 0 {
				s += 10
			}
		}
		best = max(best, s)
	}
	return best
}

// normalize lower-cases the query and drops what people type between
// syllables (spaces, apostrophes); ü is typed as v.
func normalize(q string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(q)) {
		switch {
		case r == ' ' || r == '\'' || r == '’' || r == '\u3000':
		case r == 'ü':
			b.WriteRune('v')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// matchPinyin reports the first rune index at which q can be spelt by
// consecutive runes, each contributing a non-empty prefix of one of its
// readings (so "yanglao", "yl", "yangl" all match 养老), or -1.
func matchPinyin(readings [][]string, q string) int {
	for start := range readings {
		if spell(readings, start, q) {
			return start
		}
	}
	return -1
}

func spell(readings [][]string, i int, q string) bool {
	if q == "" {
		return true
	}
	if i >= len(readings) {
		return false
	}
	for _, r := range readings[i] {
		r = strings.ReplaceAll(r, "ü", "v")
		for n := min(len(r), len(q)); n >= 1; n-- {
			if r[:n] == q[:n] && spell(readings, i+1, q[n:]) {
				return true
			}
		}
	}
	return false
}
