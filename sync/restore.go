package sync

import (
	"context"

	kiosk "github.com/keqiao/villagekiosk"
)

// TakeBack pages through what the district holds of this kiosk's
// submissions and hands each page to restore (the store's Restore): after a
// kiosk lost its database and was re-attached, its list and its receipt
// numbering come back. It returns how many submissions restore added.
func TakeBack(ctx context.Context, c *Client, restore func(context.Context, []kiosk.RestoredSubmission) (int, error)) (int, error) {
	added, after := 0, ""
	for {
		page, err := c.Held(ctx, after)
		if err != nil {
			return added, err
		}
		list := make([]kiosk.RestoredSubmission, 0, len(page.Submissions))
		for _, h := range page.Submissions {
			list = append(list, kiosk.RestoredSubmission{
				Submission: kiosk.Submission{ID: h.ID, ReceiptNo: h.ReceiptNo, Matter: h.Matter, MatterName: h.MatterName, MainName: h.MainName,
					Applicant: kiosk.Applicant{Name: h.ApplicantName}, Materials: h.Materials, Agent: h.Agent, CreatedAt: h.CreatedAt,
					Revision: h.Revision, Status: h.Status, DistrictNote: h.Note},
				IDMasked: h.IDMasked, ReceivedAt: h.ReceivedAt})
			after = h.ID
		}
		n, err := restore(ctx, list)
		added += n
		if err != nil || !page.More {
			return added, err
		}
	}
}
