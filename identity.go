package kiosk

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// GB 11643-1999 check: weights over the first 17 digits, sum mod 11, mapped to
// the check character.
var (
	idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	idChecks  = "10X98765432"
)

// NormalizeIDNumber trims spaces, upper-cases a trailing x and turns
// full-width digits into ASCII, as agents type them on a touchscreen keyboard.
func NormalizeIDNumber(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '０' && r <= '９':
			b.WriteRune('0' + r - '０')
		case r == 'x' || r == 'ｘ' || r == 'Ｘ':
			b.WriteRune('X')
		case r == ' ' || r == '\u3000':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// CheckIDNumber validates a resident identity number (GB 11643-1999): 18
// characters, a real birth date not in the future, and the check character.
// Region codes are not checked against a list, since retired codes (such as
// Shaoxing County's 330621, Keqiao's before 2013) stay valid on old cards.
// The message is plain Chinese for the agent.
func CheckIDNumber(id string, today time.Time) error {
	n := utf8.RuneCountInString(id)
	if n != 18 {
		return fmt.Errorf("身份证号应为18位，现在是%d位，请核对", n)
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := id[i]
		if c < '0' || c > '9' {
			return fmt.Errorf("身份证号前17位只能是数字，第%d位不对", i+1)
		}
		sum += int(c-'0') * idWeights[i]
	}
	last := id[17]
	if !(last >= '0' && last <= '9') && last != 'X' {
		return fmt.Errorf("身份证号最后一位只能是数字或X")
	}
	if id[:2] < "11" || id[:2] > "82" {
		return fmt.Errorf("身份证号前两位（省份代码）不对，请核对")
	}
	birth, err := time.Parse("20060102", id[6:14])
	if err != nil {
		return fmt.Errorf("身份证号中的出生日期（第7到14位）%s 不是真实的日期", id[6:14])
	}
	if birth.Year() < 1890 || birth.After(today) {
		return fmt.Errorf("身份证号中的出生日期（第7到14位）%s 不合理", id[6:14])
	}
	if want := idChecks[sum%11]; last != want {
		return fmt.Errorf("身份证号校验位不对（最后一位应为%c），请逐位核对", want)
	}
	return nil
}

// MaskIDNumber keeps the first 6 and last 4 characters, as receipts show it.
func MaskIDNumber(id string) string {
	if len(id) < 10 {
		return strings.Repeat("*", len(id))
	}
	return id[:6] + strings.Repeat("*", len(id)-10) + id[len(id)-4:]
}

var mobilePattern = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// NormalizePhone drops spaces, dashes and a +86 / 0086 prefix.
func NormalizePhone(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '０' && r <= '９':
			b.WriteRune('0' + r - '０')
		case r == ' ' || r == '-' || r == '\u3000':
		default:
			b.WriteRune(r)
		}
	}
	p := b.String()
	for _, prefix := range []string{"+86", "0086"} {
		p = strings.TrimPrefix(p, prefix)
	}
	return p
}

// CheckPhone accepts a mainland mobile number (11 digits starting 13-19).
func CheckPhone(p string) error {
	if !mobilePattern.MatchString(p) {
		return fmt.Errorf("请填写11位大陆手机号码（以1开头），例如 13800000000")
	}
	return nil
}

// MaxNameRunes is the longest name accepted; the longest names in practice
// (transliterated ethnic-minority names with the middle dot) stay well below it.
const MaxNameRunes = 40

// NormalizeName trims and folds inner runs of spaces, and turns the various
// middle dots people type into the standard one (U+00B7).
func NormalizeName(s string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\u3000", " ")), " ")
	return strings.NewReplacer("•", "·", "・", "·", "．", "·", "‧", "·").Replace(s)
}

// CheckName accepts any letters, including characters outside the Basic
// Multilingual Plane (生僻字 such as 𠮷), the middle dot and spaces.
func CheckName(s string) error {
	if s == "" {
		return fmt.Errorf("请填写申请人姓名")
	}
	if n := utf8.RuneCountInString(s); n > MaxNameRunes {
		return fmt.Errorf("姓名过长（%d个字），最多%d个字，请核对", n, MaxNameRunes)
	}
	for _, r := range s {
		if !(unicode.IsLetter(r) || r == '·' || r == ' ' || unicode.Is(unicode.Mn, r)) {
			return fmt.Errorf("姓名中不能有“%c”，只能是文字、空格或间隔号“·”", r)
		}
	}
	return nil
}
