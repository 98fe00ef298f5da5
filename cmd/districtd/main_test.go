package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
