// Package token is the signed token in a receipt's QR code: made and signed
// by the kiosk, verified offline by `kiosk verify` and by the district's
// status page. It is apart from package receipt so the district server can
// verify tokens without the receipt layouts and their fonts.
package token

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

// tokenVersion is the first byte of every token; a new layout gets a new one.
const tokenVersion = 1

// signingContext keeps a receipt signature from being valid for anything else
// the device key signs (sync requests).
var signingContext = []byte("villagekiosk receipt v1\x00")

// Token is what a receipt's QR code carries. It holds no personal data: the
// receipt number, who signed, the matter, when, and a hash that binds the
// submission's content.
type Token struct {
	KeyID       [8]byte
	IssuedAt    time.Time
	ReceiptNo   string
	Matter      string
	ContentHash [16]byte
}

// KeyID names a public key: the first 8 bytes of its SHA-256.
func KeyID(pub ed25519.PublicKey) [8]byte {
	sum := sha256.Sum256(pub)
	var id [8]byte
	copy(id[:], sum[:8])
	return id
}

// ContentHash binds a submission's content (everything but its status, which
// changes) into the token.
func ContentHash(s *kiosk.Submission) [16]byte {
	c := *s
	c.Status = ""
	data, _ := json.Marshal(&c) // a struct of strings, slices and times: cannot fail
	sum := sha256.Sum256(data)
	var h [16]byte
	copy(h[:], sum[:16])
	return h
}

// NewToken makes the token of a saved submission, binding the hash kept at
// save (s.ReceiptHash) when there is one: the kiosk keeps the submission
// sealed and cannot hash it again.
func NewToken(s *kiosk.Submission, key ed25519.PrivateKey, issued time.Time) Token {
	hash := s.ReceiptHash
	if hash == [16]byte{} {
		hash = ContentHash(s)
	}
	return Token{
		KeyID:       KeyID(key.Public().(ed25519.PublicKey)),
		IssuedAt:    issued.UTC().Truncate(time.Second),
		ReceiptNo:   s.ReceiptNo,
		Matter:      s.Matter,
		ContentHash: hash,
	}
}

func (t Token) body() ([]byte, error) {
	if len(t.ReceiptNo) > 255 || len(t.Matter) > 255 {
		return nil, fmt.Errorf("receipt number or matter code too long for a token")
	}
	var b bytes.Buffer
	b.WriteByte(tokenVersion)
	b.Write(t.KeyID[:])
	b.Write(binary.AppendUvarint(nil, uint64(t.IssuedAt.Unix())))
	b.WriteByte(byte(len(t.ReceiptNo)))
	b.WriteString(t.ReceiptNo)
	b.WriteByte(byte(len(t.Matter)))
	b.WriteString(t.Matter)
	b.Write(t.ContentHash[:])
	return b.Bytes(), nil
}

// Sign encodes and signs the token: base64url, no padding, about 180
// characters.
func (t Token) Sign(key ed25519.PrivateKey) (string, error) {
	body, err := t.body()
	if err != nil {
		return "", err
	}
	sig := ed25519.Sign(key, append(append([]byte(nil), signingContext...), body...))
	return base64.RawURLEncoding.EncodeToString(append(body, sig...)), nil
}

// URL is what the QR code encodes: the district's status page for the token,
// or the bare token when no district is configured yet.
func URL(districtBase, token string) string {
	if districtBase == "" {
		return token
	}
	return strings.TrimRight(districtBase, "/") + "/r/" + token
}

// Keyring holds the public keys a verifier trusts, by key id.
type Keyring map[[8]byte]KnownKey

// KnownKey is a trusted public key and whose it is.
type KnownKey struct {
	Public ed25519.PublicKey
	Name   string // e.g. the service point
}

// Add trusts a public key.
func (k Keyring) Add(pub ed25519.PublicKey, name string) {
	k[KeyID(pub)] = KnownKey{Public: pub, Name: name}
}

// Verify parses a scanned text (a status-page URL or a bare token) and checks
// its signature. The error says why a token is refused: not a token,
// truncated, signed by an unknown key, or altered.
func Verify(text string, keys Keyring) (Token, KnownKey, error) {
	var t Token
	raw := strings.TrimSpace(text)
	if i := strings.LastIndex(raw, "/r/"); i >= 0 {
		raw = raw[i+3:]
	}
	raw = strings.TrimRight(raw, "/")
	data, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(data) == 0 {
		return t, KnownKey{}, kiosk.Errorf(kiosk.EInvalid, "not a receipt token: it is not in the token's encoding (was it cut or retyped?)")
	}
	if data[0] != tokenVersion {
		return t, KnownKey{}, kiosk.Errorf(kiosk.EInvalid, "not a receipt token of a version this program knows (version %d)", data[0])
	}
	const minLen = 1 + 8 + 1 + 1 + 1 + 16 + ed25519.SignatureSize
	if len(data) < minLen {
		return t, KnownKey{}, kiosk.Errorf(kiosk.EInvalid, "the receipt token is truncated (%d bytes, at least %d needed)", len(data), minLen)
	}
	body, sig := data[:len(data)-ed25519.SignatureSize], data[len(data)-ed25519.SignatureSize:]
	r := bytes.NewReader(body[1:])
	if _, err := r.Read(t.KeyID[:]); err != nil {
		return t, KnownKey{}, truncated()
	}
	secs, err := binary.ReadUvarint(r)
	if err != nil {
		return t, KnownKey{}, truncated()
	}
	t.IssuedAt = time.Unix(int64(secs), 0).UTC()
	readString := func() (string, error) {
		n, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		b := make([]byte, n)
		if m, _ := r.Read(b); m != int(n) {
			return "", fmt.Errorf("short")
		}
		return string(b), nil
	}
	if t.ReceiptNo, err = readString(); err != nil {
		return t, KnownKey{}, truncated()
	}
	if t.Matter, err = readString(); err != nil {
		return t, KnownKey{}, truncated()
	}
	if m, _ := r.Read(t.ContentHash[:]); m != len(t.ContentHash) || r.Len() != 0 {
		return t, KnownKey{}, truncated()
	}
	key, ok := keys[t.KeyID]
	if !ok {
		return t, KnownKey{}, kiosk.Errorf(kiosk.EInvalid, "signed by an unknown key %x: not issued by a service point this device knows (forged, or from another district)", t.KeyID)
	}
	if !ed25519.Verify(key.Public, append(append([]byte(nil), signingContext...), body...), sig) {
		return t, KnownKey{}, kiosk.Errorf(kiosk.EInvalid, "the signature does not match: the token was altered")
	}
	return t, key, nil
}

func truncated() error {
	return kiosk.Errorf(kiosk.EInvalid, "the receipt token is truncated or malformed")
}
