package kiosk_test

import (
	"strings"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

var today = time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)

func TestCheckIDNumber(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string // want: "" for valid, else a part of the message
	}{
		{"OK", "11010519491231002X", ""},
		{"OKLowercaseX", "11010519491231002x", ""},
		{"OKFullWidth", "１１０１０５１９４９１２３１００２Ｘ", ""},
		{"OKSpaces", " 110105 19491231 002X ", ""},
		{"OKRetiredRegion330621", "330621198001010014", ""}, // Shaoxing County, Keqiao before 2013
		{"OKKeqiao330603", "330603199502280014", ""},
		{"OKLeapDay", "330603200002290019", ""},
		{"ErrCheckCharacter", "110105194912310021", "校验位不对（最后一位应为X）"},
		{"ErrFebruary30", "330603199002300015", "不是真实的日期"},
		{"ErrFeb29NonLeap", "330603190002290012", "不是真实的日期"},
		{"Err17Digits", "33060319900101001", "应为18位，现在是17位"},
		{"Err19Digits", "3306031990010100111", "应为18位，现在是19位"},
		{"ErrEmpty", "", "应为18位，现在是0位"},
		{"ErrLetterInside", "3306031990A1010011", "第11位不对"},
		{"ErrLastLetter", "33060319900101001Y", "最后一位只能是数字或X"},
		{"ErrFutureBirth", "330603203001010015", "不合理"},
		{"ErrProvince", "00060319900101001X", "省份代码"},
		{"Err15DigitOldCard", "330621800101001", "应为18位"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := kiosk.CheckIDNumber(kiosk.NormalizeIDNumber(tc.in), today)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want valid", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestMaskIDNumber(t *testing.T) {
	if got := kiosk.MaskIDNumber("11010519491231002X"); got != "110105********002X" {
		t.Fatalf("got %s", got)
	}
}

func TestCheckPhone(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"13800138000", true},
		{"+86 138 0013 8000", true},
		{"199-0000-0000", true},
		{"12800138000", false},
		{"1380013800", false},
		{"0575-84123456", false}, // a landline
		{"138001380001", false},
		{"", false},
	} {
		err := kiosk.CheckPhone(kiosk.NormalizePhone(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("%q: got %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"张三", ""},
		{"𠮷野家", ""}, // outside the BMP
		{"  王　小明 ", ""},
		{"阿依古丽·买买提", ""},
		{"阿依古丽•买买提", ""},
		{"", "请填写申请人姓名"},
		{"   ", "请填写申请人姓名"},
		{strings.Repeat("张", 41), "姓名过长（41个字）"},
		{"张三3", "不能有“3”"},
		{"<script>", "不能有“<”"},
	} {
		err := kiosk.CheckName(kiosk.NormalizeName(tc.in))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q: got %v, want %q", tc.in, err, tc.want)
		}
	}
	if got := kiosk.NormalizeName("  王　小明 "); got != "王 小明" {
		t.Errorf("normalize: got %q", got)
	}
}
