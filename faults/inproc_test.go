package faults

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/seal"
	"github.com/keqiao/villagekiosk/receipt"
	"github.com/keqiao/villagekiosk/store"
	kiosksync "github.com/keqiao/villagekiosk/sync"
	"github.com/keqiao/villagekiosk/sync/district"
)

// inproc is the rig's kiosk opened in this process, for the faults that
// need the kiosk's clock in hand or to watch its backoff: the same store
// and Syncer the kiosk program uses, on the same data folder.
type inproc struct {
	db     *store.DB
	q      *store.SyncQueue
	subs   *store.SubmissionService
	agent  *kiosk.Agent
	client *kiosksync.Client
	syncer *kiosksync.Syncer
}

// open opens the kiosk's data in this process, talking to base, with the
// clock now (nil: the real one) for the database and the sync.
func (r *rig) open(base string, now func() time.Time) *inproc {
	r.t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(r.kdata, "kiosk.db"))
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { db.Close() })
	if now != nil {
		db.Now = now
	}
	key, err := receipt.LoadOrCreateKey(r.kdata)
	if err != nil {
		r.t.Fatal(err)
	}
	agents, _ := store.NewAgentService(db).Agents(ctx)
	k := &inproc{db: db, q: store.NewSyncQueue(db), subs: store.NewSubmissionService(db), agent: &agents[0]}
	k.client = &kiosksync.Client{BaseURL: base, HTTP: &http.Client{Timeout: time.Minute}, DeviceID: r.deviceID, Key: key, Now: now}
	k.syncer = &kiosksync.Syncer{Client: k.client, Queue: k.q, AppVersion: "faults", Now: now}
	return k
}

// save saves a submission in this process (a scan of size bytes unless 0),
// as the window's intake does, and remembers its receipt as acknowledged.
func (r *rig) save(t testing.TB, k *inproc, size int) (*kiosk.Submission, error) {
	ctx := context.Background()
	d := &kiosk.Draft{
		Matter:    "3306213360-01",
		Applicant: kiosk.Applicant{Name: "𠮷野", IDNumber: "330621198001010014", Phone: "13800138000"},
		Fields: map[string]string{"last_unit": "绍兴某纺织印染有限公司", "leave_date": "2026-10-31",
			"leave_reason": "劳动合同期满终止", "pay_account": "6228480012345678901"},
		Materials: []kiosk.MaterialInput{{Name: "居民身份证", Received: true}, {Name: "解除或终止劳动合同证明"}},
		Consent:   true,
	}
	if size > 0 {
		p := filepath.Join(t.TempDir(), "scan.jpg")
		writeFile(t, p, scan(size))
		a, err := k.subs.Stage(ctx, p)
		if err != nil {
			return nil, err
		}
		d.Materials[0].Attachments = []kiosk.Attachment{a}
	}
	sub, err := k.subs.Save(ctx, d, k.agent)
	if err == nil {
		r.ack(sub.ReceiptNo)
	}
	return sub, err
}

// waiting is the kiosk's outbox: not parked, and parked.
func (k *inproc) waiting(t testing.TB) (int, int) {
	w, p, _, err := k.q.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return w, p
}

// districtInProcess stops districtd and serves the same data folder from
// this process on the same address with the clock now, for a fault that
// needs the district's time in hand (a backoff of hours). The returned
// function closes it and starts districtd again.
func (r *rig) districtInProcess(now func() time.Time) func() {
	r.t.Helper()
	r.stopDistrict()
	st, err := district.Open(context.Background(), r.ddata)
	if err != nil {
		r.t.Fatal(err)
	}
	st.Now = now
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	srv := &http.Server{Handler: district.NewHandler(st, district.Options{Name: "faults"})}
	go srv.Serve(ln)
	return func() {
		srv.Close()
		st.Close()
		r.startDistrict()
	}
}

// outbound is what the kiosk sends for a saved submission: its sealed parts.
func (k *inproc) outbound(t testing.TB, id string) *kiosk.Outbound {
	t.Helper()
	out, err := k.q.Outbound(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sealedFor seals a submission in the clear for the district the kiosk is
// enrolled with, as a second kiosk holding the same id would send it.
func (k *inproc) sealedFor(t testing.TB, sub *kiosk.Submission) *kiosk.Outbound {
	t.Helper()
	v, err := store.NewSettingsService(k.db).Get(context.Background(), kiosk.SettingSealKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := seal.Decode(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := kiosksync.SealedUpload(sub, key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
