package store_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/store"
)

// TestMain doubles as the crash child: with KIOSK_CRASH_CHILD set, the test
// binary saves submissions in a loop, printing each receipt number once the
// save returned, until it is killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("KIOSK_CRASH_CHILD"); dir != "" {
		crashChild(dir)
		return
	}
	os.Exit(m.Run())
}

func crashChild(dir string) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "kiosk.db"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	subs := store.NewSubmissionService(db)
	agent := &kiosk.Agent{ID: 1, Name: "王芳"}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		var atts []kiosk.Attachment
		for j := 0; j < 2; j++ {
			// Fresh content each time so every save writes new files.
			data := make([]byte, 64<<10)
			rand.Read(data)
			copy(data, []byte{0xFF, 0xD8, 0xFF, 0xE0})
			src := filepath.Join(dir, fmt.Sprintf("scan-%d.jpg", j))
			os.WriteFile(src, data, 0o644)
			a, err := subs.Stage(ctx, src)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			atts = append(atts, a)
		}
		d := &kiosk.Draft{
			Matter:    "3306210001-01",
			Applicant: kiosk.Applicant{Name: "𠮷野", IDNumber: "330621198001010014", Phone: "13800138000"},
			Fields:    map[string]string{"bank": "中国农业银行"},
			Materials: []kiosk.MaterialInput{{Name: "居民身份证", Received: true, Attachments: atts}},
			Consent:   true,
		}
		sub, err := subs.Save(ctx, d, agent)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintln(out, sub.ReceiptNo)
		out.Flush()
	}
}

// TestCrash kills a saving process with SIGKILL at random moments, again and
// again, and checks after each kill that every submission is whole (its
// materials, attachment rows, files matching their hashes, outbox entry) or
// absent, that every receipt the process had printed is there, and that
// SQLite's integrity check passes.
func TestCrash(t *testing.T) {
	kills := 60
	if testing.Short() {
		kills = 15
	}
	dir := t.TempDir()
	e := setUpIn(t, dir)
	e.db.Close()

	acknowledged, verified := map[string]bool{}, map[string]bool{}
	for k := 0; k < kills; k++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "KIOSK_CRASH_CHILD="+dir)
		stdout, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Kill at a random moment once the child is saving (its start-up,
		// slow under -race on a loaded machine, is not what is tested).
		first := ""
		select {
		case first = <-lines:
		case <-time.After(30 * time.Second):
		}
		wait, _ := rand.Int(rand.Reader, big.NewInt(300))
		time.Sleep(time.Duration(wait.Int64()) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		if first != "" {
			acknowledged[first] = true
		}
		for l := range lines {
			acknowledged[l] = true
		}
		cmd.Wait()
		if strings.TrimSpace(stderr.String()) != "" {
			t.Fatalf("child failed: %s", stderr.String())
		}
		checkWhole(t, dir, acknowledged, verified)
	}
	t.Logf("%d kills, %d saves acknowledged before a kill", kills, len(acknowledged))
	if len(acknowledged) < 200 {
		t.Fatalf("only %d saves in %d runs, not hundreds: the kills came too early to test much", len(acknowledged), kills)
	}
}

func setUpIn(tb testing.TB, dir string) *kioskEnv {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "kiosk.db"))
	if err != nil {
		tb.Fatal(err)
	}
	store.NewCatalogService(db).Install(ctx, smallCatalog(tb), kiosk.OriginFile)
	store.NewSettingsService(db).SetPoint(ctx, kiosk.PointInfo{Code: "330603101201", Name: "王化村"})
	districtKey(tb, db)
	return &kioskEnv{db: db, subs: store.NewSubmissionService(db), dir: dir}
}

// checkWhole checks every submission's rows with one query, and the files of
// those not verified after an earlier kill.
func checkWhole(t *testing.T, dir string, acknowledged, verified map[string]bool) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "kiosk.db"))
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()
	if db.Recovered != "" {
		t.Fatalf("the database was found corrupt after a kill and moved to %s", db.Recovered)
	}
	var ok string
	if err := db.SQL().QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %s %v", ok, err)
	}
	var partial string
	err = db.SQL().QueryRow(`SELECT coalesce(group_concat(receipt_no), '') FROM submissions s WHERE
		(SELECT count(*) FROM submission_materials m WHERE m.submission_id = s.id) != 2 OR
		(SELECT count(*) FROM submission_attachments a WHERE a.submission_id = s.id) != 2 OR
		(SELECT count(*) FROM outbox o WHERE o.submission_id = s.id) != 1`).Scan(&partial)
	if err != nil || partial != "" {
		t.Fatalf("partial submissions: %q %v", partial, err)
	}
	subs := store.NewSubmissionService(db)
	list, err := subs.List(ctx, kiosk.SubmissionFilter{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	saved := map[string]bool{}
	for _, s := range list {
		saved[s.ReceiptNo] = true
		if verified[s.ReceiptNo] {
			continue
		}
		full, err := subs.Get(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(full.Materials[0].Attachments) != 2 {
			t.Fatalf("%s: payload names %d attachments", s.ReceiptNo, len(full.Materials[0].Attachments))
		}
		for _, a := range full.Materials[0].Attachments {
			openFile(t, db, a) // whole, and opens with the district's key
		}
		verified[s.ReceiptNo] = true
	}
	for r := range acknowledged {
		if !saved[r] {
			t.Fatalf("receipt %s was acknowledged but is not in the database", r)
		}
	}
}
