package district

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	kiosksync "github.com/keqiao/villagekiosk/sync"
)

// A kiosk is online when it was seen this recently (it syncs every 90-150 s
// and sends a heartbeat each round), and stale when not seen for a day or
// when something waited a day to be uploaded.
const (
	onlineWithin = 10 * time.Minute
	staleAfter   = 24 * time.Hour
	chartMonths  = 6
)

// deviceRow is one kiosk in the monitor's table.
type deviceRow struct {
	ID, PointCode, PointName string
	SamePoint                bool // same service point as the row above
	State, Class             string
	LastSeen, Ago            string
	Version                  string
	Queue                    int
	Oldest                   string
	Printer                  string
	Today, Month             int
	OnTime                   string // the point's on-time rate this month
	Reasons                  []string

	seen, enrolled time.Time
	problem        int // 2 stale, 1 other problem, 0 none
	revoked        bool
}

type sortCol struct {
	Label, URL string
	Active     bool
}

type figureView struct {
	Total, Due, Done, Unknown        int
	NoTravel, OnSpot, OnTime, AvgDay string
	NoTravelN, OnSpotN, OnTimeN      int
}

type pointFigRow struct {
	Code, Name, URL string
	figureView
}

type chartBar struct {
	X, Y, W, H     int
	LabelX, CountY int
	RateY, MonthY  int
	Month, Count   string
	Rate, Title    string
	Empty          bool
}

type chartView struct {
	Width, Height, Base int
	Bars                []chartBar
}

type pointsPage struct {
	staffPage
	Q, Sort, Point, PointName string
	Problems                  bool
	Total, Online, Offline    int
	Stale, Warn, Revoked      int
	Shown                     int
	Rows                      []deviceRow
	Cols                      []sortCol
	Scope, Month, Updated     string
	Judged                    string // when the figures were counted
	Fig                       figureView
	Chart                     chartView
	PointFigs                 []pointFigRow
	AllURL, ProblemsURL       string
}

func pct(part, whole int) string {
	if whole == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
}

func viewOf(f figures) figureView {
	v := figureView{Total: f.Total, Due: f.Due, Done: f.Done, Unknown: f.Unknown,
		NoTravelN: f.NoTravel, OnSpotN: f.OnSpot, OnTimeN: f.OnTime,
		NoTravel: pct(f.NoTravel, f.Total), OnSpot: pct(f.OnSpot, f.Total), OnTime: pct(f.OnTime, f.Due), AvgDay: "—"}
	if d, ok := f.AvgDays(); ok {
		v.AvgDay = fmt.Sprintf("%.1f", d)
	}
	return v
}

// ago says how long ago, in the words staff use.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "刚刚"
	case d < time.Hour:
		return fmt.Sprintf("%d分钟前", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d小时前", int(d.Hours()))
	}
	return fmt.Sprintf("%d天前", int(d.Hours()/24))
}

func printerLabel(p string) (string, bool) {
	// "KIND PAPER, last print ok at T" or ", last print failed at T: WHY"
	// (kiosks before 2026-11-29 send "KIND PAPER" alone).
	p, last, _ := strings.Cut(strings.TrimSpace(p), ", ")
	label, ok := printerKind(p)
	switch {
	case strings.HasPrefix(last, "last print failed at "):
		return label + "（上次打印失败 " + strings.TrimPrefix(last, "last print failed at ") + "）", false
	case strings.HasPrefix(p, "not set up"):
		return "未设置", false
	}
	return label, ok
}

func printerKind(p string) (string, bool) {
	kind, paper, _ := strings.Cut(p, " ")
	switch kind {
	case "":
		return "未报告", false
	case "unknown":
		return "读取失败", false
	case "escpos-usb":
		return "热敏USB " + paper, true
	case "escpos-tcp":
		return "热敏网络 " + paper, true
	case "cups":
		return "系统打印机 " + paper, true
	case "file":
		return "存为文件", true
	}
	return p, true
}

// deviceRows reads every kiosk and judges its state at now.
func (s *Store) deviceRows(ctx context.Context, now time.Time) ([]deviceRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, point_code, point_name, app_version, enrolled_at, revoked_at, last_seen, heartbeat FROM devices`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []deviceRow
	for rows.Next() {
		var d deviceRow
		var revoked, seen sql.NullString
		var hbText, enrolled string
		if err := rows.Scan(&d.ID, &d.PointCode, &d.PointName, &d.Version, &enrolled, &revoked, &seen, &hbText); err != nil {
			return nil, err
		}
		var hb kiosksync.Heartbeat
		json.Unmarshal([]byte(hbText), &hb)
		if hb.AppVersion != "" {
			d.Version = hb.AppVersion
		}
		d.enrolled, _ = time.Parse(time.RFC3339Nano, enrolled)
		judgeDevice(&d, revoked, seen, hb, now)
		out = append(out, d)
	}
	return out, rows.Err()
}

func judgeDevice(d *deviceRow, revoked, seen sql.NullString, hb kiosksync.Heartbeat, now time.Time) {
	d.LastSeen, d.Ago = "从未联系", ""
	if seen.Valid {
		d.seen, _ = time.Parse(time.RFC3339Nano, seen.String)
		d.LastSeen = d.seen.In(kiosk.ChinaTime).Format("01-02 15:04")
		d.Ago = ago(now.Sub(d.seen))
	}
	d.Queue = hb.Queue
	if hb.Queue > 0 && !hb.OldestUnsent.IsZero() {
		d.Oldest = ago(now.Sub(hb.OldestUnsent))
	}
	var ok bool
	d.Printer, ok = printerLabel(hb.Printer)
	if revoked.Valid {
		t, _ := time.Parse(time.RFC3339Nano, revoked.String)
		d.State, d.Class, d.revoked = "已停用", "revoked", true
		d.Reasons = []string{"已于" + t.In(kiosk.ChinaTime).Format("2006-01-02") + "停用，不再接受它的请求"}
		return
	}
	switch {
	case !seen.Valid && now.Sub(d.enrolled) <= staleAfter:
		d.State, d.Class = "未联系", "off"
	case !seen.Valid:
		d.State, d.Class = "未联系", "stale"
	case now.Sub(d.seen) <= onlineWithin:
		d.State, d.Class = "在线", "ok"
	default:
		d.State, d.Class = "离线", "off"
	}
	stale := func(why string) { d.Reasons, d.problem = append(d.Reasons, why), 2 }
	warn := func(why string) {
		d.Reasons = append(d.Reasons, why)
		d.problem = max(d.problem, 1)
	}
	if !seen.Valid && now.Sub(d.enrolled) <= staleAfter {
		d.Reasons = append(d.Reasons, "注册于"+ago(now.Sub(d.enrolled))+"，还没有同步过")
	} else if !seen.Valid {
		stale("注册后从未联系区平台：请检查网络，或确认终端已完成注册")
	} else if age := now.Sub(d.seen); age > staleAfter {
		stale(fmt.Sprintf("超过1天未联系：最后联系在%s（%s）", d.Ago, d.seen.In(kiosk.ChinaTime).Format("1月2日 15:04")))
	}
	if hb.Queue > 0 && !hb.OldestUnsent.IsZero() && now.Sub(hb.OldestUnsent) > staleAfter {
		stale(fmt.Sprintf("%d件办件待上传，最早的已等待%s", hb.Queue, strings.TrimSuffix(ago(now.Sub(hb.OldestUnsent)), "前")))
	}
	if seen.Valid && !ok {
		warn("打印机状态" + d.Printer + "：请检查打印机设置")
	}
	if off := hb.ClockOffset; math.Abs(off) > 120 {
		warn(fmt.Sprintf("终端时钟偏差%d分钟：请校准时间（超过5分钟将无法同步）", int(math.Round(math.Abs(off)/60))))
	}
	if hb.DiskFree > 0 && hb.DiskFree < 1<<30 {
		warn("磁盘剩余空间仅" + kiosk.HumanBytes(hb.DiskFree))
	}
	switch d.problem {
	case 2:
		d.Class = "stale"
	case 1:
		if d.Class == "ok" || d.Class == "off" {
			d.Class += " warn"
		}
	}
}

// monthStart is the first moment of t's month in China time.
func monthStart(t time.Time) time.Time {
	t = t.In(kiosk.ChinaTime)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, kiosk.ChinaTime)
}

var sortKeys = []struct{ key, label string }{
	{"point", "服务点"}, {"state", "状态"}, {"seen", "最后联系"}, {"version", "版本"},
	{"queue", "待上传"}, {"today", "今日"}, {"month", "本月"},
}

func sortRows(rows []deviceRow, key string) {
	less := map[string]func(a, b *deviceRow) bool{
		"state": func(a, b *deviceRow) bool {
			if a.problem != b.problem {
				return a.problem > b.problem
			}
			return a.revoked != b.revoked && !a.revoked
		},
		"seen":    func(a, b *deviceRow) bool { return a.seen.Before(b.seen) },
		"version": func(a, b *deviceRow) bool { return a.Version < b.Version },
		"queue":   func(a, b *deviceRow) bool { return a.Queue > b.Queue },
		"today":   func(a, b *deviceRow) bool { return a.Today > b.Today },
		"month":   func(a, b *deviceRow) bool { return a.Month > b.Month },
	}[key]
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := &rows[i], &rows[j]
		if less != nil {
			if less(a, b) {
				return true
			}
			if less(b, a) {
				return false
			}
		}
		if a.PointCode != b.PointCode {
			return a.PointCode < b.PointCode
		}
		return a.ID < b.ID
	})
}

// pointsPage is the service point monitor: every kiosk's state, and the
// reform's figures for the district or one point.
func (h *handler) pointsPage(w http.ResponseWriter, r *http.Request, who *Staff) {
	ctx := r.Context()
	now := h.st.Now()
	q := clip(r.URL.Query().Get("q"), 60)
	page := pointsPage{staffPage: staffPage{Title: "服务点监控", District: h.opts.Name, Staff: who},
		Q: q, Sort: r.URL.Query().Get("sort"), Problems: r.URL.Query().Get("problems") == "1",
		Point:   strings.TrimSpace(r.URL.Query().Get("point")),
		Updated: now.In(kiosk.ChinaTime).Format("2006-01-02 15:04")}
	if page.Sort == "" {
		page.Sort = "point"
	}
	devs, err := h.st.deviceRows(ctx, now)
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	today := day(now)
	month := monthStart(now)
	t, err := h.st.cachedTally(ctx, now)
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	counts, err := h.st.deviceCounts(ctx, today, month)
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	names := map[string]string{}
	for _, d := range devs {
		names[d.PointCode] = d.PointName
	}
	if page.Point != "" {
		if _, ok := names[page.Point]; !ok {
			page.Error = "没有服务点代码为“" + page.Point + "”的终端，下面是全区的情况。"
			page.Point = ""
		}
	}
	byMonth := t.district
	if page.Point != "" {
		byMonth = t.point(page.Point)
	}
	scope := byMonth[chartMonths-1]
	page.Judged = t.at.In(kiosk.ChinaTime).Format("15:04")
	page.Fig = viewOf(scope)
	page.Month = month.Format("2006年1月")
	page.Scope = "全区"
	if page.Point != "" {
		page.Scope, page.PointName = names[page.Point]+"（"+page.Point+"）", names[page.Point]
	}
	page.Chart = monthChart(byMonth[:], t.from)
	var codes []string
	for c := range names {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		f := t.point(c)[chartMonths-1]
		page.PointFigs = append(page.PointFigs, pointFigRow{Code: c, Name: names[c], URL: "/staff/points?" + url.Values{"point": {c}}.Encode(), figureView: viewOf(f)})
	}

	lq := strings.ToLower(q)
	for i := range devs {
		d := &devs[i]
		c := counts[d.ID]
		d.Today, d.Month = c[0], c[1]
		p := t.point(d.PointCode)[chartMonths-1]
		d.OnTime = pct(p.OnTime, p.Due)
		switch {
		case d.revoked:
			page.Revoked++
		case d.State == "在线":
			page.Online++
		default:
			page.Offline++
		}
		switch d.problem {
		case 2:
			page.Stale++
		case 1:
			page.Warn++
		}
	}
	page.Total = len(devs)
	for _, d := range devs {
		if page.Point != "" && d.PointCode != page.Point {
			continue
		}
		if page.Problems && d.problem == 0 {
			continue
		}
		if lq != "" && !strings.Contains(strings.ToLower(d.PointName), lq) && !strings.Contains(strings.ToLower(d.PointCode), lq) {
			continue
		}
		page.Rows = append(page.Rows, d)
	}
	sortRows(page.Rows, page.Sort)
	for i := 1; i < len(page.Rows); i++ {
		page.Rows[i].SamePoint = page.Rows[i].PointCode == page.Rows[i-1].PointCode
	}
	page.Shown = len(page.Rows)
	link := func(over map[string]string) string {
		v := url.Values{}
		for k, x := range map[string]string{"q": page.Q, "sort": page.Sort, "point": page.Point} {
			if x != "" {
				v.Set(k, x)
			}
		}
		if page.Problems {
			v.Set("problems", "1")
		}
		for k, x := range over {
			if x == "" {
				v.Del(k)
			} else {
				v.Set(k, x)
			}
		}
		return "/staff/points?" + v.Encode()
	}
	for _, k := range sortKeys {
		page.Cols = append(page.Cols, sortCol{Label: k.label, URL: link(map[string]string{"sort": k.key}), Active: k.key == page.Sort})
	}
	page.AllURL = link(map[string]string{"problems": ""})
	page.ProblemsURL = link(map[string]string{"problems": "1"})
	h.render(w, http.StatusOK, "points", page)
}

// tally is the figures of the last chartMonths months (by the month the
// matters were taken, the last one the current month), for the district and
// for each service point, judged at one moment.
type tally struct {
	at, from time.Time
	district [chartMonths]figures
	points   map[string]*[chartMonths]figures
}

func (t *tally) point(code string) [chartMonths]figures {
	if p := t.points[code]; p != nil {
		return *p
	}
	return [chartMonths]figures{}
}

// tally judges every matter taken since the first month of the chart.
func (s *Store) tally(ctx context.Context, now time.Time) (*tally, error) {
	t := &tally{at: now, from: monthStart(now).AddDate(0, -(chartMonths - 1), 0), points: map[string]*[chartMonths]figures{}}
	recs, err := s.matterRecords(ctx, t.from)
	if err != nil {
		return nil, err
	}
	cal, err := s.holidayCalendar(ctx)
	if err != nil {
		return nil, err
	}
	book, err := s.limitBook(ctx)
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		c := rec.Created.In(kiosk.ChinaTime)
		i := (c.Year()-t.from.Year())*12 + int(c.Month()) - int(t.from.Month())
		if i < 0 || i >= chartMonths {
			continue
		}
		limit, ok := book.lookup(rec.CatalogVersion, rec.Matter)
		v := judge(rec.matterRecord, limit, ok, cal, now)
		t.district[i].add(v)
		p := t.points[rec.Point]
		if p == nil {
			p = &[chartMonths]figures{}
			t.points[rec.Point] = p
		}
		p[i].add(v)
	}
	return t, nil
}

// tallyFor is how long a tally is shown before it is counted again: judging
// six months of a district's matters takes about half a second at 5,000 a
// month (BenchmarkPointsPage), and the monitor is watched by many.
const tallyFor = time.Minute

// tallies holds each open store's last tally.
var tallies sync.Map // *Store -> *tally

func (s *Store) cachedTally(ctx context.Context, now time.Time) (*tally, error) {
	if v, ok := tallies.Load(s); ok {
		t := v.(*tally)
		if age := now.Sub(t.at); age >= 0 && age < tallyFor && monthStart(now).Equal(monthStart(t.at)) {
			return t, nil
		}
	}
	t, err := s.tally(ctx, now)
	if err != nil {
		return nil, err
	}
	tallies.Store(s, t)
	return t, nil
}

// monthChart lays out one bar per month: its height the matters taken, the
// on-time rate written under it.
func monthChart(months []figures, from time.Time) chartView {
	const barW, gap, top, plotH = 44, 22, 20, 80
	v := chartView{Width: len(months)*(barW+gap) + gap, Base: top + plotH}
	v.Height = v.Base + 48
	peak := 0
	for _, f := range months {
		peak = max(peak, f.Total)
	}
	for i, f := range months {
		m := from.AddDate(0, i, 0)
		b := chartBar{X: gap + i*(barW+gap), W: barW, Month: m.Format("1月"), Count: fmt.Sprint(f.Total)}
		if peak > 0 {
			b.H = int(math.Round(float64(plotH) * float64(f.Total) / float64(peak)))
		}
		if f.Total > 0 && b.H < 2 {
			b.H = 2
		}
		b.Y = v.Base - b.H
		b.LabelX = b.X + barW/2
		b.CountY = b.Y - 6
		b.MonthY = v.Base + 20
		b.RateY = v.Base + 40
		b.Rate = "按时 " + pct(f.OnTime, f.Due)
		b.Empty = f.Total == 0
		b.Title = fmt.Sprintf("%s：受理%d件，不离村%s，即办%s，按时办结率%s", m.Format("2006年1月"), f.Total,
			pct(f.NoTravel, f.Total), pct(f.OnSpot, f.Total), pct(f.OnTime, f.Due))
		v.Bars = append(v.Bars, b)
	}
	return v
}

// staffFail answers a staff page's unexpected error in plain Chinese and
// logs the detail.
func (h *handler) staffFail(w http.ResponseWriter, who *Staff, err error) {
	if h.opts.Logger != nil {
		h.opts.Logger.Printf("staff page: %v", err)
	}
	http.Error(w, "读取数据时出错，请稍后再试；如果一直出错，请联系运维人员。", http.StatusInternalServerError)
}
