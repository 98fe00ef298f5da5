package district_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"html"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keqiao/villagekiosk/internal/pgtest"

	kiosksync "github.com/keqiao/villagekiosk/sync"
)

var (
	enrollCodeRe = regexp.MustCompile(`id="enroll-code">([A-Z0-9]+)<`)
	qrImageRe    = regexp.MustCompile(`<img src="data:image/png;base64,([^"]+)"`)
)

// decodeQR reads a PNG's QR code with a real decoder (zbarimg).
func decodeQR(t *testing.T, png []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(f, png, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("zbarimg", "--quiet", "--raw", f).Output()
	if err != nil {
		t.Fatalf("zbarimg (zbar-tools, installed by make test): %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestDevicesPage runs on SQLite and on PostgreSQL.
func TestDevicesPage(t *testing.T) { pgtest.Engines(t, testDevicesPage) }

func testDevicesPage(t *testing.T, dbURL string) {
	e := newStaffEnvOn(t, dbURL)
	s := signIn(t, e.srv.URL)
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		p := s.get("/staff/devices")
		if p.Status != 200 || len(rowsShown(p.Body)) != 7 || !strings.Contains(p.Body, "在用 6 台，已停用 1 台") {
			t.Fatalf("got %d with %d devices", p.Status, len(rowsShown(p.Body)))
		}
		if strings.Contains(p.Body, "<script>alert") {
			t.Fatal("a point name's script reached the page")
		}
	})
	t.Run("EnrollCode", func(t *testing.T) {
		p := s.post("/staff/devices/code", url.Values{"csrf": {s.csrf("/staff/devices")}, "point_code": {"330603107207"}, "point_name": {`漓渚村<b>便民</b>服务中心`}})
		m, qr := enrollCodeRe.FindStringSubmatch(p.Body), qrImageRe.FindStringSubmatch(p.Body)
		if p.Status != 200 || m == nil || qr == nil {
			t.Fatalf("got %d, no code or QR: %s", p.Status, regexp.MustCompile(`(?s)<div class="issued".*?</div>`).FindString(p.Body))
		}
		if !strings.Contains(p.Body, "漓渚村&lt;b&gt;便民&lt;/b&gt;服务中心") || !strings.Contains(p.Body, "有效期至 2026-11-19 10:00") {
			t.Error("the point's name is not escaped, or the expiry is not 24 hours on")
		}
		png, err := base64.StdEncoding.DecodeString(html.UnescapeString(qr[1])) // as the browser reads the attribute
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeQR(t, png); got != m[1] {
			t.Fatalf("the QR holds %q, want only the code %q", got, m[1])
		}
		if n := e.audited(t, "330603107207", "enroll_code.issue"); n != 1 {
			t.Errorf("audit: %d enroll_code.issue lines, want 1", n)
		}
		// A new kiosk enrols with it, once.
		_, key, _ := ed25519.GenerateKey(nil)
		k := &kiosksync.Client{BaseURL: e.srv.URL, Key: key, Now: e.clock.Now}
		reply, err := k.Enroll(ctx, m[1], "1.4.1")
		if err != nil || reply.PointCode != "330603107207" {
			t.Fatalf("enrol with the page's code: %+v %v", reply, err)
		}
	})
	for _, tc := range []struct{ name, code, pname, want string }{
		{"ErrNoPointCode", "", "王化村", "请填写服务点代码"},
		{"ErrNoPointName", "330603101201", " ", "请填写服务点名称"},
		{"ErrPointCodeHTML", `<script>`, "x", "服务点代码只能是字母、数字或“-”"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := s.post("/staff/devices/code", url.Values{"csrf": {s.csrf("/staff/devices")}, "point_code": {tc.code}, "point_name": {tc.pname}})
			if p.Status != 400 || !strings.Contains(p.Body, tc.want) || enrollCodeRe.MatchString(p.Body) || strings.Contains(p.Body, "<script>") {
				t.Fatalf("got %d, want 400 …%s…", p.Status, tc.want)
			}
		})
	}
	t.Run("Revoke", func(t *testing.T) {
		id := e.devices["online"]
		confirm := s.get("/staff/devices/" + id + "/revoke")
		if confirm.Status != 200 || !strings.Contains(confirm.Body, "确定要停用这台终端吗") || !strings.Contains(confirm.Body, id) {
			t.Fatalf("confirm step: got %d", confirm.Status)
		}
		if d, _ := e.st.Device(ctx, id); d.Revoked {
			t.Fatal("the confirm page alone revoked the device")
		}
		p := s.post("/staff/devices/"+id+"/revoke", url.Values{"csrf": {s.csrf("/staff/devices/" + id + "/revoke")}})
		if p.Status != 303 || p.Location != "/staff/devices?done=revoked" {
			t.Fatalf("got %d %s", p.Status, p.Location)
		}
		if d, _ := e.st.Device(ctx, id); !d.Revoked {
			t.Fatal("not revoked")
		}
		if n := e.audited(t, id, "device.revoke"); n != 1 {
			t.Errorf("audit: %d device.revoke lines, want 1", n)
		}
		err := e.kiosks["online"].SendHeartbeat(ctx, kiosksync.Heartbeat{})
		if ce, ok := err.(*kiosksync.Error); !ok || ce.Code != kiosksync.ERevoked {
			t.Fatalf("the revoked kiosk's heartbeat: got %v, want refused as revoked", err)
		}
		if !strings.Contains(s.get(p.Location).Body, "终端已停用") {
			t.Error("no confirmation after revoking")
		}
	})
	t.Run("ErrRevokeNoCSRF", func(t *testing.T) {
		id := e.devices["offline"]
		if p := s.post("/staff/devices/"+id+"/revoke", url.Values{}); p.Status != 403 {
			t.Fatalf("got %d, want 403", p.Status)
		}
		if d, _ := e.st.Device(ctx, id); d.Revoked {
			t.Fatal("revoked without the CSRF token")
		}
	})
	t.Run("ErrUnknownDevice", func(t *testing.T) {
		for _, id := range []string{"dev-nope", "..%2F..%2Fetc", "%27%20OR%20%271%27=%271"} {
			if p := s.get("/staff/devices/" + id + "/revoke"); p.Status != 404 || !strings.Contains(p.Body, "没有这台终端") {
				t.Errorf("confirm %s: got %d", id, p.Status)
			}
			if p := s.post("/staff/devices/"+id+"/revoke", url.Values{"csrf": {s.csrf("/staff/devices")}}); p.Status != 404 {
				t.Errorf("revoke %s: got %d", id, p.Status)
			}
		}
	})
	agent := func(name, pin string, admin bool) page {
		f := url.Values{"csrf": {s.csrf("/staff/devices?point=" + codeWanghua)}, "point": {codeWanghua}, "name": {name}, "pin": {pin}}
		if admin {
			f.Set("admin", "1")
		}
		return s.post("/staff/devices/agent", f)
	}
	t.Run("Agent", func(t *testing.T) {
		p := agent("王芳", "2468", true)
		if p.Status != 303 {
			t.Fatalf("got %d: %s", p.Status, problemsOf(p.Body))
		}
		list, _ := e.st.Roster(ctx, codeWanghua)
		if len(list) != 1 || list[0].Name != "王芳" || !list[0].Admin || !list[0].Active || strings.Contains(list[0].PINHash, "2468") {
			t.Fatalf("roster: %+v", list)
		}
		page := s.get(p.Location)
		if !strings.Contains(page.Body, "<td>王芳</td><td>管理员</td><td>在岗</td>") || strings.Contains(page.Body, "2468") {
			t.Fatal("the roster does not show 王芳, or shows the PIN")
		}
		// The point's other kiosk downloads the roster.
		got, err := e.kiosks["offline"].Roster(ctx)
		if err != nil || len(got) != 1 || got[0].Name != "王芳" {
			t.Fatalf("kiosk roster: %+v %v", got, err)
		}
	})
	for _, tc := range []struct{ name, agent, pin, want string }{
		{"ErrPINLetters", "李强", "12a4", "PIN 必须是4到8位数字"},
		{"ErrPINShort", "李强", "123", "PIN 必须是4到8位数字"},
		{"ErrPINLong", "李强", "123456789", "PIN 必须是4到8位数字"},
		{"ErrNoName", " ", "1234", "请填写代办员姓名"},
		{"ErrScriptName", `<script>alert(1)</script>`, "1234", "代办员姓名中不能有“&lt;”"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := agent(tc.agent, tc.pin, false)
			if p.Status != 400 || !strings.Contains(p.Body, tc.want) || strings.Contains(p.Body, "<script>alert") {
				t.Fatalf("got %d, want 400 …%s…: %s", p.Status, tc.want, problemsOf(p.Body))
			}
			if list, _ := e.st.Roster(ctx, codeWanghua); len(list) != 1 {
				t.Fatalf("a refused agent changed the roster: %+v", list)
			}
			if n := e.audited(t, codeWanghua, "agent.set"); n != 1 {
				t.Fatalf("audit: %d agent.set lines, want only the one that was saved", n)
			}
		})
	}
	t.Run("StopAgent", func(t *testing.T) {
		f := url.Values{"csrf": {s.csrf("/staff/devices?point=" + codeWanghua)}, "point": {codeWanghua}, "name": {"王芳"}}
		p := s.post("/staff/devices/agent/stop", f)
		if p.Status != 303 {
			t.Fatalf("got %d", p.Status)
		}
		list, _ := e.st.Roster(ctx, codeWanghua)
		if len(list) != 1 || list[0].Active {
			t.Fatalf("roster: %+v", list)
		}
		if n := e.audited(t, codeWanghua, "agent.stop"); n != 1 {
			t.Errorf("audit: %d agent.stop lines, want 1", n)
		}
		if !strings.Contains(s.get(p.Location).Body, "<td>王芳</td><td>管理员</td><td>已停用</td>") {
			t.Error("the roster does not show 王芳 stopped")
		}
		f.Set("name", "' OR 1=1 --")
		if p := s.post("/staff/devices/agent/stop", f); p.Status != 404 || !strings.Contains(p.Body, "没有代办员") {
			t.Fatalf("unknown agent: got %d", p.Status)
		}
	})
}
