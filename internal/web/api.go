package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
)

// APIHandler is an API handler for a signed-in principal. It returns an error wrapping a
// derrors kind for a refusal (turned into the matching status and a JSON {"error": …}).
type APIHandler func(w http.ResponseWriter, r *http.Request, p access.Principal) error

// HandleAPI registers an API route for signed-in callers (bearer token, per-user rate limit),
// e.g. s.HandleAPI("GET /api/v1/projects/{id}/queries", h). Every /api/ route must also be in
// the OpenAPI document — openapi.json, plus one fragment per capability in openapi.d/ — a test
// compares the two.
func (s *Server) HandleAPI(pattern string, h APIHandler) { s.handle(pattern, s.bearer(h)) }

// HandlePage registers a page route for signed-in people (session cookie), site
// administrators only (access.ManageUsers) when admin is set; strangers are sent to the
// sign-in page. The handler writes the page.
func (s *Server) HandlePage(pattern string, admin bool, h APIHandler) {
	pg := page{}
	if admin {
		pg.need = access.ManageUsers
	}
	s.handle(pattern, s.signedIn(pg, h))
}

func (s *Server) apiRoutes() {
	s.handle("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) error {
		b, err := openAPI()
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		_, err = w.Write(b)
		return err
	})
	s.handle("POST /api/v1/signin", s.apiSignIn)
	s.handle("POST /api/v1/signout", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		return noContent(w, s.svc.RevokeToken(r.Context(), p, tokenID(r)))
	}))
	s.handle("GET /api/v1/me", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		u, err := s.svc.User(r.Context(), p.User)
		if err != nil {
			return err
		}
		projects, err := s.myProjects(r, p)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, struct {
			access.User
			Projects []projectRoles `json:"projects"`
		}{u, projects})
	}))
	s.handle("GET /api/v1/projects", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		projects, err := s.myProjects(r, p)
		return reply(w, projects, err)
	}))
	s.handle("GET /api/v1/projects/{id}", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		x, err := s.svc.Project(r.Context(), p, r.PathValue("id"))
		return reply(w, projectRoles{x, rolesOf(p, x.Code)}, err)
	}))
	s.handle("POST /api/v1/projects", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var x access.Project
		return created(w, r, &x, func() error { return s.svc.CreateProject(r.Context(), p, x) })
	}))
	s.handle("GET /api/v1/projects/{id}/grants", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		g, err := s.svc.Grants(r.Context(), p, r.PathValue("id"))
		return reply(w, g, err)
	}))
	s.handle("POST /api/v1/projects/{id}/grants", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var g grantRequest
		return created(w, r, &g, func() error { return s.svc.Grant(r.Context(), p, g.User, r.PathValue("id"), g.Role) })
	}))
	s.handle("DELETE /api/v1/projects/{id}/grants/{user}/{role}", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		return noContent(w, s.svc.Revoke(r.Context(), p, r.PathValue("user"), r.PathValue("id"), access.Role(r.PathValue("role"))))
	}))
	s.handle("GET /api/v1/users", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		u, err := s.svc.Users(r.Context(), p)
		return reply(w, u, err)
	}))
	s.handle("POST /api/v1/users", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var u newUser
		return created(w, r, &u, func() error { return s.svc.CreateUser(r.Context(), p, u.user(), u.Password) })
	}))
	s.handle("GET /api/v1/regions", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		rs, err := s.svc.Regions(r.Context())
		return reply(w, rs, err)
	}))
	s.handle("POST /api/v1/regions", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var x access.Region
		return created(w, r, &x, func() error { return s.svc.CreateRegion(r.Context(), p, x) })
	}))
	s.handle("GET /api/v1/agencies", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		as, err := s.svc.Agencies(r.Context(), p)
		return reply(w, as, err)
	}))
	s.handle("POST /api/v1/agencies", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var x access.Agency
		return created(w, r, &x, func() error { return s.svc.CreateAgency(r.Context(), p, x) })
	}))
	s.handle("GET /api/v1/tokens", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		ts, err := s.svc.Tokens(r.Context(), p)
		return reply(w, ts, err)
	}))
	s.handle("POST /api/v1/tokens", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var req struct {
			Label      string   `json:"label"`
			TTLSeconds int64    `json:"ttl_seconds"`
			Scopes     []string `json:"scopes"`
		}
		if err := decode(r, &req); err != nil {
			return err
		}
		if req.TTLSeconds < 0 || req.TTLSeconds > 1<<31 {
			return fmt.Errorf("%w: ttl_seconds out of range", derrors.Invalid)
		}
		if len(req.Scopes) == 0 {
			req.Scopes = []string{string(access.ScopeRead)} // least privilege unless asked
		}
		scopes, err := access.ParseScopes(req.Scopes)
		if err != nil {
			return err
		}
		secret, t, err := s.svc.CreateToken(r.Context(), p, req.Label, time.Duration(req.TTLSeconds)*time.Second, scopes...)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, tokenReply{secret, t})
	}))
	s.handle("DELETE /api/v1/tokens/{id}", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		return noContent(w, s.svc.RevokeToken(r.Context(), p, r.PathValue("id")))
	}))
	s.handle("GET /api/v1/locks", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		ls, err := s.svc.Locks(r.Context(), p)
		return reply(w, ls, err)
	}))
	s.handle("POST /api/v1/locks/unlock", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var u unlockRequest
		if err := decode(r, &u); err != nil {
			return err
		}
		res, err := s.svc.Unlock(r.Context(), p, u.Kind, u.Key, u.Reason)
		if err != nil || res == access.Unlocked {
			return noContent(w, err)
		}
		return writeJSON(w, http.StatusAccepted, map[string]string{"result": string(res),
			"message": "the lock is for refused access: a director reinstates the account; the directors have been mailed your request"})
	}))
	s.handle("POST /api/v1/locks/block", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var b struct {
			Address string `json:"address"`
			Reason  string `json:"reason"`
		}
		if err := decode(r, &b); err != nil {
			return err
		}
		return noContent(w, s.svc.Block(r.Context(), p, b.Address, b.Reason))
	}))
	s.handle("GET /api/v1/audit", s.bearer(func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		f, err := auditFilter(r)
		if err != nil {
			return err
		}
		es, err := s.svc.AuditLog(r.Context(), p, f)
		return reply(w, es, err)
	}))
}

type projectRoles struct {
	access.Project
	Roles []access.Role `json:"roles"`
}

type grantRequest struct {
	User string      `json:"user"`
	Role access.Role `json:"role"`
}

type unlockRequest struct {
	Kind   string `json:"kind"`
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

type newUser struct {
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	Email    string `json:"email"`
	Agency   string `json:"agency"`
	Admin    bool   `json:"admin"`
	Director bool   `json:"director"`
	Level    string `json:"level"`
	Password string `json:"password"`
}

func (u newUser) user() access.User {
	return access.User{Name: u.Name, FullName: u.FullName, Email: u.Email, Agency: u.Agency, Admin: u.Admin, Director: u.Director, Level: access.Level(u.Level)}
}

type tokenReply struct {
	Secret string `json:"token"`
	access.Token
}

func rolesOf(p access.Principal, project string) []access.Role {
	rs := p.Projects[project]
	if rs == nil {
		rs = []access.Role{}
	}
	return rs
}

func (s *Server) myProjects(r *http.Request, p access.Principal) ([]projectRoles, error) {
	xs, err := s.svc.Projects(r.Context(), p)
	out := make([]projectRoles, len(xs))
	for i, x := range xs {
		out[i] = projectRoles{x, rolesOf(p, x.Code)}
	}
	return out, err
}

func (s *Server) apiSignIn(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.User == "" || req.Password == "" || len(req.User) > 200 || len(req.Password) > 1024 {
		return fmt.Errorf("%w: user and password are required", derrors.Invalid)
	}
	p, err := s.svc.SignIn(r.Context(), req.User, req.Password, source(r))
	if err != nil {
		return err
	}
	secret, t, err := s.svc.CreateToken(r.Context(), p, "sign-in", 0)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tokenReply{secret, t})
}

// bearer authenticates an API call by its bearer token and applies the per-user rate limit.
func (s *Server) bearer(h APIHandler) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			return fmt.Errorf("%w: send Authorization: Bearer TOKEN (POST /api/v1/signin gives one)", derrors.Unauthenticated)
		}
		p, id, err := s.svc.Authenticate(r.Context(), strings.TrimSpace(secret), source(r))
		if err != nil {
			if k := derrors.Kind(err); k == derrors.Unauthenticated || k == derrors.Locked {
				if rerr := s.svc.TokenRefused(r.Context(), source(r), r.Pattern, err); rerr != nil {
					s.log.Error("record refused token", "err", rerr)
				}
			}
			return err
		}
		if wait, ok := s.byUser.allow(p.User); !ok {
			tooMany(w, r, wait, s.log)
			return nil
		}
		r = r.WithContext(context.WithValue(r.Context(), tokenKey{}, id))
		return s.watch(w, r, p, func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
			if sc := needScope(r); sc != "" && !p.HasScope(sc) {
				return fmt.Errorf("%w: this token lacks the %s scope %s needs", derrors.Forbidden, sc, r.Pattern)
			}
			return h(w, r, p)
		})
	}
}

type tokenKey struct{}

// tokenID is the id of the token that authenticated the request.
func tokenID(r *http.Request) string { id, _ := r.Context().Value(tokenKey{}).(string); return id }

// decode reads one JSON object from the body into v, refusing unknown fields and trailing data.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: request body: want a JSON object", derrors.Invalid)
		}
		return fmt.Errorf("%w: request body: %v", derrors.Invalid, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: request body: data after the JSON object", derrors.Invalid)
	}
	return nil
}

// noContent answers 204, or returns err.
func noContent(w http.ResponseWriter, err error) error {
	if err == nil {
		w.WriteHeader(http.StatusNoContent)
	}
	return err
}

// reply writes v as JSON, or returns err.
func reply(w http.ResponseWriter, v any, err error) error {
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// created decodes the body into v, runs fn and answers 201 with v.
func created(w http.ResponseWriter, r *http.Request, v any, fn func() error) error {
	if err := decode(r, v); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	if u, ok := v.(*newUser); ok {
		return writeJSON(w, http.StatusCreated, u.user())
	}
	return writeJSON(w, http.StatusCreated, v)
}

// auditFilter reads the audit log's filters from the query string.
func auditFilter(r *http.Request) (store.Filter, error) {
	q := r.URL.Query()
	f := store.Filter{Actor: q.Get("actor"), Action: q.Get("action"), Object: q.Get("object"), Source: q.Get("source")}
	for _, t := range []struct {
		name string
		dst  *string
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v := q.Get(t.name)
		if v == "" {
			continue
		}
		if len(v) < 4 || len(v) > len(store.TimeFormat) || !validTime(v) {
			return f, fmt.Errorf("%w: %s must be a UTC time like 2026-11-23 or 2026-11-23T14:05:00", derrors.Invalid, t.name)
		}
		*t.dst = v
	}
	for _, n := range []struct {
		name string
		dst  func(int64)
	}{{"limit", func(v int64) { f.Limit = int(v) }}, {"before", func(v int64) { f.Before = v }}, {"after", func(v int64) { f.After = v }}} {
		if v := q.Get(n.name); v != "" {
			i, err := strconv.ParseInt(v, 10, 64)
			if err != nil || i < 1 {
				return f, fmt.Errorf("%w: %s must be a positive whole number", derrors.Invalid, n.name)
			}
			n.dst(i)
		}
	}
	if f.Before > 0 && f.After > 0 {
		return f, fmt.Errorf("%w: give before or after, not both", derrors.Invalid)
	}
	for _, v := range []string{f.Actor, f.Action, f.Object, f.Source} {
		if len(v) > 200 {
			return f, fmt.Errorf("%w: a filter is longer than 200 characters", derrors.Invalid)
		}
	}
	return f, nil
}

// validTime reports whether v is a prefix of a time in store.TimeFormat that parses.
func validTime(v string) bool {
	_, err := time.Parse(store.TimeFormat[:len(v)], v)
	return err == nil
}
