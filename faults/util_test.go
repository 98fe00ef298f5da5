package faults

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"

	kiosk "github.com/keqiao/villagekiosk"
)

func itoa(n int) string { return strconv.Itoa(n) }

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// attachmentHashes lists the attachments a submission's payload names.
func attachmentHashes(payload []byte) []string {
	var sub kiosk.Submission
	json.Unmarshal(payload, &sub)
	var out []string
	for _, m := range sub.Materials {
		for _, a := range m.Attachments {
			out = append(out, a.SHA256)
		}
	}
	return out
}
