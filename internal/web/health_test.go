package web

import (
	"encoding/json"
	"testing"

	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/version"
)

// A load balancer asks /healthz without signing in: 200 with the version while the store
// answers, 503 once it does not (here: the store is closed under the running server).
func TestHealthz(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		var h health
		code, body, hdr := f.call("GET", "/healthz", "", "")
		if err := json.Unmarshal([]byte(body), &h); err != nil {
			t.Fatalf("/healthz: %v: %q", err, body)
		}
		if code != 200 || h.Status != "ok" || h.Store != "ok" || h.Version != version.String() || h.Version == "" {
			t.Fatalf("/healthz with the store up: %d %s, want 200 ok with version %q", code, body, version.String())
		}
		if ct := hdr.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("/healthz Content-Type %q", ct)
		}
		db.Close()
		code, body, _ = f.call("GET", "/healthz", "", "")
		h = health{}
		json.Unmarshal([]byte(body), &h)
		if code != 503 || h.Status != "unavailable" || h.Store != "unreachable" || h.Version != version.String() {
			t.Fatalf("/healthz with the store closed: %d %s, want 503 unavailable, store unreachable", code, body)
		}
	})
}
