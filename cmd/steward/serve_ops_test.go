package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/version"
)

// steward serve as an operator runs it: /healthz answers with the version, /metrics is
// served (or not, with --metrics=false), and --access-log FILE gets a JSON line per request.
func TestServeHealthMetricsAccessLog(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("STEWARD_HOME", dir)
	db := filepath.Join(dir, "steward.db")
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("Fj4-overt-quilt-Maple9\n"), 0o600)
	if out, err := steward(t, "admin", "bootstrap", "admin", "--password-file", pw, "--db", db); err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, out)
	}
	serve := func(extra ...string) (base string, stop func()) {
		addr := fmt.Sprintf("127.0.0.1:%d", closedPort(t))
		ctx, cancel := context.WithCancel(context.Background())
		var out bytes.Buffer
		done := make(chan error, 1)
		go func() {
			root := newRoot()
			root.SetArgs(append([]string{"serve", "--db", db, "--addr", addr}, extra...))
			root.SetOut(io.Discard)
			root.SetErr(&out)
			done <- root.ExecuteContext(ctx)
		}()
		base = "http://" + addr
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if resp, err := http.Get(base + "/healthz"); err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("serve did not answer on %s", addr)
			}
		}
		return base, func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
	}
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	logFile := filepath.Join(dir, "access.log")
	base, stop := serve("--access-log", logFile)
	code, body := get(base + "/healthz")
	var h struct{ Status, Version, Store string }
	if json.Unmarshal([]byte(body), &h); code != 200 || h.Status != "ok" || h.Version != version.String() {
		t.Errorf("/healthz: %d %s", code, body)
	}
	if code, body := get(base + "/metrics"); code != 200 || !strings.Contains(body, `steward_http_requests_total{route="GET /healthz",status="200"}`) {
		t.Errorf("/metrics: %d\n%.500s", code, body)
	}
	stop()
	b, _ := os.ReadFile(logFile)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var first struct {
		Route     string
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.RequestID == "" || first.Route != "GET /healthz" {
		t.Errorf("the first access log line %q: %v", lines[0], err)
	}
	if len(lines) < 3 || !strings.Contains(string(b), `"route":"GET /metrics"`) || !strings.Contains(string(b), `"route":"GET /healthz","status":200`) {
		t.Errorf("access log:\n%s\nwant a JSON line per request", b)
	}
	if st, err := os.Stat(logFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("access log mode: %v", err)
	}
	// The same settings from a configuration file, one overridden by the environment.
	conf, log2 := filepath.Join(dir, "serve.yaml"), filepath.Join(dir, "access2.log")
	os.WriteFile(conf, []byte("metrics: false\naccess-log: ''\ntrusted-proxy: [10.0.0.0/8]\n"), 0o600)
	t.Setenv("STEWARD_ACCESS_LOG", log2)
	base, stop = serve("--config", conf)
	if code, _ := get(base + "/metrics"); code != 404 {
		t.Errorf("/metrics with metrics: false in the configuration: %d, want 404", code)
	}
	stop()
	if b, _ := os.ReadFile(log2); !strings.Contains(string(b), `"route":"unmatched","status":404`) {
		t.Errorf("STEWARD_ACCESS_LOG over the configuration's access-log: %s has %q", log2, b)
	}
}
