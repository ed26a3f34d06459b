// Package web is the Steward server's HTTP face: a JSON API under /api/v1/ for scripts and
// plain HTML pages for people, both over the access service.
//
// Routing uses net/http.ServeMux patterns. Handlers return an error; one adapter turns the
// error's kind (internal/derrors) into a status — 400, 401, 403, 404, 409, 423, 429 — and a
// short message, and anything unexpected into a 500 whose detail goes to the log only.
// Middleware are functions wrapping a handler: security headers, cross-origin (CSRF)
// protection, a body size cap, panic recovery, and rate limits per source address and per
// user. API calls authenticate with a bearer token (POST /api/v1/signin returns one); pages
// use a session cookie (Secure, HttpOnly, SameSite=Lax) whose data lives in the database.
package web

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"golang.org/x/time/rate"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/transfer"
	"github.com/stewardhealth/steward/internal/warehouse"
)

//go:embed static templates openapi.json openapi.d
var files embed.FS

// Options tune the server.
type Options struct {
	// RateLimit is the sustained requests per second allowed per source address and per
	// user, with bursts of 4 times as many; 0 turns rate limiting off.
	RateLimit float64
	// InsecureCookies drops the Secure flag from the session cookie (plain-HTTP testing on a
	// host other than localhost). Leave false in production.
	InsecureCookies bool
	Log             *slog.Logger
	Airlock         *airlock.Service     // export requests (issue 8); nil: their routes answer 404
	Governance      *governance.Service  // issue 9: ethics review, consent, …; nil: the policy's notice periods
	Warehouse       *warehouse.Warehouse // cohort queries and patient-level data (nil: none)
	Grants          *transfer.Ledger     // the upload grants the hand-over page lists (nil: none kept here)
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client (see
	// client.go); from any other peer the header is ignored.
	TrustedProxies []netip.Prefix
	// NoMetrics leaves GET /metrics out (the counts are still kept).
	NoMetrics bool
	// AccessLog, when set, gets one line per request (metrics.go); nil: none.
	AccessLog *slog.Logger
	// I2B2Domain is the domain i2b2 clients sign in to (issue 20; DefaultI2B2Domain when empty).
	I2B2Domain string
	// PublicURL is the address clients reach the server at (https://steward.example.org): the
	// PM cell's cell list points i2b2 clients there. Empty: the scheme and host of the request.
	PublicURL string
}

// Server serves the API and the pages.
type Server struct {
	svc      *access.Service
	sessions *scs.SessionManager
	byAddr   *limiter
	byUser   *limiter
	log      *slog.Logger
	mux      *http.ServeMux
	routes   []route
	proxies  []netip.Prefix
	metrics  *metrics // metrics.go
	access   *slog.Logger
	// i2b2Domain and publicURL are Options.I2B2Domain and Options.PublicURL (i2b2.go).
	i2b2Domain, publicURL string
}

// route is one registered pattern, kept for the OpenAPI check.
type route struct{ Method, Path string }

// New builds the server's handler over the access service.
func New(svc *access.Service, o Options) *Server {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	sm := scs.New()
	sm.Store = access.SessionStore{DB: svc.DB}
	sm.Lifetime = 12 * time.Hour
	sm.IdleTimeout = time.Hour
	sm.HashTokenInStore = true
	sm.Cookie.Name = "steward_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.Secure = !o.InsecureCookies
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		o.Log.Error("session", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
	s := &Server{svc: svc, sessions: sm, log: o.Log, mux: http.NewServeMux(), proxies: o.TrustedProxies, access: o.AccessLog,
		i2b2Domain: o.I2B2Domain, publicURL: strings.TrimSuffix(o.PublicURL, "/")}
	s.metrics = newMetrics(svc.DB, o.Log)
	if o.RateLimit > 0 {
		s.byAddr = newLimiter(o.RateLimit)
		s.byUser = newLimiter(o.RateLimit)
	}
	s.apiRoutes()
	s.pageRoutes()
	s.airlockRoutes(o.Airlock)
	s.retroRoutes(o.Airlock)
	s.governanceRoutes(o.Governance)
	s.warehouseRoutes(o.Warehouse)
	s.handoverRoutes(o.Grants)
	s.i2b2Routes(o.Warehouse)
	static, _ := fs.Sub(files, "static")
	s.handle("GET /healthz", s.healthz) // health.go
	if !o.NoMetrics {
		s.mux.Handle("GET /metrics", s.metrics.handler()) // metrics.go
	}
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheForever(http.FileServerFS(static))))
	return s
}

// Handler returns the whole server with its middleware.
func (s *Server) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, fmt.Errorf("%w: cross-origin request refused", derrors.Forbidden), s.log)
	}))
	return s.metrics.instrument(recoverPanics(securityHeaders(s.clientAddress(cop.Handler(s.limitAddr(capBody(s.sessions.LoadAndSave(s.watchUnknown(notePattern(s.mux)))))))), s.log), s.access)
}

// handle registers a handler that returns an error.
func (s *Server) handle(pattern string, h func(http.ResponseWriter, *http.Request) error) {
	method, path, _ := cutSpace(pattern)
	s.routes = append(s.routes, route{method, path})
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, err, s.log)
		}
	})
}

func cutSpace(p string) (string, string, bool) {
	for i := range p {
		if p[i] == ' ' {
			return p[:i], p[i+1:], true
		}
	}
	return "", p, false
}

// status maps an error's kind to an HTTP status.
func status(err error) int {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return http.StatusRequestEntityTooLarge
	}
	switch derrors.Kind(err) {
	case derrors.Invalid:
		return http.StatusBadRequest
	case derrors.Unauthenticated:
		return http.StatusUnauthorized
	case derrors.Forbidden:
		return http.StatusForbidden
	case derrors.NotFound:
		return http.StatusNotFound
	case derrors.Conflict:
		return http.StatusConflict
	case derrors.Locked:
		return http.StatusLocked
	case derrors.TooMany:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// publicMessage is what the client is told: the error for known kinds, nothing more for the rest.
func publicMessage(err error, code int) string {
	if code == http.StatusInternalServerError {
		return "internal error"
	}
	return neutralText(err.Error())
}

// writeError answers with the error's status: JSON under /api/, text elsewhere.
func writeError(w http.ResponseWriter, r *http.Request, err error, log *slog.Logger) {
	code := status(err)
	if code == http.StatusInternalServerError {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if code == http.StatusUnauthorized && isAPI(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="steward"`)
	}
	var d *access.DelayError
	if errors.As(err, &d) {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Wait.Seconds()))))
	}
	if isAPI(r) {
		writeJSON(w, code, map[string]string{"error": publicMessage(err, code)})
		return
	}
	http.Error(w, publicMessage(err, code), code)
}

func isAPI(r *http.Request) bool { return len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/api/" }

func writeJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// securityHeaders sets the headers every answer carries.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		if r.TLS != nil {
			hd.Set("Strict-Transport-Security", "max-age=63072000")
		}
		h.ServeHTTP(w, r)
	})
}

func cacheForever(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(w, r)
	})
}

// capBody refuses request bodies over 1 MiB.
func capBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		h.ServeHTTP(w, r)
	})
}

func recoverPanics(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil && v != http.ErrAbortHandler {
				log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// limiter keeps one token bucket per key, forgetting keys idle for ten minutes.
type limiter struct {
	mu    sync.Mutex
	rate  rate.Limit
	burst int
	m     map[string]*bucket
	swept time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimiter(perSecond float64) *limiter {
	return &limiter{rate: rate.Limit(perSecond), burst: max(1, int(4*perSecond)), m: map[string]*bucket{}, swept: time.Now()}
}

// allow takes a token for key, or returns how long to wait for one.
func (l *limiter) allow(key string) (time.Duration, bool) {
	if l == nil {
		return 0, true
	}
	now := time.Now()
	l.mu.Lock()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.m {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.m, k)
			}
		}
		l.swept = now
	}
	b := l.m[key]
	if b == nil {
		b = &bucket{l: rate.NewLimiter(l.rate, l.burst)}
		l.m[key] = b
	}
	b.seen = now
	l.mu.Unlock()
	res := b.l.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, false
	}
	return 0, true
}

// tooMany answers 429 with Retry-After in whole seconds.
func tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration, log *slog.Logger) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	writeError(w, r, fmt.Errorf("%w: slow down and retry after %s", derrors.TooMany, wait.Round(time.Second).String()), log)
}

func (s *Server) limitAddr(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait, ok := s.byAddr.allow(source(r)); !ok {
			tooMany(w, r, wait, s.log)
			return
		}
		h.ServeHTTP(w, r)
	})
}
