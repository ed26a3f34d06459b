package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/governance"
)

// A page is a template over data loaded for the signed-in principal. A form posted to a page
// runs an action; on success the browser is sent back to the page (303) with a notice, on a
// refused input the page is shown again with the error and the error's status.
type page struct {
	name string        // template file under templates/
	need access.Action // a site action the page needs (access.Allowed decides); "" for any signed-in user
	load func(r *http.Request, p access.Principal) (any, error)
}

// view is what every template gets.
type view struct {
	Title   string
	Me      access.Principal
	Notice  string
	Error   string
	Data    any
	Request *http.Request
}

var funcs = template.FuncMap{
	"join": func(rs []access.Role) string {
		s := make([]string, len(rs))
		for i, r := range rs {
			s[i] = string(r)
		}
		return strings.Join(s, ", ")
	},
	"roles": func() []access.Role { return access.Roles },
	"manages": func(p access.Principal, x projectRoles) bool {
		return access.Allowed(p, access.ManageGrants, x.Project)
	},
	// may is a site action as access.Allowed decides it, for what a page offers.
	"may":           func(p access.Principal, a string) bool { return access.Allowed(p, access.Action(a), access.Project{}) },
	"last":          func(es []audit.Entry) int { return len(es) - 1 },
	"withoutCursor": func(q url.Values) string { return withoutCursor(q).Encode() },
	// assurances are the sentences of the assurance ids given, in the policy's order.
	"assurances": governance.AssuranceSentences,
}

func (s *Server) tmpl(name string) *template.Template {
	return template.Must(template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name))
}

func (s *Server) pageRoutes() {
	s.handle("GET /signin", func(w http.ResponseWriter, r *http.Request) error {
		return s.render(w, r, http.StatusOK, s.tmpl("signin.html"), view{Title: "Sign in"})
	})
	signin := s.tmpl("signin.html")
	s.handle("POST /signin", func(w http.ResponseWriter, r *http.Request) error {
		name, password := strings.TrimSpace(r.PostFormValue("user")), r.PostFormValue("password")
		var err error
		if name == "" || password == "" || len(name) > 200 || len(password) > 1024 {
			err = fmt.Errorf("%w: give your user name and password", derrors.Invalid)
		} else {
			_, err = s.svc.SignIn(r.Context(), name, password, source(r))
		}
		if err != nil {
			if status(err) == http.StatusInternalServerError {
				return err
			}
			return s.render(w, r, status(err), signin, view{Title: "Sign in", Error: err.Error()})
		}
		if err := s.sessions.RenewToken(r.Context()); err != nil {
			return err
		}
		s.sessions.Put(r.Context(), "user", name)
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	})
	s.handle("POST /signout", func(w http.ResponseWriter, r *http.Request) error {
		if name := s.sessions.GetString(r.Context(), "user"); name != "" {
			if err := s.svc.SignOut(r.Context(), access.Principal{User: name, Source: source(r)}); err != nil {
				return err
			}
		}
		if err := s.sessions.Destroy(r.Context()); err != nil {
			return err
		}
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return nil
	})

	home := page{name: "home.html", load: func(r *http.Request, p access.Principal) (any, error) { return s.myProjects(r, p) }}
	s.pageHandlers("/", "My projects", home, nil)

	users := page{name: "users.html", need: access.ManageUsers, load: func(r *http.Request, p access.Principal) (any, error) {
		us, err := s.svc.Users(r.Context(), p)
		as, err2 := s.svc.Agencies(r.Context(), p)
		return struct {
			Users    []access.User
			Agencies []access.Agency
		}{us, as}, errors.Join(err, err2)
	}}
	s.pageHandlers("/admin/users", "Users", users, func(r *http.Request, p access.Principal) (string, error) {
		u := access.User{Name: r.PostFormValue("name"), FullName: r.PostFormValue("full_name"), Email: r.PostFormValue("email"),
			Agency: r.PostFormValue("agency"), Admin: r.PostFormValue("admin") == "on", Director: r.PostFormValue("director") == "on"}
		return "User " + u.Name + " added.", s.svc.CreateUser(r.Context(), p, u, r.PostFormValue("password"))
	})

	agencies := page{name: "agencies.html", need: access.ManageUsers, load: func(r *http.Request, p access.Principal) (any, error) {
		rs, err := s.svc.Regions(r.Context())
		as, err2 := s.svc.Agencies(r.Context(), p)
		return struct {
			Regions  []access.Region
			Agencies []access.Agency
		}{rs, as}, errors.Join(err, err2)
	}}
	s.pageHandlers("/admin/agencies", "Agencies and regions", agencies, func(r *http.Request, p access.Principal) (string, error) {
		if r.PostFormValue("what") == "region" {
			x := access.Region{Code: r.PostFormValue("code"), Name: r.PostFormValue("name")}
			return "Region " + x.Code + " added.", s.svc.CreateRegion(r.Context(), p, x)
		}
		x := access.Agency{Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), Region: r.PostFormValue("region")}
		return "Agency " + x.Code + " added.", s.svc.CreateAgency(r.Context(), p, x)
	})

	projects := page{name: "projects.html", need: access.ManageUsers, load: func(r *http.Request, p access.Principal) (any, error) {
		xs, err := s.svc.Projects(r.Context(), p)
		as, err2 := s.svc.Agencies(r.Context(), p)
		return struct {
			Projects []access.Project
			Agencies []access.Agency
		}{xs, as}, errors.Join(err, err2)
	}}
	s.pageHandlers("/admin/projects", "Projects", projects, func(r *http.Request, p access.Principal) (string, error) {
		x := access.Project{Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), Agency: r.PostFormValue("agency")}
		return "Project " + x.Code + " added.", s.svc.CreateProject(r.Context(), p, x)
	})

	grants := page{name: "grants.html", load: func(r *http.Request, p access.Principal) (any, error) {
		x, err := s.svc.Project(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		gs, err := s.svc.Grants(r.Context(), p, x.Code)
		return struct {
			Project access.Project
			Grants  []access.Grant
		}{x, gs}, err
	}}
	s.pageHandlers("/projects/{id}/grants", "Grants", grants, func(r *http.Request, p access.Principal) (string, error) {
		user, role := r.PostFormValue("user"), access.Role(r.PostFormValue("role"))
		if r.PostFormValue("do") == "revoke" {
			return fmt.Sprintf("Revoked %s (and every higher data role) from %s.", role, user),
				s.svc.Revoke(r.Context(), p, user, r.PathValue("id"), role)
		}
		return fmt.Sprintf("Granted %s (and every lower data role) to %s.", role, user),
			s.svc.Grant(r.Context(), p, user, r.PathValue("id"), role)
	})

	locks := page{name: "locks.html", need: access.UnlockAccount, load: func(r *http.Request, p access.Principal) (any, error) {
		return s.svc.Locks(r.Context(), p)
	}}
	s.pageHandlers("/admin/locks", "Locked accounts and addresses", locks, func(r *http.Request, p access.Principal) (string, error) {
		kind, key := r.PostFormValue("kind"), r.PostFormValue("key")
		res, err := s.svc.Unlock(r.Context(), p, kind, key, r.PostFormValue("reason"))
		if res == access.AwaitingDirector {
			return fmt.Sprintf("Asked the directors to reinstate %s %s (locked for refused access: a director reinstates it).", kind, key), err
		}
		return fmt.Sprintf("Unlocked %s %s.", kind, key), err
	})

	auditPage := page{name: "audit.html", need: access.ReadAudit, load: s.auditPage}
	s.pageHandlers("/admin/audit", "Audit log", auditPage, nil)
}

// pageHandlers registers GET for the page and, when act is given, POST running act.
func (s *Server) pageHandlers(path, title string, pg page, act func(*http.Request, access.Principal) (string, error)) {
	t := s.tmpl(pg.name)
	pattern := path
	if path == "/" {
		pattern = "/{$}"
	}
	show := func(w http.ResponseWriter, r *http.Request, p access.Principal, code int, v view) error {
		v.Title, v.Me, v.Request = title, p, r
		data, err := pg.load(r, p)
		if err != nil && (status(err) == http.StatusInternalServerError || code == http.StatusOK) {
			return err
		}
		v.Data = data
		return s.render(w, r, code, t, v)
	}
	s.handle("GET "+pattern, s.signedIn(pg, func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		return show(w, r, p, http.StatusOK, view{Notice: r.URL.Query().Get("notice")})
	}))
	if act == nil {
		return
	}
	s.handle("POST "+pattern, s.signedIn(pg, func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		if err := r.ParseForm(); err != nil {
			return fmt.Errorf("%w: form: %v", derrors.Invalid, err)
		}
		notice, err := act(r, p)
		if err != nil {
			if status(err) == http.StatusInternalServerError {
				return err
			}
			return show(w, r, p, status(err), view{Error: err.Error()})
		}
		back := *r.URL
		back.RawQuery = url.Values{"notice": {notice}}.Encode()
		http.Redirect(w, r, back.String(), http.StatusSeeOther)
		return nil
	}))
}

// signedIn loads the session's principal, sending strangers to the sign-in page.
func (s *Server) signedIn(pg page, h APIHandler) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		name := s.sessions.GetString(r.Context(), "user")
		if name == "" {
			http.Redirect(w, r, "/signin", http.StatusSeeOther)
			return nil
		}
		p, err := s.svc.Active(r.Context(), name, source(r))
		if errors.Is(err, derrors.NotFound) || errors.Is(err, derrors.Locked) {
			s.sessions.Destroy(r.Context())
			http.Redirect(w, r, "/signin", http.StatusSeeOther)
			return nil
		}
		if err != nil {
			return err
		}
		if wait, ok := s.byUser.allow(p.User); !ok {
			tooMany(w, r, wait, s.log)
			return nil
		}
		return s.watch(w, r, p, func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
			if pg.need != "" {
				if err := access.Check(p, pg.need, access.Project{}); err != nil {
					return fmt.Errorf("%w: this page is not for you", err)
				}
			}
			return h(w, r, p)
		})
	}
}

// render executes the template into a buffer first, so that a failure is a clean 500.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, t *template.Template, v view) error {
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return fmt.Errorf("render %s: %w", t.Name(), err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, err := w.Write(buf.Bytes())
	return err
}

// auditView is a page of the audit log: the entries, newest first, and the links to the
// pages beside it (query strings keeping the filters; "" when there is none).
type auditView struct {
	Entries      []audit.Entry
	Newer, Older string
	From, To     string // the dates filtered on, inclusive, as given
	Limit        int
	First        bool // the newest page
}

// auditPageSize is the page's number of entries unless ?limit= says otherwise.
const auditPageSize = 50

// auditPage loads a page of the audit log: the API's filters, plus from and to (UTC dates,
// both inclusive), paged by a cursor (before or after an entry's number).
func (s *Server) auditPage(r *http.Request, p access.Principal) (any, error) {
	f, err := auditFilter(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	v := auditView{From: q.Get("from"), To: q.Get("to"), First: f.Before == 0 && f.After == 0}
	for _, d := range []struct {
		name, val string
		set       func(time.Time)
	}{{"from", v.From, func(t time.Time) { f.Since = t.Format("2006-01-02") }}, {"to", v.To, func(t time.Time) { f.Until = t.AddDate(0, 0, 1).Format("2006-01-02") }}} {
		if d.val == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", d.val)
		if err != nil {
			return v, fmt.Errorf("%w: %s must be a date like 2026-11-23", derrors.Invalid, d.name)
		}
		d.set(t)
	}
	if f.Limit == 0 {
		f.Limit = auditPageSize
	}
	v.Limit = f.Limit
	if v.Entries, err = s.svc.AuditLog(r.Context(), p, f); err != nil || len(v.Entries) == 0 {
		return v, err
	}
	// Is there a page beside? One entry past each end says so.
	link := func(cursor string, seq int64) (string, error) {
		g := f
		g.Before, g.After, g.Limit = 0, 0, 1
		if cursor == "before" {
			g.Before = seq
		} else {
			g.After = seq
		}
		es, err := s.svc.AuditLog(r.Context(), p, g)
		if err != nil || len(es) == 0 {
			return "", err
		}
		u := withoutCursor(q)
		u.Set(cursor, strconv.FormatInt(seq, 10))
		return "?" + u.Encode(), nil
	}
	v.Older, err = link("before", v.Entries[len(v.Entries)-1].Seq)
	if err == nil {
		v.Newer, err = link("after", v.Entries[0].Seq)
	}
	return v, err
}

// withoutCursor is a page's query less its paging cursor and empty fields.
func withoutCursor(q url.Values) url.Values {
	u := url.Values{}
	for k, vs := range q {
		if k != "before" && k != "after" && len(vs) > 0 && vs[0] != "" {
			u.Set(k, vs[0])
		}
	}
	return u
}
