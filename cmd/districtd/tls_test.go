package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keqiao/villagekiosk/internal/seal"
)

// TestTLS: districtd serves HTTPS with its certificate; a kiosk that trusts
// the district's CA enrols and syncs over it.
func TestTLS(t *testing.T) {
	r := newRigWith(t, "", true)
	r.sh(r.kiosk, "submit", "--json", "../../docs/examples/submission.json", "--data", r.kdata)
	if out := r.sync(); !strings.Contains(out, "uploaded 1") {
		t.Fatalf("sync over HTTPS: %s", out)
	}
	if list := r.districtSubmissions(); len(list) != 1 {
		t.Fatalf("the district has %d submissions", len(list))
	}
}

// TestPlainHTTPRefused: villagers' data never crosses the network in the
// clear: plain HTTP is served on loopback only (behind a TLS proxy).
func TestPlainHTTPRefused(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:8080", ":8080"} {
		var out, errOut bytes.Buffer
		if code := Main(context.Background(), []string{"serve", "--addr", addr, "--data", t.TempDir()}, &out, &errOut); code == 0 ||
			!strings.Contains(errOut.String(), "--tls-cert") {
			t.Fatalf("%s: exit %d %s", addr, code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--tls-cert", "c.pem", "--data", t.TempDir()}, &out, &errOut); code == 0 ||
		!strings.Contains(errOut.String(), "both") {
		t.Fatalf("half a TLS pair: exit %d %s", code, errOut.String())
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, the
// certificate also serving as the CA the kiosk trusts.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "柯桥区人社局 test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

// TestSealKeyCommand: the key a technician types into a kiosk installed
// before the network is the one the district opens with, and stays the same.
func TestSealKeyCommand(t *testing.T) {
	data := t.TempDir()
	var first, again, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"seal-key", "--data", data}, &first, &errOut); code != 0 {
		t.Fatal(errOut.String())
	}
	Main(context.Background(), []string{"seal-key", "--data", data}, &again, &errOut)
	if _, err := seal.Decode(strings.TrimSpace(first.String())); err != nil || first.String() != again.String() {
		t.Fatalf("seal-key printed %q then %q: %v", first.String(), again.String(), err)
	}
}
