package district

import (
	"strings"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

// The reform's figures (docs/district-web.md gives the same definitions, and
// the monitor page prints them beside the numbers).

// abandonAfter is how long a matter may wait, returned for more material
// (退回补正), before it counts as abandoned: the villager most likely went to
// the district hall, or gave up.
const abandonAfter = 30 * 24 * time.Hour

// statusEvent is one status a submission took, from the change feed.
type statusEvent struct {
	Status string
	At     time.Time
}

// matterRecord is one submission as the figures see it.
type matterRecord struct {
	Point   string        // service point code
	Matter  string        // sub-item code
	Created time.Time     // saved by the village agent
	History []statusEvent // every status it took, in order
}

// verdict is what the figures count of one submission.
type verdict struct {
	Known    bool // its matter is in a catalog: the 即办 and on-time tests apply
	NoTravel bool // 不离村
	OnSpot   bool // 即办
	Due      bool // counts in the on-time rate's denominator
	OnTime   bool
	Done     bool
	Days     int // working days from start to done, when Done
}

// villagePoint says whether a service point is a village or community
// (村、社区) point: every point is, except one whose code is a 12-digit
// division code of a township (街道、镇) or of the district itself, which
// ends in 000.
func villagePoint(code string) bool {
	if len(code) != 12 || strings.Trim(code, "0123456789") != "" {
		return true
	}
	return !strings.HasSuffix(code, "000")
}

// judge decides one submission's verdict at the time now. limit is the
// matter's time limit from the catalog (ok false when no catalog knows the
// matter); cal counts working days.
//
//   - Start: when the agent saved it, or, after 退回补正, when the district
//     received the supplemented material (the last "received" after a
//     "returned"): the wait for material does not count against the bureau.
//   - Due date: the start's date (China time) plus the promised working days
//     (0 for 即办), counted like the receipt's expected completion date.
//   - Done: the current status is 已办结; done at the last change to it.
//   - 不离村: taken at a village point, and neither refused (不予受理) nor
//     returned for material more than 30 days ago and still waiting.
//   - 即办: the catalog marks the matter on the spot, and it was done on the
//     day it was taken.
//   - On time: done on or before the due date. The denominator holds the
//     done matters and the open ones (received, accepted, in progress) whose
//     due date has passed; refused and returned ones stay out.
//   - Days: working days after the start's day up to the day it was done.
func judge(m matterRecord, limit kiosk.TimeLimit, ok bool, cal *kiosk.Calendar, now time.Time) verdict {
	start := m.Created
	status := kiosk.StatusReceived
	var doneAt, returnedAt time.Time
	returned := false
	for _, e := range m.History {
		switch e.Status {
		case kiosk.StatusReturned:
			returned, returnedAt = true, e.At
		case kiosk.StatusReceived:
			if returned {
				start, returned = e.At, false
			}
		case kiosk.StatusDone:
			doneAt = e.At
		}
		status = e.Status
	}
	v := verdict{Known: ok, Done: status == kiosk.StatusDone}
	abandoned := status == kiosk.StatusReturned && now.Sub(returnedAt) > abandonAfter
	v.NoTravel = villagePoint(m.Point) && status != kiosk.StatusRefused && !abandoned
	startDay := day(start)
	if v.Done {
		v.Days = workingDaysBetween(cal, startDay, day(doneAt))
	}
	if !ok {
		return v
	}
	v.OnSpot = limit.OnTheSpot && v.Done && day(doneAt).Equal(day(m.Created))
	days := limit.PromisedDays
	if limit.OnTheSpot {
		days = 0
	}
	due, _ := cal.AddWorkingDays(startDay, days)
	switch status {
	case kiosk.StatusDone:
		v.Due, v.OnTime = true, !day(doneAt).After(due)
	case kiosk.StatusReceived, kiosk.StatusAccepted, kiosk.StatusInProgress:
		v.Due = day(now).After(due)
	}
	return v
}

// day is a time's date in China, at midnight China time.
func day(t time.Time) time.Time {
	t = t.In(kiosk.ChinaTime)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, kiosk.ChinaTime)
}

// workingDaysBetween counts the working days after from, up to and
// including to: the inverse of AddWorkingDays.
func workingDaysBetween(cal *kiosk.Calendar, from, to time.Time) int {
	n := 0
	for d := from.AddDate(0, 0, 1); !d.After(to); d = d.AddDate(0, 0, 1) {
		if cal.IsWorkingDay(d) {
			n++
		}
	}
	return n
}

// figures add up verdicts.
type figures struct {
	Total, Known           int
	NoTravel, OnSpot       int
	Due, OnTime            int
	Done, DaysSum, Unknown int
}

func (f *figures) add(v verdict) {
	f.Total++
	if v.Known {
		f.Known++
	} else {
		f.Unknown++
	}
	if v.NoTravel {
		f.NoTravel++
	}
	if v.OnSpot {
		f.OnSpot++
	}
	if v.Due {
		f.Due++
	}
	if v.OnTime {
		f.OnTime++
	}
	if v.Done {
		f.Done++
		f.DaysSum += v.Days
	}
}

// ratio is part/whole, and false when whole is 0 (shown as "—").
func ratio(part, whole int) (float64, bool) {
	if whole == 0 {
		return 0, false
	}
	return float64(part) / float64(whole), true
}

// NoTravelShare is 不离村 over all matters taken.
func (f figures) NoTravelShare() (float64, bool) { return ratio(f.NoTravel, f.Total) }

// OnSpotShare is 即办 over all matters taken (即办件比例).
func (f figures) OnSpotShare() (float64, bool) { return ratio(f.OnSpot, f.Total) }

// OnTimeRate is done on time over the matters that had to be done by now.
func (f figures) OnTimeRate() (float64, bool) { return ratio(f.OnTime, f.Due) }

// AvgDays is the mean working days from start to done.
func (f figures) AvgDays() (float64, bool) {
	if f.Done == 0 {
		return 0, false
	}
	return float64(f.DaysSum) / float64(f.Done), true
}
