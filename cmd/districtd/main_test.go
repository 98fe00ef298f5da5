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
)

func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCommands(t *testing.T) {
	data := t.TempDir()
	qr := filepath.Join(t.TempDir(), "code.png")
	code, out, errOut := runMain(t, "enroll-code", "--point", "330603101201", "--name", "王化村", "--qr", qr, "--data", data)
	if code != 0 || len(strings.Fields(out)[0]) != 10 {
		t.Fatalf("enroll-code: %d %q %q", code, out, errOut)
	}
	if fi, err := os.Stat(qr); err != nil || fi.Size() == 0 {
		t.Fatalf("QR image: %v", err)
	}
	for _, bad := range [][]string{
		{"enroll-code", "--point", "", "--name", "x"},
		{"set-status", "330603101201-20261128-0001", "--status", "done"},
		{"set-status", "x", "--status", "lost"},
		{"revoke", "dev-nosuch"},
		{"frobnicate"},
	} {
		if code, _, errOut := runMain(t, append(bad, "--data", data)...); code == 0 || errOut == "" {
			t.Errorf("%v: exit %d, message %q", bad, code, errOut)
		}
	}
	if code, _, errOut := runMain(t, "devices"); code == 0 || !strings.Contains(errOut, "--data") {
		t.Errorf("no data folder: %q", errOut)
	}
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

// TestRealProcesses runs districtd and the kiosk as separate processes on
// loopback: enrol, save offline, sync, set statuses at the district, sync,
// and the kiosk shows them.
func TestRealProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts both programs")
	}
	kioskBin := binary(t, "KIOSK_BIN", "../kiosk", "kiosk")
	districtBin := binary(t, "DISTRICTD_BIN", ".", "districtd")
	ddata, kdata := t.TempDir(), t.TempDir()

	srv := exec.Command(districtBin, "serve", "--addr", "127.0.0.1:0", "--data", ddata)
	var serverLog bytes.Buffer
	srv.Stderr = &serverLog
	stdout, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.Contains(line, "listening on ") {
		t.Fatalf("districtd did not start: %q %v", line, err)
	}
	url := "http://" + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "districtd listening on "))

	var syncOutput bytes.Buffer
	sh := func(bin string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out)
		}
		if len(args) > 0 && (args[0] == "sync" || args[0] == "enroll") {
			syncOutput.Write(out)
		}
		return string(out)
	}
	sh(kioskBin, "setup", "--point", "330603101201", "--point-name", "王化村便民服务中心", "--data", kdata)
	sh(kioskBin, "agent", "add", "王芳", "--pin", "2468", "--data", kdata)
	receipt := strings.TrimSpace(sh(kioskBin, "submit", "--json", "../../docs/examples/submission.json", "--data", kdata))
	code := strings.Fields(sh(districtBin, "enroll-code", "--point", "330603101201", "--name", "王化村便民服务中心", "--data", ddata))[0]
	sh(kioskBin, "enroll", "--district", url, "--code", code, "--data", kdata)
	if out := sh(kioskBin, "sync", "--once", "--data", kdata); !strings.Contains(out, "uploaded 1,") {
		t.Fatalf("sync: %s", out)
	}
	type row struct {
		ReceiptNo string `json:"receipt_no"`
		Status    string `json:"status"`
	}
	var list []row
	json.Unmarshal([]byte(sh(districtBin, "submissions", "--json", "--data", ddata)), &list)
	if len(list) != 1 || list[0].ReceiptNo != receipt {
		t.Fatalf("district has %+v, want %s", list, receipt)
	}
	sh(districtBin, "set-status", receipt, "--status", "returned", "--note", "请补交解除劳动合同证明", "--data", ddata)
	sh(kioskBin, "sync", "--once", "--data", kdata)
	var mine []row
	json.Unmarshal([]byte(sh(kioskBin, "submissions", "--json", "--data", kdata)), &mine)
	if len(mine) != 1 || mine[0].Status != "returned" {
		t.Fatalf("kiosk shows %+v, want returned", mine)
	}
	// A catalog published at the district reaches the kiosk.
	doc, _ := os.ReadFile("../../assets/catalog/default.json")
	newer := filepath.Join(t.TempDir(), "catalog-2026.2.json")
	os.WriteFile(newer, []byte(strings.Replace(string(doc), `"version": "2026.1"`, `"version": "2026.2"`, 1)), 0o644)
	sh(districtBin, "catalog", "publish", newer, "--data", ddata)
	if out := sh(kioskBin, "sync", "--once", "--data", kdata); !strings.Contains(out, "installed catalog 2026.2") {
		t.Fatalf("catalog sync: %s", out)
	}
	if out := sh(kioskBin, "catalog", "--data", kdata); !strings.Contains(out, "catalog 2026.2 (district") {
		t.Fatalf("kiosk catalog: %s", out)
	}
	// So does the roster: an agent added at the district signs in on the kiosk.
	sh(districtBin, "agent", "add", "李娟", "--point", "330603101201", "--pin", "1357", "--data", ddata)
	if out := sh(kioskBin, "sync", "--once", "--data", kdata); !strings.Contains(out, "applied the district's roster of 1 agents") {
		t.Fatalf("roster sync: %s", out)
	}
	if out := sh(kioskBin, "agent", "list", "--data", kdata); !strings.Contains(out, "李娟") {
		t.Fatalf("kiosk agents: %s", out)
	}
	// So does next year's holiday arrangement.
	y2027 := filepath.Join(t.TempDir(), "2027.json")
	os.WriteFile(y2027, []byte(`{"year":2027,"source":"国务院办公厅通知","days_off":[{"date":"2027-01-01","name":"元旦"}],"working_weekends":[]}`), 0o644)
	sh(districtBin, "holidays", "publish", y2027, "--data", ddata)
	if out := sh(kioskBin, "sync", "--once", "--data", kdata); !strings.Contains(out, "received the holiday arrangement of 2027") {
		t.Fatalf("holidays sync: %s", out)
	}

	// A second round moves nothing and duplicates nothing.
	if out := sh(kioskBin, "sync", "--once", "--data", kdata); !strings.Contains(out, "uploaded 0,") {
		t.Fatalf("second sync: %s", out)
	}
	json.Unmarshal([]byte(sh(districtBin, "submissions", "--json", "--data", ddata)), &list)
	if len(list) != 1 {
		t.Fatalf("district has %d submissions after a second round", len(list))
	}

	// No personal data in what the server logged or the sync printed. The
	// server is stopped first: its log is written until it exits.
	srv.Process.Signal(os.Interrupt)
	srv.Wait()
	logs := serverLog.String() + syncOutput.String()
	for _, personal := range []string{"330621198001010014", "13800138000", "𠮷野"} {
		if strings.Contains(logs, personal) {
			t.Errorf("logs contain %q", personal)
		}
	}
}

// TestKillDuringSync kills `kiosk sync` with SIGKILL at random moments while
// it uploads, again and again, then lets a round finish: the district has
// every submission exactly once with attachments matching their hashes, and
// the kiosk's database passes its integrity check.
func TestKillDuringSync(t *testing.T) {
	if testing.Short() {
		t.Skip("starts both programs many times")
	}
	kioskBin := binary(t, "KIOSK_BIN", "../kiosk", "kiosk")
	districtBin := binary(t, "DISTRICTD_BIN", ".", "districtd")
	ddata, kdata := t.TempDir(), t.TempDir()
	srv := exec.Command(districtBin, "serve", "--addr", "127.0.0.1:0", "--data", ddata)
	stdout, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	url := "http://" + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "districtd listening on "))
	sh := func(bin string, args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out)
		}
		return string(out)
	}
	sh(kioskBin, "setup", "--point", "330603101201", "--point-name", "王化村", "--data", kdata)
	sh(kioskBin, "agent", "add", "王芳", "--pin", "2468", "--data", kdata)
	code := strings.Fields(sh(districtBin, "enroll-code", "--point", "330603101201", "--name", "王化村", "--data", ddata))[0]
	sh(kioskBin, "enroll", "--district", url, "--code", code, "--data", kdata)

	// Twelve submissions, each with its own 600 KB scan (three chunks).
	example, _ := os.ReadFile("../../docs/examples/submission.json")
	dir := t.TempDir()
	const n = 12
	for i := 0; i < n; i++ {
		scan := make([]byte, 600_000)
		copy(scan, []byte{0xFF, 0xD8, 0xFF, 0xE0})
		for j := 16; j < len(scan); j++ {
			scan[j] = byte(i*31 + j*7)
		}
		os.WriteFile(filepath.Join(dir, "id-card-sample.jpg"), scan, 0o644)
		doc := strings.Replace(string(example), `"agent": "王芳",`, fmt.Sprintf(`"agent": "王芳", "draft_id": "kill-%d",`, i), 1)
		os.WriteFile(filepath.Join(dir, "s.json"), []byte(doc), 0o644)
		sh(kioskBin, "submit", "--json", filepath.Join(dir, "s.json"), "--data", kdata)
	}

	kills := 0
	for round := 0; round < 30; round++ {
		cmd := exec.Command(kioskBin, "sync", "--once", "--data", kdata)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(5+rand.IntN(120)) * time.Millisecond)
		if cmd.Process.Signal(syscall.SIGKILL) == nil {
			kills++
		}
		cmd.Wait()
	}
	for i := 0; i < 5; i++ { // rounds that finish, as the schedule would run them
		if out := sh(kioskBin, "sync", "--once", "--data", kdata); strings.Contains(out, " 0 waiting") {
			break
		}
	}
	var list []struct {
		ID        string `json:"id"`
		ReceiptNo string `json:"receipt_no"`
	}
	json.Unmarshal([]byte(sh(districtBin, "submissions", "--json", "--data", ddata)), &list)
	seen := map[string]bool{}
	for _, s := range list {
		if seen[s.ReceiptNo] {
			t.Fatalf("%s is at the district twice", s.ReceiptNo)
		}
		seen[s.ReceiptNo] = true
	}
	if len(list) != n {
		t.Fatalf("after %d kills the district has %d of %d submissions", kills, len(list), n)
	}
	files, _ := filepath.Glob(filepath.Join(ddata, "attachments", "??", "*"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != filepath.Base(f) {
			t.Fatalf("attachment %s does not match its hash", filepath.Base(f))
		}
	}
	if len(files) != n {
		t.Fatalf("%d attachments at the district, want %d", len(files), n)
	}
	if out := sh(kioskBin, "status", "--data", kdata); !strings.Contains(out, `"waiting": 0`) || !strings.Contains(out, `"parked": 0`) {
		t.Fatalf("kiosk queue after the kills: %s", out)
	}
	t.Logf("%d kills during sync; %d submissions once each, %d attachments intact", kills, len(list), len(files))
}

// TestKillDistrict kills districtd with SIGKILL at random moments while a
// kiosk uploads (some kills land after a commit and before the reply), and
// restarts it; the kiosk's retries get the stored replies: each submission
// exactly once.
func TestKillDistrict(t *testing.T) {
	if testing.Short() {
		t.Skip("starts both programs many times")
	}
	kioskBin := binary(t, "KIOSK_BIN", "../kiosk", "kiosk")
	districtBin := binary(t, "DISTRICTD_BIN", ".", "districtd")
	ddata, kdata := t.TempDir(), t.TempDir()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	start := func() *exec.Cmd {
		srv := exec.Command(districtBin, "serve", "--addr", addr, "--data", ddata)
		stdout, _ := srv.StdoutPipe()
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		bufio.NewReader(stdout).ReadString('\n')
		return srv
	}
	srv := start()
	defer func() { srv.Process.Kill(); srv.Wait() }()
	sh := func(bin string, args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out)
		}
		return string(out)
	}
	sh(kioskBin, "setup", "--point", "330603101201", "--point-name", "王化村", "--data", kdata)
	sh(kioskBin, "agent", "add", "王芳", "--pin", "2468", "--data", kdata)
	code := strings.Fields(sh(districtBin, "enroll-code", "--point", "330603101201", "--name", "王化村", "--data", ddata))[0]
	sh(kioskBin, "enroll", "--district", "http://"+addr, "--code", code, "--data", kdata)
	example, _ := os.ReadFile("../../docs/examples/submission.json")
	dir := t.TempDir()
	const n = 10
	for i := 0; i < n; i++ {
		doc := strings.Replace(string(example), `"agent": "王芳",`, fmt.Sprintf(`"agent": "王芳", "draft_id": "kd-%d",`, i), 1)
		doc = strings.Replace(doc, `["id-card-sample.jpg"]`, `[]`, 1)
		os.WriteFile(filepath.Join(dir, "s.json"), []byte(doc), 0o644)
		sh(kioskBin, "submit", "--json", filepath.Join(dir, "s.json"), "--data", kdata)
	}
	kills := 0
	for round := 0; round < 15; round++ {
		sync := exec.Command(kioskBin, "sync", "--once", "--data", kdata)
		sync.Start()
		time.Sleep(time.Duration(2+rand.IntN(40)) * time.Millisecond)
		srv.Process.Signal(syscall.SIGKILL)
		srv.Wait()
		kills++
		sync.Wait()
		srv = start()
	}
	for i := 0; i < 5; i++ {
		if out := sh(kioskBin, "sync", "--once", "--data", kdata); strings.Contains(out, " 0 waiting") {
			break
		}
	}
	var list []struct {
		ReceiptNo string `json:"receipt_no"`
	}
	json.Unmarshal([]byte(sh(districtBin, "submissions", "--json", "--data", ddata)), &list)
	seen := map[string]bool{}
	for _, s := range list {
		if seen[s.ReceiptNo] {
			t.Fatalf("%s twice at the district", s.ReceiptNo)
		}
		seen[s.ReceiptNo] = true
	}
	if len(list) != n {
		t.Fatalf("after %d kills of districtd it has %d of %d", kills, len(list), n)
	}
	if out := sh(kioskBin, "status", "--data", kdata); !strings.Contains(out, `"waiting": 0`) || !strings.Contains(out, `"parked": 0`) {
		t.Fatalf("kiosk queue: %s", out)
	}
	t.Logf("%d kills of districtd; %d submissions once each", kills, len(list))
}
