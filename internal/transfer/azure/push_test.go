package azure

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/stewardhealth/steward/internal/transfer/azure/azuritetest"
)

const testBlock = 64 << 10

var bundle = azuritetest.Bundle

// counter is a Progress that cancels the push after stop staged blocks (0: never).
type counter struct {
	mu     sync.Mutex
	blocks int
	stop   int
	cancel context.CancelFunc
}

func (c *counter) File(string, int64, int64) FileProgress { return c }
func (c *counter) Add(int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blocks++; c.blocks == c.stop {
		c.cancel()
	}
}
func (c *counter) Done(error) {}

func TestPushCheckRevoke(t *testing.T) {
	s := azuritetest.New(t, azuritetest.Options{})
	a := account(s)
	ctx := context.Background()
	g, tok := grant(t, a, GrantRequest{})
	dir := bundle(t, map[string]int{"db.dump": 10*testBlock + 123, "small.txt": 5, "empty": 0})
	o := PushOptions{BlockSize: testBlock, Client: s.Client}
	rep, err := Push(ctx, tok, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files != 4 || rep.BlocksSent != 11+1+1 || rep.BlocksSkipped != 0 || !rep.Resumable {
		t.Errorf("first push: got %+v, want 4 files, 13 blocks sent", rep)
	}
	res, err := a.Check(ctx, "handover", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || len(res.Files) != 3 || len(res.Extra) != 0 {
		t.Errorf("check after push: got %+v, want 3 matching files and nothing else", res)
	}
	rep, err = Push(ctx, tok, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.FilesSkipped != 4 || rep.BlocksSent != 0 {
		t.Errorf("second push: got %+v, want every file skipped and no block sent", rep)
	}
	if ok, err := a.Revoke(ctx, g); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	r, err := a.ProveDead(ctx, g, time.Minute)
	if err != nil || r == nil {
		t.Fatalf("prove dead: %v, %v", r, err)
	}
	_, err = Push(ctx, tok, bundle(t, map[string]int{"x": 1}), o)
	if !errors.As(err, &r) {
		t.Errorf("push after revoke: got %v, want a refusal", err)
	}
}

func TestCheckFindsDamage(t *testing.T) {
	s := azuritetest.New(t, azuritetest.Options{})
	a := account(s)
	ctx := context.Background()
	_, tok := grant(t, a, GrantRequest{})
	dir := bundle(t, map[string]int{"a": 1000, "b": 2000, "c": 3000})
	if _, err := Push(ctx, tok, dir, PushOptions{BlockSize: testBlock, Client: s.Client}); err != nil {
		t.Fatal(err)
	}
	c, _, _ := a.container("handover")
	same := bytes.Repeat([]byte{'x'}, 1000)
	if _, err := c.NewBlockBlobClient("a").Upload(ctx, streaming.NopCloser(bytes.NewReader(same)), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NewBlobClient("b").Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NewBlockBlobClient("c").Upload(ctx, streaming.NopCloser(bytes.NewReader(same)), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NewBlockBlobClient("stray").Upload(ctx, streaming.NopCloser(bytes.NewReader(same)), nil); err != nil {
		t.Fatal(err)
	}
	res, err := a.Check(ctx, "handover", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "SHA-256 differs", "b": "missing", "c": "size 1000, want 3000"}
	for _, f := range res.Files {
		if !strings.Contains(f.Problem, want[f.Name]) || f.Problem == "" {
			t.Errorf("%s: got problem %q, want %q", f.Name, f.Problem, want[f.Name])
		}
	}
	if res.OK() || len(res.Extra) != 1 || res.Extra[0] != "stray" {
		t.Errorf("check: OK %v, extra %v; want not OK and extra [stray]", res.OK(), res.Extra)
	}
}

func TestPushResumes(t *testing.T) {
	s := azuritetest.New(t, azuritetest.Options{})
	a := account(s)
	_, tok := grant(t, a, GrantRequest{})
	const blocks = 40
	dir := bundle(t, map[string]int{"db.dump": blocks*testBlock - 7})
	ctx, cancel := context.WithCancel(context.Background())
	first, err := Push(ctx, tok, dir, PushOptions{BlockSize: testBlock, Client: s.Client, Progress: &counter{stop: 12, cancel: cancel}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted push: got %v, want context canceled", err)
	}
	if first.BlocksSent < 12 || first.BlocksSent >= blocks {
		t.Fatalf("interrupted push sent %d blocks, want 12..%d", first.BlocksSent, blocks-1)
	}
	if _, err := a.Check(context.Background(), "handover", nil); err == nil || !strings.Contains(err.Error(), "has not finished") {
		t.Errorf("check after an interrupted push: got %v, want it to say the upload has not finished", err)
	}
	c := &counter{}
	second, err := Push(context.Background(), tok, dir, PushOptions{BlockSize: testBlock, Client: s.Client, Progress: c})
	if err != nil {
		t.Fatal(err)
	}
	// Blocks in flight when the first run stopped may or may not have reached the service.
	if second.BlocksSkipped < first.BlocksSent || second.BlocksSent+second.BlocksSkipped != blocks+1 || c.blocks != second.BlocksSent {
		t.Errorf("resumed push: got %+v (progress saw %d blocks), want the %d blocks sent before skipped and only the other %d of %d sent",
			second, c.blocks, first.BlocksSent, blocks+1-first.BlocksSent, blocks+1)
	}
	res, err := a.Check(context.Background(), "handover", nil)
	if err != nil || !res.OK() {
		t.Errorf("check after the resumed push: %+v, %v", res, err)
	}
}

func TestPushWithoutRead(t *testing.T) {
	s := azuritetest.New(t, azuritetest.Options{})
	a := account(s)
	_, tok := grant(t, a, GrantRequest{Permissions: "cw"})
	dir := bundle(t, map[string]int{"db.dump": 3 * testBlock})
	rep, err := Push(context.Background(), tok, dir, PushOptions{BlockSize: testBlock, Client: s.Client})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Resumable || rep.BlocksSent != 4 {
		t.Errorf("push with a create+write token: got %+v, want 4 blocks sent and no resume", rep)
	}
	if res, err := a.Check(context.Background(), "handover", nil); err != nil || !res.OK() {
		t.Errorf("check: %+v, %v", res, err)
	}
}

// TestPushRetries puts a proxy between push and Azurite that answers some block uploads
// with 503 Server Busy and drops the connection of others: push must retry them and finish,
// with every file intact.
func TestPushRetries(t *testing.T) {
	s := azuritetest.New(t, azuritetest.Options{})
	a := account(s)
	_, tok := grant(t, a, GrantRequest{})
	target, _ := url.Parse(s.Endpoint)
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	rp.Transport = s.Client.Transport
	var n, busy, dropped atomic.Int32
	proxy := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("comp") == "block" {
			switch n.Add(1) {
			case 1, 6:
				busy.Add(1)
				io.Copy(io.Discard, r.Body)
				w.Header().Set("x-ms-error-code", "ServerBusy")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			case 3, 8:
				dropped.Add(1)
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	proxy.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	proxy.StartTLS()
	defer proxy.Close()
	viaProxy := strings.Replace(tok, target.Host, strings.TrimPrefix(proxy.URL, "https://"), 1)

	dir := bundle(t, map[string]int{"db.dump": 10 * testBlock})
	rep, err := Push(context.Background(), viaProxy, dir, PushOptions{BlockSize: testBlock, Client: s.Client})
	if err != nil {
		t.Fatalf("push through a flaky proxy: %v", err)
	}
	if busy.Load() != 2 || dropped.Load() != 2 || rep.BlocksSent != 11 {
		t.Errorf("got %d busy answers, %d dropped connections, %d blocks sent; want 2, 2 and 11 blocks", busy.Load(), dropped.Load(), rep.BlocksSent)
	}
	if res, err := a.Check(context.Background(), "handover", nil); err != nil || !res.OK() {
		t.Errorf("check: %+v, %v", res, err)
	}
}
