// Package seal encrypts what a kiosk keeps of a villager's matter for the
// district's public key (NaCl boxes: X25519, XSalsa20-Poly1305, with a fresh
// key pair per message or file whose private half is thrown away), so the
// kiosk can write it but never read it back: a stolen kiosk or its backup
// gives away nothing but the list's fields. Files are sealed in numbered
// chunks, so the district opens a 10 MB scan without holding it twice.
package seal

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/nacl/box"
)

// Key is an X25519 key, public or private.
type Key = [32]byte

// Overhead is what sealing adds to a message.
const Overhead = box.AnonymousOverhead

// ChunkSize is the plaintext size of one sealed chunk of a file, and
// chunkOverhead what sealing adds to each.
const (
	ChunkSize     = 64 << 10
	chunkOverhead = box.Overhead
)

// fileMagic starts every sealed file; a file without it is not sealed. After
// it comes the file's ephemeral public key: one key agreement per file, not
// per chunk (a quarter of the cost of saving three 1 MB scans was X25519).
var fileMagic = []byte("VKSEAL2\n")

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
	return int64(len(fileMagic)) + int64(len(Key{})) + n + chunks*chunkOverhead
}

// chunkNonce numbers a file's chunks, and marks the last, so chunks cannot
// be reordered, repeated or cut off at a chunk boundary unnoticed.
func chunkNonce(i int64, last bool) *[24]byte {
	var n [24]byte
	binary.BigEndian.PutUint64(n[:8], uint64(i))
	if last {
		n[8] = 1
	}
	return &n
}

// SealFile writes plain to w sealed for pub: a fresh key pair per file, its
// public half in the header, each chunk sealed with the shared key.
func SealFile(w io.Writer, pub *Key, plain []byte) error {
	ephPub, ephPriv, err := GenerateKey()
	if err != nil {
		return err
	}
	var shared Key
	box.Precompute(&shared, pub, ephPriv)
	if _, err := w.Write(append(append([]byte(nil), fileMagic...), ephPub[:]...)); err != nil {
		return err
	}
	for i := int64(0); len(plain) > 0; i++ {
		n := min(len(plain), ChunkSize)
		c := box.SealAfterPrecomputation(nil, plain[:n], chunkNonce(i, n == len(plain)), &shared)
		if _, err := w.Write(c); err != nil {
			return err
		}
		plain = plain[n:]
	}
	return nil
}

// OpenFile copies the plaintext of a sealed file from r to w, one chunk in
// memory at a time. A chunk that does not open, out of order or a file cut
// short stops it with ErrOpen.
func OpenFile(w io.Writer, r io.Reader, priv *Key) (int64, error) {
	br := bufio.NewReaderSize(r, ChunkSize+chunkOverhead)
	head := make([]byte, len(fileMagic)+len(Key{}))
	if _, err := io.ReadFull(br, head); err != nil || !bytes.Equal(head[:len(fileMagic)], fileMagic) {
		return 0, ErrOpen
	}
	var ephPub, shared Key
	copy(ephPub[:], head[len(fileMagic):])
	box.Precompute(&shared, &ephPub, priv)
	buf := make([]byte, ChunkSize+chunkOverhead)
	var total int64
	for i := int64(0); ; i++ {
		n, err := io.ReadFull(br, buf)
		if n == 0 {
			if i == 0 && err == io.EOF {
				return 0, nil // an empty file
			}
			return total, ErrOpen // the chunk before was not marked last: cut off
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			return total, err
		}
		_, peek := br.Peek(1)
		last := peek != nil
		msg, ok := box.OpenAfterPrecomputation(nil, buf[:n], chunkNonce(i, last), &shared)
		if !ok {
			return total, ErrOpen
		}
		if _, err := w.Write(msg); err != nil {
			return total, err
		}
		total += int64(len(msg))
		if last {
			return total, nil
		}
	}
}

// IsSealedFile says whether head starts like a sealed file.
func IsSealedFile(head []byte) bool { return bytes.HasPrefix(head, fileMagic) }
