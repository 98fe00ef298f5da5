package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The last receipt number handed out is also kept beside the database, in
// receipt-last, written once each save has committed. A database that lost
// commits it had confirmed (its -wal deleted after a crash, an older copy
// put back, or a damaged file moved aside) numbers lower than the mark:
// Open then moves the numbering past it, so no villager's number is ever
// handed out twice, and says which receipts may have been lost.

func (d *DB) markPath() string { return filepath.Join(filepath.Dir(d.path), "receipt-last") }

// markReceipt records no as the last receipt handed out. It is best effort:
// the save has committed already, and a missing mark only weakens the
// check at the next start.
func (d *DB) markReceipt(no string) {
	tmp := d.markPath() + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return
	}
	_, err = f.WriteString(no + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || os.Rename(tmp, d.markPath()) != nil {
		os.Remove(tmp)
		return
	}
	if dir, err := os.Open(filepath.Dir(d.path)); err == nil {
		dir.Sync()
		dir.Close()
	}
}

// markGap compares the mark with the receipt counters: behind is true when
// the database numbers lower than the last receipt handed out.
func (d *DB) markGap(ctx context.Context) (point, day string, last, seq int, behind bool) {
	data, err := os.ReadFile(d.markPath())
	if err != nil {
		return // no receipt handed out yet, or the mark was never written
	}
	point, day, seq, ok := splitReceiptNo(strings.TrimSpace(string(data)))
	if !ok {
		return
	}
	d.db.QueryRowContext(ctx, `SELECT last FROM receipt_counters WHERE point_code = ? AND day = ?`, point, day).Scan(&last)
	return point, day, last, seq, last < seq
}

// checkReceiptMark moves the receipt counter to the mark when the database
// is behind it, and returns the receipt numbers that may have been lost,
// in words for the agent.
func (d *DB) checkReceiptMark(ctx context.Context) (string, error) {
	point, day, last, seq, behind := d.markGap(ctx)
	if !behind {
		return "", nil
	}
	if err := raiseReceiptCounter(ctx, d.db, point, day, seq); err != nil {
		return "", diskError("move the receipt numbering on", err)
	}
	if last+1 == seq {
		return formatReceiptNo(point, day, seq), nil
	}
	return fmt.Sprintf("%s 至 %04d", formatReceiptNo(point, day, last+1), seq), nil
}
