package district_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/sync/district"
)

// FuzzPostSubmission sends any body, correctly signed by an enrolled kiosk,
// to POST /v1/submissions of a real district: it is stored, or refused with
// a 4xx problem; never a 5xx, never a panic.
func FuzzPostSubmission(f *testing.F) {
	sub := &kiosk.Submission{ID: "0190-1", ReceiptNo: "330603101201-20261128-0001", Matter: "3306210001-01",
		Applicant: kiosk.Applicant{Name: "张三", IDNumber: "11010519491231002X", Phone: "13800138000"},
		Materials: []kiosk.MaterialRecord{{Name: "居民身份证", Received: true, Attachments: []kiosk.Attachment{{SHA256: "../../etc/passwd", Size: 5}}}}}
	e := newEnvTB(f, "", district.Options{})
	f.Add(e.upload(sub))
	f.Add([]byte(`{"id":"x","receipt_no":"y","revision":0,"from":0,"chain":["` + strings.Repeat("ab", 32) + `"],"sealed":["AAAA"]}`))
	f.Add([]byte(`{"id":"x","receipt_no":"y","revision":1,"from":1,"chain":[],"sealed":null}`))
	f.Add([]byte(`{"submission":null}`))
	f.Add([]byte("not json"))
	n := 0
	f.Fuzz(func(t *testing.T, body []byte) {
		n++
		resp := e.sendTB(t, "POST", "/v1/submissions", body, time.Now(), fmt.Sprintf("fuzz-nonce-%016d", n), nil)
		reply, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 || (resp.StatusCode != http.StatusOK && resp.StatusCode < 400) {
			t.Fatalf("answered %d %s", resp.StatusCode, reply)
		}
	})
}
