package sync

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/seal"
)

// Queue is what the syncer needs from the kiosk's store.
type Queue interface {
	Due(ctx context.Context, now time.Time, limit int) ([]kiosk.OutboxItem, error)
	// Outbound gives what to send of a submission: its sealed parts and
	// files, which the kiosk itself cannot read.
	Outbound(ctx context.Context, id string) (*kiosk.Outbound, error)
	// AttachmentPath is where a file is kept sealed.
	AttachmentPath(sha string) string
	Sent(ctx context.Context, seq int64, id string, receivedAt time.Time) error
	RetryLater(ctx context.Context, seq int64, reason string, next time.Time) error
	Park(ctx context.Context, seq int64, reason string) error
	Stats(ctx context.Context) (waiting, parked int, oldest time.Time, err error)
	Cursor(ctx context.Context) (epoch string, cursor int64, err error)
	Apply(ctx context.Context, epoch string, cursor int64, changes []kiosk.StatusChange) error
	Requeue(ctx context.Context, now time.Time) (int, error)
}

// Report is what one round moved.
type Report struct {
	Uploaded      int      `json:"uploaded"`
	Parked        []string `json:"parked,omitempty"` // receipt numbers with their reasons
	Deferred      int      `json:"deferred"`         // to be retried later
	BytesSent     int64    `json:"bytes_sent"`
	Changes       int      `json:"changes"`
	Requeued      int      `json:"requeued"`
	ClockOffsetS  float64  `json:"clock_offset_seconds"`
	WaitingAfter  int      `json:"waiting_after"`
	RetryAfterSec float64  `json:"retry_after_seconds,omitempty"` // the district asked for a pause
	Catalog       string   `json:"catalog,omitempty"`             // the catalog version installed
	Holidays      []string `json:"holidays,omitempty"`            // years of holiday arrangements received
	Roster        int      `json:"roster,omitempty"`              // agents in the roster applied
}

// Syncer drains the outbox and applies the change feed. RunOnce is
// deterministic and has no scheduler; cmd/kiosk drives it with gocron.
type Syncer struct {
	Client     *Client
	Queue      Queue
	AppVersion string
	Now        func() time.Time
	Printer    func() string // the printer's state for the heartbeat
	DiskFree   func() int64
	// InstallCatalog validates a downloaded catalog and swaps it in
	// atomically; nil if the kiosk takes no catalogs from the district.
	InstallCatalog func(ctx context.Context, doc []byte) error
	// InstallHolidays keeps a year's holiday arrangement for receipts.
	InstallHolidays func(ctx context.Context, doc []byte) error
	// ApplyRoster makes the kiosk's agents what the district's roster says.
	ApplyRoster func(ctx context.Context, roster []kiosk.RosterEntry) error
	// RetryNow makes the round try every waiting submission, ignoring the
	// backoff of earlier failures: a person asked for it (立即同步, kiosk sync).
	RetryNow bool
	// OnProgress, if set, hears how many attachment bytes of the round have
	// gone out; total is 0 when the round has nothing (left) to send.
	OnProgress func(sent, total int64)

	sent, total int64
}

func (s *Syncer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// districtNow is the district's clock as learnt at this round's pre-check.
// Retry times are kept by it: a kiosk clock set back after a deferral (NTP
// correcting a clock that ran ahead, a dead RTC battery at 1970) would
// otherwise hold the deferred submissions for a day, or for decades, until
// someone pressed 立即同步.
func (s *Syncer) districtNow() time.Time { return s.now().Add(s.Client.Offset) }

// backoff is capped exponential backoff with full jitter.
func backoff(attempts int) time.Duration {
	d := 10 * time.Second << min(attempts, 9) // at most about 1.4 hours
	return time.Duration(rand.Int64N(int64(d))) + time.Second
}

// RunOnce does one round: pre-check, uploads, change feed, heartbeat.
// A failure of one submission parks or defers it and the round goes on with
// the others; a district that is unreachable or overloaded ends the round.
func (s *Syncer) RunOnce(ctx context.Context) (Report, error) {
	var rep Report
	if _, err := s.Client.Hello(ctx); err != nil {
		return rep, err
	}
	rep.ClockOffsetS = s.Client.Offset.Seconds()

	dueBy := s.districtNow()
	if s.RetryNow {
		dueBy = dueBy.AddDate(100, 0, 0)
	}
	due, err := s.Queue.Due(ctx, dueBy, 500)
	if err != nil {
		return rep, err
	}
	// Smallest first: a submission with large scans never holds up the
	// small ones behind it on a slow village line.
	size := map[int64]int64{}
	payloads := map[int64]*kiosk.Outbound{} // read once, for sorting and sending
	for _, it := range due {
		if out, err := s.Queue.Outbound(ctx, it.SubmissionID); err == nil {
			payloads[it.Seq] = out
			for _, a := range out.Attachments {
				size[it.Seq] += seal.SealedSize(a.Size)
			}
		}
	}
	sort.SliceStable(due, func(i, j int) bool { return size[due[i].Seq] < size[due[j].Seq] })
	s.sent, s.total = 0, 0
	for _, n := range size {
		s.total += n
	}
	defer s.progress(0, true)
	for _, it := range due {
		err := s.upload(ctx, it, payloads[it.Seq], &rep)
		if err == nil {
			rep.Uploaded++
			continue
		}
		e, ok := AsError(err)
		switch {
		case ok && e.Transient():
			s.Queue.RetryLater(ctx, it.Seq, e.Error(), s.districtNow().Add(max(e.RetryAfter, backoff(it.Attempts))))
			rep.Deferred++
			if !e.DistrictDown() {
				continue // this one failed (a 500 on it alone): the others go on
			}
			rep.RetryAfterSec = e.RetryAfter.Seconds()
			rep.WaitingAfter = s.waiting(ctx)
			return rep, err // the district is down or busy: the rest waits for the next round
		case ok && (e.Code == ERevoked || e.Code == EUnauthorized):
			return rep, err // nothing can be sent as this device
		case ok:
			s.Queue.Park(ctx, it.Seq, e.Error())
			rep.Parked = append(rep.Parked, fmt.Sprintf("%s: %s", it.SubmissionID, e.Message))
		default:
			// A local problem (a file gone from the data folder): park it
			// visibly rather than retrying forever.
			s.Queue.Park(ctx, it.Seq, err.Error())
			rep.Parked = append(rep.Parked, fmt.Sprintf("%s: %v", it.SubmissionID, err))
		}
	}

	if err := s.pull(ctx, &rep); err != nil {
		return rep, err
	}
	rep.WaitingAfter = s.waiting(ctx)
	return rep, s.heartbeat(ctx)
}

func (s *Syncer) waiting(ctx context.Context) int {
	n, _, _, _ := s.Queue.Stats(ctx)
	return n
}

// upload sends a submission's attachments (resuming where the district
// stopped) and then the submission.
func (s *Syncer) upload(ctx context.Context, it kiosk.OutboxItem, sub *kiosk.Outbound, rep *Report) error {
	if sub == nil { // unreadable when the round began: say why now
		var err error
		if sub, err = s.Queue.Outbound(ctx, it.SubmissionID); err != nil {
			return err
		}
	}
	for _, a := range sub.Attachments {
		if err := s.sendFile(ctx, a, rep); err != nil {
			return err
		}
	}
	r, err := s.Client.PostSubmission(ctx, sub)
	if err != nil {
		return err
	}
	if r.ID != sub.ID {
		return &Error{Code: kiosk.EConflict, Message: fmt.Sprintf("the district confirmed %q, not %q", r.ID, sub.ID)}
	}
	return s.Queue.Sent(ctx, it.Seq, sub.ID, r.ReceivedAt)
}

// sendFile sends an attachment's sealed file; offsets count sealed bytes.
func (s *Syncer) sendFile(ctx context.Context, a kiosk.Attachment, rep *Report) error {
	st, err := s.Client.AttachmentState(ctx, a.SHA256)
	if err != nil {
		return err
	}
	if st.Complete {
		return nil
	}
	f, err := os.Open(s.Queue.AttachmentPath(a.SHA256))
	if err != nil {
		return fmt.Errorf("attachment %s of this submission is missing from the data folder: %w", a.Name, err)
	}
	defer f.Close()
	size := seal.SealedSize(a.Size)
	buf := make([]byte, ChunkSize)
	for off := st.Have; off < size; {
		n, err := f.ReadAt(buf[:min(int64(ChunkSize), size-off)], off)
		if err != nil && err != io.EOF {
			return fmt.Errorf("read attachment %s: %w", a.Name, err)
		}
		st, err = s.Client.PutChunk(ctx, a.SHA256, off, size, buf[:n])
		if err != nil {
			if e, ok := AsError(err); ok && e.Code == kiosk.EConflict {
				// The district has a different amount than we thought (an
				// earlier chunk did arrive): ask again and continue from there.
				if st, err = s.Client.AttachmentState(ctx, a.SHA256); err != nil {
					return err
				}
				off = st.Have
				continue
			}
			return err
		}
		rep.BytesSent += int64(n)
		s.progress(int64(n), false)
		off = st.Have
		if st.Complete {
			break
		}
	}
	if !st.Complete && st.Have == size {
		// The district has every byte but was stopped (killed, powered off)
		// after its last write and before it checked the file and kept it:
		// an empty last chunk asks it to finish, where posting the
		// submission would be refused as incomplete and parked.
		if _, err := s.Client.PutChunk(ctx, a.SHA256, size, size, nil); err != nil {
			return err
		}
	}
	return nil
}

// pull applies the change feed batch by batch, each with its cursor in one
// transaction. A new epoch means the district restored a backup: everything
// it may have lost is queued again and the feed is read from the start.
func (s *Syncer) pull(ctx context.Context, rep *Report) error {
	epoch, cursor, err := s.Queue.Cursor(ctx)
	if err != nil {
		return err
	}
	for {
		ch, err := s.Client.Changes(ctx, cursor)
		if err != nil {
			return err
		}
		if epoch != "" && ch.Epoch != epoch {
			n, err := s.Queue.Requeue(ctx, s.now())
			if err != nil {
				return err
			}
			rep.Requeued += n
			if err := s.Queue.Apply(ctx, ch.Epoch, 0, nil); err != nil {
				return err
			}
			epoch, cursor = ch.Epoch, 0
			continue
		}
		var batch []kiosk.StatusChange
		for _, c := range ch.Changes {
			switch c.Kind {
			case "status":
				batch = append(batch, kiosk.StatusChange{SubmissionID: c.SubmissionID, Status: c.Status, Note: c.Note, At: c.At})
			case "catalog":
				if err := s.installCatalog(ctx, c, rep); err != nil {
					return err // the cursor stays before it: the next round tries again
				}
			case "holidays":
				if s.InstallHolidays == nil {
					continue
				}
				doc, err := s.Client.Holidays(ctx, c.Status, c.Note)
				if err == nil {
					err = s.InstallHolidays(ctx, doc)
				}
				if err != nil {
					return err
				}
				rep.Holidays = append(rep.Holidays, c.Status)
			case "roster":
				if s.ApplyRoster == nil {
					continue
				}
				roster, err := s.Client.Roster(ctx)
				if err == nil {
					err = s.ApplyRoster(ctx, roster)
				}
				if err != nil {
					return err
				}
				rep.Roster = len(roster)
			}
		}
		if err := s.Queue.Apply(ctx, ch.Epoch, ch.Cursor, batch); err != nil {
			return err
		}
		rep.Changes += len(batch)
		epoch, cursor = ch.Epoch, ch.Cursor
		if !ch.More {
			return nil
		}
	}
}

func (s *Syncer) heartbeat(ctx context.Context) error {
	waiting, _, oldest, _ := s.Queue.Stats(ctx)
	hb := Heartbeat{AppVersion: s.AppVersion, Queue: waiting, OldestUnsent: oldest, LastSync: s.now(),
		ClockOffset: s.Client.Offset.Seconds()}
	if s.Printer != nil {
		hb.Printer = s.Printer()
	}
	if s.DiskFree != nil {
		hb.DiskFree = s.DiskFree()
	}
	return s.Client.SendHeartbeat(ctx, hb)
}

// installCatalog downloads a newly published catalog and swaps it in. A
// download that fails leaves the old catalog and the cursor where they were;
// a catalog this kiosk finds invalid is skipped with a visible reason.
func (s *Syncer) installCatalog(ctx context.Context, c Change, rep *Report) error {
	if s.InstallCatalog == nil {
		return nil
	}
	doc, err := s.Client.Catalog(ctx, c.Note)
	if err != nil {
		if e, ok := AsError(err); ok && e.Code == kiosk.ENotFound {
			return nil // published and withdrawn since: nothing to install
		}
		return err
	}
	if err := s.InstallCatalog(ctx, doc); err != nil {
		if kiosk.ErrorCode(err) == kiosk.EInvalid {
			rep.Parked = append(rep.Parked, "catalog "+c.Status+": "+err.Error())
			return nil
		}
		return err
	}
	rep.Catalog = c.Status
	return nil
}

func (s *Syncer) progress(n int64, done bool) {
	if s.OnProgress == nil {
		return
	}
	if done {
		s.OnProgress(0, 0)
		return
	}
	s.sent += n
	s.OnProgress(s.sent, s.total)
}
