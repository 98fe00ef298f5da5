package kiosk

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ChinaTime is the zone of every date a villager or the district sees (receipt
// numbers, time limits, lists), whatever zone the terminal's clock is set to.
var ChinaTime = time.FixedZone("CST", 8*3600)

// HolidayYear is one year of the official holiday arrangement as the State
// Council publishes it each November, and as the district forwards it:
// public holidays, and the weekend days that are working days instead (调休).
type HolidayYear struct {
	Year            int          `json:"year"`
	Source          string       `json:"source"`
	DaysOff         []HolidayDay `json:"days_off"`
	WorkingWeekends []HolidayDay `json:"working_weekends"`
}

// HolidayDay is one dated entry.
type HolidayDay struct {
	Date string `json:"date"` // YYYY-MM-DD
	Name string `json:"name"`
}

// Calendar answers whether a day is a working day.
type Calendar struct {
	off, work map[string]bool
	years     map[int]bool
}

// ParseHolidayYears decodes and checks calendar documents: dates in their
// year, days off not on the working list, working weekends on weekends. A
// later document for a year replaces an earlier one (the district's copy
// replaces the shipped one).
func ParseHolidayYears(docs ...[]byte) (*Calendar, error) {
	c := &Calendar{off: map[string]bool{}, work: map[string]bool{}, years: map[int]bool{}}
	byYear := map[int]HolidayYear{}
	var order []int
	for _, doc := range docs {
		var y HolidayYear
		dec := json.NewDecoder(strings.NewReader(string(doc)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&y); err != nil {
			return nil, Errorf(EInvalid, "holiday calendar is not valid JSON: %v", err)
		}
		if _, seen := byYear[y.Year]; !seen {
			order = append(order, y.Year)
		}
		byYear[y.Year] = y
	}
	for _, year := range order {
		y := byYear[year]
		if y.Year < 2000 || y.Year > 2100 {
			return nil, Errorf(EInvalid, "holiday calendar: year %d is not plausible", y.Year)
		}
		check := func(d HolidayDay, list string) (time.Time, error) {
			t, err := time.Parse("2006-01-02", d.Date)
			if err != nil || t.Year() != y.Year {
				return t, Errorf(EInvalid, "holiday calendar %d: %s date %q is not a date in %d", y.Year, list, d.Date, y.Year)
			}
			return t, nil
		}
		for _, d := range y.DaysOff {
			if _, err := check(d, "days_off"); err != nil {
				return nil, err
			}
			c.off[d.Date] = true
		}
		for _, d := range y.WorkingWeekends {
			t, err := check(d, "working_weekends")
			if err != nil {
				return nil, err
			}
			if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
				return nil, Errorf(EInvalid, "holiday calendar %d: working weekend %s is a %s", y.Year, d.Date, wd)
			}
			if c.off[d.Date] {
				return nil, Errorf(EInvalid, "holiday calendar %d: %s is both a day off and a working day", y.Year, d.Date)
			}
			c.work[d.Date] = true
		}
		c.years[y.Year] = true
	}
	return c, nil
}

// Knows says whether the calendar has the official arrangement for a year.
func (c *Calendar) Knows(year int) bool { return c.years[year] }

// IsWorkingDay says whether a date is a working day: a weekday that is not a
// holiday, or a weekend day that is a make-up working day.
func (c *Calendar) IsWorkingDay(d time.Time) bool {
	key := d.Format("2006-01-02")
	if c.work[key] {
		return true
	}
	if c.off[key] {
		return false
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// AddWorkingDays returns the date n working days after the day a matter was
// received (that day itself does not count). With n = 0 it is the day itself.
// certain is false when a day passed lies in a year the calendar does not
// know: the answer then skips only weekends.
func (c *Calendar) AddWorkingDays(received time.Time, n int) (due time.Time, certain bool) {
	d := time.Date(received.Year(), received.Month(), received.Day(), 0, 0, 0, 0, received.Location())
	certain = c.Knows(d.Year())
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if !c.Knows(d.Year()) {
			certain = false
		}
		if c.IsWorkingDay(d) {
			n--
		}
	}
	return d, certain
}

// String describes the years covered.
func (c *Calendar) String() string {
	var ys []string
	for y := range c.years {
		ys = append(ys, fmt.Sprint(y))
	}
	return "holiday calendar " + strings.Join(ys, ", ")
}
