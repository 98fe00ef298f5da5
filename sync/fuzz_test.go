package sync_test

import (
	"bytes"
	"crypto/ed25519"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	kiosksync "github.com/keqiao/villagekiosk/sync"
)

// FuzzVerifySignature: a request signed over its method, path and body
// verifies; the same request with any signed part replaced by fuzzed text
// is refused with one of the signature errors; nothing panics.
func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte(`{"queue":3}`), "after=0&limit=100", "1795000000", "nonce-0000000000000001", "AAAA", uint8(0))
	f.Add([]byte{}, "", "", "", "", uint8(3))
	f.Add([]byte("\x00\xff"), "a=%zz", "-1", "短", "!!!", uint8(4))
	pub, key, _ := ed25519.GenerateKey(bytes.NewReader(make([]byte, 64)))
	now := time.Unix(1795000000, 0)
	f.Fuzz(func(t *testing.T, body []byte, query, ts, nonce, sig string, part uint8) {
		r := httptest.NewRequest("POST", "/v1/heartbeat?"+url.PathEscape(query), bytes.NewReader(body))
		kiosksync.Sign(r, body, "dev-1", key, now, "nonce-0000000000000001")
		if err := kiosksync.VerifySignature(r, body, pub, now); err != nil {
			t.Fatalf("a genuine request was refused: %v", err)
		}
		genuine := r.Header.Clone()
		switch part % 5 {
		case 0:
			r.Header.Set(kiosksync.HeaderTimestamp, ts)
		case 1:
			r.Header.Set(kiosksync.HeaderNonce, nonce)
		case 2:
			r.Header.Set(kiosksync.HeaderSignature, sig)
		case 3:
			body = append(append([]byte(nil), body...), []byte(sig)...)
		case 4:
			r.URL.RawQuery = url.PathEscape(query + ts)
		}
		err := kiosksync.VerifySignature(r, body, pub, now)
		unchanged := r.Header.Get(kiosksync.HeaderTimestamp) == genuine.Get(kiosksync.HeaderTimestamp) &&
			r.Header.Get(kiosksync.HeaderNonce) == genuine.Get(kiosksync.HeaderNonce) &&
			r.Header.Get(kiosksync.HeaderSignature) == genuine.Get(kiosksync.HeaderSignature) &&
			(part%5 != 3 || sig == "") && (part%5 != 4 || url.PathEscape(query+ts) == url.PathEscape(query))
		if unchanged && err != nil {
			t.Fatalf("the unchanged request was refused: %v", err)
		}
		if !unchanged && err == nil {
			t.Fatalf("an altered request passed (part %d)", part%5)
		}
	})
}
