package district_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

// BenchmarkIngest posts submission manifests (no attachments) to the
// district over loopback, signed, one per request, and reports beside it a
// bare SQLite loop of one-row FULL commits measured in the same run.
func BenchmarkIngest(b *testing.B) {
	e := newEnvB(b)
	floor := commitFloor(b, 200)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		sub := &kiosk.Submission{ID: fmt.Sprintf("bench-%d", i), ReceiptNo: fmt.Sprintf("330603101201-20261128-%06d", i), Matter: "3306210001-01",
			Applicant: kiosk.Applicant{Name: "张三", IDNumber: "11010519491231002X", Phone: "13800138000"},
			Materials: []kiosk.MaterialRecord{{Name: "居民身份证", Required: true, Received: true}}}
		resp := e.sendB(b, "POST", "/v1/submissions", e.upload(sub), time.Now(), nonce(i))
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		resp.Body.Close()
	}
	per := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(time.Second)/float64(per), "manifests/s")
	b.ReportMetric(float64(time.Second)/float64(floor), "floor-commits/s")
	b.ReportMetric(float64(per)/float64(floor), "x-floor")
}

func commitFloor(b *testing.B, n int) time.Duration {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "floor.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.Exec(`CREATE TABLE t (x INTEGER)`)
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := db.Exec(`INSERT INTO t VALUES (?)`, i); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start) / time.Duration(n)
}
