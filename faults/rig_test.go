package faults

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/store"
	"github.com/keqiao/villagekiosk/sync/district"
)

const (
	pointCode = "330603101201"
	pointName = "王化村便民服务中心"
)

// rig is a districtd process and an enrolled kiosk data folder, driven
// through the real `kiosk` and `districtd` binaries on loopback.
type rig struct {
	t            *testing.T
	kdata, ddata string
	addr         string     // districtd's fixed address, so a restarted server is found again
	srvMu        sync.Mutex // the server is killed from a proxy's goroutine too
	srv          *exec.Cmd
	srvLog       *lockedBuffer
	logs         lockedBuffer // everything both programs printed or logged, for the privacy scan
	deviceID     string

	mu    sync.Mutex
	acked map[string]bool // receipt numbers `kiosk submit` printed: the villager was told "saved"
	seq   int
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// newRig starts districtd with its data in ddata (a fresh folder when
// empty), sets up a kiosk and enrols it.
func newRig(t *testing.T, ddata string) *rig {
	t.Helper()
	return newRigIn(t, ddata, "")
}

// newRigIn is newRig with the kiosk's data folder in kdata (a fresh folder
// when empty).
func newRigIn(t *testing.T, ddata, kdata string) *rig {
	t.Helper()
	if ddata == "" {
		ddata = t.TempDir()
	}
	if kdata == "" {
		kdata = t.TempDir()
	}
	r := &rig{t: t, kdata: kdata, ddata: ddata, addr: freeAddr(t), acked: map[string]bool{}}
	r.startDistrict()
	t.Cleanup(r.stopDistrict)
	r.kiosk("setup", "--point", pointCode, "--point-name", pointName)
	r.kiosk("agent", "add", "王芳", "--pin", "2468")
	code := strings.Fields(r.districtd("enroll-code", "--point", pointCode, "--name", pointName))[0]
	out := r.kiosk("enroll", "--district", "http://"+r.addr, "--code", code)
	r.deviceID = strings.Fields(out)[3]
	return r
}

func (r *rig) url() string { return "http://" + r.addr }

func (r *rig) startDistrict() {
	r.t.Helper()
	r.srvMu.Lock()
	defer r.srvMu.Unlock()
	r.srvLog = &lockedBuffer{}
	srv := exec.Command(districtdBin, "serve", "--addr", r.addr, "--data", r.ddata)
	srv.Stderr = io.MultiWriter(r.srvLog, &r.logs)
	stdout, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		r.t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.Contains(line, "listening on ") {
		srv.Wait()
		r.t.Fatalf("districtd did not start: %q %v\n%s", line, err, r.srvLog.String())
	}
	r.srv = srv
}

// running says whether districtd is up.
func (r *rig) running() bool {
	r.srvMu.Lock()
	defer r.srvMu.Unlock()
	return r.srv != nil
}

// killDistrict kills districtd with SIGKILL (no chance to finish anything).
func (r *rig) killDistrict() {
	r.srvMu.Lock()
	defer r.srvMu.Unlock()
	if r.srv != nil && r.srv.Process != nil {
		r.srv.Process.Signal(syscall.SIGKILL)
		r.srv.Wait()
	}
	r.srv = nil
}

// stopDistrict stops districtd gracefully (SIGTERM), as an operator would.
func (r *rig) stopDistrict() {
	r.srvMu.Lock()
	defer r.srvMu.Unlock()
	if r.srv != nil && r.srv.Process != nil {
		r.srv.Process.Signal(syscall.SIGTERM)
		r.srv.Wait()
	}
	r.srv = nil
}

// run runs a program to completion and returns its output and error.
func run(timeout time.Duration, bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// kiosk runs a kiosk command on the rig's data folder; it must succeed.
func (r *rig) kiosk(args ...string) string {
	r.t.Helper()
	out, err := run(2*time.Minute, kioskBin, append(args, "--data", r.kdata)...)
	r.logs.Write([]byte(out))
	if err != nil {
		r.t.Fatalf("kiosk %v: %v\n%s", args, err, out)
	}
	return out
}

// districtd runs an operator command on the rig's district data.
func (r *rig) districtd(args ...string) string {
	r.t.Helper()
	out, err := run(time.Minute, districtdBin, append(args, "--data", r.ddata)...)
	r.logs.Write([]byte(out))
	if err != nil {
		r.t.Fatalf("districtd %v: %v\n%s", args, err, out)
	}
	return out
}

// sync runs one `kiosk sync --once` round; it may fail (the district is
// down, the network is cut): the output says what moved.
func (r *rig) sync() (string, error) {
	out, err := run(3*time.Minute, kioskBin, "sync", "--once", "--data", r.kdata)
	r.logs.Write([]byte(out))
	return out, err
}

// personal is what the example submission says about its villager: none of
// it may appear in what either program prints or logs (PIPL).
var personal = []string{"330621198001010014", "13800138000", "𠮷野"}

// checkLogs fails the test if anything personal reached a log line.
func (r *rig) checkLogs() {
	r.t.Helper()
	logs := r.logs.String()
	for _, p := range personal {
		if strings.Contains(logs, p) {
			r.t.Errorf("the programs' output and logs contain %q (of %d bytes logged)", p, len(logs))
		}
	}
}

// drain runs rounds until the kiosk has nothing waiting (at most n rounds).
func (r *rig) drain(n int) {
	r.t.Helper()
	var out string
	var err error
	for i := 0; i < n; i++ {
		out, err = r.sync()
		if err == nil && strings.Contains(out, " 0 waiting") {
			// One more round applies the feed's last statuses.
			if out, err = r.sync(); err == nil {
				return
			}
		}
	}
	r.t.Fatalf("the queue did not drain in %d rounds: %v\n%s", n, err, out)
}

var example = func() string {
	b, err := os.ReadFile("../docs/examples/submission.json")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// submissionFile writes a submission document (its own draft id, and a scan
// of size bytes unless 0) and returns its path.
func (r *rig) submissionFile(size int) string {
	r.mu.Lock()
	r.seq++
	n := r.seq
	r.mu.Unlock()
	dir := filepath.Join(r.t.TempDir())
	doc := strings.Replace(example, `"agent": "王芳",`, fmt.Sprintf(`"agent": "王芳", "draft_id": "fault-%d",`, n), 1)
	if size == 0 {
		doc = strings.Replace(doc, `["id-card-sample.jpg"]`, `[]`, 1)
	} else {
		os.WriteFile(filepath.Join(dir, "id-card-sample.jpg"), scan(size), 0o644)
	}
	p := filepath.Join(dir, "s.json")
	os.WriteFile(p, []byte(doc), 0o644)
	return p
}

// scan is a JPEG-looking file of random content (unique, so every
// submission has its own attachment).
func scan(size int) []byte {
	b := make([]byte, size)
	rand.Read(b)
	copy(b, []byte{0xFF, 0xD8, 0xFF, 0xE0})
	return b
}

// submit saves one submission through `kiosk submit` and remembers its
// receipt number as acknowledged.
func (r *rig) submit(size int) string {
	r.t.Helper()
	receipt := strings.TrimSpace(r.kiosk("submit", "--json", r.submissionFile(size)))
	r.ack(receipt)
	return receipt
}

func (r *rig) submitN(n, size int) {
	r.t.Helper()
	for i := 0; i < n; i++ {
		r.submit(size)
	}
}

// ackedSet is a copy of the receipt numbers printed so far.
func (r *rig) ackedSet() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]bool{}
	for rc := range r.acked {
		out[rc] = true
	}
	return out
}

func (r *rig) ack(receipt string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acked[receipt] = true
}

// setDistrictURL points the kiosk at another address (a proxy in front of
// the district), as a technician would after a network change.
func (r *rig) setDistrictURL(u string) {
	r.t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(r.kdata, "kiosk.db"))
	if err != nil {
		r.t.Fatal(err)
	}
	defer db.Close()
	if err := store.NewSettingsService(db).Set(context.Background(), kiosk.SettingDistrictURL, u); err != nil {
		r.t.Fatal(err)
	}
}

// districtStore opens the district's store beside the running server (SQLite
// in WAL mode takes both), for what an operator does in bulk.
func (r *rig) districtStore() *district.Store {
	r.t.Helper()
	st, err := district.Open(context.Background(), r.ddata)
	if err != nil {
		r.t.Fatal(err)
	}
	return st
}

// advanceStatuses moves up to n of the district's submissions on by one
// status (received → accepted → in_progress → done), as district staff
// would, so the change feed has something to carry back.
func (r *rig) advanceStatuses(n int) int {
	r.t.Helper()
	st := r.districtStore()
	defer st.Close()
	ctx := context.Background()
	list, err := st.Submissions(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	next := map[string]string{kiosk.StatusReceived: kiosk.StatusAccepted, kiosk.StatusAccepted: kiosk.StatusInProgress, kiosk.StatusInProgress: kiosk.StatusDone}
	moved := 0
	for _, s := range list {
		if moved == n {
			break
		}
		to, ok := next[s.Status]
		if !ok {
			continue
		}
		if err := st.SetStatus(ctx, s.ReceiptNo, to, "", "faults"); err != nil {
			r.t.Fatal(err)
		}
		moved++
	}
	return moved
}
