package district_test

import (
	"bytes"
	"context"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/seal"
	kiosksync "github.com/keqiao/villagekiosk/sync"
)

// postSealed uploads a submission in the clear as a kiosk would: sealed for
// the district's key.
func postSealed(ctx context.Context, c *kiosksync.Client, key *seal.Key, sub *kiosk.Submission) (kiosksync.SubmissionReceipt, error) {
	o, err := kiosksync.SealedUpload(sub, key)
	if err != nil {
		return kiosksync.SubmissionReceipt{}, err
	}
	return c.PostSubmission(ctx, o)
}

// putSealed sends a whole file in one chunk, sealed as a kiosk keeps it.
func putSealed(ctx context.Context, c *kiosksync.Client, key *seal.Key, sha string, plain []byte) error {
	var b bytes.Buffer
	if err := seal.SealFile(&b, key, plain); err != nil {
		return err
	}
	_, err := c.PutChunk(ctx, sha, 0, int64(b.Len()), b.Bytes())
	return err
}
