package district

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

// staffFuncs are the helpers staff templates use.
var staffFuncs = map[string]any{
	"label": kiosk.StatusLabel,
	"china": func(t time.Time) string { return t.In(kiosk.ChinaTime).Format("2006-01-02 15:04") },
	"bytes": kiosk.HumanBytes,
}

// statusFilters are the inbox's status tabs, in the order work moves.
var statusFilters = []struct{ Value, Label string }{
	{"", "全部"}, {kiosk.StatusReceived, "待受理"}, {kiosk.StatusAccepted, "已受理"}, {kiosk.StatusInProgress, "办理中"},
	{kiosk.StatusReturned, "退回补正"}, {kiosk.StatusDone, "已办结"}, {kiosk.StatusRefused, "不予受理"},
}

type inboxLine struct {
	InboxRow
	Waited  string // how long since received, in working days
	Due     string
	Overdue bool
}

type inboxPageData struct {
	staffPage
	Filter   InboxFilter
	From, To string
	Statuses []struct{ Value, Label string }
	Rows     []inboxLine
	Prev     string
	Next     string
}

// inbox lists received submissions with filters.
func (h *handler) inbox(w http.ResponseWriter, r *http.Request, who *Staff) {
	ctx := r.Context()
	q := r.URL.Query()
	f := InboxFilter{Status: q.Get("status"), Point: clip(q.Get("point"), 60), Matter: clip(q.Get("matter"), 60), Receipt: clip(q.Get("receipt"), 60)}
	f.Page, _ = strconv.Atoi(q.Get("page"))
	data := inboxPageData{staffPage: staffPage{Title: "办件", District: h.opts.Name, Staff: who},
		Statuses: statusFilters, From: q.Get("from"), To: q.Get("to")}
	var bad []string
	if data.From != "" {
		t, err := time.ParseInLocation("2006-01-02", data.From, kiosk.ChinaTime)
		if err != nil {
			bad = append(bad, "开始日期")
		}
		f.From = t
	}
	if data.To != "" {
		t, err := time.ParseInLocation("2006-01-02", data.To, kiosk.ChinaTime)
		if err != nil {
			bad = append(bad, "结束日期")
		}
		f.To = t.AddDate(0, 0, 1)
	}
	if len(bad) > 0 {
		data.Error = strings.Join(bad, "、") + "的格式不对，请按 2026-11-28 这样填写。"
		f.From, f.To = time.Time{}, time.Time{}
	}
	data.Filter = f
	rows, more, err := h.st.Inbox(ctx, f)
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	cal, err := h.st.holidayCalendar(ctx)
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	book, err := h.st.limitBook(ctx)
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	now := h.st.Now()
	for _, row := range rows {
		l := inboxLine{InboxRow: row, Waited: fmt.Sprintf("%d个工作日", workingDaysBetween(cal, day(row.TakenAt), day(now)))}
		if limit, ok := book.lookup("", row.Matter); ok {
			days := limit.PromisedDays
			if limit.OnTheSpot {
				days = 0
			}
			due, _ := cal.AddWorkingDays(day(row.TakenAt), days)
			l.Due = due.Format("01-02")
			open := row.Status == kiosk.StatusReceived || row.Status == kiosk.StatusAccepted || row.Status == kiosk.StatusInProgress
			l.Overdue = open && day(now).After(due)
		}
		data.Rows = append(data.Rows, l)
	}
	page := func(n int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(n))
		return "/staff/?" + v.Encode()
	}
	if f.Page > 0 {
		data.Prev = page(f.Page - 1)
	}
	if more {
		data.Next = page(f.Page + 1)
	}
	h.render(w, http.StatusOK, "inbox", data)
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// moves are the actions a status allows, with their labels.
var moves = map[string][]string{
	kiosk.StatusReceived:   {kiosk.StatusAccepted, kiosk.StatusReturned, kiosk.StatusRefused},
	kiosk.StatusAccepted:   {kiosk.StatusInProgress, kiosk.StatusDone, kiosk.StatusReturned, kiosk.StatusRefused},
	kiosk.StatusInProgress: {kiosk.StatusDone, kiosk.StatusReturned, kiosk.StatusRefused},
}

var actionLabels = map[string]string{
	kiosk.StatusAccepted: "受理", kiosk.StatusInProgress: "开始办理", kiosk.StatusDone: "办结",
	kiosk.StatusReturned: "退回补正", kiosk.StatusRefused: "不予受理",
}

type action struct {
	Status, Label string
	NeedsNote     bool
}

type detailPageData struct {
	staffPage
	D       *SubmissionDetail
	Actions []action
	Audit   []AuditLine
}

func (h *handler) submissionPage(w http.ResponseWriter, r *http.Request, who *Staff) {
	flash := ""
	if label, ok := actionLabels[r.URL.Query().Get("done")]; ok {
		// Only our own words: a link cannot put a message on this page.
		flash = "已" + label + "，村服务点下次同步时会看到。"
	}
	h.showSubmission(w, r, who, http.StatusOK, flash, "")
}

func (h *handler) showSubmission(w http.ResponseWriter, r *http.Request, who *Staff, status int, flash, problem string) {
	ctx := r.Context()
	d, err := h.st.Detail(ctx, r.PathValue("id"))
	if kiosk.ErrorCode(err) == kiosk.ENotFound {
		h.refuse(w, http.StatusNotFound, "没有这个办件，可能链接有误。")
		return
	}
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	h.audit(ctx, who, r, "view", d.Submission.ReceiptNo, "")
	data := detailPageData{staffPage: staffPage{Title: d.Submission.ReceiptNo, District: h.opts.Name, Staff: who, Flash: flash, Error: problem}, D: d}
	for _, s := range moves[d.Status] {
		data.Actions = append(data.Actions, action{Status: s, Label: actionLabels[s], NeedsNote: s == kiosk.StatusReturned || s == kiosk.StatusRefused})
	}
	data.Audit, _ = h.st.StaffAuditLog(ctx, d.Submission.ReceiptNo, 20)
	h.render(w, status, "submission", data)
}

// act moves a submission on: the change flows to the kiosk's feed.
func (h *handler) act(w http.ResponseWriter, r *http.Request, who *Staff) {
	ctx := r.Context()
	id := r.PathValue("id")
	d, err := h.st.Detail(ctx, id)
	if err != nil {
		h.showSubmission(w, r, who, http.StatusNotFound, "", "没有这个办件。")
		return
	}
	to, note := r.FormValue("status"), strings.TrimSpace(r.FormValue("note"))
	// The form says which status its page showed: a page left open while a
	// colleague moved the matter must not make a move decided on the old one.
	seen := r.FormValue("from")
	legal := false
	for _, s := range moves[d.Status] {
		legal = legal || s == to
	}
	if (seen != "" && seen != d.Status) || !legal {
		h.showSubmission(w, r, who, http.StatusConflict, "", fmt.Sprintf("这个办件现在是“%s”，不能再“%s”。页面可能已过时，请看最新状态。", kiosk.StatusLabel(d.Status), actionLabels[to]))
		return
	}
	if (to == kiosk.StatusReturned || to == kiosk.StatusRefused) && note == "" {
		h.showSubmission(w, r, who, http.StatusBadRequest, "", "请写明原因："+actionLabels[to]+"的原因会显示给村代办员和申请人。")
		return
	}
	if len([]rune(note)) > 500 {
		h.showSubmission(w, r, who, http.StatusBadRequest, "", "原因请写在500字以内。")
		return
	}
	// The move is checked again where it is made: another staff member may
	// have moved the matter since d was read.
	if err := h.st.SetStatusFrom(ctx, d.Submission.ReceiptNo, d.Status, to, note, who.Username); kiosk.ErrorCode(err) == kiosk.EConflict {
		now, _ := h.st.Detail(ctx, id)
		label := ""
		if now != nil {
			label = kiosk.StatusLabel(now.Status)
		}
		h.showSubmission(w, r, who, http.StatusConflict, "", fmt.Sprintf("这个办件刚被别人改为“%s”，这次“%s”没有执行。请看最新状态后再决定。", label, actionLabels[to]))
		return
	} else if err != nil {
		h.staffFail(w, who, err)
		return
	}
	h.audit(ctx, who, r, "status:"+to, d.Submission.ReceiptNo, note)
	http.Redirect(w, r, "/staff/submissions/"+url.PathEscape(id)+"?done="+url.QueryEscape(to), http.StatusSeeOther)
}

// viewable are the attachment types a browser may show inline.
var viewable = map[string]bool{"image/jpeg": true, "image/png": true, "application/pdf": true}

// attachment streams one of a submission's files, only if the submission
// names it.
func (h *handler) attachment(w http.ResponseWriter, r *http.Request, who *Staff) {
	ctx := r.Context()
	d, err := h.st.Detail(ctx, r.PathValue("id"))
	if err != nil {
		h.refuse(w, http.StatusNotFound, "没有这个办件。")
		return
	}
	sha := r.PathValue("sha")
	var found *kiosk.Attachment
	for _, m := range d.Submission.Materials {
		for i := range m.Attachments {
			if m.Attachments[i].SHA256 == sha {
				found = &m.Attachments[i]
			}
		}
	}
	if found == nil || !ValidSHA(sha) {
		h.refuse(w, http.StatusNotFound, "这个办件没有这个附件。")
		return
	}
	f, err := h.st.Blobs.Open(sha)
	if err != nil {
		if kiosk.ErrorCode(err) == kiosk.ENotFound {
			h.refuse(w, http.StatusNotFound, "这个附件还没有传到区平台。")
			return
		}
		h.staffFail(w, who, err)
		return
	}
	defer f.Close()
	// The kiosk's record says what the file is; its first bytes must agree
	// before a browser is asked to show it, or it goes as a download.
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	mime := found.MIME
	if viewable[mime] && http.DetectContentType(head) != mime {
		mime = "application/octet-stream"
	}
	h.audit(ctx, who, r, "view_attachment", d.Submission.ReceiptNo, sha[:12])
	staffHeaders(w)
	w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox")
	ext := map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}[mime]
	if viewable[mime] {
		w.Header().Set("Content-Type", mime)
		w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", d.Submission.ReceiptNo+"-"+sha[:8]+ext))
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", d.Submission.ReceiptNo+"-"+sha[:8]))
	}
	if _, err := io.Copy(w, io.MultiReader(bytes.NewReader(head), f)); err != nil && !errors.Is(err, http.ErrHandlerTimeout) && h.opts.Logger != nil {
		h.opts.Logger.Printf("send attachment: %v", err)
	}
}
