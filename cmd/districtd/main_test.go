package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keqiao/villagekiosk/sync/district"
)

func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCommands(t *testing.T) {
	data := t.TempDir()
	qr := filepath.Join(t.TempDir(), "code.png")
	code, out, errOut := runMain(t, "enroll-code", "--point", "330603101201", "--name", "王化村", "--qr", qr, "--data", data)
	if code != 0 || len(strings.Fields(out)[0]) != 10 {
		t.Fatalf("enroll-code: %d %q %q", code, out, errOut)
	}
	if fi, err := os.Stat(qr); err != nil || fi.Size() == 0 {
		t.Fatalf("QR image: %v", err)
	}
	for _, bad := range [][]string{
		{"enroll-code", "--point", "", "--name", "x"},
		{"set-status", "330603101201-20261128-0001", "--status", "done"},
		{"set-status", "x", "--status", "lost"},
		{"revoke", "dev-nosuch"},
		{"frobnicate"},
	} {
		if code, _, errOut := runMain(t, append(bad, "--data", data)...); code == 0 || errOut == "" {
			t.Errorf("%v: exit %d, message %q", bad, code, errOut)
		}
	}
	if code, _, errOut := runMain(t, "devices"); code == 0 || !strings.Contains(errOut, "--data") {
		t.Errorf("no data folder: %q", errOut)
	}
}

// TestUserCommands: an account made on the command line signs in; a short
// password, a missing name and an unknown account are refused with a
// message; the password never comes from the command line.
func TestUserCommands(t *testing.T) {
	data := t.TempDir()
	stdin = strings.NewReader("a-long-password-1\n")
	defer func() { stdin = os.Stdin }()
	if code, out, errOut := runMain(t, "user", "add", "liqiang", "--name", "李强", "--data", data); code != 0 || !strings.Contains(out, "liqiang") {
		t.Fatalf("user add: %d %q %q", code, out, errOut)
	}
	short := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(short, []byte("short\n"), 0o600)
	for _, bad := range [][]string{
		{"user", "add", "wang", "--name", "王", "--password-file", short},
		{"user", "add", "wang", "--password-file", short},
		{"user", "disable", "nobody"},
		{"user", "rename", "x"},
	} {
		if code, _, errOut := runMain(t, append(bad, "--data", data)...); code == 0 || errOut == "" {
			t.Errorf("%v: exit %d, message %q", bad, code, errOut)
		}
	}
	st, err := district.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, who, err := st.SignIn(context.Background(), "liqiang", "a-long-password-1", "127.0.0.1"); err != nil || who.Name != "李强" {
		t.Fatalf("sign in with the new account: %v", err)
	}
	st.Close()
	if code, _, errOut := runMain(t, "user", "disable", "liqiang", "--data", data); code != 0 {
		t.Fatalf("disable: %s", errOut)
	}
}

// TestDataFolderPrivate: the district's data folder, database and
// attachments are the service account's alone.
func TestDataFolderPrivate(t *testing.T) {
	data := filepath.Join(t.TempDir(), "district")
	if code, _, errOut := runMain(t, "devices", "--data", data); code != 0 {
		t.Fatal(errOut)
	}
	for path, want := range map[string]os.FileMode{data: 0o700, filepath.Join(data, "district.db"): 0o600, filepath.Join(data, "attachments"): 0o700} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), fi.Mode().Perm(), want)
		}
	}
}
