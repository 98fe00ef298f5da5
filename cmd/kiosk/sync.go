package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-co-op/gocron/v2"

	kiosk "github.com/keqiao/villagekiosk"
	"github.com/keqiao/villagekiosk/internal/seal"
	"github.com/keqiao/villagekiosk/store"
	kiosksync "github.com/keqiao/villagekiosk/sync"
)

// Settings of the sync.
const (
	settingDeviceID = "device_id"
	settingCA       = "district_ca" // PEM file of the CA that signs the district's certificate
	settingLastSync = "last_sync"
)

// checkDistrictURL allows plain HTTP only to this machine (tests, a district
// server on the same host); everything else must be HTTPS.
func checkDistrictURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return fmt.Errorf("district URL %q is not a URL like https://rs.keqiao.example", raw)
	}
	if u.Scheme == "https" {
		return nil
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); u.Scheme == "http" && (host == "localhost" || (ip != nil && ip.IsLoopback())) {
		return nil
	}
	return fmt.Errorf("district URL %q must use https:// (plain http only to this machine)", raw)
}

// syncClient builds the protocol client from the settings.
func (s *services) syncClient(ctx context.Context) (*kiosksync.Client, error) {
	base, _ := s.settings.Get(ctx, kiosk.SettingDistrictURL)
	device, _ := s.settings.Get(ctx, settingDeviceID)
	if base == "" || device == "" {
		return nil, fmt.Errorf("this kiosk is not enrolled with a district yet: run `kiosk enroll --district URL --code CODE`")
	}
	if err := checkDistrictURL(base); err != nil {
		return nil, err
	}
	hc, err := s.httpClient(ctx)
	if err != nil {
		return nil, err
	}
	return &kiosksync.Client{BaseURL: base, HTTP: hc, DeviceID: device, Key: s.key}, nil
}

func (s *services) httpClient(ctx context.Context) (*http.Client, error) {
	caFile, _ := s.settings.Get(ctx, settingCA)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read the district CA %s: %w", caFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}, nil
}

func (s *services) syncer(ctx context.Context) (*kiosksync.Syncer, error) {
	c, err := s.syncClient(ctx)
	if err != nil {
		return nil, err
	}
	return &kiosksync.Syncer{Client: c, Queue: store.NewSyncQueue(s.db), AppVersion: version,
		Printer:  func() string { return s.printerState(ctx) },
		DiskFree: func() int64 { return diskFree(s.dir) },
		InstallCatalog: func(ctx context.Context, doc []byte) error {
			_, err := s.catalog.Install(ctx, doc, kiosk.OriginDistrict)
			return err
		},
		InstallHolidays: s.installHolidays,
		ApplyRoster:     s.agents.ApplyRoster}, nil
}

func (s *services) printerState(ctx context.Context) string { return s.receipts.PrinterState(ctx) }

func runEnroll(ctx context.Context, args []string, stdout, _ io.Writer) error {
	f := newFlags("enroll")
	district := f.String("district", "", "district platform URL, e.g. https://rs.keqiao.example")
	code := f.String("code", "", "one-time enrolment code from the district")
	ca := f.String("ca", "", "PEM file of the CA of the district's certificate (if not a public one)")
	s, _, err := f.open(ctx, args)
	if err != nil {
		return err
	}
	defer s.Close()
	e, err := s.enroll(ctx, *district, *code, *ca)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "enrolled as device %s for %s (%s)\n", e.device, e.pointName, e.pointCode)
	if e.reattached {
		fmt.Fprintf(stdout, "re-attached: took back %d submissions from the district\n", e.takenBack)
	}
	return nil
}

// enrolled is what an enrolment did.
type enrolled struct {
	device, pointCode, pointName string
	reattached                   bool
	takenBack                    int
}

// enroll enrols the kiosk with the district at base with a one-time code,
// trusting the CA in the PEM file ca besides the system's when given: the
// same for `kiosk enroll` and the settings screen.
func (s *services) enroll(ctx context.Context, base, code, ca string) (*enrolled, error) {
	base, code, ca = strings.TrimSpace(base), strings.TrimSpace(code), strings.TrimSpace(ca)
	if err := checkDistrictURL(base); err != nil {
		return nil, err
	}
	if code == "" {
		return nil, fmt.Errorf("enroll needs --code: the one-time code the district issued for this service point")
	}
	if ca != "" {
		if err := s.settings.Set(ctx, settingCA, ca); err != nil {
			return nil, err
		}
	}
	hc, err := s.httpClient(ctx)
	if err != nil {
		return nil, err
	}
	c := &kiosksync.Client{BaseURL: strings.TrimRight(base, "/"), HTTP: hc, Key: s.key}
	if _, err := c.Hello(ctx); err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	reply, err := c.Enroll(ctx, code, version)
	if err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	sealKey, err := seal.Decode(reply.SealKey)
	if err != nil {
		return nil, fmt.Errorf("enrol: the district sent no usable sealing key (%v): it runs an older districtd; upgrade it first", err)
	}
	if p, err := s.settings.Point(ctx); err == nil && p.Code != reply.PointCode {
		return nil, fmt.Errorf("this kiosk is set up as service point %s, but the code is for %s: ask the district for a code for %s", p.Code, reply.PointCode, p.Code)
	}
	if err := s.settings.SetPoint(ctx, kiosk.PointInfo{Code: reply.PointCode, Name: reply.PointName}); err != nil {
		return nil, err
	}
	for k, v := range map[string]string{kiosk.SettingDistrictURL: c.BaseURL, settingDeviceID: reply.DeviceID} {
		if err := s.settings.Set(ctx, k, v); err != nil {
			return nil, err
		}
	}
	if err := s.settings.SetSealKey(ctx, sealKey); err != nil {
		return nil, err
	}
	s.sealLegacy(ctx)
	e := &enrolled{device: reply.DeviceID, pointCode: reply.PointCode, pointName: reply.PointName, reattached: reply.Reattached}
	if reply.Reattached {
		// The district knew this key: the kiosk lost its database. Take back
		// its submissions so the list and the receipt numbering go on.
		c.DeviceID = reply.DeviceID
		if e.takenBack, err = kiosksync.TakeBack(ctx, c, s.submissions.Restore); err != nil {
			return e, fmt.Errorf("re-attached, but taking back the submissions failed (run enroll again with a new code): %w", err)
		}
	}
	return e, nil
}

func runSync(ctx context.Context, args []string, stdout, _ io.Writer) error {
	f := newFlags("sync")
	f.Bool("once", true, "run one round (the window runs rounds on a schedule)")
	s, _, err := f.open(ctx, args)
	if err != nil {
		return err
	}
	defer s.Close()
	sy, err := s.syncer(ctx)
	if err != nil {
		return err
	}
	sy.RetryNow = true // a person asked: earlier failures' backoff does not apply
	rep, err := sy.RunOnce(ctx)
	if err == nil {
		s.settings.Set(ctx, settingLastSync, time.Now().UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(stdout, "uploaded %d, deferred %d, parked %d, %d bytes of attachments, %d status changes, %d waiting, clock offset %.0fs\n",
		rep.Uploaded, rep.Deferred, len(rep.Parked), rep.BytesSent, rep.Changes, rep.WaitingAfter, rep.ClockOffsetS)
	if rep.Catalog != "" {
		fmt.Fprintf(stdout, "installed catalog %s\n", rep.Catalog)
	}
	if rep.Roster > 0 {
		fmt.Fprintf(stdout, "applied the district's roster of %d agents\n", rep.Roster)
	}
	for _, y := range rep.Holidays {
		fmt.Fprintf(stdout, "received the holiday arrangement of %s\n", y)
	}
	for _, p := range rep.Parked {
		fmt.Fprintln(stdout, "parked:", p)
	}
	if n, perr := s.purge(ctx); perr != nil {
		fmt.Fprintln(stdout, "purge:", perr)
	} else if n > 0 {
		fmt.Fprintf(stdout, "removed the personal data of %d finished matters\n", n)
	}
	return err
}

// purge deletes the sealed copies the district confirmed longer ago than
// sealed_keep_days (default 7), and removes the personal data of matters
// finished longer ago than the retention setting (default 90 days); sync
// rounds run it, since only the district's feed confirms and finishes a
// matter.
func (s *services) purge(ctx context.Context) (int, error) {
	sealedKeep, err := s.submissions.SealedKeep(ctx)
	if err != nil {
		return 0, err
	}
	if _, err := s.submissions.DeleteConfirmed(ctx, time.Now(), sealedKeep); err != nil {
		return 0, err
	}
	keep, err := s.submissions.Retention(ctx)
	if err != nil {
		return 0, err
	}
	return s.submissions.Purge(ctx, time.Now(), keep)
}

func runStatus(ctx context.Context, args []string, stdout, _ io.Writer) error {
	f := newFlags("status")
	f.Bool("json", true, "print as JSON")
	s, _, err := f.open(ctx, args)
	if err != nil {
		return err
	}
	defer s.Close()
	q := store.NewSyncQueue(s.db)
	waiting, parked, oldest, err := q.Stats(ctx)
	if err != nil {
		return err
	}
	epoch, cursor, _ := q.Cursor(ctx)
	st := map[string]any{"waiting": waiting, "parked": parked, "cursor": cursor, "epoch": epoch, "printer": s.printerState(ctx)}
	if s.db.LostReceipts != "" {
		st["lost_receipts"] = s.db.LostReceipts
	}
	if len(s.db.RecoveredSaves) > 0 {
		st["recovered_saves"] = s.db.RecoveredSaves
	}
	if s.db.Recovered != "" {
		st["damaged_database_moved_to"] = s.db.Recovered
	}
	if !oldest.IsZero() {
		st["oldest_unsent"] = oldest
	}
	for k, name := range map[string]string{kiosk.SettingDistrictURL: "district", settingDeviceID: "device_id", settingLastSync: "last_sync"} {
		v, _ := s.settings.Get(ctx, k)
		st[name] = v
	}
	return printJSON(stdout, st)
}

// syncTimes are the sync schedule: a round every 90-150 seconds, and while
// the district is unreachable a cheap pre-check every 10-20 seconds, so a
// connection that comes back is used at once. Tests shorten them.
var syncTimes = struct{ roundMin, roundMax, probeMin, probeMax time.Duration }{90 * time.Second, 150 * time.Second, 10 * time.Second, 20 * time.Second}

// startSync schedules sync rounds with gocron while the window is open:
// every 90-150 seconds (jittered, so 354 kiosks do not call at the same
// moment), never two at once, at once when asked (after a save, or the
// 立即同步 button), and at once when the district answers again after being
// unreachable. Not enrolled: nothing is scheduled.
func (s *services) startSync(ctx context.Context, show func(online bool, waiting int, last time.Time, problem string), progress func(sent, total int64)) (gocron.Scheduler, func(), error) {
	sy, err := s.syncer(ctx)
	if err != nil {
		return nil, nil, nil // not enrolled: the kiosk works offline, as it must
	}
	sy.OnProgress = progress
	sched, err := gocron.NewScheduler()
	if err != nil {
		return nil, nil, fmt.Errorf("start the sync scheduler: %w", err)
	}
	var last time.Time
	var asked atomic.Bool   // 立即同步 or a save: retry what waits without backoff
	var offline atomic.Bool // the last round could not reach the district
	round := func() {
		sy.RetryNow = asked.Swap(false)
		rctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		_, err := sy.RunOnce(rctx)
		problem := ""
		if err != nil {
			problem = "区平台暂时连不上，稍后自动重试"
			if e, ok := kiosksync.AsError(err); ok && e.Code == kiosksync.ERevoked {
				problem = "本机已被区平台停用，请联系区人社局；本机资料都在"
			}
			log.Printf("sync: %v", err)
		}
		if e, ok := kiosksync.AsError(err); ok && e.DistrictDown() {
			offline.Store(true)
		} else {
			offline.Store(false)
		}
		if err == nil {
			last = time.Now()
			s.settings.Set(ctx, settingLastSync, last.UTC().Format(time.RFC3339))
		}
		if n, err := s.purge(ctx); err != nil {
			log.Printf("purge: %v", err)
		} else if n > 0 {
			log.Printf("purge: removed the personal data of %d finished matters", n)
		}
		// Counted here, not taken from the report: a round that could not
		// reach the district reports nothing, and the bar must still say
		// how many wait.
		waiting, _, _, _ := store.NewSyncQueue(s.db).Stats(ctx)
		show(err == nil, waiting, last, problem)
	}
	job, err := sched.NewJob(gocron.DurationRandomJob(syncTimes.roundMin, syncTimes.roundMax), gocron.NewTask(round),
		gocron.WithSingletonMode(gocron.LimitModeReschedule), gocron.WithStartAt(gocron.WithStartImmediately()))
	if err != nil {
		return nil, nil, fmt.Errorf("schedule sync: %w", err)
	}
	// The probe has a client of its own: a round may be using the syncer's.
	probeClient := *sy.Client
	probe := func() {
		if !offline.Load() {
			return
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := probeClient.Hello(pctx); err == nil {
			log.Printf("sync: the district answers again")
			offline.Store(false)
			asked.Store(true)
			job.RunNow()
		}
	}
	if _, err := sched.NewJob(gocron.DurationRandomJob(syncTimes.probeMin, syncTimes.probeMax), gocron.NewTask(probe),
		gocron.WithSingletonMode(gocron.LimitModeReschedule)); err != nil {
		return nil, nil, fmt.Errorf("schedule the reconnect check: %w", err)
	}
	sched.Start()
	return sched, func() { asked.Store(true); job.RunNow() }, nil
}

// settingHolidays keeps the holiday arrangements the district published, by
// year, as one JSON object.
const settingHolidays = "district_holidays"

func (s *services) installHolidays(ctx context.Context, doc []byte) error {
	if _, err := kiosk.ParseHolidayYears(doc); err != nil {
		return err
	}
	var y kiosk.HolidayYear
	json.Unmarshal(doc, &y)
	years := map[string]json.RawMessage{}
	if raw, _ := s.settings.Get(ctx, settingHolidays); raw != "" {
		json.Unmarshal([]byte(raw), &years)
	}
	years[fmt.Sprint(y.Year)] = doc
	data, _ := json.Marshal(years)
	return s.settings.Set(ctx, settingHolidays, string(data))
}

func (s *services) districtHolidays(ctx context.Context) [][]byte {
	raw, _ := s.settings.Get(ctx, settingHolidays)
	years := map[string]json.RawMessage{}
	json.Unmarshal([]byte(raw), &years)
	var out [][]byte
	for _, doc := range years {
		out = append(out, doc)
	}
	return out
}

// enrollProblem says in the technician's words, on the settings screen,
// why an enrolment failed and what to do.
func enrollProblem(err error) error {
	msg := err.Error()
	say := func(format string, args ...any) error { return kiosk.Errorf(kiosk.EInvalid, format, args...) }
	switch {
	case strings.Contains(msg, "must use https"), strings.Contains(msg, "is not a URL"):
		return say("区平台地址不对：请填写 https:// 开头的地址，例如 https://rs.keqiao.example")
	case strings.Contains(msg, "needs --code"):
		return say("请填写区里发的登记码")
	case strings.Contains(msg, "certificate"):
		return say("区平台的证书不被本机信任：区平台用自有证书时，请在“证书文件”里填写它的 PEM 文件")
	case strings.Contains(msg, "read the district CA"), strings.Contains(msg, "holds no PEM certificate"):
		return say("证书文件读不出来：请检查路径，文件应是 PEM 格式的证书")
	case strings.Contains(msg, "enrolment code"):
		return say("登记码不对、已经用过或已经过期：请向区人社局要一个新的登记码")
	case strings.Contains(msg, "set up as service point"), strings.Contains(msg, "enrolled for service point"):
		return say("这个登记码不是给本服务点的：请向区人社局要本服务点的登记码")
	case strings.Contains(msg, "revoked"):
		return say("本机已被区平台停用，请联系区人社局")
	case strings.Contains(msg, "cannot reach"), strings.Contains(msg, "did not come from the district"):
		return say("连不上区平台：请检查网络和区平台地址后再试")
	}
	return say("没有接入区平台：%s", msg)
}
