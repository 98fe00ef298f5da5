package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/seal"
	"github.com/keqiao/villagekiosk/receipt/token"
)

// SealLegacy seals what a kiosk of a version before sealing kept in the
// clear: each such submission and its files, for the district's key. It
// waits for the key (returns 0 before enrolment) and is run at start and
// after enrolment. It returns how many submissions it sealed.
func (s *SubmissionService) SealLegacy(ctx context.Context) (int, error) {
	key, err := s.sealKey(ctx)
	if errors.Is(err, ErrNoSealKey) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	type legacy struct {
		id      string
		payload []byte
	}
	var todo []legacy
	rows, err := s.db.db.QueryContext(ctx, `SELECT id, payload FROM submissions WHERE sealed = 0 AND length(payload) > 0`)
	if err != nil {
		return 0, fmt.Errorf("find unsealed submissions: %w", err)
	}
	for rows.Next() {
		var l legacy
		if err := rows.Scan(&l.id, &l.payload); err != nil {
			rows.Close()
			return 0, err
		}
		todo = append(todo, l)
	}
	rows.Close()
	for _, l := range todo {
		var sub kiosk.Submission
		if err := json.Unmarshal(l.payload, &sub); err != nil {
			return 0, kiosk.Errorf(kiosk.ECorrupt, "submission %s is damaged: %v", l.id, err)
		}
		// Files first: a row marked sealed never names a file in the clear.
		for _, m := range sub.Materials {
			for _, a := range m.Attachments {
				if err := s.db.sealFileInPlace(a, key); err != nil {
					return 0, err
				}
			}
		}
		payload := l.payload
		if sub.Revision > 0 {
			// Kept whole by the old version: it goes as a first save, and a
			// district holding an earlier revision parks it for a person.
			sub.Revision = 0
			if payload, err = json.Marshal(&sub); err != nil {
				return 0, err
			}
		}
		sealed, err := seal.Seal(key, payload)
		if err != nil {
			return 0, err
		}
		hash := token.ContentHash(&sub)
		if _, err := s.db.db.ExecContext(ctx, `UPDATE submissions SET payload = ?, sealed = 1, revision = 0, content_hash = ?, receipt_hash = ? WHERE id = ?`,
			sealed, kiosk.PartHash(payload), hex.EncodeToString(hash[:]), l.id); err != nil {
			return 0, diskError("seal a submission", err)
		}
	}
	return len(todo), nil
}
