package receipt

import (
	"crypto/ed25519"
	"fmt"
	"strings"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

// OwedWithinDays is how many working days a villager has to bring a material
// accepted as owed (容缺). Zhejiang's practice is to ask for it before the
// matter is finished; five working days keeps a short matter on time.
const OwedWithinDays = 5

// Receipt is everything printed on one acknowledgement.
type Receipt struct {
	ReceiptNo  string
	MatterName string
	MainName   string
	Matter     string
	Applicant  string
	IDMasked   string
	Received   []string
	Owed       []string
	OwedDue    time.Time
	Point      kiosk.PointInfo
	Agent      string
	At         time.Time
	Limit      kiosk.TimeLimit
	Due        time.Time
	DueCertain bool // false when the holiday calendar of a year passed is not published yet
	Result     string
	Token      string
	QRText     string // the URL (or bare token) in the QR code
	Copy       bool   // a reprint (补打)
	Signature  bool   // print a line for the villager's signature
}

// Options are the district's and the kiosk's choices for receipts.
type Options struct {
	DistrictURL string // base URL of the district platform; "" before enrolment
	Signature   bool
	Copy        bool
	Now         time.Time // when the receipt is issued (printing or reprinting)
}

// Build gathers a receipt for a saved submission and signs its token.
func Build(s *kiosk.Submission, sub *kiosk.SubItem, point kiosk.PointInfo, cal *kiosk.Calendar, key ed25519.PrivateKey, o Options) (*Receipt, error) {
	at := s.CreatedAt.In(kiosk.ChinaTime)
	tok, err := NewToken(s, key, o.Now).Sign(key)
	masked := s.IDMasked
	if masked == "" { // a submission in the clear, not read from the kiosk's list
		masked = kiosk.MaskIDNumber(s.Applicant.IDNumber)
	}
	if err != nil {
		return nil, err
	}
	r := &Receipt{
		ReceiptNo: s.ReceiptNo, MatterName: s.MatterName, MainName: s.MainName, Matter: s.Matter,
		Applicant: s.Applicant.Name, IDMasked: masked,
		Point: point, Agent: s.Agent, At: at, Limit: sub.TimeLimit, Result: sub.Result,
		Token: tok, QRText: URL(o.DistrictURL, tok), Copy: o.Copy, Signature: o.Signature,
	}
	for _, m := range s.Materials {
		switch {
		case m.Received:
			r.Received = append(r.Received, m.Name)
		case m.Owed:
			r.Owed = append(r.Owed, m.Name)
		}
	}
	days := sub.TimeLimit.PromisedDays
	r.Due, r.DueCertain = cal.AddWorkingDays(at, days)
	if len(r.Owed) > 0 {
		r.OwedDue, _ = cal.AddWorkingDays(at, OwedWithinDays)
	}
	return r, nil
}

// Lines is the receipt's text, in print order, for the layouts and for tests.
func (r *Receipt) Lines() []Line {
	date := func(t time.Time) string { return t.Format("2006年1月2日") }
	var l []Line
	title := "受理回执"
	if r.Copy {
		title += "（补打）"
	}
	l = append(l, Line{Text: title, Style: Title}, Line{Text: r.Point.Name, Style: Centered})
	l = append(l, Line{Text: "回执编号：" + r.ReceiptNo, Style: Strong}, Rule())
	l = append(l, Line{Text: "事项：" + r.MatterName})
	if r.MainName != r.MatterName {
		l = append(l, Line{Text: "主项：" + r.MainName})
	}
	l = append(l, Line{Text: "事项编码：" + r.Matter})
	l = append(l, Line{Text: "申请人：" + r.Applicant}, Line{Text: "身份证号：" + r.IDMasked}, Rule())
	l = append(l, Line{Text: "已收材料：", Style: Strong})
	if len(r.Received) == 0 {
		l = append(l, Line{Text: "  无"})
	}
	for i, m := range r.Received {
		l = append(l, Line{Text: fmt.Sprintf("  %d. %s", i+1, m)})
	}
	if len(r.Owed) > 0 {
		l = append(l, Line{Text: fmt.Sprintf("需补交材料（容缺受理，请于%s前补交）：", date(r.OwedDue)), Style: Strong})
		for i, m := range r.Owed {
			l = append(l, Line{Text: fmt.Sprintf("  %d. %s", i+1, m)})
		}
	}
	l = append(l, Rule())
	l = append(l, Line{Text: "受理时间：" + r.At.Format("2006年1月2日 15:04")}, Line{Text: "受理点：" + r.Point.Name + "（" + r.Point.Code + "）"}, Line{Text: "代办员：" + r.Agent})
	if r.Limit.OnTheSpot {
		l = append(l, Line{Text: "办理时限：即办", Style: Strong})
	} else {
		limit := fmt.Sprintf("承诺时限：%d个工作日", r.Limit.PromisedDays)
		if r.Limit.StatutoryDays > 0 {
			limit += fmt.Sprintf("（法定%d个工作日）", r.Limit.StatutoryDays)
		}
		l = append(l, Line{Text: limit})
		due := "预计办结：" + date(r.Due) + "前"
		if !r.DueCertain {
			due += "（节假日安排未公布，按周末推算）"
		}
		l = append(l, Line{Text: due, Style: Strong})
	}
	if r.Result != "" {
		l = append(l, Line{Text: "办理结果：" + r.Result})
	}
	l = append(l, Rule())
	l = append(l, Line{Text: "查询进度：用手机扫描下方二维码，或拨打12333，或询问村代办员。"})
	l = append(l, Line{Style: QR})
	if r.Signature {
		l = append(l, Line{Text: "申请人签名：________________"})
	}
	l = append(l, Line{Text: "二维码不含个人信息，可辨别回执真伪。", Style: Small})
	return l
}

// LineStyle says how a line is set.
type LineStyle int

// Line styles.
const (
	Plain LineStyle = iota
	Title
	Centered
	Strong
	Small
	RuleLine
	QR
)

// Line is one line (or wrapped paragraph) of a receipt.
type Line struct {
	Text  string
	Style LineStyle
}

// Rule is a separating line.
func Rule() Line { return Line{Style: RuleLine} }

// Text is the receipt's plain text, for tests and logs of layout (never the
// full ID number: the receipt only holds the masked one).
func (r *Receipt) Text() string {
	var b strings.Builder
	for _, l := range r.Lines() {
		if l.Text != "" {
			b.WriteString(l.Text + "\n")
		}
	}
	return b.String()
}
