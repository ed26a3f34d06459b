package web

import (
	"context"
	"net/http"
	"time"

	"github.com/stewardhealth/steward/internal/version"
)

// health is the answer of GET /healthz, for load balancers and monitoring: no sign-in, no
// data, only whether the application store answers and which build is running.
type health struct {
	Status  string `json:"status"` // ok | unavailable
	Version string `json:"version"`
	Store   string `json:"store"` // ok | unreachable
}

// healthz answers 200 when the store answers a ping within two seconds, 503 otherwise. The
// store's error goes to the log only.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	h, code := health{Status: "ok", Version: version.String(), Store: "ok"}, http.StatusOK
	if err := s.svc.DB.PingContext(ctx); err != nil {
		s.log.Warn("healthz: the store does not answer", "err", err)
		h.Status, h.Store, code = "unavailable", "unreachable", http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, code, h)
}
