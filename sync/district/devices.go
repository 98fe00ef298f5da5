package district

import (
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/skip2/go-qrcode"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/pinhash"
)

type deviceListRow struct {
	ID, PointCode, PointName, Version string
	Enrolled, LastSeen, RevokedAt     string
	Revoked                           bool
	RosterURL, RevokeURL              string
}

type issuedCode struct {
	Code, PointCode, PointName, Expires string
	QR                                  template.URL // data:image/png;base64,...
}

type rosterRow struct {
	Name          string
	Admin, Active bool
}

type pointOption struct {
	Code, Name string
	Selected   bool
}

type devicesPage struct {
	staffPage
	Devices                   []deviceListRow
	Active, Revoked           int
	Code                      *issuedCode
	Confirm                   *deviceListRow
	Point, PointName          string
	Points                    []pointOption
	Roster                    []rosterRow
	AgentName                 string
	AgentAdmin                bool
	FormPointCode, FormPtName string
	AgentError, EnrollError   string
}

func listRow(d Device) deviceListRow {
	r := deviceListRow{ID: d.ID, PointCode: d.PointCode, PointName: d.PointName, Version: d.AppVersion, Revoked: d.Revoked,
		Enrolled:  d.EnrolledAt.In(kiosk.ChinaTime).Format("2006-01-02"),
		LastSeen:  "从未联系",
		RosterURL: "/staff/devices?" + url.Values{"point": {d.PointCode}}.Encode() + "#roster",
		RevokeURL: "/staff/devices/" + url.PathEscape(d.ID) + "/revoke"}
	if !d.LastSeen.IsZero() {
		r.LastSeen = d.LastSeen.In(kiosk.ChinaTime).Format("2006-01-02 15:04")
	}
	return r
}

// newDevicesPage reads the devices and, when point is given, its roster.
func (h *handler) newDevicesPage(ctx context.Context, who *Staff, point string) (devicesPage, error) {
	p := devicesPage{staffPage: staffPage{Title: "设备与代办员", District: h.opts.Name, Staff: who}, Point: strings.TrimSpace(point)}
	devs, err := h.st.Devices(ctx)
	if err != nil {
		return p, err
	}
	names := map[string]string{}
	for _, d := range devs {
		p.Devices = append(p.Devices, listRow(d))
		names[d.PointCode] = d.PointName
		if d.Revoked {
			p.Revoked++
		} else {
			p.Active++
		}
	}
	revoked := func(r deviceListRow) int {
		if r.Revoked {
			return 1
		}
		return 0
	}
	sort.SliceStable(p.Devices, func(i, j int) bool {
		a, b := p.Devices[i], p.Devices[j]
		if revoked(a) != revoked(b) {
			return revoked(a) < revoked(b)
		}
		return a.PointCode < b.PointCode
	})
	for c, n := range names {
		p.Points = append(p.Points, pointOption{Code: c, Name: n, Selected: c == p.Point})
	}
	sort.Slice(p.Points, func(i, j int) bool { return p.Points[i].Code < p.Points[j].Code })
	if p.Point != "" {
		p.PointName = names[p.Point]
		list, err := h.st.Roster(ctx, p.Point)
		if err != nil {
			return p, err
		}
		for _, a := range list {
			p.Roster = append(p.Roster, rosterRow{Name: a.Name, Admin: a.Admin, Active: a.Active})
		}
	}
	return p, nil
}

var devicesFlash = map[string]string{
	"revoked": "终端已停用：它之后的请求都会被拒绝，已上传的办件和回执仍然有效。",
	"agent":   "代办员已保存，该服务点的终端下次同步时生效。",
	"stopped": "代办员已停用，该服务点的终端下次同步后不再接受其PIN。",
}

func (h *handler) devicesPage(w http.ResponseWriter, r *http.Request, who *Staff) {
	p, err := h.newDevicesPage(r.Context(), who, r.URL.Query().Get("point"))
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	p.Flash = devicesFlash[r.URL.Query().Get("done")]
	h.render(w, http.StatusOK, "devices", p)
}

// checkPoint checks a service point's code and name as typed by staff.
func checkPoint(code, name string) string {
	switch {
	case code == "":
		return "请填写服务点代码（如村级区划代码 330603101201）。"
	case utf8.RuneCountInString(code) > 40 || strings.ContainsAny(code, " \t<>\"'&/\\"):
		return "服务点代码只能是字母、数字或“-”，最多40个字符。"
	case name == "":
		return "请填写服务点名称（如 王化村便民服务中心）。"
	case utf8.RuneCountInString(name) > 60:
		return "服务点名称最多60个字。"
	}
	return ""
}

// enrollCode issues a one-time enrolment code for a service point and shows
// it with its QR code (the code only: no address, no lasting secret).
func (h *handler) enrollCode(w http.ResponseWriter, r *http.Request, who *Staff) {
	ctx := r.Context()
	code, name := strings.TrimSpace(r.FormValue("point_code")), strings.TrimSpace(r.FormValue("point_name"))
	p, err := h.newDevicesPage(ctx, who, r.FormValue("point"))
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	if msg := checkPoint(code, name); msg != "" {
		p.EnrollError, p.FormPointCode, p.FormPtName = msg, code, name
		h.render(w, http.StatusBadRequest, "devices", p)
		return
	}
	one, expires, err := h.st.CreateEnrollCode(ctx, code, name)
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	png, err := qrcode.Encode(one, qrcode.Medium, 256)
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	if err := h.audit(ctx, who, r, "enroll_code.issue", code, name); err != nil {
		h.staffFail(w, who, err)
		return
	}
	p.Code = &issuedCode{Code: one, PointCode: code, PointName: name,
		Expires: expires.In(kiosk.ChinaTime).Format("2006-01-02 15:04"),
		QR:      template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))}
	h.render(w, http.StatusOK, "devices", p)
}

// revokeConfirm asks before a device is revoked.
func (h *handler) revokeConfirm(w http.ResponseWriter, r *http.Request, who *Staff) {
	ctx := r.Context()
	p, err := h.newDevicesPage(ctx, who, "")
	if err != nil {
		h.staffFail(w, who, err)
		return
	}
	d, err := h.st.Device(ctx, r.PathValue("id"))
	if kiosk.ErrorCode(err) == kiosk.ENotFound {
		p.Error = "没有这台终端，可能链接不完整。"
		h.render(w, http.StatusNotFound, "devices", p)
		return
	} else if err != nil {
		h.staffFail(w, who, err)
		return
	}
	row := listRow(*d)
	p.Confirm, p.Title = &row, "停用终端"
	h.render(w, http.StatusOK, "devices", p)
}

func (h *handler) revoke(w http.ResponseWriter, r *http.Request, who *Staff) {
	ctx := r.Context()
	id := r.PathValue("id")
	d, err := h.st.Device(ctx, id)
	if kiosk.ErrorCode(err) == kiosk.ENotFound {
		p, perr := h.newDevicesPage(ctx, who, "")
		if perr != nil {
			h.staffFail(w, who, perr)
			return
		}
		p.Error = "没有这台终端，没有停用任何终端。"
		h.render(w, http.StatusNotFound, "devices", p)
		return
	} else if err != nil {
		h.staffFail(w, who, err)
		return
	}
	if err := h.st.Revoke(ctx, id); err != nil {
		h.staffFail(w, who, err)
		return
	}
	if err := h.audit(ctx, who, r, "device.revoke", id, d.PointCode+" "+d.PointName); err != nil {
		h.staffFail(w, who, err)
		return
	}
	http.Redirect(w, r, "/staff/devices?done=revoked", http.StatusSeeOther)
}

// setAgent adds or changes a village agent of a service point.
func (h *handler) setAgent(w http.ResponseWriter, r *http.Request, who *Staff) {
	ctx := r.Context()
	point := strings.TrimSpace(r.FormValue("point"))
	name := kiosk.NormalizeName(r.FormValue("name"))
	pin, admin := r.FormValue("pin"), r.FormValue("admin") == "1"
	msg := ""
	switch {
	case point == "":
		msg = "请先选择服务点。"
	case name == "":
		msg = "请填写代办员姓名。"
	case kiosk.CheckName(name) != nil:
		msg = "代办员" + kiosk.CheckName(name).Error()
	case !pinhash.Valid(pin):
		msg = "PIN 必须是4到8位数字。"
	}
	if msg == "" {
		if err := h.st.SetAgent(ctx, point, name, pin, admin); err != nil {
			if kiosk.ErrorCode(err) != kiosk.EInvalid {
				h.staffFail(w, who, err)
				return
			}
			msg = "没有保存：" + kiosk.ErrorMessage(err)
		}
	}
	if msg != "" {
		p, err := h.newDevicesPage(ctx, who, point)
		if err != nil {
			h.staffFail(w, who, err)
			return
		}
		p.AgentError, p.AgentName, p.AgentAdmin = msg, name, admin
		h.render(w, http.StatusBadRequest, "devices", p)
		return
	}
	role := "agent"
	if admin {
		role = "admin"
	}
	if err := h.audit(ctx, who, r, "agent.set", point, name+" "+role); err != nil {
		h.staffFail(w, who, err)
		return
	}
	http.Redirect(w, r, "/staff/devices?"+url.Values{"point": {point}, "done": {"agent"}}.Encode()+"#roster", http.StatusSeeOther)
}

// stopAgent stops a village agent: kiosks refuse the PIN after their next sync.
func (h *handler) stopAgent(w http.ResponseWriter, r *http.Request, who *Staff) {
	ctx := r.Context()
	point, name := strings.TrimSpace(r.FormValue("point")), r.FormValue("name")
	if err := h.st.StopAgent(ctx, point, name); err != nil {
		if kiosk.ErrorCode(err) != kiosk.ENotFound {
			h.staffFail(w, who, err)
			return
		}
		p, perr := h.newDevicesPage(ctx, who, point)
		if perr != nil {
			h.staffFail(w, who, perr)
			return
		}
		p.AgentError = fmt.Sprintf("服务点 %s 没有代办员“%s”，没有停用任何人。", point, name)
		h.render(w, http.StatusNotFound, "devices", p)
		return
	}
	if err := h.audit(ctx, who, r, "agent.stop", point, name); err != nil {
		h.staffFail(w, who, err)
		return
	}
	http.Redirect(w, r, "/staff/devices?"+url.Values{"point": {point}, "done": {"stopped"}}.Encode()+"#roster", http.StatusSeeOther)
}
