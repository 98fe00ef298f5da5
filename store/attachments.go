package store

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/seal"
	"github.com/keqiao/villagekiosk/internal/sqlitedb"
)

// attachmentsDir is where files are kept, beside the database.
func (d *DB) attachmentsDir() string { return filepath.Join(filepath.Dir(d.path), "attachments") }

// AttachmentPath is where the file with the given hash is kept.
func (d *DB) AttachmentPath(sha string) string {
	if len(sha) < 2 {
		return filepath.Join(d.attachmentsDir(), "invalid")
	}
	return filepath.Join(d.attachmentsDir(), sha[:2], sha)
}

// sniff recognises the file types a service point scans or photographs.
func sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg"
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return "application/pdf"
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return "image/gif"
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return "image/tiff"
	case bytes.HasPrefix(head, []byte("BM")) && len(head) > 14:
		return "image/bmp"
	case len(head) >= 12 && bytes.HasPrefix(head, []byte("RIFF")) && string(head[8:12]) == "WEBP":
		return "image/webp"
	}
	return ""
}

// stage reads the file at path into memory and keeps it sealed for the
// district under the SHA-256 of its plaintext, fsyncing the file and its
// folder before returning, so that a database row naming it can never
// commit before its bytes are on disk. The plaintext never touches the
// kiosk's disk; the kiosk cannot open what it keeps.
func (d *DB) stage(path string, maxBytes int64, key *seal.Key) (kiosk.Attachment, error) {
	name := filepath.Base(path)
	var a kiosk.Attachment
	src, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return a, kiosk.Errorf(kiosk.EInvalid, "文件“%s”找不到了，可能已被移走或删除，请重新选择", name)
		}
		return a, kiosk.Errorf(kiosk.EInvalid, "文件“%s”无法读取：%v", name, err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return a, kiosk.Errorf(kiosk.EInvalid, "“%s”不是一个可以读取的文件", name)
	}
	if fi.Size() == 0 {
		return a, kiosk.Errorf(kiosk.EInvalid, "文件“%s”是空的，请重新扫描或拍照", name)
	}
	if fi.Size() > maxBytes {
		return a, kiosk.Errorf(kiosk.EInvalid, "文件“%s”有%s，超过单个文件%s的上限，请降低扫描分辨率后重试", name, kiosk.HumanBytes(fi.Size()), kiosk.HumanBytes(maxBytes))
	}
	// Read in one piece of the size the file says, plus a byte to notice a
	// file that grows while it is read (a scanner still writing it).
	buf := make([]byte, fi.Size()+1)
	n, err := io.ReadFull(src, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return a, kiosk.Errorf(kiosk.EInvalid, "文件“%s”无法读取：%v", name, err)
	}
	if int64(n) > fi.Size() {
		return a, kiosk.Errorf(kiosk.EInvalid, "文件“%s”在复制时变大了，请等扫描完成后再添加", name)
	}
	plain := buf[:n]
	mime := sniff(plain[:min(len(plain), 512)])
	if mime == "" {
		return a, kiosk.Errorf(kiosk.EInvalid, "“%s”不是图片或PDF文件，只能添加扫描件、照片（JPG、PNG等）或PDF", name)
	}
	sum := sha256.Sum256(plain)
	sha := hex.EncodeToString(sum[:])
	a = kiosk.Attachment{SHA256: sha, Name: name, MIME: mime, Size: int64(len(plain))}
	final := d.AttachmentPath(sha)
	if fi, err := os.Stat(final); err == nil && fi.Size() == seal.SealedSize(a.Size) {
		return a, nil // kept already, for this or another matter
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return a, diskError("create attachments folder", err)
	}
	if err := writeSealed(final, plain, key); err != nil {
		return a, diskError("store attachment", err)
	}
	return a, nil
}

// writeSealed writes plain sealed to path through a temporary file: fsynced,
// renamed into place, the folder fsynced.
func writeSealed(path string, plain []byte, key *seal.Key) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".stage-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	w := bufio.NewWriterSize(tmp, 256<<10)
	err = seal.SealFile(w, key, plain)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	return err
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) { // some file systems cannot sync a folder
		return err
	}
	return nil
}

// diskError turns a full disk into a transient error the agent can act on.
func diskError(op string, err error) error {
	if sqlitedb.IsDiskFull(err) {
		return kiosk.Errorf(kiosk.EUnavailable, "磁盘空间已满，这次没有保存。已保存的资料不受影响。请联系技术人员清理磁盘后再试。（%s: %v）", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// checkStaged confirms a staged file is still there, sealed, with its size.
func (d *DB) checkStaged(a kiosk.Attachment) error {
	fi, err := os.Stat(d.AttachmentPath(a.SHA256))
	if err != nil || fi.Size() != seal.SealedSize(a.Size) {
		return fmt.Errorf("附件“%s”在本机已找不到，请重新添加", a.Name)
	}
	return nil
}

// sealFileInPlace replaces a file an older version kept in the clear by its
// sealed form; a file sealed already, or gone, is left as it is.
func (d *DB) sealFileInPlace(a kiosk.Attachment, key *seal.Key) error {
	path := d.AttachmentPath(a.SHA256)
	plain, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && seal.IsSealedFile(plain)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read attachment %s: %w", a.Name, err)
	}
	if sum := sha256.Sum256(plain); hex.EncodeToString(sum[:]) != a.SHA256 {
		return nil // damaged: the upload will say so, and it is not ours to change
	}
	if err := writeSealed(path, plain, key); err != nil {
		return diskError("seal an attachment", err)
	}
	return nil
}
