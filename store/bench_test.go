package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/store"
)

// BenchmarkSave saves one submission with three 1 MB attachments, durably,
// and reports beside it the floor measured in the same run: fsyncing the same
// bytes as three new files plus one SQLite commit with synchronous=FULL. The
// ratio is what staging, hashing and the transaction add.
func BenchmarkSave(b *testing.B) {
	ctx := context.Background()
	e := setUp(b)
	agent, err := store.NewAgentService(e.db).CreateAgent(ctx, "李娟", "1357", false)
	if err != nil {
		b.Fatal(err)
	}
	const size = 1 << 20
	scans := make([][]byte, 3)
	for i := range scans {
		scans[i] = make([]byte, size)
		rand.Read(scans[i])
		copy(scans[i], []byte{0xFF, 0xD8, 0xFF, 0xE0})
	}
	src := b.TempDir()
	prepare := func(n int) []string {
		var paths []string
		for i, data := range scans {
			// New content each time, so every save stores new files.
			copy(data[16:], fmt.Sprintf("%08d", n))
			p := filepath.Join(src, fmt.Sprintf("scan-%d.jpg", i))
			if err := os.WriteFile(p, data, 0o644); err != nil {
				b.Fatal(err)
			}
			paths = append(paths, p)
		}
		return paths
	}

	floor := measureFloor(b, scans, 20)

	b.SetBytes(3 * size)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		paths := prepare(n)
		b.StartTimer()
		var atts []kiosk.Attachment
		for _, p := range paths {
			a, err := e.subs.Stage(ctx, p)
			if err != nil {
				b.Fatal(err)
			}
			atts = append(atts, a)
		}
		if _, err := e.subs.Save(ctx, draft(b, e, atts...), agent); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(floor.Microseconds())/1000, "floor-ms/op")
	b.ReportMetric(float64(per)/float64(floor), "x-floor")
}

// measureFloor times the bare durable writes a save cannot avoid.
func measureFloor(b *testing.B, scans [][]byte, rounds int) time.Duration {
	dir := b.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "floor.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (x INTEGER)`); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for r := 0; r < rounds; r++ {
		for i, data := range scans {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("f-%d-%d", r, i)))
			if err != nil {
				b.Fatal(err)
			}
			f.Write(data)
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		d, _ := os.Open(dir)
		d.Sync()
		d.Close()
		if _, err := db.Exec(`INSERT INTO t VALUES (?)`, r); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start) / time.Duration(rounds)
}
