package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keqiao/villagekiosk/internal/pgtest"
)

// rig is a district server and an enrolled kiosk as real processes on
// loopback, each with its own data folder.
type rig struct {
	t                  *testing.T
	kiosk, districtd   string // binaries
	kdata, ddata, addr string
	dbURL              string // districtd's PostgreSQL database; "" for SQLite
	srv                *exec.Cmd
	serverLog          bytes.Buffer // read only once the server has stopped
	syncOutput         bytes.Buffer
	cert, key          string // PEM files when districtd serves HTTPS
}

// binary returns a built binary: from the environment (make test builds
// them) or built here.
func binary(t *testing.T, env, pkg, name string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	out := filepath.Join(t.TempDir(), name)
	if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func newRig(t *testing.T) *rig { return newRigOn(t, "") }

// newRigOn is newRig with districtd on the engine of dbURL ("" for SQLite).
func newRigOn(t *testing.T, dbURL string) *rig { return newRigWith(t, dbURL, false) }

// newRigWith is newRigOn, with districtd serving HTTPS under a certificate
// of its own CA when withTLS, and the kiosk enrolled trusting that CA.
func newRigWith(t *testing.T, dbURL string, withTLS bool) *rig {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts both programs")
	}
	r := &rig{t: t, kiosk: binary(t, "KIOSK_BIN", "../kiosk", "kiosk"), districtd: binary(t, "DISTRICTD_BIN", ".", "districtd"),
		kdata: t.TempDir(), ddata: t.TempDir(), dbURL: dbURL}
	l, err := net.Listen("tcp", "127.0.0.1:0") // a fixed port, so a restarted district is found again
	if err != nil {
		t.Fatal(err)
	}
	r.addr = l.Addr().String()
	l.Close()
	base := "http://" + r.addr
	enroll := []string{}
	if withTLS {
		r.cert, r.key = selfSigned(t)
		base = "https://" + r.addr
		enroll = []string{"--ca", r.cert}
	}
	r.startDistrict()
	t.Cleanup(func() { r.srv.Process.Kill(); r.srv.Wait() })
	r.sh(r.kiosk, "setup", "--point", "330603101201", "--point-name", "王化村便民服务中心", "--data", r.kdata)
	r.sh(r.kiosk, "agent", "add", "王芳", "--pin", "2468", "--data", r.kdata)
	code := strings.Fields(r.sh(r.districtd, "enroll-code", "--point", "330603101201", "--name", "王化村便民服务中心", "--data", r.ddata))[0]
	r.sh(r.kiosk, append([]string{"enroll", "--district", base, "--code", code, "--data", r.kdata}, enroll...)...)
	return r
}

func (r *rig) startDistrict() {
	r.t.Helper()
	args := []string{"serve", "--addr", r.addr, "--data", r.ddata}
	if r.cert != "" {
		args = append(args, "--tls-cert", r.cert, "--tls-key", r.key)
	}
	r.srv = exec.Command(r.districtd, args...)
	r.srv.Env = r.env(r.districtd)
	r.srv.Stderr = &r.serverLog
	stdout, _ := r.srv.StdoutPipe()
	if err := r.srv.Start(); err != nil {
		r.t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || !strings.Contains(line, "listening on ") {
		r.t.Fatalf("districtd did not start: %q %v", line, err)
	}
}

func TestMain(m *testing.M) { pgtest.Main(m) }

// killDistrict kills the server with SIGKILL and starts it again.
func (r *rig) killDistrict() {
	r.srv.Process.Signal(syscall.SIGKILL)
	r.srv.Wait()
	r.startDistrict()
}

// sh runs a command to completion and fails the test if it fails.
func (r *rig) sh(bin string, args ...string) string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = r.env(bin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out)
	}
	if len(args) > 0 && (args[0] == "sync" || args[0] == "enroll") {
		r.syncOutput.Write(out)
	}
	return string(out)
}

// env is the environment of a program of the rig: districtd gets its
// database through DISTRICTD_DB.
func (r *rig) env(bin string) []string {
	if bin == r.districtd && r.dbURL != "" {
		return append(os.Environ(), "DISTRICTD_DB="+r.dbURL)
	}
	return nil
}

func (r *rig) sync() string { return r.sh(r.kiosk, "sync", "--once", "--data", r.kdata) }

type row struct {
	ReceiptNo string `json:"receipt_no"`
	Status    string `json:"status"`
}

func (r *rig) districtSubmissions() []row {
	var list []row
	json.Unmarshal([]byte(r.sh(r.districtd, "submissions", "--json", "--data", r.ddata)), &list)
	return list
}

// submitN saves n submissions offline, each with its own scan of size bytes
// (0: none).
func (r *rig) submitN(n, size int) {
	example, _ := os.ReadFile("../../docs/examples/submission.json")
	dir := r.t.TempDir()
	for i := 0; i < n; i++ {
		doc := strings.Replace(string(example), `"agent": "王芳",`, fmt.Sprintf(`"agent": "王芳", "draft_id": "d-%d",`, i), 1)
		if size == 0 {
			doc = strings.Replace(doc, `["id-card-sample.jpg"]`, `[]`, 1)
		} else {
			scan := make([]byte, size)
			copy(scan, []byte{0xFF, 0xD8, 0xFF, 0xE0})
			for j := 16; j < len(scan); j++ {
				scan[j] = byte(i*31 + j*7)
			}
			os.WriteFile(filepath.Join(dir, "id-card-sample.jpg"), scan, 0o644)
		}
		os.WriteFile(filepath.Join(dir, "s.json"), []byte(doc), 0o644)
		r.sh(r.kiosk, "submit", "--json", filepath.Join(dir, "s.json"), "--data", r.kdata)
	}
}

// drainAndCheck runs rounds that finish and checks each of n submissions is
// at the district exactly once, every stored attachment matches its hash,
// and nothing waits or is parked on the kiosk.
func (r *rig) drainAndCheck(n, attachments int) {
	r.t.Helper()
	for i := 0; i < 5; i++ { // rounds that finish, as the schedule would run them
		if strings.Contains(r.sync(), " 0 waiting") {
			break
		}
	}
	list := r.districtSubmissions()
	seen := map[string]bool{}
	for _, s := range list {
		if seen[s.ReceiptNo] {
			r.t.Fatalf("%s is at the district twice", s.ReceiptNo)
		}
		seen[s.ReceiptNo] = true
	}
	if len(list) != n {
		r.t.Fatalf("the district has %d of %d submissions", len(list), n)
	}
	files, _ := filepath.Glob(filepath.Join(r.ddata, "attachments", "??", "*"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != filepath.Base(f) {
			r.t.Fatalf("attachment %s does not match its hash", filepath.Base(f))
		}
	}
	if len(files) != attachments {
		r.t.Fatalf("%d attachments at the district, want %d", len(files), attachments)
	}
	if out := r.sh(r.kiosk, "status", "--data", r.kdata); !strings.Contains(out, `"waiting": 0`) || !strings.Contains(out, `"parked": 0`) {
		r.t.Fatalf("kiosk queue: %s", out)
	}
}

// TestRealProcesses runs districtd and the kiosk as separate processes on
// loopback: save offline, sync, set statuses at the district, sync, and the
// kiosk shows them; catalogs, the roster and holidays arrive; nothing
// personal is logged.
func TestRealProcesses(t *testing.T) { pgtest.Engines(t, testRealProcesses) }

func testRealProcesses(t *testing.T, dbURL string) {
	r := newRigOn(t, dbURL)
	receipt := strings.TrimSpace(r.sh(r.kiosk, "submit", "--json", "../../docs/examples/submission.json", "--data", r.kdata))
	if out := r.sync(); !strings.Contains(out, "uploaded 1,") {
		t.Fatalf("sync: %s", out)
	}
	if list := r.districtSubmissions(); len(list) != 1 || list[0].ReceiptNo != receipt {
		t.Fatalf("district has %+v, want %s", list, receipt)
	}
	r.sh(r.districtd, "set-status", receipt, "--status", "returned", "--note", "请补交解除劳动合同证明", "--data", r.ddata)
	r.sync()
	var mine []row
	json.Unmarshal([]byte(r.sh(r.kiosk, "submissions", "--json", "--data", r.kdata)), &mine)
	if len(mine) != 1 || mine[0].Status != "returned" {
		t.Fatalf("kiosk shows %+v, want returned", mine)
	}

	// A catalog published at the district reaches the kiosk.
	doc, _ := os.ReadFile("../../assets/catalog/default.json")
	newer := filepath.Join(t.TempDir(), "catalog-2026.2.json")
	os.WriteFile(newer, []byte(strings.Replace(string(doc), `"version": "2026.1"`, `"version": "2026.2"`, 1)), 0o644)
	r.sh(r.districtd, "catalog", "publish", newer, "--data", r.ddata)
	if out := r.sync(); !strings.Contains(out, "installed catalog 2026.2") {
		t.Fatalf("catalog sync: %s", out)
	}
	if out := r.sh(r.kiosk, "catalog", "--data", r.kdata); !strings.Contains(out, "catalog 2026.2 (district") {
		t.Fatalf("kiosk catalog: %s", out)
	}
	// So does the roster: an agent added at the district signs in on the kiosk.
	r.sh(r.districtd, "agent", "add", "李娟", "--point", "330603101201", "--pin", "1357", "--data", r.ddata)
	if out := r.sync(); !strings.Contains(out, "applied the district's roster of 1 agents") {
		t.Fatalf("roster sync: %s", out)
	}
	if out := r.sh(r.kiosk, "agent", "list", "--data", r.kdata); !strings.Contains(out, "李娟") {
		t.Fatalf("kiosk agents: %s", out)
	}
	// So does next year's holiday arrangement.
	y2027 := filepath.Join(t.TempDir(), "2027.json")
	os.WriteFile(y2027, []byte(`{"year":2027,"source":"国务院办公厅通知","days_off":[{"date":"2027-01-01","name":"元旦"}],"working_weekends":[]}`), 0o644)
	r.sh(r.districtd, "holidays", "publish", y2027, "--data", r.ddata)
	if out := r.sync(); !strings.Contains(out, "received the holiday arrangement of 2027") {
		t.Fatalf("holidays sync: %s", out)
	}

	// A second round moves nothing and duplicates nothing.
	if out := r.sync(); !strings.Contains(out, "uploaded 0,") {
		t.Fatalf("second sync: %s", out)
	}
	if list := r.districtSubmissions(); len(list) != 1 {
		t.Fatalf("district has %d submissions after a second round", len(list))
	}

	// What the district's monitor knows of the kiosk, from its heartbeat.
	var devices []struct {
		ID        string `json:"id"`
		Heartbeat string `json:"heartbeat"`
	}
	json.Unmarshal([]byte(r.sh(r.districtd, "devices", "--json", "--data", r.ddata)), &devices)
	if len(devices) != 1 {
		t.Fatalf("devices: %+v", devices)
	}
	var hb struct {
		AppVersion   string    `json:"app_version"`
		Queue        int       `json:"queue"`
		LastSync     time.Time `json:"last_sync"`
		DiskFree     int64     `json:"disk_free"`
		ClockOffsetS *float64  `json:"clock_offset_seconds"`
		Printer      string    `json:"printer"`
	}
	if err := json.Unmarshal([]byte(devices[0].Heartbeat), &hb); err != nil || hb.AppVersion == "" || hb.Queue != 0 ||
		time.Since(hb.LastSync) > time.Minute || hb.DiskFree <= 0 || hb.ClockOffsetS == nil || !strings.HasPrefix(hb.Printer, "file png") {
		t.Fatalf("heartbeat as the district keeps it: %s (%v)", devices[0].Heartbeat, err)
	}

	// Revoked: the kiosk is refused and says so plainly, and keeps its data.
	r.sh(r.districtd, "revoke", devices[0].ID, "--data", r.ddata)
	out, err := exec.Command(r.kiosk, "sync", "--once", "--data", r.kdata).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "revoked") {
		t.Fatalf("sync after revocation: %v %s", err, out)
	}
	json.Unmarshal([]byte(r.sh(r.kiosk, "submissions", "--json", "--data", r.kdata)), &mine)
	if len(mine) != 1 {
		t.Fatalf("the revoked kiosk lists %d submissions, want its 1", len(mine))
	}

	// No personal data in what the server logged or the sync printed. The
	// server is stopped first: its log is written until it exits.
	r.srv.Process.Signal(os.Interrupt)
	r.srv.Wait()
	logs := r.serverLog.String() + r.syncOutput.String()
	for _, personal := range []string{"330621198001010014", "13800138000", "𠮷野"} {
		if strings.Contains(logs, personal) {
			t.Errorf("logs contain %q", personal)
		}
	}
}

// TestKillDuringSync kills `kiosk sync` with SIGKILL at random moments while
// it uploads twelve submissions with 600 KB scans (three chunks each), 30
// times, then lets rounds finish.
func TestKillDuringSync(t *testing.T) {
	r := newRig(t)
	const n = 12
	r.submitN(n, 600_000)
	for round := 0; round < 30; round++ {
		cmd := exec.Command(r.kiosk, "sync", "--once", "--data", r.kdata)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(5+rand.IntN(120)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	r.drainAndCheck(n, n)
}

// TestKillDistrict kills districtd with SIGKILL at random moments while a
// kiosk uploads (some kills land after a commit and before the reply) and
// restarts it, 15 times; the kiosk's retries get the stored replies.
func TestKillDistrict(t *testing.T) { pgtest.Engines(t, testKillDistrict) }

func testKillDistrict(t *testing.T, dbURL string) {
	r := newRigOn(t, dbURL)
	const n = 10
	r.submitN(n, 0)
	for round := 0; round < 15; round++ {
		sync := exec.Command(r.kiosk, "sync", "--once", "--data", r.kdata)
		sync.Start()
		time.Sleep(time.Duration(2+rand.IntN(40)) * time.Millisecond)
		r.killDistrict()
		sync.Wait()
	}
	r.drainAndCheck(n, 0)
}
