package faults

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"sync"
	"testing"
	"time"

	kiosksync "github.com/keqiao/villagekiosk/sync"
)

// TestDistrictKilledAfterCommit (fault 2) kills districtd with SIGKILL after
// it committed a submission and before the kiosk got the reply: a proxy in
// front of it holds the reply back, kills the server and breaks the kiosk's
// connection. Restarted, the district answers the kiosk's retry with the
// stored reply, byte for byte, and the submission has one row and one
// 'received' change. Then districtd is also killed at random moments during
// uploads.
func TestDistrictKilledAfterCommit(t *testing.T) {
	r := newRig(t, "")
	p := newFaultProxy(t, r.url())
	r.setDistrictURL(p.url())

	var mu sync.Mutex
	dropped := map[string][]byte{} // submission id -> the reply the kiosk never got
	retried := map[string][]byte{} // submission id -> the reply to the kiosk's retry
	armed := false
	p.setOnReply(func(req *http.Request, body []byte, resp *http.Response) error {
		if req.Method != http.MethodPost || req.URL.Path != "/v1/submissions" || resp.StatusCode != http.StatusOK {
			return nil
		}
		var up kiosksync.SubmissionUpload
		json.Unmarshal(body, &up)
		reply := new(bytes.Buffer)
		reply.ReadFrom(resp.Body)
		mu.Lock()
		defer mu.Unlock()
		if !armed {
			retried[up.ID] = reply.Bytes()
			return nil
		}
		dropped[up.ID] = reply.Bytes()
		armed = false
		r.killDistrict() // committed, replied into the void, and gone
		return errors.New("districtd killed before its reply reached the kiosk")
	})

	precise := times(4, 40)
	for i := 0; i < precise; i++ {
		r.submit([]int{0, 300_000}[i%2])
		mu.Lock()
		armed = true
		mu.Unlock()
		if out, err := r.sync(); err == nil {
			t.Fatalf("the round succeeded though the reply was dropped: %s", out)
		}
		if r.running() {
			t.Fatal("the proxy did not kill districtd")
		}
		r.startDistrict()
		r.drain(5)
	}
	if len(dropped) != precise {
		t.Fatalf("%d replies dropped, want %d", len(dropped), precise)
	}
	db := openDistrictDB(t, r.ddata)
	for id, first := range dropped {
		if !bytes.Equal(retried[id], first) {
			t.Errorf("the retry of %s got %q, the dropped reply was %q", id, retried[id], first)
		}
		var n int
		db.QueryRow(`SELECT count(*) FROM changes WHERE submission_id = ? AND status = 'received'`, id).Scan(&n)
		if n != 1 {
			t.Errorf("%s has %d 'received' changes, want one effect", id, n)
		}
	}
	db.Close()

	// Random moments: some kills land between a commit and its reply.
	random := times(6, 60)
	for i := 0; i < random; i++ {
		r.submit([]int{0, 300_000}[i%2])
		sync := exec.Command(kioskBin, "sync", "--once", "--data", r.kdata)
		sync.Start()
		time.Sleep(time.Duration(2+rand.IntN(60)) * time.Millisecond)
		r.killDistrict()
		r.startDistrict()
		sync.Wait()
	}
	r.drain(10)
	r.finish("2 districtd SIGKILL after commit, before reply", precise+random, false,
		itoa(precise)+" after commit (retry got the stored reply byte for byte, one effect) + "+itoa(random)+" at random")
}
