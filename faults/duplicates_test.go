package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"

	kiosk "github.com/keqiao/villagekiosk"
	kiosksync "github.com/keqiao/villagekiosk/sync"
)

// TestDuplicateDelivery (fault 5): two copies of the same upload at once
// (two kiosk sync processes on one queue, and two requests released
// together), a thousand replays of uploaded submissions, and the same id
// with different content, which is parked as a conflict with its reason.
func TestDuplicateDelivery(t *testing.T) {
	r := newRig(t, "")
	ctx := context.Background()
	injected := 0

	// Two kiosk processes draining the same queue at the same moment.
	for i := 0; i < times(3, 20); i++ {
		r.submit(0)
		r.submit(300_000)
		var wg sync.WaitGroup
		for j := 0; j < 2; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				exec.Command(kioskBin, "sync", "--once", "--data", r.kdata).Run()
			}()
		}
		wg.Wait()
		injected++
	}
	r.drain(5)

	// Two copies of one request, released together.
	k := r.open(r.url(), nil)
	races := times(5, 50)
	for i := 0; i < races; i++ {
		sub, err := r.save(t, k, 0)
		if err != nil {
			t.Fatal(err)
		}
		replies := make([][]byte, 2)
		errs := make([]error, 2)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for j := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				out, err := k.q.Outbound(ctx, sub.ID)
				var rc kiosksync.SubmissionReceipt
				if err == nil {
					rc, err = k.client.PostSubmission(ctx, out)
				}
				replies[j], errs[j] = []byte(fmt.Sprint(rc)), err
			}()
		}
		close(start)
		wg.Wait()
		injected++
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("two copies at once: %v / %v (a false conflict?)", errs[0], errs[1])
		}
		if !bytes.Equal(replies[0], replies[1]) {
			t.Fatalf("two copies got different replies: %s / %s", replies[0], replies[1])
		}
	}
	r.drain(5)

	// A thousand replays of what was uploaded: each gets the first reply and
	// changes nothing.
	db := openDistrictDB(t, r.ddata)
	defer db.Close()
	var rows, changesBefore int
	db.QueryRow(`SELECT count(*) FROM submissions`).Scan(&rows)
	db.QueryRow(`SELECT count(*) FROM changes`).Scan(&changesBefore)
	list, err := k.subs.List(ctx, kiosk.SubmissionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	replays := times(100, 1000)
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out, err := k.q.Outbound(ctx, list[i%len(list)].ID) // as it was first sent
				if err == nil {
					var stored string
					db.QueryRow(`SELECT reply FROM submissions WHERE id = ?`, out.ID).Scan(&stored)
					var rc kiosksync.SubmissionReceipt
					rc, err = k.client.PostSubmission(ctx, out)
					var want kiosksync.SubmissionReceipt
					json.Unmarshal([]byte(stored), &want)
					if err == nil && (rc.ID != want.ID || rc.ReceiptNo != want.ReceiptNo || !rc.ReceivedAt.Equal(want.ReceivedAt)) {
						err = fmt.Errorf("reply %+v is not the stored %s", rc, stored)
					}
				}
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < replays; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	injected += replays
	if len(failures) > 0 {
		t.Fatalf("%d of %d replays failed, e.g. %s", len(failures), replays, failures[0])
	}
	var rowsAfter, changesAfter int
	db.QueryRow(`SELECT count(*) FROM submissions`).Scan(&rowsAfter)
	db.QueryRow(`SELECT count(*) FROM changes`).Scan(&changesAfter)
	if rowsAfter != rows || changesAfter != changesBefore {
		t.Fatalf("replays had an effect: %d→%d submissions, %d→%d changes", rows, rowsAfter, changesBefore, changesAfter)
	}

	// The same id with other content: the district keeps the first, the
	// kiosk parks its own with the reason, for a person to compare.
	sub, err := r.save(t, k, 0)
	if err != nil {
		t.Fatal(err)
	}
	mine := k.outbound(t, sub.ID)
	other := *sub
	other.Fields = append([]kiosk.FieldValue(nil), sub.Fields...)
	other.Fields[0].Value = "另一家单位"
	if _, err := k.client.PostSubmission(ctx, k.sealedFor(t, &other)); err != nil {
		t.Fatal(err)
	}
	injected++
	out, _ := r.sync()
	if !strings.Contains(out, "parked 1") || !strings.Contains(out, "different content") {
		t.Fatalf("the conflicting copy was not parked with its reason: %s", out)
	}
	if _, err := k.client.PostSubmission(ctx, mine); err == nil {
		t.Fatal("the district took the same id with other content")
	} else if e, ok := kiosksync.AsError(err); !ok || e.Code != kiosk.EConflict {
		t.Fatalf("same id, other content: %v, want conflict", err)
	}
	r.drain(5)
	v := r.finish("5 duplicate delivery (2 at once, replays, same id other content)", injected, true,
		fmt.Sprintf("%d concurrent pairs, %d replays (no effect), 1 conflict parked with its reason", times(3, 20)+races, replays))
	if v.Parked != 1 {
		t.Errorf("%d parked, want the one conflict", v.Parked)
	}
}
