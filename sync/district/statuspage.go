package district

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/receipt/token"
)

//go:embed templates/*.html
var templateFS embed.FS

var statusTmpl = template.Must(template.ParseFS(templateFS, "templates/status.html"))

type statusPage struct {
	Title, District, Reason                    string
	Forged, NotUploaded, Mismatch              bool
	Point, ReceiptNo, Matter, Received, Status string
	Next, Expected                             string
	History                                    []historyLine
}

type historyLine struct{ At, Status, Note string }

// villagerNext is what the villager should do, in the words of the status
// page (the kiosk's advice is written for the agent).
func villagerNext(status, note string) string {
	switch status {
	case kiosk.StatusReceived, kiosk.StatusAccepted, kiosk.StatusInProgress:
		return "正在办理，请耐心等待，办结后可到村服务点领取结果。"
	case kiosk.StatusDone:
		return "已办结，请带上身份证到村服务点领取办理结果。"
	case kiosk.StatusReturned:
		return "需要补交材料：" + note + "。请带齐后到村服务点补交。"
	case kiosk.StatusRefused:
		return "不予受理：" + note + "。如有疑问请拨打 12333。"
	}
	return ""
}

// statusPage is what a villager's phone opens from the receipt QR: it
// verifies the token against the keys of enrolled kiosks and shows the
// matter's progress, never a name, ID number or phone.
func (h *handler) statusPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	page := statusPage{Title: "回执查询", District: h.opts.Name}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	keys, err := h.st.keyring(ctx)
	if err != nil {
		h.fail(w, err)
		return
	}
	tok, who, err := token.Verify(r.PathValue("token"), keys)
	if err != nil {
		page.Forged, page.Title, page.Reason = true, "回执验证未通过", verifyReason(err)
		w.WriteHeader(http.StatusOK)
		statusTmpl.Execute(w, page)
		return
	}
	page.Point, page.ReceiptNo, page.Matter = who.Name, tok.ReceiptNo, tok.Matter
	page.Received = tok.IssuedAt.In(kiosk.ChinaTime).Format("2006年1月2日 15:04")

	var id, status string
	var payload []byte
	err = h.st.db.QueryRowContext(ctx, `SELECT id, status, payload FROM submissions WHERE receipt_no = ?`, tok.ReceiptNo).Scan(&id, &status, &payload)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		page.NotUploaded = true
	case err != nil:
		h.fail(w, err)
		return
	default:
		var sub kiosk.Submission
		json.Unmarshal(payload, &sub)
		page.Matter = sub.MatterName + "（" + sub.Matter + "）"
		page.Received = sub.CreatedAt.In(kiosk.ChinaTime).Format("2006年1月2日 15:04")
		// A supplemented matter's content changed on purpose; only the
		// first version is bound by the first receipt.
		page.Mismatch = sub.Revision == 0 && token.ContentHash(&sub) != tok.ContentHash
		page.Status = kiosk.StatusLabel(status)
		rows, err := h.st.db.QueryContext(ctx, `SELECT status, note, at FROM changes WHERE submission_id = ? AND kind = 'status' ORDER BY seq`, id)
		if err != nil {
			h.fail(w, err)
			return
		}
		defer rows.Close()
		var note string
		start, returned := sub.CreatedAt, false
		for rows.Next() {
			var l historyLine
			var at string
			rows.Scan(&l.Status, &l.Note, &at)
			t, _ := time.Parse(time.RFC3339Nano, at)
			note = l.Note
			// After 退回补正 the promise starts again when the material arrives.
			switch {
			case l.Status == kiosk.StatusReturned:
				returned = true
			case l.Status == kiosk.StatusReceived && returned:
				start, returned = t, false
			}
			l.At, l.Status = t.In(kiosk.ChinaTime).Format("1月2日 15:04"), kiosk.StatusLabel(l.Status)
			page.History = append(page.History, l)
		}
		page.Next = villagerNext(status, note)
		page.Expected, err = h.st.expected(ctx, &sub, status, start)
		if err != nil {
			h.fail(w, err)
			return
		}
	}
	statusTmpl.Execute(w, page)
}

func verifyReason(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unknown key"):
		return "它不是本区任何村服务点出具的"
	case strings.Contains(msg, "altered"):
		return "二维码内容被改动过"
	case strings.Contains(msg, "truncated"):
		return "二维码不完整"
	}
	return "它不是回执二维码"
}

// keyring holds the public keys of every kiosk ever enrolled: a receipt a
// revoked kiosk issued before it was revoked is still genuine.
func (s *Store) keyring(ctx context.Context) (token.Keyring, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT public_key, point_name FROM devices`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	keys := token.Keyring{}
	for rows.Next() {
		var pub []byte
		var name string
		if err := rows.Scan(&pub, &name); err != nil {
			return nil, err
		}
		keys.Add(ed25519.PublicKey(pub), name)
	}
	return keys, rows.Err()
}

// expected is the status page's line on when the matter should be done: the
// promised working days of its catalog item counted from when it was taken
// (or from the supplement after 退回补正), as the receipt counted them, with
// the published holiday arrangements; empty once it is no longer open.
func (s *Store) expected(ctx context.Context, sub *kiosk.Submission, status string, start time.Time) (string, error) {
	if status != kiosk.StatusReceived && status != kiosk.StatusAccepted && status != kiosk.StatusInProgress {
		return "", nil
	}
	book, err := s.limitBook(ctx)
	if err != nil {
		return "", err
	}
	limit, ok := book.lookup(sub.CatalogVersion, sub.Matter)
	if !ok {
		return "", nil
	}
	if limit.OnTheSpot {
		return "即办事项，材料齐全当场办结", nil
	}
	cal, err := s.holidayCalendar(ctx)
	if err != nil {
		return "", err
	}
	due, _ := cal.AddWorkingDays(day(start), limit.PromisedDays)
	return fmt.Sprintf("%s前（承诺%d个工作日，节假日顺延）", due.Format("2006年1月2日"), limit.PromisedDays), nil
}
