package district

import (
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/assets"
)

func cst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, kiosk.ChinaTime)
	if err != nil {
		panic(err)
	}
	return t
}

func ev(status, at string) statusEvent { return statusEvent{Status: status, At: cst(at)} }

// TestJudge gives each rule of the figures a case with a known answer,
// counted by hand on the 2026 official calendar.
func TestJudge(t *testing.T) {
	cal, err := kiosk.ParseHolidayYears(assets.HolidayYears()...)
	if err != nil {
		t.Fatal(err)
	}
	now := cst("2026-11-28 12:00")
	days3 := kiosk.TimeLimit{PromisedDays: 3}
	spot := kiosk.TimeLimit{OnTheSpot: true}
	const village, hall = "330603101201", "330603000000"
	rec := func(point, created string, h ...statusEvent) matterRecord {
		return matterRecord{Point: point, Matter: "m", Created: cst(created), History: h}
	}
	received := func(at string) statusEvent { return ev(kiosk.StatusReceived, at) }
	for _, tc := range []struct {
		name  string
		m     matterRecord
		limit kiosk.TimeLimit
		known bool
		want  verdict
	}{
		{"OnTimeOnLastDay", rec(village, "2026-11-02 10:00", received("2026-11-02 10:01"), ev("done", "2026-11-05 16:00")), days3, true,
			verdict{Known: true, NoTravel: true, Due: true, OnTime: true, Done: true, Days: 3}},
		{"LateByOneDay", rec(village, "2026-11-02 10:00", received("2026-11-02 10:01"), ev("done", "2026-11-06 09:00")), days3, true,
			verdict{Known: true, NoTravel: true, Due: true, Done: true, Days: 4}},
		// 9-30 + 3 working days: 10-01..07 off, 10-08, 10-09, and Saturday 10-10 (调休).
		{"NationalDayWithMakeUpSaturday", rec(village, "2026-09-30 09:00", ev("done", "2026-10-10 11:00")), days3, true,
			verdict{Known: true, NoTravel: true, Due: true, OnTime: true, Done: true, Days: 3}},
		{"NationalDayLate", rec(village, "2026-09-30 09:00", ev("done", "2026-10-12 11:00")), days3, true,
			verdict{Known: true, NoTravel: true, Due: true, Done: true, Days: 4}},
		{"OnTheSpotSameDay", rec(village, "2026-11-10 09:00", ev("accepted", "2026-11-10 09:20"), ev("done", "2026-11-10 17:30")), spot, true,
			verdict{Known: true, NoTravel: true, OnSpot: true, Due: true, OnTime: true, Done: true}},
		{"OnTheSpotNextDay", rec(village, "2026-11-10 09:00", ev("done", "2026-11-11 08:30")), spot, true,
			verdict{Known: true, NoTravel: true, Due: true, Done: true, Days: 1}},
		// 23:30 and 00:30 China time are the same UTC day but not the same day in Keqiao.
		{"OnTheSpotAcrossChinaMidnight", rec(village, "2026-11-10 23:30", ev("done", "2026-11-11 00:30")), spot, true,
			verdict{Known: true, NoTravel: true, Due: true, Done: true, Days: 1}},
		{"Refused", rec(village, "2026-11-02 10:00", ev("refused", "2026-11-03 10:00")), days3, true,
			verdict{Known: true}},
		{"ReturnedLongAgoIsAbandoned", rec(village, "2026-10-09 10:00", ev("returned", "2026-10-12 10:00")), days3, true,
			verdict{Known: true}},
		{"ReturnedRecentlyStillWaits", rec(village, "2026-11-16 10:00", ev("returned", "2026-11-17 10:00")), days3, true,
			verdict{Known: true, NoTravel: true}},
		// Returned on 11-03, material back on Monday 11-09: the clock starts again then.
		{"ResubmittedClockRestarts", rec(village, "2026-11-02 10:00", received("2026-11-02 10:01"), ev("returned", "2026-11-03 10:00"),
			received("2026-11-09 15:00"), ev("done", "2026-11-12 10:00")), days3, true,
			verdict{Known: true, NoTravel: true, Due: true, OnTime: true, Done: true, Days: 3}},
		{"OpenPastDue", rec(village, "2026-11-20 10:00", ev("in_progress", "2026-11-23 10:00")), days3, true,
			verdict{Known: true, NoTravel: true, Due: true}},
		{"OpenNotYetDue", rec(village, "2026-11-26 10:00", received("2026-11-26 10:00")), days3, true,
			verdict{Known: true, NoTravel: true}},
		{"NotUploadedHistoryEmpty", rec(village, "2026-11-27 10:00"), days3, true,
			verdict{Known: true, NoTravel: true}},
		{"UnknownMatter", rec(village, "2026-11-02 10:00", ev("done", "2026-11-04 10:00")), kiosk.TimeLimit{}, false,
			verdict{NoTravel: true, Done: true, Days: 2}},
		{"DistrictHallIsNotAVillage", rec(hall, "2026-11-02 10:00", ev("done", "2026-11-03 10:00")), days3, true,
			verdict{Known: true, Due: true, OnTime: true, Done: true, Days: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := judge(tc.m, tc.limit, tc.known, cal, now); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestFigures(t *testing.T) {
	var f figures
	for _, v := range []verdict{
		{Known: true, NoTravel: true, Due: true, OnTime: true, Done: true, Days: 3},
		{Known: true, NoTravel: true, OnSpot: true, Due: true, OnTime: true, Done: true},
		{Known: true, NoTravel: true, Due: true, Done: true, Days: 5},
		{Known: true},
		{NoTravel: true},
	} {
		f.add(v)
	}
	check := func(name string, got float64, ok bool, want float64) {
		t.Helper()
		if !ok || got < want-1e-9 || got > want+1e-9 {
			t.Errorf("%s: got %v %v, want %v", name, got, ok, want)
		}
	}
	s, ok := f.NoTravelShare()
	check("NoTravelShare", s, ok, 4.0/5)
	s, ok = f.OnSpotShare()
	check("OnSpotShare", s, ok, 1.0/5)
	s, ok = f.OnTimeRate()
	check("OnTimeRate", s, ok, 2.0/3)
	s, ok = f.AvgDays()
	check("AvgDays", s, ok, 8.0/3)
	if f.Unknown != 1 || f.Total != 5 {
		t.Errorf("got %+v", f)
	}
	var empty figures
	if _, ok := empty.OnTimeRate(); ok {
		t.Error("an empty month has no on-time rate, got one")
	}
	for code, want := range map[string]bool{"330603101201": true, "330603001000": false, "330603000000": false, "王化村": true, "3306031012": true} {
		if villagePoint(code) != want {
			t.Errorf("villagePoint(%q): got %v, want %v", code, !want, want)
		}
	}
}
