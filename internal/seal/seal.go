// Package seal encrypts what a kiosk keeps of a villager's matter for the
// district's public key (NaCl sealed boxes: X25519, XSalsa20-Poly1305), so
// the kiosk can write it but never read it back: a stolen kiosk or its
// backup gives away nothing but the list's fields. Files are sealed in
// chunks, so the district opens a 10 MB scan without holding it twice.
package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/nacl/box"
)

// Key is an X25519 key, public or private.
type Key = [32]byte

// Overhead is what sealing adds to each message or chunk.
const Overhead = box.AnonymousOverhead

// ChunkSize is the plaintext size of one sealed chunk of a file.
const ChunkSize = 64 << 10

// fileMagic starts every sealed file; a file without it is not sealed.
var fileMagic = []byte("VKSEAL1\n")

// ErrOpen is the answer to anything that does not open with the key: sealed
// for another key, damaged, or not sealed at all.
var ErrOpen = errors.New("sealed data does not open with this district's key (sealed for another key, or damaged)")

// GenerateKey makes a key pair.
func GenerateKey() (pub, priv *Key, err error) { return box.GenerateKey(rand.Reader) }

// Encode writes a key as base64url, as the protocol carries it.
func Encode(k *Key) string { return base64.RawURLEncoding.EncodeToString(k[:]) }

// Decode reads a key written by Encode.
func Decode(s string) (*Key, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != len(Key{}) {
		return nil, fmt.Errorf("not a sealing key: want 32 bytes in base64url")
	}
	var k Key
	copy(k[:], b)
	return &k, nil
}

// Seal encrypts msg for pub.
func Seal(pub *Key, msg []byte) ([]byte, error) {
	return box.SealAnonymous(nil, msg, pub, rand.Reader)
}

// Open decrypts what Seal made for pub.
func Open(pub, priv *Key, sealed []byte) ([]byte, error) {
	msg, ok := box.OpenAnonymous(nil, sealed, pub, priv)
	if !ok {
		return nil, ErrOpen
	}
	return msg, nil
}

// SealedSize is the size of a sealed file of n plaintext bytes.
func SealedSize(n int64) int64 {
	chunks := (n + ChunkSize - 1) / ChunkSize
	return int64(len(fileMagic)) + n + chunks*Overhead
}

// SealFile writes plain to w sealed for pub, chunk by chunk.
func SealFile(w io.Writer, pub *Key, plain []byte) error {
	if _, err := w.Write(fileMagic); err != nil {
		return err
	}
	for len(plain) > 0 {
		n := min(len(plain), ChunkSize)
		c, err := Seal(pub, plain[:n])
		if err != nil {
			return err
		}
		if _, err := w.Write(c); err != nil {
			return err
		}
		plain = plain[n:]
	}
	return nil
}

// OpenFile copies the plaintext of a sealed file from r to w, one chunk in
// memory at a time. A chunk that does not open stops it with ErrOpen; the
// caller checks the whole file's hash, which also catches chunks dropped,
// repeated or reordered.
func OpenFile(w io.Writer, r io.Reader, pub, priv *Key) (int64, error) {
	head := make([]byte, len(fileMagic))
	if _, err := io.ReadFull(r, head); err != nil || !bytes.Equal(head, fileMagic) {
		return 0, ErrOpen
	}
	buf := make([]byte, ChunkSize+Overhead)
	var total int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			msg, oerr := Open(pub, priv, buf[:n])
			if oerr != nil {
				return total, oerr
			}
			if _, werr := w.Write(msg); werr != nil {
				return total, werr
			}
			total += int64(len(msg))
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return total, nil
		case err != nil:
			return total, err
		}
	}
}

// IsSealedFile says whether head starts like a sealed file.
func IsSealedFile(head []byte) bool { return bytes.HasPrefix(head, fileMagic) }
