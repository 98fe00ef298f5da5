package kiosk_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

func shippedCalendar(t *testing.T) *kiosk.Calendar {
	t.Helper()
	files, _ := filepath.Glob("assets/holidays/*.json")
	var docs [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, data)
	}
	c, err := kiosk.ParseHolidayYears(docs...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestAddWorkingDays counts time limits across the Spring Festival and
// National Day, where the make-up working weekends count and the holiday
// weekdays do not.
func TestAddWorkingDays(t *testing.T) {
	c := shippedCalendar(t)
	for _, tc := range []struct {
		name     string
		received string
		n        int
		want     string
	}{
		{"SameDay", "2026-03-02", 0, "2026-03-02"},
		{"OverAWeekend", "2026-03-06", 1, "2026-03-09"},
		{"PlainWeek", "2026-03-02", 5, "2026-03-09"},
		// 2026 Spring Festival: off Feb 15-23; Sat Feb 14 and Sat Feb 28 are working days.
		{"SpringFestivalMakeUpSaturdayCounts", "2026-02-13", 1, "2026-02-14"},
		{"SpringFestivalSkipped", "2026-02-14", 1, "2026-02-24"},
		{"SpringFestivalTen", "2026-02-12", 10, "2026-03-04"},
		{"SpringFestivalLateMakeUp", "2026-02-26", 2, "2026-02-28"},
		// 2026 National Day: off Oct 1-7; Sun Sep 20 and Sat Oct 10 are working days.
		{"NationalDayMakeUpSunday", "2026-09-18", 1, "2026-09-20"},
		{"NationalDaySkipped", "2026-09-30", 1, "2026-10-08"},
		{"NationalDayMakeUpSaturday", "2026-10-09", 1, "2026-10-10"},
		{"NationalDayTen", "2026-09-28", 10, "2026-10-16"},
		// 2025: Spring Festival off Jan 28-Feb 4, Sun Jan 26 and Sat Feb 8 worked;
		// National Day and Mid-Autumn off Oct 1-8, Sun Sep 28 and Sat Oct 11 worked.
		{"SpringFestival2025", "2025-01-24", 3, "2025-02-05"},
		{"NationalDay2025", "2025-09-30", 1, "2025-10-09"},
		{"AcrossNewYearMakeUpSunday", "2025-12-31", 1, "2026-01-04"},
		{"WorkInjuryDecision60", "2026-09-01", 60, "2026-11-30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, certain := c.AddWorkingDays(day(tc.received), tc.n)
			if got.Format("2006-01-02") != tc.want || !certain {
				t.Fatalf("got %s (certain %v), want %s", got.Format("2006-01-02"), certain, tc.want)
			}
		})
	}
	if _, certain := c.AddWorkingDays(day("2027-12-20"), 5); certain {
		t.Fatal("a year without a published arrangement was counted as certain")
	}
}

func TestParseHolidayYears_Errors(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"ErrWeekdayAsMakeUp", `{"year":2026,"source":"x","days_off":[],"working_weekends":[{"date":"2026-03-02","name":"x"}]}`, "is a Monday"},
		{"ErrWrongYear", `{"year":2026,"source":"x","days_off":[{"date":"2025-10-01","name":"x"}],"working_weekends":[]}`, "not a date in 2026"},
		{"ErrBoth", `{"year":2026,"source":"x","days_off":[{"date":"2026-02-14","name":"x"}],"working_weekends":[{"date":"2026-02-14","name":"y"}]}`, "both"},
		{"ErrJSON", `{"year":`, "not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kiosk.ParseHolidayYears([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// A district's copy of a year replaces the shipped one, not adds to it.
func TestParseHolidayYears_LaterReplaces(t *testing.T) {
	shipped, _ := os.ReadFile("assets/holidays/2026.json")
	district := []byte(`{"year":2026,"source":"区人社局转发","days_off":[{"date":"2026-03-02","name":"测试"}],"working_weekends":[]}`)
	c, err := kiosk.ParseHolidayYears(shipped, district)
	if err != nil {
		t.Fatal(err)
	}
	if c.IsWorkingDay(day("2026-03-02")) || !c.IsWorkingDay(day("2026-10-02")) {
		t.Fatal("the district's 2026 did not replace the shipped one")
	}
}
