package district

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are what Prometheus scrapes from /metrics: requests and their
// latency by route, and, read from the database at each scrape, submissions
// by status and devices by whether they were seen recently.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(st *Store) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "districtd_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "districtd_request_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.requests, m.latency, collector{st: st},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe wraps a handler to count and time it under its route pattern
// (never the full path, which holds tokens).
func (m *metrics) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, strconv.Itoa(rec.code)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

var (
	submissionsDesc = prometheus.NewDesc("districtd_submissions", "Submissions by current status.", []string{"status"}, nil)
	devicesDesc     = prometheus.NewDesc("districtd_devices", "Enrolled devices: seen in the last 10 minutes, not seen, revoked.", []string{"state"}, nil)
)

// collector reads the database's figures at scrape time.
type collector struct{ st *Store }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- submissionsDesc
	ch <- devicesDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if rows, err := c.st.db.QueryContext(ctx, `SELECT status, count(*) FROM submissions GROUP BY status`); err == nil {
		for rows.Next() {
			var status string
			var n float64
			rows.Scan(&status, &n)
			ch <- prometheus.MustNewConstMetric(submissionsDesc, prometheus.GaugeValue, n, status)
		}
		rows.Close()
	}
	recent := c.st.Now().Add(-10 * time.Minute).UTC().Format(time.RFC3339Nano)
	var online, offline, revoked float64
	c.st.db.QueryRowContext(ctx, `SELECT
		count(*) FILTER (WHERE revoked_at IS NULL AND last_seen >= ?),
		count(*) FILTER (WHERE revoked_at IS NULL AND (last_seen IS NULL OR last_seen < ?)),
		count(*) FILTER (WHERE revoked_at IS NOT NULL) FROM devices`, recent, recent).Scan(&online, &offline, &revoked)
	ch <- prometheus.MustNewConstMetric(devicesDesc, prometheus.GaugeValue, online, "online")
	ch <- prometheus.MustNewConstMetric(devicesDesc, prometheus.GaugeValue, offline, "offline")
	ch <- prometheus.MustNewConstMetric(devicesDesc, prometheus.GaugeValue, revoked, "revoked")
}

func (m *metrics) handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// healthz answers 200 when the database answers, 503 otherwise.
func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := h.st.db.PingContext(ctx); err != nil {
		problem(w, http.StatusServiceUnavailable, "unavailable", "database not answering")
		return
	}
	w.Write([]byte("ok\n"))
}
