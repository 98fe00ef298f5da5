// Package pinhash hashes and checks agents' PINs with argon2id, for the
// kiosk's store and for the district, which pushes agent rosters to kiosks.
package pinhash

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters (RFC 9106's second recommendation scaled to a small
// terminal): about 50 ms and 32 MiB per check, enough that a stolen database
// does not give up 4-8 digit PINs cheaply.
const (
	argonTime    = 2
	argonMemory  = 32 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

var pinPattern = regexp.MustCompile(`^[0-9]{4,8}$`)

// Valid says whether a PIN has the required form: 4 to 8 digits.
func Valid(pin string) bool { return pinPattern.MatchString(pin) }

// Hash returns a salted argon2id hash in the PHC string format.
func Hash(pin string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash PIN: %w", err)
	}
	key := argon2.IDKey([]byte(pin), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// WellFormed says whether a stored hash can be checked at all.
func WellFormed(stored string) bool {
	parts := strings.Split(stored, "$")
	return len(parts) == 6 && parts[1] == "argon2id"
}

// Check verifies a PIN against a stored hash, using the parameters stored
// with it, so stronger parameters later still verify old hashes.
func Check(stored, pin string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 16 || p == 0 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pin), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
