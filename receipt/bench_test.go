package receipt_test

import (
	"testing"
	"time"

	"github.com/skip2/go-qrcode"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/assets"
	"github.com/keqiao/villagekiosk/receipt"
)

// BenchmarkReceipt builds, signs and renders one 58 mm receipt with its QR
// code, and reports beside it the QR encoding alone measured in the same run.
func BenchmarkReceipt(b *testing.B) {
	cal, err := kiosk.ParseHolidayYears(assets.HolidayYears()...)
	if err != nil {
		b.Fatal(err)
	}
	sub := &kiosk.SubItem{Name: "失业保险金申领", TimeLimit: kiosk.TimeLimit{StatutoryDays: 15, PromisedDays: 5}, Result: "按月发放"}
	point := kiosk.PointInfo{Code: "330603101201", Name: "王化村便民服务中心"}
	opts := receipt.Options{DistrictURL: "https://rs.keqiao.example", Now: received}
	r, _ := receipt.Build(testSubmission(), sub, point, cal, testKey, opts)
	if _, err := receipt.Render(r, receipt.Width58mm); err != nil { // fonts parsed once, outside the loop
		b.Fatal(err)
	}

	const rounds = 200
	start := time.Now()
	for i := 0; i < rounds; i++ {
		q, _ := qrcode.New(r.QRText, qrcode.Medium)
		q.Bitmap()
	}
	floor := time.Since(start) / rounds

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := receipt.Build(testSubmission(), sub, point, cal, testKey, opts)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := receipt.Render(r, receipt.Width58mm); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(floor.Microseconds()), "qr-only-µs/op")
	b.ReportMetric(float64(per)/float64(floor), "x-qr-only")
}
