package governance

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
)

// ClientRef is how one agency knows a person: its coded client identifier.
type ClientRef struct {
	Agency string `json:"agency"`
	Client string `json:"client"`
}

// Person is one individual as the agencies (and, if they sign in, Steward) know them.
type Person struct {
	Clients []ClientRef `json:"clients"`
	User    string      `json:"user,omitempty"` // their Steward account, if any
}

// Item is one thing held about a person, or one use of their information.
type Item struct {
	Source string      `json:"source"`           // where it is held
	Agency string      `json:"agency,omitempty"` // whose record it is
	What   string      `json:"what"`
	Fields [][2]string `json:"fields,omitempty"` // name, value
}

// Source is a place that holds records about people. The governance tables and the
// application store's accounts are built in; the warehouse adds its patient records.
type Source interface {
	Name() string
	About(ctx context.Context, db *store.DB, who Person) ([]Item, error)
}

// Report is everything held about one person (Part A, 9: existence, use and disclosure).
type Report struct {
	Person   Person    `json:"person"`
	Produced time.Time `json:"produced"`
	By       string    `json:"produced_by"`
	Held     []Item    `json:"held"`
	Uses     []Item    `json:"uses"` // approved applications their agencies' data may enter
	Sources  []string  `json:"sources"`
	Agencies []string  `json:"agencies_to_inform"` // Part A, 9: the collecting agencies are informed
}

// PersonReport produces, for an administrator, the report on one person across agencies.
// An agency's administrator reports on that agency's clients only. The audit entry names
// the person by digest and counts what was found.
func (s *Service) PersonReport(ctx context.Context, p access.Principal, who Person) (*Report, error) {
	if err := s.mayAccessPerson(p, who); err != nil {
		return nil, err
	}
	r := &Report{Person: who, Produced: s.Now().UTC(), By: p.User, Held: []Item{}, Uses: []Item{}}
	for _, src := range s.Sources {
		items, err := src.About(ctx, s.DB, who)
		if err != nil {
			return nil, fmt.Errorf("person report: %s: %w", src.Name(), err)
		}
		r.Held = append(r.Held, items...)
		r.Sources = append(r.Sources, src.Name())
	}
	uses, err := s.uses(ctx, who)
	if err != nil {
		return nil, err
	}
	r.Uses = uses
	for _, c := range who.Clients {
		r.Agencies = append(r.Agencies, c.Agency)
	}
	r.Agencies = dedupe(r.Agencies)
	err = s.change(ctx, func(*sql.Tx) (audit.Entry, error) {
		return event(p, "person.report", "person/"+personDigest(who), map[string]string{"agencies": strings.Join(r.Agencies, " "),
			"held": fmt.Sprint(len(r.Held)), "uses": fmt.Sprint(len(r.Uses)), "user": fmt.Sprint(who.User != "")}), nil
	})
	return r, err
}

func (s *Service) mayAccessPerson(p access.Principal, who Person) error {
	if err := access.Check(p, access.PersonalAccess, access.Project{}); err != nil {
		return err
	}
	if len(who.Clients) == 0 && who.User == "" {
		return fmt.Errorf("%w: name the person by agency:client identifiers or a user name", derrors.Invalid)
	}
	for _, c := range who.Clients {
		if c.Agency == "" || c.Client == "" {
			return fmt.Errorf("%w: a client is named agency:client", derrors.Invalid)
		}
		if !p.Sees(c.Agency) {
			return fmt.Errorf("%w: clients of agency %s", derrors.Forbidden, c.Agency)
		}
	}
	if who.User != "" && p.Agency != "" {
		return fmt.Errorf("%w: reports on Steward accounts are produced by the site's administrators", derrors.Forbidden)
	}
	return nil
}

// personDigest names a person in the audit log without their identifiers.
func personDigest(who Person) string {
	if len(who.Clients) == 0 {
		return "user/" + who.User
	}
	return ClientDigest(who.Clients[0].Agency, who.Clients[0].Client)
}

// uses lists the approved applications whose analyses may include the person's records:
// those covering an agency of theirs, while the agency and its region consent and the
// person has not withdrawn their own consent.
func (s *Service) uses(ctx context.Context, who Person) ([]Item, error) {
	var out []Item
	for _, c := range who.Clients {
		withdrawn, err := s.WithdrawnClients(ctx, c.Agency)
		if err != nil {
			return nil, err
		}
		if _, gone := withdrawn[c.Client]; gone {
			continue
		}
		regions, err := s.regionsOf(ctx, []string{c.Agency})
		if err != nil {
			return nil, err
		}
		ids, err := s.strings(ctx, `SELECT id FROM ethics_applications WHERE status = $1 ORDER BY decided_at`, string(Approved))
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			a, err := s.application(ctx, id)
			if err != nil {
				return nil, err
			}
			ad, err := s.Consenting(ctx, a.Project, Basis{Application: a.ID}, []string{c.Agency})
			if err != nil {
				return nil, err
			}
			if !a.Covers(c.Agency, regions[c.Agency]) || len(ad.Agencies) == 0 {
				continue
			}
			out = append(out, Item{Source: "ethics applications", Agency: c.Agency, What: "aggregated analyses of approved application " + a.ID,
				Fields: [][2]string{{"title", a.Title}, {"project", a.Project}, {"purpose", string(a.Purpose)},
					{"analyses", strings.Join(a.Analyses, ", ")}, {"approved", a.Decided.Format("2006-01-02")}}})
		}
	}
	return out, nil
}

// builtinSources are the records the application store holds about people.
func builtinSources() []Source { return []Source{clientRecords{}, accountRecords{}} }

// clientRecords: consent flags and corrections, per agency.
type clientRecords struct{}

func (clientRecords) Name() string { return "consent and corrections" }

func (clientRecords) About(ctx context.Context, db *store.DB, who Person) ([]Item, error) {
	var out []Item
	for _, c := range who.Clients {
		var ok bool
		var by string
		var at store.NullTime
		err := db.QueryRowContext(ctx, `SELECT consented, recorded_by, recorded_at FROM client_consents WHERE agency = $1 AND client = $2`, c.Agency, c.Client).Scan(&ok, &by, &at)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, err
		default:
			out = append(out, Item{Source: "client consent", Agency: c.Agency, What: "consent to research and evaluation use",
				Fields: [][2]string{{"client", c.Client}, {"consents", fmt.Sprint(ok)}, {"recorded", at.Format("2006-01-02")}, {"recorded by", by}}})
		}
		cs, err := corrections(ctx, db, c.Agency, c.Client)
		if err != nil {
			return nil, err
		}
		for _, k := range cs {
			out = append(out, Item{Source: "corrections", Agency: c.Agency, What: "correction " + k.ID,
				Fields: [][2]string{{"item", k.Item}, {"requested", k.Requested}, {"status", k.Status}, {"response", k.Response}, {"recorded", k.Recorded.Format("2006-01-02")}}})
		}
	}
	return out, nil
}

// accountRecords: the person's Steward account, roles and what the audit log holds of them.
type accountRecords struct{}

func (accountRecords) Name() string { return "accounts and audit log" }

func (accountRecords) About(ctx context.Context, db *store.DB, who Person) ([]Item, error) {
	if who.User == "" {
		return nil, nil
	}
	var full, email, agency, created string
	err := db.QueryRowContext(ctx, `SELECT full_name, email, COALESCE(agency, ''), created_at FROM users WHERE name = $1`, who.User).Scan(&full, &email, &agency, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := []Item{{Source: "accounts", Agency: agency, What: "Steward account " + who.User,
		Fields: [][2]string{{"full name", full}, {"email", email}, {"created", created[:10]}}}}
	grants, err := store.List(ctx, db, func(r scanner) ([2]string, error) {
		var v [2]string
		return v, r.Scan(&v[0], &v[1])
	}, `SELECT project, role FROM grants WHERE user_name = $1 ORDER BY project, role`, who.User)
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		out = append(out, Item{Source: "accounts", What: "role " + g[1] + " in project " + g[0]})
	}
	var n int64
	var first, last sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(time), MAX(time) FROM audit_log WHERE actor = $1`, who.User).Scan(&n, &first, &last); err != nil {
		return nil, err
	}
	if n > 0 {
		out = append(out, Item{Source: "audit log", What: "entries of actions by this account",
			Fields: [][2]string{{"entries", fmt.Sprint(n)}, {"first", first.String[:10]}, {"last", last.String[:10]}}})
	}
	return out, nil
}

//go:embed templates/person.html
var personHTML string

var personTemplate = template.Must(template.New("person").Parse(personHTML))

// Write writes the report as JSON (format "json") or as a self-contained HTML page.
func (r *Report) Write(w io.Writer, format string) error {
	if format == "json" {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(r)
	}
	return personTemplate.Execute(w, r)
}

// Correction is a correction a person asked for.
type Correction struct {
	ID        string    `json:"id"`
	Agency    string    `json:"agency"`
	Client    string    `json:"client"`
	Item      string    `json:"item"`      // what is wrong, e.g. "date of birth"
	Requested string    `json:"requested"` // what the person says it should be
	Status    string    `json:"status"`    // requested, amended, declined
	Response  string    `json:"response,omitempty"`
	Recorded  time.Time `json:"recorded"`
	Closed    time.Time `json:"closed,omitzero"`
}

// RequestCorrection records a correction the person asked for. The agency that collected
// the record decides it (CloseCorrection): CORI never edits an agency's information itself.
func (s *Service) RequestCorrection(ctx context.Context, p access.Principal, c Correction) (Correction, error) {
	if err := s.mayAccessPerson(p, Person{Clients: []ClientRef{{c.Agency, c.Client}}}); err != nil {
		return c, err
	}
	if err := errors.Join(checkText("item", c.Item, true, 200), checkText("requested correction", c.Requested, true, 2000)); err != nil {
		return c, err
	}
	if _, err := s.regionsOf(ctx, []string{c.Agency}); err != nil {
		return c, err
	}
	c.ID, c.Status, c.Recorded, c.Response, c.Closed = newID("cor-"), "requested", s.Now().UTC(), "", time.Time{}
	err := s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO person_corrections (id, agency, client, item, requested, status, recorded_by, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, c.ID, c.Agency, c.Client, c.Item, c.Requested, c.Status, p.User, store.FormatTime(c.Recorded))
		return event(p, "correction.request", "correction/"+c.ID, map[string]string{"agency": c.Agency, "client": ClientDigest(c.Agency, c.Client)}), err
	})
	return c, err
}

// CloseCorrection records the agency's answer: amended (it corrected its record) or
// declined, with its response. Its director or an administrator who sees it records it.
func (s *Service) CloseCorrection(ctx context.Context, p access.Principal, id string, amended bool, response string) error {
	var agency, status string
	err := s.DB.QueryRowContext(ctx, `SELECT agency, status FROM person_corrections WHERE id = $1`, id).Scan(&agency, &status)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !p.Sees(agency) {
		return fmt.Errorf("%w: correction %s", derrors.NotFound, id)
	}
	if err != nil {
		return err
	}
	if err := access.Check(p, access.AgencyRecords, access.Project{}); err != nil {
		return fmt.Errorf("%w (the agency's director or an administrator answers a correction)", err)
	}
	if status != "requested" {
		return fmt.Errorf("%w: correction %s is %s already", derrors.Conflict, id, status)
	}
	if err := checkText("response", response, true, 2000); err != nil {
		return err
	}
	status = map[bool]string{true: "amended", false: "declined"}[amended]
	return s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		_, err := tx.ExecContext(ctx, `UPDATE person_corrections SET status = $1, response = $2, closed_at = $3 WHERE id = $4`,
			status, response, store.FormatTime(s.Now()), id)
		return event(p, "correction.close", "correction/"+id, map[string]string{"agency": agency, "status": status}), err
	})
}

// Corrections lists the corrections of an agency's clients p sees, newest first; client ""
// for all of the agency's.
func (s *Service) Corrections(ctx context.Context, p access.Principal, agency string) ([]Correction, error) {
	if !access.Allowed(p, access.AgencyRecords, access.Project{}) || !p.Sees(agency) {
		return nil, fmt.Errorf("%w: corrections of agency %s", derrors.Forbidden, agency)
	}
	cs, err := corrections(ctx, s.DB, agency, "")
	slices.Reverse(cs)
	return cs, err
}

func corrections(ctx context.Context, db *store.DB, agency, client string) ([]Correction, error) {
	return store.List(ctx, db, func(r scanner) (Correction, error) {
		var c Correction
		var rec, closed store.NullTime
		err := r.Scan(&c.ID, &c.Agency, &c.Client, &c.Item, &c.Requested, &c.Status, &c.Response, &rec, &closed)
		c.Recorded, c.Closed = rec.Time, closed.Time
		return c, err
	}, `SELECT id, agency, client, item, requested, status, response, recorded_at, closed_at FROM person_corrections
		WHERE agency = $1 AND ($2 = '' OR client = $2) ORDER BY recorded_at, id`, agency, client)
}
