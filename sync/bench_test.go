package sync_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkDrain drains queued submissions, each with three 300 KB scans,
// from a kiosk to a district over loopback (hashing, chunking, signing,
// idempotent upload, status feed), and reports beside it plain HTTP PUTs of
// the same bytes to a handler that only reads them, timed in the same run.
// By hand: go test -run '^$' -bench Drain -benchtime 1000x ./sync
func BenchmarkDrain(b *testing.B) {
	ctx := context.Background()
	d, k := newDistrictTB(b, ""), newKioskTB(b)
	sy := k.enrollTB(b, d)
	k.scans = nil // a thousand submissions' scans need not stay in memory
	for i := 0; i < b.N; i++ {
		k.saveN(b, "村民"+strings.Map(func(r rune) rune { return []rune("零一二三四五六七八九")[r-'0'] }, fmt.Sprint(i)), 3, 300_000)
	}
	floor := putFloor(b, b.N*3, 300_000)

	b.ResetTimer()
	start := time.Now()
	uploaded := 0
	for uploaded < b.N { // a round takes at most 500; the schedule runs the next
		rep, err := sy.RunOnce(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Uploaded == 0 {
			b.Fatalf("stuck after %d of %d", uploaded, b.N)
		}
		uploaded += rep.Uploaded
	}
	b.StopTimer()
	elapsed := time.Since(start)
	b.SetBytes(3 * 300_000)
	b.ReportMetric(float64(floor)/float64(b.N)/1e6, "plain-put-ms/op")
	b.ReportMetric(float64(elapsed)/float64(floor), "x-plain-put")
}

func putFloor(b *testing.B, files, size int) time.Duration {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	data := bytes.Repeat([]byte{7}, size)
	start := time.Now()
	for i := 0; i < files; i++ {
		req, _ := http.NewRequest("PUT", srv.URL+"/f", bytes.NewReader(data))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return time.Since(start)
}
