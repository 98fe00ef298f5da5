package seal

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte(`{"applicant":{"name":"张𠮷","id_number":"330621198001011234"}}`)
	c, err := Seal(pub, msg)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(c, []byte("330621")) || len(c) != len(msg)+Overhead {
		t.Fatalf("sealed message leaks or has the wrong size: %d", len(c))
	}
	got, err := Open(pub, priv, c)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	otherPub, otherPriv, _ := GenerateKey()
	if _, err := Open(otherPub, otherPriv, c); !errors.Is(err, ErrOpen) {
		t.Fatalf("another key opened it: %v", err)
	}
	c[len(c)-1] ^= 1
	if _, err := Open(pub, priv, c); !errors.Is(err, ErrOpen) {
		t.Fatalf("a flipped bit opened: %v", err)
	}
}

func TestSealFile(t *testing.T) {
	pub, priv, _ := GenerateKey()
	for _, n := range []int{1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 3*ChunkSize + 17} {
		plain := make([]byte, n)
		rand.Read(plain)
		var sealed bytes.Buffer
		if err := SealFile(&sealed, pub, plain); err != nil {
			t.Fatal(err)
		}
		if int64(sealed.Len()) != SealedSize(int64(n)) {
			t.Fatalf("%d bytes: sealed %d, SealedSize says %d", n, sealed.Len(), SealedSize(int64(n)))
		}
		if !IsSealedFile(sealed.Bytes()) {
			t.Fatal("no magic")
		}
		var out bytes.Buffer
		got, err := OpenFile(&out, bytes.NewReader(sealed.Bytes()), priv)
		if err != nil || got != int64(n) || !bytes.Equal(out.Bytes(), plain) {
			t.Fatalf("%d bytes: opened %d, %v", n, got, err)
		}
		damaged := bytes.Clone(sealed.Bytes())
		damaged[len(damaged)/2] ^= 0x40
		if _, err := OpenFile(&bytes.Buffer{}, bytes.NewReader(damaged), priv); !errors.Is(err, ErrOpen) {
			t.Fatalf("%d bytes: damaged file opened: %v", n, err)
		}
	}
	if _, err := OpenFile(&bytes.Buffer{}, bytes.NewReader([]byte("%PDF-1.4 plain")), priv); !errors.Is(err, ErrOpen) {
		t.Fatalf("a plain file opened: %v", err)
	}
	// Chunks swapped, or the file cut at a chunk boundary: refused, not a
	// shorter or shuffled file.
	plain := make([]byte, 3*ChunkSize)
	rand.Read(plain)
	var b bytes.Buffer
	SealFile(&b, pub, plain)
	head, c := len(fileMagic)+32, ChunkSize+chunkOverhead
	f := b.Bytes()
	swapped := append(append(append([]byte(nil), f[:head]...), f[head+c:head+2*c]...), f[head:head+c]...)
	swapped = append(swapped, f[head+2*c:]...)
	cut := f[:head+2*c]
	for name, bad := range map[string][]byte{"swapped": swapped, "cut": cut} {
		if _, err := OpenFile(&bytes.Buffer{}, bytes.NewReader(bad), priv); !errors.Is(err, ErrOpen) {
			t.Errorf("%s chunks opened: %v", name, err)
		}
	}
}

func TestKeyEncoding(t *testing.T) {
	pub, _, _ := GenerateKey()
	got, err := Decode(Encode(pub))
	if err != nil || *got != *pub {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{"", "abc", Encode(pub) + "A", "!!!!"} {
		if _, err := Decode(bad); err == nil {
			t.Errorf("Decode(%q) accepted", bad)
		}
	}
}
