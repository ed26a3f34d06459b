package governance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
)

// Status is where an application is in the review.
type Status string

const (
	Submitted  Status = "submitted"  // forwarded to CORI
	Circulated Status = "circulated" // every board member has received it
	Approved   Status = "approved"
	Rejected   Status = "rejected"
)

// Assurances are the statements the policy's analysis guidelines require of every proposal
// (Part B, Releases of Data and Analyses Guidelines); an application gives them all.
var Assurances = []string{
	"no_client_identification",  // the analyses do not require identification of any clients
	"no_agency_identification",  // … of any agencies
	"no_project_identification", // … of any projects
	"no_unaggregated_transfer",  // no file transfer of unaggregated data to an external site
	"stated_purpose_only",       // released analyses used only to advance knowledge of best practices or client-related problems
	"analyses_at_cori",          // the analyses are conducted at the CORI site
	"reports_to_cori",           // a copy of every report goes to CORI
	"acknowledge_cori",          // CORI and HOMES are acknowledged on every report
}

// Assurance is one assurance: its id (the form value and what the store keeps) and the
// sentence the investigator agrees to, in our words after the policy's analyses guidelines.
type Assurance struct {
	ID       string
	Sentence string
}

var assuranceSentences = map[string]string{
	"no_client_identification":  "The analyses do not need any client to be identified.",
	"no_agency_identification":  "The analyses do not need any agency to be identified.",
	"no_project_identification": "The analyses do not need any project to be identified.",
	"no_unaggregated_transfer":  "No data that has not been aggregated will be transferred to a site outside CORI.",
	"stated_purpose_only":       "The released analyses will be used only to advance knowledge of best practices in specific service areas, or to help human-service professionals address specific client-related problems.",
	"analyses_at_cori":          "The analyses will be conducted at the CORI site.",
	"reports_to_cori":           "A copy of every report made with CORI data will be given to CORI.",
	"acknowledge_cori":          "Every report will acknowledge CORI and its HOMES system.",
}

// AssuranceSentence is the sentence of the assurance id, or the id itself when unknown.
func AssuranceSentence(id string) string {
	if s, ok := assuranceSentences[id]; ok {
		return s
	}
	return id
}

// AssuranceSentences are the sentences of the given assurance ids in the order of
// Assurances (unknown ids last, as they are).
func AssuranceSentences(given []string) []string {
	var out []string
	for _, id := range Assurances {
		if slices.Contains(given, id) {
			out = append(out, AssuranceSentence(id))
		}
	}
	for _, id := range given {
		if !slices.Contains(Assurances, id) {
			out = append(out, id)
		}
	}
	return out
}

// AssuranceList is every assurance with its sentence, in the order of Assurances.
func AssuranceList() []Assurance {
	out := make([]Assurance, len(Assurances))
	for i, id := range Assurances {
		out[i] = Assurance{id, AssuranceSentence(id)}
	}
	return out
}

// Application is an ethics-review application.
type Application struct {
	ID           string    `json:"id"`
	Project      string    `json:"project"`
	Investigator string    `json:"investigator"`
	Title        string    `json:"title"`
	Purpose      Purpose   `json:"purpose"`
	Summary      string    `json:"summary"`
	Risks        string    `json:"risks"`
	Benefits     string    `json:"benefits"`
	Conflicts    string    `json:"conflicts"` // actual, perceived or potential conflicts of interest; "none" when none
	Agencies     []string  `json:"agencies"`  // agencies whose data it needs
	Regions      []string  `json:"regions"`   // regions whose agencies' data it needs
	Sectors      []string  `json:"sectors"`   // service sectors
	Analyses     []string  `json:"analyses"`  // the analyses it asks to run
	Assurances   []string  `json:"assurances"`
	Status       Status    `json:"status"`
	Submitted    time.Time `json:"submitted"`
	Circulated   time.Time `json:"circulated,omitzero"`
	Decided      time.Time `json:"decided,omitzero"`
	DecidedBy    string    `json:"decided_by,omitempty"`
	Reasons      string    `json:"reasons,omitempty"`
	Conditions   string    `json:"conditions,omitempty"`
	// EarliestMeeting is when the board may first meet on it (zero until circulated).
	EarliestMeeting time.Time `json:"earliest_meeting,omitzero"`
}

// scope lists the application's scope rows: kind → values.
func (a *Application) scope() map[string][]string {
	return map[string][]string{"agency": a.Agencies, "region": a.Regions, "sector": a.Sectors, "analysis": a.Analyses, "assurance": a.Assurances}
}

// Covers reports whether the application covers the agency (itself or its region).
func (a *Application) Covers(agency, region string) bool {
	return slices.Contains(a.Agencies, agency) || slices.Contains(a.Regions, region)
}

var codeLike = func(field, v string) error {
	if v == "" || len(v) > 63 || strings.ContainsFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.')
	}) {
		return fmt.Errorf("%w: %s %q: want 1 to 63 lower-case letters, digits, '.', '_' or '-'", derrors.Invalid, field, v)
	}
	return nil
}

// Submit records an application by p, an investigator of its project. The purpose must be
// a research or evaluation purpose the project states; every assurance must be given.
func (s *Service) Submit(ctx context.Context, p access.Principal, a Application) (Application, error) {
	x, err := s.projectFor(ctx, p, a.Project)
	if err != nil {
		return a, err
	}
	if err := access.Check(p, access.SubmitEthics, x); err != nil {
		return a, err
	}
	for _, t := range []struct {
		field, v string
		max      int
	}{{"title", a.Title, 200}, {"summary", a.Summary, 20000}, {"risks", a.Risks, 5000}, {"benefits", a.Benefits, 5000}, {"conflicts of interest", a.Conflicts, 5000}} {
		if err := checkText(t.field, t.v, true, t.max); err != nil {
			return a, err
		}
	}
	if !slices.Contains(ResearchPurposes, a.Purpose) {
		return a, fmt.Errorf("%w: purpose %q: research or evaluation must fit one of %v", derrors.Invalid, a.Purpose, ResearchPurposes)
	}
	stated, err := s.ProjectPurposes(ctx, a.Project)
	if err != nil {
		return a, err
	}
	if !slices.Contains(stated, a.Purpose) {
		return a, fmt.Errorf("%w: purpose %s is not among project %s's stated purposes %v", derrors.Invalid, a.Purpose, a.Project, stated)
	}
	a.Agencies, a.Regions, a.Sectors, a.Analyses, a.Assurances = dedupe(a.Agencies), dedupe(a.Regions), dedupe(a.Sectors), dedupe(a.Analyses), dedupe(a.Assurances)
	if len(a.Agencies)+len(a.Regions) == 0 || len(a.Analyses) == 0 {
		return a, fmt.Errorf("%w: an application names the agencies or regions whose data it needs, and its analyses", derrors.Invalid)
	}
	for kind, vs := range a.scope() {
		for _, v := range vs {
			if err := codeLike(kind, v); err != nil {
				return a, err
			}
		}
	}
	if missing := slices.DeleteFunc(slices.Clone(Assurances), func(v string) bool { return slices.Contains(a.Assurances, v) }); len(missing) > 0 {
		return a, fmt.Errorf("%w: the policy's analysis guidelines require every assurance; missing: %s", derrors.Invalid, strings.Join(missing, ", "))
	}
	if unknown := slices.DeleteFunc(slices.Clone(a.Assurances), func(v string) bool { return slices.Contains(Assurances, v) }); len(unknown) > 0 {
		return a, fmt.Errorf("%w: unknown assurance %s (want %v)", derrors.Invalid, unknown[0], Assurances)
	}
	if _, err := s.regionsOf(ctx, a.Agencies); err != nil {
		return a, err
	}
	for _, r := range a.Regions {
		var n int
		if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM regions WHERE code = $1`, r).Scan(&n); err != nil || n == 0 {
			return a, errors.Join(err, fmt.Errorf("%w: region %s does not exist", derrors.Invalid, r))
		}
	}
	a.ID, a.Investigator, a.Status, a.Submitted = newID("eth-"), p.User, Submitted, s.Now().UTC()
	a.Circulated, a.Decided, a.DecidedBy, a.Reasons, a.Conditions = time.Time{}, time.Time{}, "", "", ""
	err = s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO ethics_applications (id, project, investigator, title, purpose, summary, risks, benefits, conflicts, status, submitted_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			a.ID, a.Project, a.Investigator, a.Title, string(a.Purpose), a.Summary, a.Risks, a.Benefits, a.Conflicts, string(a.Status), store.FormatTime(a.Submitted))
		if err != nil {
			return audit.Entry{}, fmt.Errorf("submit application: %w", err)
		}
		for kind, vs := range a.scope() {
			for _, v := range vs {
				if _, err := tx.ExecContext(ctx, `INSERT INTO ethics_scope (application, kind, value) VALUES ($1, $2, $3)`, a.ID, kind, v); err != nil {
					return audit.Entry{}, fmt.Errorf("submit application: %w", err)
				}
			}
		}
		return event(p, "ethics.submit", "ethics/"+a.ID, map[string]string{"project": a.Project, "purpose": string(a.Purpose),
			"agencies": strings.Join(a.Agencies, " "), "regions": strings.Join(a.Regions, " "), "analyses": strings.Join(a.Analyses, " ")}), nil
	})
	return a, err
}

// Circulate records that every member of the board has received the application: the
// second notice period starts.
func (s *Service) Circulate(ctx context.Context, p access.Principal, id string) (Application, error) {
	a, err := s.boardApplication(ctx, p, id)
	if err != nil {
		return a, err
	}
	if a.Status != Submitted {
		return a, fmt.Errorf("%w: application %s is %s, not submitted", derrors.Conflict, id, a.Status)
	}
	now := s.Now().UTC()
	err = s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		_, err := tx.ExecContext(ctx, `UPDATE ethics_applications SET status = $1, circulated_at = $2 WHERE id = $3`, string(Circulated), store.FormatTime(now), id)
		return event(p, "ethics.circulate", "ethics/"+id, map[string]string{"project": a.Project}), err
	})
	if err != nil {
		return a, err
	}
	return s.Application(ctx, p, id)
}

// Decision is the board's decision on an application.
type Decision struct {
	Approve    bool   `json:"approve"`
	Reasons    string `json:"reasons"`              // required
	Conditions string `json:"conditions,omitempty"` // conditions of an approval
}

// Decide records the board's decision. It is refused before the board may meet (the notice
// periods after submission and circulation), to the investigator of the application, and
// without reasons.
func (s *Service) Decide(ctx context.Context, p access.Principal, id string, d Decision) (Application, error) {
	a, err := s.boardApplication(ctx, p, id)
	if err != nil {
		return a, err
	}
	if a.Investigator == p.User {
		return a, fmt.Errorf("%w: the investigator of application %s cannot decide it", derrors.Forbidden, id)
	}
	if err := errors.Join(checkText("reasons", d.Reasons, true, 5000), checkText("conditions", d.Conditions, false, 5000)); err != nil {
		return a, err
	}
	now := s.Now().UTC()
	switch {
	case a.Status == Submitted:
		return a, fmt.Errorf("%w: application %s has not reached every board member yet; record that first (circulate)", derrors.Conflict, id)
	case a.Status != Circulated:
		return a, fmt.Errorf("%w: application %s is %s already", derrors.Conflict, id, a.Status)
	case now.Before(a.EarliestMeeting):
		return a, fmt.Errorf("%w: the board may meet on application %s from %s (%s after submission, %s after every member received it)",
			derrors.Conflict, id, a.EarliestMeeting.Format("2006-01-02 15:04 MST"), Days(s.Config.AfterSubmission), Days(s.Config.AfterCirculation))
	}
	status := Rejected
	if d.Approve {
		status = Approved
	}
	err = s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		_, err := tx.ExecContext(ctx, `UPDATE ethics_applications SET status = $1, decided_at = $2, decided_by = $3, reasons = $4, conditions = $5 WHERE id = $6`,
			string(status), store.FormatTime(now), p.User, d.Reasons, d.Conditions, id)
		return event(p, "ethics.decide", "ethics/"+id, map[string]string{"project": a.Project, "decision": string(status),
			"conditions": fmt.Sprint(d.Conditions != "")}), err
	})
	if err != nil {
		return a, err
	}
	return s.Application(ctx, p, id)
}

// Days writes a notice period as people say it: "30 days".
func Days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

// boardApplication reads an application p decides on (ETHICS_BOARD in its project).
func (s *Service) boardApplication(ctx context.Context, p access.Principal, id string) (Application, error) {
	return s.checkedApplication(ctx, id, func(a Application, x access.Project) error {
		return access.Check(p, access.ApproveEthics, x)
	})
}

// Application returns one application to its investigator, the project's board, its
// project administrators and the site's administrators and directors.
func (s *Service) Application(ctx context.Context, p access.Principal, id string) (Application, error) {
	return s.checkedApplication(ctx, id, func(a Application, x access.Project) error {
		if !s.mayRead(p, a, x) {
			return fmt.Errorf("%w: application %s", derrors.NotFound, id)
		}
		return nil
	})
}

// checkedApplication reads an application and returns it if check, given it and its
// project, passes.
func (s *Service) checkedApplication(ctx context.Context, id string, check func(Application, access.Project) error) (Application, error) {
	a, err := s.application(ctx, id)
	if err != nil {
		return a, err
	}
	x, err := s.Project(ctx, a.Project)
	if err == nil {
		err = check(a, x)
	}
	if err != nil {
		return Application{}, err
	}
	return a, nil
}

func (s *Service) mayRead(p access.Principal, a Application, x access.Project) bool {
	return a.Investigator == p.User || access.Allowed(p, access.ApproveEthics, x) ||
		access.Allowed(p, access.ManageGrants, x) || access.Allowed(p, access.RecordConsent, x)
}

// Applications lists the applications p may read, newest first; project "" for all.
func (s *Service) Applications(ctx context.Context, p access.Principal, project string) ([]Application, error) {
	ids, err := s.strings(ctx, `SELECT id FROM ethics_applications WHERE ($1 = '' OR project = $1) ORDER BY submitted_at DESC, id`, project)
	if err != nil {
		return nil, err
	}
	out := []Application{}
	for _, id := range ids {
		if a, err := s.Application(ctx, p, id); err == nil {
			out = append(out, a)
		} else if !errors.Is(err, derrors.NotFound) {
			return nil, err
		}
	}
	return out, nil
}

// application reads one application with its scope.
func (s *Service) application(ctx context.Context, id string) (Application, error) {
	var a Application
	var sub, circ, dec store.NullTime
	var decidedBy sql.NullString
	err := s.DB.QueryRowContext(ctx, `SELECT id, project, investigator, title, purpose, summary, risks, benefits, conflicts, status,
		submitted_at, circulated_at, decided_at, decided_by, reasons, conditions FROM ethics_applications WHERE id = $1`, id).Scan(
		&a.ID, &a.Project, &a.Investigator, &a.Title, &a.Purpose, &a.Summary, &a.Risks, &a.Benefits, &a.Conflicts, &a.Status,
		&sub, &circ, &dec, &decidedBy, &a.Reasons, &a.Conditions)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("%w: application %s", derrors.NotFound, id)
	}
	if err != nil {
		return a, fmt.Errorf("application %s: %w", id, err)
	}
	a.Submitted, a.Circulated, a.Decided, a.DecidedBy = sub.Time, circ.Time, dec.Time, decidedBy.String
	if !a.Circulated.IsZero() {
		a.EarliestMeeting = a.Submitted.Add(s.Config.AfterSubmission)
		if m := a.Circulated.Add(s.Config.AfterCirculation); m.After(a.EarliestMeeting) {
			a.EarliestMeeting = m
		}
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT kind, value FROM ethics_scope WHERE application = $1 ORDER BY kind, value`, id)
	if err != nil {
		return a, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, v string
		if err := rows.Scan(&kind, &v); err != nil {
			return a, err
		}
		switch kind {
		case "agency":
			a.Agencies = append(a.Agencies, v)
		case "region":
			a.Regions = append(a.Regions, v)
		case "sector":
			a.Sectors = append(a.Sectors, v)
		case "analysis":
			a.Analyses = append(a.Analyses, v)
		case "assurance":
			a.Assurances = append(a.Assurances, v)
		}
	}
	return a, rows.Err()
}
