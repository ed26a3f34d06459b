package governance

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
)

// Basis says why an analysis may run.
type Basis struct {
	// Application is the approved ethics application that covers the analysis; "" for the
	// single-agency exception.
	Application string `json:"application,omitempty"`
	// SingleAgency is the agency of a single-agency evaluation (the exception of Part B):
	// the agency's own project, or one it consented to.
	SingleAgency string `json:"single_agency,omitempty"`
	Conditions   string `json:"conditions,omitempty"` // the board's conditions of approval
}

// Permit decides whether analysis may run over the data of agencies in project — the gate
// of Part B. Data of one agency may be analysed in that agency's own project, or in another
// with the agency's recorded consent to a single-agency evaluation; data of several
// agencies only under an approved application of the project that names the analysis and
// covers every agency (or its region). A refusal wraps derrors.Forbidden and says what is
// missing, naming an application under review and when the board may decide it.
//
// Permit does not filter by consent: call Admit (Permit, then Consenting) for the agencies
// whose data may enter the answer.
func (s *Service) Permit(ctx context.Context, project string, agencies []string, analysis string) (Basis, error) {
	x, err := s.Project(ctx, project)
	if err != nil {
		return Basis{}, err
	}
	agencies = dedupe(agencies)
	if len(agencies) == 0 || analysis == "" {
		return Basis{}, fmt.Errorf("%w: permit needs the agencies whose data the analysis reads and the analysis", derrors.Invalid)
	}
	regions, err := s.regionsOf(ctx, agencies)
	if err != nil {
		return Basis{}, err
	}
	if len(agencies) == 1 {
		a := agencies[0]
		if x.Agency == a {
			return Basis{SingleAgency: a}, nil
		}
		ok, err := s.consents(ctx, "", project, "agency", a)
		if err != nil || ok {
			return Basis{SingleAgency: a}, err
		}
	}
	apps, err := s.applicationsOf(ctx, project)
	if err != nil {
		return Basis{}, err
	}
	var pending []string
	for _, app := range apps {
		covers := slices.Contains(app.Analyses, analysis)
		for _, a := range agencies {
			covers = covers && app.Covers(a, regions[a])
		}
		switch {
		case !covers:
		case app.Status == Approved:
			return Basis{Application: app.ID, Conditions: app.Conditions}, nil
		case app.Status == Submitted:
			pending = append(pending, app.ID+" (submitted, not yet circulated to the board)")
		case app.Status == Circulated:
			pending = append(pending, app.ID+" (the board may decide from "+app.EarliestMeeting.Format("2006-01-02")+")")
		}
	}
	what := fmt.Sprintf("analysis %s of data from %d agencies in project %s needs an approved ethics application naming it and covering agencies %s",
		analysis, len(agencies), project, strings.Join(agencies, ", "))
	if len(agencies) == 1 {
		what = fmt.Sprintf("analysis %s of agency %s's data in project %s needs the agency's consent to a single-agency evaluation or an approved ethics application covering it",
			analysis, agencies[0], project)
	}
	if len(pending) > 0 {
		what += "; under review: " + strings.Join(pending, ", ")
	}
	return Basis{}, fmt.Errorf("%w: %s", derrors.Forbidden, what)
}

// applicationsOf reads the project's applications that are not rejected, newest first.
func (s *Service) applicationsOf(ctx context.Context, project string) ([]Application, error) {
	ids, err := s.strings(ctx, `SELECT id FROM ethics_applications WHERE project = $1 AND status <> $2 ORDER BY submitted_at DESC, id`, project, string(Rejected))
	if err != nil {
		return nil, err
	}
	out := make([]Application, 0, len(ids))
	for _, id := range ids {
		a, err := s.application(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// Left is an agency whose data was left out of an answer, and why.
type Left struct {
	Agency string `json:"agency"`
	Reason string `json:"reason"`
}

// Admitted is what an analysis may read: its basis, the agencies whose data enters it, and
// those left out.
type Admitted struct {
	Basis
	Agencies []string `json:"agencies"`
	Left     []Left   `json:"left_out"`
}

// Admit is the call the query and export paths make before they read data: Permit, then
// Consenting. The answer is computed over Agencies only; len(Left) is how many were left
// out (say so to the user, and put Application and the counts in the audit entry).
func (s *Service) Admit(ctx context.Context, project string, agencies []string, analysis string) (Admitted, error) {
	b, err := s.Permit(ctx, project, agencies, analysis)
	if err != nil {
		return Admitted{}, err
	}
	return s.Consenting(ctx, project, b, agencies)
}

// Consenting filters agencies by consent under basis b: under an application, an agency's
// data enters only while both the agency and its region consent to it (Part B: "only the
// data from regions that consent to the analyses will be used"); under the single-agency
// exception, only that agency's data enters.
func (s *Service) Consenting(ctx context.Context, project string, b Basis, agencies []string) (Admitted, error) {
	out := Admitted{Basis: b, Agencies: []string{}, Left: []Left{}}
	agencies = dedupe(agencies)
	regions, err := s.regionsOf(ctx, agencies)
	if err != nil {
		return out, err
	}
	for _, a := range agencies {
		reason := ""
		switch {
		case b.Application == "" && a != b.SingleAgency:
			reason = "outside the single-agency evaluation of " + b.SingleAgency
		case b.Application == "":
		default:
			for _, party := range [][2]string{{"agency", a}, {"region", regions[a]}} {
				st, err := s.consentState(ctx, b.Application, project, party[0], party[1])
				if err != nil {
					return out, err
				}
				if st != "consents" && reason == "" {
					reason = fmt.Sprintf("%s %s %s to application %s", party[0], party[1], st, b.Application)
				}
			}
		}
		if reason != "" {
			out.Left = append(out.Left, Left{Agency: a, Reason: reason})
		} else {
			out.Agencies = append(out.Agencies, a)
		}
	}
	return out, nil
}

// consentState is "consents", "withdrew consent" or "has not consented".
func (s *Service) consentState(ctx context.Context, application, project, kind, party string) (string, error) {
	var ok bool
	err := s.DB.QueryRowContext(ctx, `SELECT consented FROM consents WHERE application = $1 AND project = $2 AND party_kind = $3 AND party = $4`,
		application, project, kind, party).Scan(&ok)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "has not consented", nil
	case err != nil:
		return "", err
	case ok:
		return "consents", nil
	}
	return "withdrew consent", nil
}

func (s *Service) consents(ctx context.Context, application, project, kind, party string) (bool, error) {
	st, err := s.consentState(ctx, application, project, kind, party)
	return st == "consents", err
}

// Consent is an agency's or a region's consent (or its withdrawal).
type Consent struct {
	// Application is the ethics application consented to; "" with Project set for an
	// agency's consent to a single-agency evaluation in that project.
	Application string `json:"application,omitempty"`
	Project     string `json:"project,omitempty"`
	PartyKind   string `json:"party_kind"` // agency or region
	Party       string `json:"party"`
	Consented   bool   `json:"consented"` // false records a refusal or a withdrawal
	Note        string `json:"note,omitempty"`
}

// RecordConsent records a consent or its withdrawal. An agency's consent is recorded by a
// director or administrator who sees the agency; a region's by the site's own staff (the
// regional authority's approval, Part B). The party must be one the application covers.
func (s *Service) RecordConsent(ctx context.Context, p access.Principal, c Consent) error {
	if c.Application != "" {
		app, err := s.application(ctx, c.Application)
		if err != nil {
			return err
		}
		if app.Status == Rejected {
			return fmt.Errorf("%w: application %s was rejected", derrors.Conflict, app.ID)
		}
		if c.Project != "" && c.Project != app.Project {
			return fmt.Errorf("%w: application %s belongs to project %s, not %s", derrors.Invalid, app.ID, app.Project, c.Project)
		}
		c.Project = app.Project
		// A region is covered when it is named or holds a named agency.
		regions, err := s.regionsOf(ctx, app.Agencies)
		if err != nil {
			return err
		}
		covered := c.PartyKind == "region" && (slices.Contains(app.Regions, c.Party) || slices.Contains(slices.Collect(maps.Values(regions)), c.Party))
		if c.PartyKind == "agency" {
			r, err := s.regionsOf(ctx, []string{c.Party})
			if err != nil {
				return err
			}
			covered = app.Covers(c.Party, r[c.Party])
		}
		if !covered {
			return fmt.Errorf("%w: application %s does not cover %s %s", derrors.Invalid, app.ID, c.PartyKind, c.Party)
		}
	} else if c.PartyKind != "agency" {
		return fmt.Errorf("%w: a single-agency evaluation is consented to by the agency", derrors.Invalid)
	}
	x, err := s.projectFor(ctx, p, c.Project)
	if err != nil {
		return err
	}
	if err := access.Check(p, access.RecordConsent, x); err != nil {
		return err
	}
	switch c.PartyKind {
	case "agency":
		if _, err := s.regionsOf(ctx, []string{c.Party}); err != nil {
			return err
		}
		if !p.Sees(c.Party) {
			return fmt.Errorf("%w: consent of agency %s is recorded by its own director or the site's staff", derrors.Forbidden, c.Party)
		}
	case "region":
		if p.Agency != "" {
			return fmt.Errorf("%w: a region's consent is recorded by the site's staff", derrors.Forbidden)
		}
	default:
		return fmt.Errorf("%w: consent is given by an agency or a region, not %q", derrors.Invalid, c.PartyKind)
	}
	if err := checkText("note", c.Note, false, 2000); err != nil {
		return err
	}
	now := store.FormatTime(s.Now())
	return s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO consents (application, project, party_kind, party, consented, note, recorded_by, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (application, project, party_kind, party) DO UPDATE SET consented = $5, note = $6, recorded_by = $7, recorded_at = $8`,
			c.Application, c.Project, c.PartyKind, c.Party, c.Consented, c.Note, p.User, now)
		action := "consent.give"
		if !c.Consented {
			action = "consent.withdraw"
		}
		return event(p, action, "project/"+c.Project+"/"+c.PartyKind+"/"+c.Party, map[string]string{"application": c.Application}), err
	})
}

// Consents lists the consents recorded for an application ("" with project for
// single-agency evaluations).
func (s *Service) Consents(ctx context.Context, application, project string) ([]Consent, error) {
	return store.List(ctx, s.DB, func(r scanner) (Consent, error) {
		var c Consent
		return c, r.Scan(&c.Application, &c.Project, &c.PartyKind, &c.Party, &c.Consented, &c.Note)
	}, `SELECT application, project, party_kind, party, consented, note FROM consents
		WHERE application = $1 AND ($2 = '' OR project = $2) ORDER BY party_kind, party`, application, project)
}

// SetClientConsent records whether a client of an agency consents to research and
// evaluation use of their records (the additional consent form of Part B). Recorded by the
// agency's director or an administrator who sees the agency. The audit entry names the
// client by a digest, never the identifier.
func (s *Service) SetClientConsent(ctx context.Context, p access.Principal, agency, client string, consented bool) error {
	if !access.Allowed(p, access.AgencyRecords, access.Project{}) || !p.Sees(agency) {
		return fmt.Errorf("%w: client consent of agency %s is recorded by its director or an administrator", derrors.Forbidden, agency)
	}
	if _, err := s.regionsOf(ctx, []string{agency}); err != nil {
		return err
	}
	if err := checkText("client", client, true, 200); err != nil {
		return err
	}
	now := store.FormatTime(s.Now())
	return s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO client_consents (agency, client, consented, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (agency, client) DO UPDATE SET consented = $3, recorded_by = $4, recorded_at = $5`, agency, client, consented, p.User, now)
		return event(p, "client_consent.set", "agency/"+agency+"/client/"+ClientDigest(agency, client),
			map[string]string{"consented": fmt.Sprint(consented)}), err
	})
}

// ClientDigest names a client in audit entries and reports without their identifier.
func ClientDigest(agency, client string) string {
	h := sha256.Sum256([]byte(agency + "\x00" + client))
	return hex.EncodeToString(h[:8])
}

// ClientFilter keeps the clients of an agency whose consent is not withdrawn (a client
// without a record is covered by the agency's own consent form) and says how many were
// left out. Patient-level query and export paths call it, or WithdrawnClients to filter in
// SQL.
func (s *Service) ClientFilter(ctx context.Context, agency string, clients []string) (kept []string, left int, err error) {
	out, err := s.WithdrawnClients(ctx, agency)
	if err != nil {
		return nil, 0, err
	}
	kept = []string{}
	for _, c := range clients {
		if _, gone := out[c]; gone {
			left++
		} else {
			kept = append(kept, c)
		}
	}
	return kept, left, nil
}

// WithdrawnClients is the set of an agency's clients who withdrew (or refused) consent.
func (s *Service) WithdrawnClients(ctx context.Context, agency string) (map[string]struct{}, error) {
	ids, err := s.strings(ctx, `SELECT client FROM client_consents WHERE agency = $1 AND NOT consented`, agency)
	out := map[string]struct{}{}
	for _, c := range ids {
		out[c] = struct{}{}
	}
	return out, err
}
