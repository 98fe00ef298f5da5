// Command districtload is the district platform's load harness, run by hand
// (docs/load.md): it enrols thousands of simulated kiosks with a districtd,
// lets them sync at the kiosk's normal rate, then has all of them reconnect
// within one window, and reports throughput, latency percentiles and errors.
// Only 429 with Retry-After is an acceptable refusal.
package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	kiosksync "github.com/keqiao/villagekiosk/sync"
	"github.com/keqiao/villagekiosk/sync/district"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "districtload:", err)
		os.Exit(1)
	}
}

type config struct {
	kiosks              int
	interval, steady    time.Duration
	storm               time.Duration
	districtd, data, db string
	addr                string
	conns               int
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var c config
	fs := flag.NewFlagSet("districtload", flag.ContinueOnError)
	fs.IntVar(&c.kiosks, "kiosks", 20000, "simulated kiosks")
	fs.DurationVar(&c.interval, "interval", 2*time.Minute, "each kiosk's sync interval in the steady phase (the kiosk's default is 90-150 s)")
	fs.DurationVar(&c.steady, "steady", 2*time.Minute, "length of the steady phase")
	fs.DurationVar(&c.storm, "storm", time.Minute, "window in which every kiosk reconnects")
	fs.StringVar(&c.districtd, "districtd", "bin/districtd", "the districtd binary to start")
	fs.StringVar(&c.data, "data", "", "districtd's data folder (default: a new temporary one)")
	fs.StringVar(&c.db, "db", "", "postgres://... to run districtd on PostgreSQL (default SQLite)")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:18080", "where districtd listens")
	fs.IntVar(&c.conns, "conns", 1000, "most TCP connections the harness holds open at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.data == "" {
		dir, err := os.MkdirTemp("", "districtload-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		c.data = dir
	}
	stopServer, err := startDistrict(ctx, c)
	if err != nil {
		return err
	}
	defer stopServer()
	base := "http://" + c.addr
	httpc := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
		MaxIdleConns: c.conns, MaxIdleConnsPerHost: c.conns, MaxConnsPerHost: c.conns, IdleConnTimeout: time.Minute}}

	engine := "SQLite"
	if c.db != "" {
		engine = "PostgreSQL"
	}
	fmt.Fprintf(out, "districtload: %d kiosks against districtd on %s (%s)\n", c.kiosks, engine, c.addr)
	start := time.Now()
	kiosks, err := enrol(ctx, c, base, httpc)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "enrolled %d kiosks in %s\n\n", len(kiosks), time.Since(start).Round(time.Millisecond))

	var phases []*phase
	// The floor: an unsigned hello, no database, at the storm's pace.
	floor := newPhase("floor: hello only (no signature, no database)")
	spread(ctx, kiosks, c.storm, func(k *simKiosk) { floor.call("hello", func() error { _, err := k.c.Hello(ctx); return err }) })
	phases = append(phases, floor.done())

	steady := newPhase(fmt.Sprintf("steady: every kiosk syncs every %s", c.interval))
	steadyRun(ctx, kiosks, c.interval, c.steady, func(k *simKiosk) { k.round(ctx, steady) })
	phases = append(phases, steady.done())

	storm := newPhase(fmt.Sprintf("reconnect storm: all %d kiosks within %s", len(kiosks), c.storm))
	spread(ctx, kiosks, c.storm, func(k *simKiosk) { k.round(ctx, storm) })
	phases = append(phases, storm.done())

	report(out, phases)
	for _, p := range phases {
		if p.bad.Load() > 0 {
			return fmt.Errorf("%s: %d requests failed with something other than 429 + Retry-After", p.name, p.bad.Load())
		}
	}
	return nil
}

// startDistrict runs districtd serve and waits until it answers.
func startDistrict(ctx context.Context, c config) (func(), error) {
	args := []string{"serve", "--addr", c.addr, "--data", c.data}
	if c.db != "" {
		args = append(args, "--db", c.db)
	}
	cmd := exec.CommandContext(ctx, c.districtd, args...)
	logf, err := os.Create(filepath.Join(c.data, "districtd.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (build it with `make build`): %w", c.districtd, err)
	}
	stop := func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait(); logf.Close() }
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://" + c.addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	log, _ := os.ReadFile(logf.Name())
	return nil, fmt.Errorf("districtd did not answer on %s:\n%s", c.addr, log)
}

type simKiosk struct {
	c      *kiosksync.Client
	cursor int64
}

// enrol makes one enrolment code per kiosk in the district's own store and
// enrols each kiosk over HTTP, as a technician would.
func enrol(ctx context.Context, c config, base string, httpc *http.Client) ([]*simKiosk, error) {
	st, err := district.OpenDB(ctx, c.data, c.db)
	if err != nil {
		return nil, err
	}
	codes := make([]string, c.kiosks)
	for i := range codes {
		if codes[i], _, err = st.CreateEnrollCode(ctx, fmt.Sprintf("3306%08d", i), fmt.Sprintf("模拟服务点%d", i)); err != nil {
			st.Close()
			return nil, err
		}
	}
	st.Close()
	kiosks := make([]*simKiosk, c.kiosks)
	var failed atomic.Int64
	var firstErr atomic.Value
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				_, key, _ := ed25519.GenerateKey(nil)
				cl := &kiosksync.Client{BaseURL: base, HTTP: httpc, Key: key}
				err := retry(ctx, func() error {
					r, err := cl.Enroll(ctx, codes[i], "load")
					cl.DeviceID = r.DeviceID
					return err
				})
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				kiosks[i] = &simKiosk{c: cl}
			}
		}()
	}
	for i := range codes {
		work <- i
	}
	close(work)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return nil, fmt.Errorf("%d kiosks could not enrol: %v", n, firstErr.Load())
	}
	return kiosks, nil
}

// retry calls f until it succeeds or fails with something other than 429.
func retry(ctx context.Context, f func() error) error {
	for {
		err := f()
		var e *kiosksync.Error
		if err == nil || !errors.As(err, &e) || e.Status != http.StatusTooManyRequests || ctx.Err() != nil {
			return err
		}
		time.Sleep(e.RetryAfter)
	}
}

// round is what a kiosk does each time it syncs with nothing to upload:
// the pre-check, a heartbeat and a pull of its change feed.
func (k *simKiosk) round(ctx context.Context, p *phase) {
	p.call("hello", func() error { _, err := k.c.Hello(ctx); return err })
	p.call("heartbeat", func() error {
		return k.c.SendHeartbeat(ctx, kiosksync.Heartbeat{AppVersion: "load", Queue: rand.IntN(3), Printer: "ok", DiskFree: 8 << 30})
	})
	p.call("changes", func() error {
		ch, err := k.c.Changes(ctx, k.cursor)
		if err == nil {
			k.cursor = ch.Cursor
		}
		return err
	})
}

// spread starts each kiosk once at a random moment within window and waits
// for all of them.
func spread(ctx context.Context, kiosks []*simKiosk, window time.Duration, f func(*simKiosk)) {
	var wg sync.WaitGroup
	for _, k := range kiosks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-time.After(rand.N(window)):
				f(k)
			case <-ctx.Done():
			}
		}()
	}
	wg.Wait()
}

// steadyRun has every kiosk sync every interval (first at a random offset)
// for length.
func steadyRun(ctx context.Context, kiosks []*simKiosk, interval, length time.Duration, f func(*simKiosk)) {
	end := time.Now().Add(length)
	var wg sync.WaitGroup
	for _, k := range kiosks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := time.Now().Add(rand.N(interval))
			for next.Before(end) {
				select {
				case <-time.After(time.Until(next)):
				case <-ctx.Done():
					return
				}
				f(k)
				next = next.Add(interval)
			}
		}()
	}
	wg.Wait()
}

// phase collects the outcome of every request of one phase.
type phase struct {
	name     string
	mu       sync.Mutex
	lat      map[string][]time.Duration
	statuses map[string]int
	bad      atomic.Int64
	start    time.Time
	took     time.Duration
}

func newPhase(name string) *phase {
	return &phase{name: name, lat: map[string][]time.Duration{}, statuses: map[string]int{}, start: time.Now()}
}

// call times one request, retrying after a 429 as a kiosk would; only the
// successful attempt's latency counts, every refusal is tallied.
func (p *phase) call(kind string, f func() error) {
	for {
		t0 := time.Now()
		err := f()
		d := time.Since(t0)
		var e *kiosksync.Error
		outcome := "ok"
		if err != nil {
			outcome = "error: " + err.Error()
			if errors.As(err, &e) && e.Status != 0 {
				outcome = fmt.Sprintf("%d %s", e.Status, e.Code)
			}
		}
		p.mu.Lock()
		p.statuses[outcome]++
		if err == nil {
			p.lat[kind] = append(p.lat[kind], d)
		}
		p.mu.Unlock()
		if err == nil {
			return
		}
		if e != nil && e.Status == http.StatusTooManyRequests && e.RetryAfter > 0 {
			time.Sleep(e.RetryAfter + rand.N(time.Second))
			continue
		}
		p.bad.Add(1)
		return
	}
}

func (p *phase) done() *phase { p.took = time.Since(p.start); return p }

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(q*float64(len(sorted)-1))]
}

func report(out io.Writer, phases []*phase) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\trequest\tok\treq/s\tp50\tp99\tmax\t")
	for _, p := range phases {
		kinds := make([]string, 0, len(p.lat))
		total := 0
		for k, l := range p.lat {
			kinds = append(kinds, k)
			total += len(l)
			slices.Sort(l)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			l := p.lat[k]
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%s\t%s\t%s\t\n", short(p.name), k, len(l), float64(len(l))/p.took.Seconds(),
				ms(percentile(l, .5)), ms(percentile(l, .99)), ms(l[len(l)-1]))
		}
		fmt.Fprintf(tw, "%s\tall\t%d\t%.0f\t\t\t\t\n", short(p.name), total, float64(total)/p.took.Seconds())
	}
	tw.Flush()
	fmt.Fprintln(out)
	for _, p := range phases {
		fmt.Fprintf(out, "%s (%s):\n", p.name, p.took.Round(time.Second))
		outcomes := make([]string, 0, len(p.statuses))
		for o := range p.statuses {
			outcomes = append(outcomes, o)
		}
		sort.Strings(outcomes)
		for _, o := range outcomes {
			fmt.Fprintf(out, "  %-40s %d\n", o, p.statuses[o])
		}
	}
}

func short(name string) string { return strings.SplitN(name, ":", 2)[0] }

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
