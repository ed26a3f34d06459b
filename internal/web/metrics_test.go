package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// scrape reads /metrics as Prometheus would and parses it.
func scrape(t *testing.T, f *fixture) map[string]*dto.MetricFamily {
	t.Helper()
	code, body, hdr := f.call("GET", "/metrics", "", "")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", code, hdr.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// value is the sample of family name whose labels are exactly labels (counter or histogram
// count); -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	fam := fams[name]
	if fam == nil {
		return -1
	}
next:
	for _, m := range fam.Metric {
		if len(m.Label) != len(labels) {
			continue
		}
		for _, l := range m.Label {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		if h := m.GetHistogram(); h != nil {
			return float64(h.GetSampleCount())
		}
	}
	return -1
}

// /metrics counts requests by route pattern and status — answered by a handler, by the
// mux (404) or refused by a middleware — and times them; route labels are patterns, so no
// path value (a project code, a download token) becomes a label.
func TestMetricsScrapedAndParsed(t *testing.T) {
	f := newFixture(t, storetest.Open(t, store.SQLite), Options{})
	for range 3 {
		f.call("GET", "/healthz", "", "")
	}
	f.call("GET", "/no/such/page-7f3a", "", "")
	f.call("POST", "/api/v1/signin", "", `{"user":"ann","password":"wrong password"}`)
	token := f.signIn("ann", rootPW)
	f.call("GET", "/api/v1/projects/diab", token, "")
	fams := scrape(t, f)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"steward_http_requests_total", map[string]string{"route": "GET /healthz", "status": "200"}, 3},
		{"steward_http_request_duration_seconds", map[string]string{"route": "GET /healthz"}, 3},
		{"steward_http_requests_total", map[string]string{"route": "unmatched", "status": "404"}, 1},
		{"steward_http_requests_total", map[string]string{"route": "POST /api/v1/signin", "status": "401"}, 1},
		{"steward_http_requests_total", map[string]string{"route": "POST /api/v1/signin", "status": "200"}, 1},
		{"steward_http_requests_total", map[string]string{"route": "GET /api/v1/projects/{id}", "status": "404"}, 1}, // ann is not in diab: the handler's 404, not the mux's
	} {
		if got := value(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	_, body, _ := f.call("GET", "/metrics", "", "")
	for _, leak := range []string{"page-7f3a", "wrong password", token, "/projects/diab"} {
		if strings.Contains(body, leak) {
			t.Errorf("/metrics shows %q", leak)
		}
	}
	if fams["go_goroutines"] == nil || fams["process_cpu_seconds_total"] == nil {
		t.Errorf("/metrics lacks the Go and process collectors")
	}
}

// With NoMetrics (serve --metrics=false) there is no /metrics.
func TestMetricsOff(t *testing.T) {
	f := newFixture(t, storetest.Open(t, store.SQLite), Options{NoMetrics: true})
	if code, body, _ := f.call("GET", "/metrics", "", ""); code != 404 || strings.Contains(body, "steward_http") {
		t.Errorf("/metrics with NoMetrics: %d", code)
	}
}

// The access log: one JSON line per request with its id (the X-Request-Id the client got),
// the route pattern, the status, the duration and the user once signed in — and none of the
// path's values, the query or the body.
func TestAccessLog(t *testing.T) {
	var buf syncBuffer
	f := newFixture(t, storetest.Open(t, store.SQLite), Options{AccessLog: slog.New(slog.NewJSONHandler(&buf, nil))})
	token := f.signIn("ann", rootPW)
	_, _, hdr := f.call("GET", "/api/v1/projects/diab-secret-code?mrn=MRN-445566", token, "")
	f.call("POST", "/api/v1/signin", "", `{"user":"nobody-here","password":"hunter2-secret"}`)
	type line struct {
		Msg        string  `json:"msg"`
		RequestID  string  `json:"request_id"`
		Method     string  `json:"method"`
		Route      string  `json:"route"`
		Status     int     `json:"status"`
		DurationMS float64 `json:"duration_ms"`
		User       string  `json:"user"`
	}
	var lines []line
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var x line
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatalf("access log line %q: %v", l, err)
		}
		lines = append(lines, x)
	}
	if len(lines) != 3 {
		t.Fatalf("%d access log lines, want 3:\n%s", len(lines), buf.String())
	}
	got := lines[1]
	if got.Route != "GET /api/v1/projects/{id}" || got.Status != 404 || got.User != "ann" || got.Method != "GET" || got.RequestID == "" || got.RequestID != hdr.Get("X-Request-Id") || got.DurationMS <= 0 {
		t.Errorf("the project request's line: %+v (X-Request-Id %q)", got, hdr.Get("X-Request-Id"))
	}
	if lines[2].Route != "POST /api/v1/signin" || lines[2].Status != 401 || lines[2].User != "" || lines[0].RequestID == lines[1].RequestID {
		t.Errorf("lines: %+v", lines)
	}
	for _, leak := range []string{"diab-secret-code", "MRN-445566", "nobody-here", "hunter2", token} {
		if strings.Contains(buf.String(), leak) {
			t.Errorf("the access log shows %q", leak)
		}
	}
}

// syncBuffer is a bytes.Buffer the server's goroutines and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The domain's metrics: cohort queries by status, refused requests by route, the locks in
// force, read by scraping /metrics after doing each.
func TestMetricsOfCohortQueriesRefusalsAndLocks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { metricsOfTheDomain(t, db) })
}

func metricsOfTheDomain(t *testing.T, db *store.DB) {
	f, ann, _ := warehouseFixture(t, db, access.DataAgg)
	for i, st := range []string{"pending", "pending", "released"} { // as the airlock would leave them
		if _, err := db.Exec(`INSERT INTO export_requests (id, project, author, mode, purpose, status, created_at) VALUES ($1, 'diab', 'ann', 'auto', 'p', $2, '2026-12-01')`, fmt.Sprint("er-", i), st); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if code, body, _ := f.call("POST", "/api/v1/projects/diab/queries", ann, diabetesJSON); code != 201 {
			t.Fatalf("query: %d %s", code, body)
		}
	}
	f.call("GET", "/api/v1/projects/nosuch", ann, "")
	for range 3 { // the fixture locks an account after 3 failures from one address
		f.call("POST", "/api/v1/signin", "", `{"user":"root","password":"wrong password"}`)
	}
	fams := scrape(t, f)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"steward_cohort_queries_total", map[string]string{"status": "201"}, 2},
		{"steward_refused_requests_total", map[string]string{"route": "GET /api/v1/projects/{id}", "status": "404"}, 1},
		{"steward_locks", map[string]string{"kind": access.LockFromAddress}, 1},
		{"steward_export_requests", map[string]string{"state": "pending"}, 2},
		{"steward_export_requests", map[string]string{"state": "released"}, 1},
	} {
		if got := gauge(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// gauge is value, for gauges too.
func gauge(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	if fam := fams[name]; fam != nil && fam.GetType() == dto.MetricType_GAUGE {
		for _, m := range fam.Metric {
			match := len(m.Label) == len(labels)
			for _, l := range m.Label {
				match = match && labels[l.GetName()] == l.GetValue()
			}
			if match {
				return m.GetGauge().GetValue()
			}
		}
		return -1
	}
	return value(fams, name, labels)
}
