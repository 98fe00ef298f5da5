package faults

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// kioskCatalog is the version of the catalog the kiosk uses.
func (r *rig) kioskCatalog() string {
	r.t.Helper()
	f := strings.Fields(r.kiosk("catalog"))
	if len(f) < 2 {
		r.t.Fatalf("kiosk catalog printed %q", f)
	}
	return f[1]
}

// tamper forwards a request to the district and hands its reply to change,
// which writes what the kiosk receives.
func tamper(r *rig, req *http.Request, body []byte, w http.ResponseWriter, change func(status int, h http.Header, doc []byte)) {
	out, _ := http.NewRequest(req.Method, r.url()+req.URL.RequestURI(), strings.NewReader(string(body)))
	out.Header = req.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		answer(w, http.StatusBadGateway, "")
		return
	}
	doc, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	change(resp.StatusCode, resp.Header, doc)
}

// TestCatalogDownload (fault 10): the download of a newly published catalog
// is cut in the middle, or arrives damaged, or the district serves one this
// kiosk finds invalid. The old catalog stays in use (and intake goes on
// with it); a cut or damaged download is tried again by the next round;
// an invalid one is set aside with its reason shown.
func TestCatalogDownload(t *testing.T) {
	r := newRig(t, "")
	p := newFaultProxy(t, r.url())
	r.setDistrictURL(p.url())
	doc, err := os.ReadFile("../assets/catalog/default.json")
	if err != nil {
		t.Fatal(err)
	}
	old := r.kioskCatalog()
	injected := 0
	for i := 0; i < times(2, 15); i++ {
		version := fmt.Sprintf("2026.%d", 2+i)
		file := filepath.Join(t.TempDir(), "catalog.json")
		writeFile(t, file, []byte(strings.Replace(string(doc), `"version": "2026.1"`, `"version": "`+version+`"`, 1)))
		r.districtd("catalog", "publish", file)
		for _, fault := range []string{"cut", "damaged"} {
			p.set(func(w http.ResponseWriter, req *http.Request, body []byte) bool {
				if req.URL.Path != "/v1/catalog" {
					return false
				}
				tamper(r, req, body, w, func(status int, h http.Header, doc []byte) {
					for k, v := range h {
						w.Header()[k] = v
					}
					w.WriteHeader(status)
					if fault == "cut" { // Content-Length promises more: the connection ends early
						w.Write(doc[:len(doc)/2])
						return
					}
					doc[len(doc)/2] ^= 0x20
					w.Write(doc)
				})
				return true
			})
			out, err := r.sync()
			injected++
			if err == nil && strings.Contains(out, "installed catalog") {
				t.Fatalf("%s download installed: %s", fault, out)
			}
			if got := r.kioskCatalog(); got != old {
				t.Fatalf("after a %s download the kiosk uses %s, want the old %s", fault, got, old)
			}
			r.submit(0) // intake goes on with the old catalog
		}
		p.set(nil)
		if out, err := r.sync(); err != nil || !strings.Contains(out, "installed catalog "+version) {
			t.Fatalf("after healing: %v\n%s", err, out)
		}
		old = version
	}

	// A catalog the kiosk refuses (published by a district of another
	// version, say): set aside with the reason, the old one stays.
	bad := []byte(`{"version": "2099.1", "categories": []}`)
	sum := sha256.Sum256(bad)
	sha := hex.EncodeToString(sum[:])
	db := openDistrictDB(t, r.ddata)
	now := time.Now().UTC().Format(time.RFC3339Nano)
	if _, err := db.Exec(`INSERT INTO catalogs (version, sha256, document, published_at) VALUES ('2099.1', ?, ?, ?)`, sha, bad, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO changes (device_id, submission_id, receipt_no, kind, status, note, at) VALUES (?, '', '', 'catalog', '2099.1', ?, ?)`, r.deviceID, sha, now); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, err := r.sync()
	injected++
	if err != nil || !strings.Contains(out, "parked: catalog 2099.1") {
		t.Fatalf("an invalid catalog: %v\n%s", err, out)
	}
	if got := r.kioskCatalog(); got != old {
		t.Fatalf("after an invalid catalog the kiosk uses %s, want %s", got, old)
	}
	r.drain(5)
	r.finish("10 catalog download cut/damaged/invalid", injected, false,
		"old catalog stayed active each time and intake went on; invalid one set aside with its reason")
}
