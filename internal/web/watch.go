package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/stewardhealth/steward/internal/access"
)

// watch runs h for the signed-in principal p and, when the answer is a refusal (401, 403 or
// 404, whether returned as an error or written by the handler), has the access service
// record it: seed 002's "unauthorized access … will be monitored". The answer itself is
// not changed; a failure to record is logged.
func (s *Server) watch(w http.ResponseWriter, r *http.Request, p access.Principal, h APIHandler) error {
	noteUser(r, p.User)
	sw := &statusWriter{ResponseWriter: w}
	err := h(sw, r, p)
	code := sw.code
	if err != nil {
		code = status(err)
	}
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		s.metrics.refused.WithLabelValues(r.Pattern, strconv.Itoa(code)).Inc()
		if rerr := s.svc.Refused(r.Context(), p, r.Pattern, resource(r), code); rerr != nil {
			s.log.Error("record refused request", "err", rerr)
		}
	}
	return err
}

// secretWildcards are path wildcards that hold secrets (a download link's token): the
// audit log names them, never their values.
var secretWildcards = map[string]bool{"token": true}

// resource is the request's path rebuilt from its route pattern, with secret wildcards
// masked; the query string (which may carry a client identifier) is left out.
func resource(r *http.Request) string {
	_, path, _ := cutSpace(r.Pattern)
	if path == "" {
		return r.URL.Path
	}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if len(seg) < 2 || seg[0] != '{' || seg[len(seg)-1] != '}' {
			continue
		}
		name := strings.TrimSuffix(seg[1:len(seg)-1], "...")
		if name == "$" {
			segs[i] = ""
			continue
		}
		if !secretWildcards[name] {
			segs[i] = r.PathValue(name)
		}
	}
	return strings.Join(segs, "/")
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer (flushes, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// watchUnknown records a 404 for a path no route serves when the request carries a live
// token or session: probing for hidden pages is refused access too.
func (s *Server) watchUnknown(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := s.mux.Handler(r); pattern != "" {
			h.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.code != http.StatusNotFound {
			return
		}
		var p access.Principal
		var err error
		if secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			p, _, err = s.svc.Authenticate(r.Context(), strings.TrimSpace(secret), source(r))
		} else if name := s.sessions.GetString(r.Context(), "user"); name != "" {
			p, err = s.svc.Active(r.Context(), name, source(r))
		} else {
			return
		}
		if err != nil {
			return
		}
		path := r.URL.Path
		if len(path) > 200 {
			path = path[:200]
		}
		if rerr := s.svc.Refused(r.Context(), p, "(no route)", path, http.StatusNotFound); rerr != nil {
			s.log.Error("record refused request", "err", rerr)
		}
	})
}
