package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
)

// The client's address is what lockouts, blocks, rate limits and the audit log use. It is
// the connection's peer, unless the peer is one of Options.TrustedProxies: then it is the
// last address in X-Forwarded-For that is not a trusted proxy (the header is read right to
// left, as each proxy appends the address it saw). From any other peer the header is
// ignored, so a client cannot choose its own address.

type clientKey struct{}

// clientAddress is the middleware that finds the client's address and refuses, before
// anything else, a request from an address a lock or block holds (static files excepted).
func (s *Server) clientAddress(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := s.client(r)
		r = r.WithContext(context.WithValue(r.Context(), clientKey{}, addr))
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			blocked, err := s.svc.AddressBlocked(r.Context(), addr)
			if err != nil {
				writeError(w, r, err, s.log)
				return
			}
			if blocked {
				writeError(w, r, fmt.Errorf("%w: requests from your address are refused until a director or an administrator releases it", derrors.Locked), s.log)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) client(r *http.Request) string {
	peer := peerAddr(r)
	if !s.trusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	addr := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.Trim(strings.TrimSpace(hops[i]), "[]"))
		if err != nil {
			return addr // a malformed hop: the nearest address known
		}
		addr = a.Unmap().String()
		if !s.trusted(addr) {
			return addr
		}
	}
	return addr
}

func (s *Server) trusted(addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr is the connection's peer address.
func peerAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// source is the request's client address (see clientAddress).
func source(r *http.Request) string {
	if a, ok := r.Context().Value(clientKey{}).(string); ok {
		return a
	}
	return peerAddr(r)
}

// routeScope is the token scope each route needs beyond its method's: GET and HEAD need
// read; a change needs admin unless listed here (queries need query; the export process
// export). Signing out needs none: any token may end itself.
var routeScope = map[string]access.Scope{
	"POST /api/v1/signout":                               "",
	"POST /api/v1/projects/{id}/queries":                 access.ScopeQuery,
	"GET /api/v1/projects/{id}/queries/{query}/patients": access.ScopeQuery,
	"POST /api/v1/projects/{id}/exports":                 access.ScopeExport,
	"POST /api/v1/projects/{id}/exports/sample":          access.ScopeExport,
	"POST /api/v1/projects/{id}/exports/tables":          access.ScopeExport,
	"PUT /api/v1/projects/{id}/exporters/{user}":         access.ScopeExport,
	"PUT /api/v1/projects/{id}/export-settings":          access.ScopeExport, // the officer's, as a review
	"POST /api/v1/exports/{eid}/review":                  access.ScopeExport,
	"POST /api/v1/exports/{eid}/recall":                  access.ScopeExport,
	"POST /api/v1/exports/{eid}/links":                   access.ScopeExport,
	"DELETE /api/v1/links/{lid}":                         access.ScopeExport,
	"GET /api/v1/download/{token}/{file}":                access.ScopeExport,
	// issue 16: the officer's retroactive checks and the data validator's decisions
	"PUT /api/v1/projects/{id}/retro/settings":           access.ScopeExport,
	"POST /api/v1/projects/{id}/retro/run":               access.ScopeExport,
	"PUT /api/v1/projects/{id}/retro/samples/{eid}":      access.ScopeExport,
	"POST /api/v1/projects/{id}/batches/{batch}/approve": access.ScopeExport,
	"POST /api/v1/projects/{id}/batches/{batch}/reject":  access.ScopeExport,
}

// needScope is the scope a token must carry for the route.
func needScope(r *http.Request) access.Scope {
	if sc, ok := routeScope[r.Pattern]; ok {
		return sc
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return access.ScopeRead
	}
	return access.ScopeAdmin
}
