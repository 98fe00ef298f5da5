package district

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	gosync "sync"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/seal"
)

// Blobs keeps attachments by the SHA-256 of their plaintext, received
// sealed for the district's key (package seal) in chunks that may be cut off
// and resumed: offsets and sizes count the sealed bytes until the file is
// whole, when it is opened, checked and kept as plaintext. The district keeps them in a folder (DirBlobs); object
// storage fits behind the same interface.
type Blobs interface {
	// Have tells how many bytes of a file are kept and whether it is whole
	// and verified.
	Have(sha string) (have int64, complete bool, err error)
	// Append adds a chunk of the sealed file at offset, which must be what
	// Have reports; once total bytes are there the file is opened and its
	// plaintext checked against sha before it counts as received.
	Append(sha string, offset, total int64, chunk []byte) (have int64, complete bool, err error)
	// Open reads a whole, verified file.
	Open(sha string) (io.ReadCloser, error)
}

var shaPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidSHA reports whether s names an attachment (lower-case hex SHA-256):
// nothing else ever reaches a file path.
func ValidSHA(s string) bool { return shaPattern.MatchString(s) }

// DirBlobs keeps attachments in a folder: whole files at xx/<sha>, partial
// ones at partial/<sha>.
type DirBlobs struct {
	Dir string
	// Unseal copies the plaintext of a sealed file from r to w.
	Unseal func(w io.Writer, r io.Reader) error
	files  keyedMutex // one upload at a time per file
}

// keyedMutex serialises work per key (an attachment's hash): two copies of
// the same chunk arriving at once must not both be appended.
type keyedMutex struct {
	mu    gosync.Mutex
	locks map[string]*gosync.Mutex
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*gosync.Mutex{}
	}
	m, ok := k.locks[key]
	if !ok {
		m = &gosync.Mutex{}
		k.locks[key] = m
	}
	k.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// errBadSHA refuses a name that is not an attachment's hash.
var errBadSHA = kiosk.Errorf(kiosk.EInvalid, "an attachment is named by its SHA-256 in lower-case hex")

func (b *DirBlobs) paths(sha string) (final, partial string, err error) {
	if !ValidSHA(sha) {
		return "", "", errBadSHA
	}
	return filepath.Join(b.Dir, sha[:2], sha), filepath.Join(b.Dir, "partial", sha), nil
}

func (b *DirBlobs) Have(sha string) (int64, bool, error) {
	final, partial, err := b.paths(sha)
	if err != nil {
		return 0, false, err
	}
	if fi, err := os.Stat(final); err == nil {
		return fi.Size(), true, nil
	}
	if fi, err := os.Stat(partial); err == nil {
		return fi.Size(), false, nil
	}
	return 0, false, nil
}

func (b *DirBlobs) Open(sha string) (io.ReadCloser, error) {
	final, _, err := b.paths(sha)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(final)
	if os.IsNotExist(err) {
		return nil, kiosk.Errorf(kiosk.ENotFound, "attachment %s has not been received", sha[:12])
	}
	return f, err
}

func (b *DirBlobs) Append(sha string, offset, total int64, chunk []byte) (int64, bool, error) {
	final, partial, err := b.paths(sha)
	if err != nil {
		return 0, false, err
	}
	defer b.files.lock(sha)()
	have, complete, err := b.Have(sha)
	if err != nil || complete {
		return have, complete, err
	}
	if have > total { // a partial left over from a different attempt: start again
		os.Remove(partial)
		have = 0
	}
	if offset != have {
		return have, false, kiosk.Errorf(kiosk.EConflict, "the district has %d bytes of this file, not %d: continue from there", have, offset)
	}
	os.MkdirAll(filepath.Dir(partial), 0o700)
	f, err := os.OpenFile(partial, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return have, false, err
	}
	// Only the finished file is fsynced: a partial file that lost its tail in
	// a crash is shorter than the kiosk thinks, and the offset check (409,
	// then resume from what is really there) heals that.
	end := offset + int64(len(chunk))
	_, err = f.Write(chunk)
	if err == nil && end == total {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Truncate(partial, have) // keep only what was whole before
		return have, false, err
	}
	if end < total {
		return end, false, nil
	}
	plain, err := b.open(partial, sha)
	if err != nil {
		os.Remove(partial)
		return 0, false, err
	}
	os.MkdirAll(filepath.Dir(final), 0o700)
	if err := os.Rename(plain, final); err != nil {
		os.Remove(plain)
		return 0, false, err
	}
	os.Remove(partial)
	if d, err := os.Open(filepath.Dir(final)); err == nil {
		d.Sync()
		d.Close()
	}
	return total, true, nil
}

// open writes the plaintext of the sealed file at partial beside it, fsynced,
// and returns its path once its SHA-256 is sha.
func (b *DirBlobs) open(partial, sha string) (string, error) {
	in, err := os.Open(partial)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.OpenFile(partial+".plain", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	err = b.Unseal(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, seal.ErrOpen) {
		err = kiosk.Errorf(kiosk.EInvalid, "the file does not open with this district's key: it was sealed for another district, or damaged on the way; send it again")
	}
	if err == nil && hex.EncodeToString(h.Sum(nil)) != sha {
		err = kiosk.Errorf(kiosk.EInvalid, "the file's SHA-256 does not match its name: it was damaged on the way; send it again")
	}
	if err != nil {
		os.Remove(out.Name())
		return "", err
	}
	return out.Name(), nil
}

// errTotal is the answer to a chunk whose place in its file makes no sense.
var errTotal = kiosk.Errorf(kiosk.EInvalid, "offset and X-Total-Size must describe the chunk's place in a file of at most %d bytes", MaxFileBytes)
