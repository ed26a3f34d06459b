package web

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/i2b2"
)

// i2b2's cell protocol (issue 20): the PM, ontology and CRC cells' XML messages at i2b2's own
// paths, over Steward's users, projects, roles, gate and audit. Every message carries its
// security block: the user name and either the password (a sign-in, audited, delayed and
// locked like the JSON sign-in) or the session token the PM cell gave (a Steward API token
// with the read and query scopes only). Answers are i2b2 response envelopes, HTTP 200, with
// result_status DONE or ERROR and the refusal's message; a document that is not an i2b2
// message is refused with 400. Refusals after sign-in are recorded as the JSON API records
// them (watch), and the per-user rate limit applies.

// DefaultI2B2Domain is the i2b2 domain Steward answers when Options.I2B2Domain is empty.
const DefaultI2B2Domain = "steward"

// i2b2Handler answers one message for a signed-in principal: the body of a DONE answer.
type i2b2Handler func(r *http.Request, p access.Principal, m i2b2Message) (string, error)

// i2b2Message is a request with what the handler needs of it.
type i2b2Message struct {
	i2b2.Request
	Raw   []byte // the whole document (the query_definition is read from it)
	Token string // the session token the principal signed in with, if any
}

// i2b2Routes registers the cells. Without a warehouse only the PM cell answers.
func (s *Server) i2b2Routes(wh *warehouse.Warehouse) {
	s.handle("POST /i2b2/services/PMService/getServices", s.i2b2(i2b2.NSPM, s.pmServices))
	s.handle("POST /i2b2/services/QueryToolService/request", s.i2b2(i2b2.NSPSM, s.crcRequest(wh)))
	s.handle("POST /i2b2/services/OntologyService/{op}", s.i2b2(i2b2.NSONT, s.ontService(wh)))
	s.handle("POST /i2b2/services/QueryToolService/pdorequest", s.i2b2(i2b2.NSCPDO, s.pdoRequest(wh)))
	s.handle("POST /i2b2/services/WorkplaceService/{op}", s.i2b2(i2b2.NSWORK, workplace))
}

// i2b2 reads the message, signs the principal in and answers in i2b2's envelope.
func (s *Server) i2b2(cellNS string, h i2b2Handler) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		req, err := i2b2.ReadRequest(b)
		if err != nil {
			return fmt.Errorf("%w: %v", derrors.Invalid, err)
		}
		m := i2b2Message{Request: req, Raw: b, Token: req.Security.Token}
		answer := func(status, message, body string) error {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			_, err := w.Write(i2b2.Response(cellNS, req.Project, status, message, body))
			return err
		}
		fail := func(err error) error {
			code := status(err)
			if code == http.StatusInternalServerError {
				s.log.Error("i2b2 request failed", "path", r.URL.Path, "err", err)
			}
			var d *access.DelayError
			if errors.As(err, &d) {
				w.Header().Set("Retry-After", strconv.Itoa(int(d.Wait.Seconds()+0.999)))
			}
			msg := publicMessage(err, code)
			body := ""
			if cellNS == i2b2.NSPSM { // the CRC's own response, with its condition
				var x i2b2.Writer
				x.Open("ns4:response", "xsi:type", "ns4:crc_xml_result_responseType").Open("status").El("condition", msg, "type", i2b2.Error).Close("status").Close("ns4:response")
				body = x.String()
			}
			return answer(i2b2.Error, msg, body)
		}
		p, err := s.i2b2SignIn(r, req.Security)
		if err != nil {
			return fail(err)
		}
		if wait, ok := s.byUser.allow(p.User); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
			return answer(i2b2.Error, fmt.Sprintf("too many requests: slow down and retry after %s", wait.Round(time.Second)), "")
		}
		var body string
		err = s.watch(w, r, p, func(_ http.ResponseWriter, r *http.Request, p access.Principal) error {
			var err error
			body, err = h(r, p, m)
			return err
		})
		if err != nil && unsupported(err) {
			// What the JSON API answers 400 is recorded here: an i2b2 client's refusal is
			// otherwise invisible in the HTTP status.
			reason := publicMessage(err, http.StatusBadRequest)
			if len(reason) > 200 {
				reason = reason[:200]
			}
			err = errors.Join(err, s.svc.Record(r.Context(), p, "i2b2.refused", r.URL.Path, map[string]string{"reason": reason}))
		}
		if err != nil {
			return fail(err)
		}
		return answer(i2b2.Done, "DONE", body)
	}
}

// i2b2SignIn is the principal of a message's security block: a session token, which must be
// the named user's, or the user's password.
func (s *Server) i2b2SignIn(r *http.Request, sec i2b2.Security) (access.Principal, error) {
	if sec.Domain != cmp.Or(s.i2b2Domain, DefaultI2B2Domain) {
		return access.Principal{}, fmt.Errorf("%w: unknown domain (this server's i2b2 domain is %s)", derrors.Unauthenticated, cmp.Or(s.i2b2Domain, DefaultI2B2Domain))
	}
	if len(sec.Username) > 200 || len(sec.Password) > 1024 {
		return access.Principal{}, access.ErrSignIn
	}
	if sec.Token == "" {
		return s.svc.SignIn(r.Context(), sec.Username, sec.Password, source(r))
	}
	p, _, err := s.svc.Authenticate(r.Context(), sec.Token, source(r))
	if err == nil && p.User != sec.Username {
		err = fmt.Errorf("%w: the session is another user's", derrors.Unauthenticated)
	}
	if err != nil {
		if k := derrors.Kind(err); k == derrors.Unauthenticated || k == derrors.Locked {
			if rerr := s.svc.TokenRefused(r.Context(), source(r), r.Pattern, err); rerr != nil {
				s.log.Error("record refused token", "err", rerr)
			}
		}
		return access.Principal{}, err
	}
	return p, nil
}

// i2b2Roles are the i2b2 roles of p in the project: USER for anyone with a role there, the
// data-protection track as held (cascaded, as i2b2 keeps it), MANAGER for a project
// administrator, MANAGER and ADMIN for a steward administrator.
func i2b2Roles(p access.Principal, project string) []string {
	held := p.Projects[project]
	var out []string
	if len(held) > 0 || p.Admin {
		out = append(out, "USER")
	}
	for _, r := range access.Track {
		if slices.Contains(held, r) {
			out = append(out, string(r))
		}
	}
	if p.Admin || slices.Contains(held, access.ProjectAdmin) {
		out = append(out, "MANAGER")
	}
	if p.Admin {
		out = append(out, "ADMIN")
	}
	return out
}

// baseURL is the scheme and host the client reached this server at.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// pmServices answers the PM cell: get_user_configuration (sign-in) only.
func (s *Server) pmServices(r *http.Request, p access.Principal, m i2b2Message) (string, error) {
	if m.Body.Child("get_user_configuration") == nil {
		name := "(none)"
		if len(m.Body.Kids) > 0 {
			name = m.Body.Kids[0].Name
		}
		return "", fmt.Errorf("%w: PM message %s is not supported (Steward answers get_user_configuration)", derrors.Invalid, name)
	}
	token, ttl := m.Token, s.svc.Config.TokenTTL
	if token == "" {
		var err error
		if token, _, err = s.svc.CreateToken(r.Context(), p, "i2b2 session", ttl, access.ScopeRead, access.ScopeQuery); err != nil {
			return "", err
		}
	}
	u, err := s.svc.User(r.Context(), p.User)
	if err != nil {
		return "", err
	}
	xs, err := s.svc.Projects(r.Context(), p)
	if err != nil {
		return "", err
	}
	domain := cmp.Or(s.i2b2Domain, DefaultI2B2Domain)
	var w i2b2.Writer
	w.Open("ns4:configure")
	w.El("environment", "PRODUCTION").El("helpURL", "")
	w.Open("user")
	w.El("full_name", cmp.Or(u.FullName, u.Name)).El("user_name", p.User)
	w.El("password", i2b2.SessionPrefix+token, "token_ms_timeout", strconv.FormatInt(ttl.Milliseconds(), 10), "is_token", "true")
	w.El("domain", domain).El("is_admin", strconv.FormatBool(p.Admin))
	for _, x := range xs {
		roles := i2b2Roles(p, x.Code)
		if len(roles) == 0 {
			continue
		}
		w.Open("project", "id", x.Code).El("name", cmp.Or(x.Name, x.Code)).El("wiki", "").El("path", "/"+x.Code)
		for _, role := range roles {
			w.El("role", role)
		}
		w.Close("project")
	}
	w.Close("user")
	w.El("domain_name", domain).El("domain_id", domain).El("active", "true")
	base := cmp.Or(s.publicURL, baseURL(r))
	w.Open("cell_datas")
	for _, c := range []struct{ id, name, path string }{
		{"CRC", "Data Repository", "/i2b2/services/QueryToolService/"},
		{"ONT", "Ontology Cell", "/i2b2/services/OntologyService/"},
		{"WORK", "Workplace Cell", "/i2b2/services/WorkplaceService/"},
	} {
		w.Open("cell_data", "id", c.id).El("name", c.name).El("url", base+c.path).El("project_path", "/").
			El("method", "REST").El("can_override", "true").Close("cell_data")
	}
	w.Close("cell_datas")
	w.Close("ns4:configure")
	return w.String(), nil
}

// workplace answers the WORK cell, which i2b2's web client needs to start: Steward keeps no
// workplace, so its folders are empty and saving to it is refused.
func workplace(r *http.Request, p access.Principal, m i2b2Message) (string, error) {
	switch op := r.PathValue("op"); op {
	case "getFoldersByUserId", "getFoldersByProject", "getChildren":
		return "<ns4:folders/>", nil
	default:
		return "", fmt.Errorf("%w: the workplace is not kept by Steward (%s is not supported)", derrors.Invalid, op)
	}
}

// i2b2Project is the project a message names (message_header/project_id).
func i2b2Project(m i2b2Message) (string, error) {
	if m.Project == "" {
		return "", fmt.Errorf("%w: message_header/project_id names no project", derrors.Invalid)
	}
	return strings.TrimSpace(m.Project), nil
}
