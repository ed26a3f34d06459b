package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stewardhealth/steward/internal/store"
)

// metrics are the server's Prometheus metrics, in a registry of its own (a test may run
// several servers in one process). GET /metrics serves them in Prometheus' text format:
// counts and durations by route pattern and status, never a path's values or a user.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	cohort   *prometheus.CounterVec
	refused  *prometheus.CounterVec
}

// cohortRoutes are the routes that run a cohort query (API and page).
var cohortRoutes = map[string]bool{"POST /api/v1/projects/{id}/queries": true, "POST /projects/{id}/cohort": true}

func newMetrics(db *store.DB, log *slog.Logger) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_http_requests_total",
			Help: "HTTP requests answered, by route pattern (\"unmatched\" for none) and status.",
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "steward_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		cohort: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_cohort_queries_total",
			Help: "Cohort queries asked (API and page), by status: 200/201 answered, 4xx refused.",
		}, []string{"status"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_refused_requests_total",
			Help: "Requests of a signed-in user answered 401, 403 or 404 (what the lockout counts), by route pattern and status.",
		}, []string{"route", "status"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.cohort, m.refused, storeCollector{db, log},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// storeCollector reads, at each scrape, what the store holds now: the locks in force and
// the export requests by state (two small GROUP BY queries).
type storeCollector struct {
	db  *store.DB
	log *slog.Logger
}

var (
	locksDesc   = prometheus.NewDesc("steward_locks", "Locks in force, by kind (account, address, …).", []string{"kind"}, nil)
	exportsDesc = prometheus.NewDesc("steward_export_requests", "Export requests, by state.", []string{"state"}, nil)
)

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- locksDesc; ch <- exportsDesc }

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, q := range []struct {
		desc *prometheus.Desc
		sql  string
	}{
		{locksDesc, `SELECT kind, count(*) FROM login_failures WHERE locked_at IS NOT NULL GROUP BY kind`},
		{exportsDesc, `SELECT status, count(*) FROM export_requests GROUP BY status`},
	} {
		rows, err := c.db.QueryContext(ctx, q.sql)
		if err != nil {
			c.log.Warn("metrics: read the store", "err", err)
			continue
		}
		for rows.Next() {
			var label string
			var n int64
			if rows.Scan(&label, &n) == nil {
				ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, float64(n), label)
			}
		}
		rows.Close()
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// routeKey holds, in a request's context, where the mux writes the pattern it matched: the
// middleware between them copy the request, so the outermost one would not see r.Pattern.
type routeKey struct{}

type routeHolder struct{ pattern, user string }

// noteUser tells the access log who made the request, once a handler knows (watch).
func noteUser(r *http.Request, user string) {
	if h, ok := r.Context().Value(routeKey{}).(*routeHolder); ok {
		h.user = user
	}
}

// instrument counts and times every request, whatever answers it (a middleware's refusal
// too); it wraps everything else so a recovered panic counts as its 500.
//
// With an access log, each request is also one structured line: a request id (also sent as
// X-Request-Id), the route pattern, the status, the duration and the signed-in user — never
// the path's values, the query or the body.
func (m *metrics) instrument(h http.Handler, access *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := &routeHolder{}
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, route))
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		var id string
		if access != nil {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
			w.Header().Set("X-Request-Id", id)
		}
		defer func() {
			p := route.pattern
			if p == "" {
				p = "unmatched"
			}
			code := sw.code
			if code == 0 {
				code = http.StatusOK
			}
			took := time.Since(start)
			m.requests.WithLabelValues(p, strconv.Itoa(code)).Inc()
			m.duration.WithLabelValues(p).Observe(took.Seconds())
			if cohortRoutes[p] {
				m.cohort.WithLabelValues(strconv.Itoa(code)).Inc()
			}
			if access != nil {
				access.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("request_id", id), slog.String("method", r.Method),
					slog.String("route", p), slog.Int("status", code), slog.Float64("duration_ms", float64(took.Microseconds())/1000),
					slog.String("user", route.user))
			}
		}()
		h.ServeHTTP(sw, r)
	})
}

// notePattern wraps the mux: once it has routed a request, the pattern goes where instrument
// reads it.
func notePattern(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if h, ok := r.Context().Value(routeKey{}).(*routeHolder); ok {
			h.pattern = r.Pattern
		}
	})
}
