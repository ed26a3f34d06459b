package web

import (
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

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
