// Package governance records and enforces CORI's privacy and ethics-review policy (seed 002)
// instead of leaving it on paper.
//
// The model, in the policy's words:
//
//   - Purposes. Every project states its purposes, from the closed list the policy allows
//     (case management, program management, program evaluation, best-practice research,
//     research helping professionals with client-related problems). Research or evaluation
//     must fit one of them.
//   - Ethics review (Part B). An investigator submits an application: purpose, the agencies,
//     regions and sectors whose data it needs, the analyses, risks, benefits, conflicts of
//     interest, and every assurance the policy's analysis guidelines require (no
//     identification of clients, agencies or projects; no transfer of unaggregated data; …).
//     The Research Ethics Board — users holding ETHICS_BOARD in the project — records when
//     every member has received it, and meets no sooner than 30 days after submission and
//     a week after circulation (Config), deciding with reasons and conditions.
//   - The gate. Permit refuses analyses (and exports) of data from more than one agency until
//     an approved application covers every agency (or its region) and the analysis. The
//     documented exception is the evaluation of a single agency, by its own project or with
//     its recorded consent.
//   - Consent. Agencies and regions record consent to an application, and may withdraw it;
//     Admit returns only the agencies that consent, with their region, and says which were
//     left out and why. Clients whose consent flag is withdrawn are left out the same way
//     (ClientFilter).
//   - Retention. Each kind of record has a retention rule; Expired lists what is past it and
//     Remove deletes it (steward retention).
//   - Individual access (Part A, 9). An administrator produces one person's report of
//     everything held about them across agencies and records the corrections they ask for;
//     the agency alone amends its data (Part A, 6).
//
// Every change and every decision is written with its audit entry in one transaction:
// codes, ids and counts, never a client's identifier in clear or a data value.
package governance

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
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

// Config holds the board's notice periods.
type Config struct {
	AfterSubmission  time.Duration // the board meets no sooner than this after submission (default 30 days)
	AfterCirculation time.Duration // … and after every member received the application (default 7 days)
}

// Service keeps governance records in the application database.
type Service struct {
	DB      *store.DB
	Audit   store.Audit
	Config  Config
	Now     func() time.Time // the clock; tests move it
	Kinds   []Kind           // the kinds of record retention rules apply to; add yours
	Sources []Source         // where records about people are held (individual access); add yours
}

// New returns a service with cfg's zero fields set to the policy's values.
func New(db *store.DB, cfg Config) *Service {
	if cfg.AfterSubmission <= 0 {
		cfg.AfterSubmission = 30 * 24 * time.Hour
	}
	if cfg.AfterCirculation <= 0 {
		cfg.AfterCirculation = 7 * 24 * time.Hour
	}
	return &Service{DB: db, Audit: store.Audit{DB: db}, Config: cfg, Now: time.Now, Kinds: builtinKinds(), Sources: builtinSources()}
}

// Purpose is a purpose a project may state.
type Purpose string

const (
	CaseManagement    Purpose = "case_management"
	ProgramManagement Purpose = "program_management"
	ProgramEvaluation Purpose = "program_evaluation"
	BestPractice      Purpose = "best_practice_research"  // determine best practices within a service area
	ClientProblems    Purpose = "client_problem_research" // help professionals address client-related problems
)

// Purposes is every purpose the policy allows (Part A, 2 and 5; Part B, Client Consent and
// Releases of Data).
var Purposes = []Purpose{CaseManagement, ProgramManagement, ProgramEvaluation, BestPractice, ClientProblems}

// ResearchPurposes are those an ethics application may name.
var ResearchPurposes = []Purpose{ProgramEvaluation, BestPractice, ClientProblems}

// SetPurposes states the project's purposes, replacing what it stated before.
func (s *Service) SetPurposes(ctx context.Context, p access.Principal, project string, purposes []Purpose) error {
	x, err := s.projectFor(ctx, p, project)
	if err != nil {
		return err
	}
	if err := access.Check(p, access.ManageGrants, x); err != nil {
		return err
	}
	if len(purposes) == 0 {
		return fmt.Errorf("%w: a project states at least one purpose (one of %v)", derrors.Invalid, Purposes)
	}
	for _, u := range purposes {
		if !slices.Contains(Purposes, u) {
			return fmt.Errorf("%w: purpose %q is not one the policy allows (want one of %v)", derrors.Invalid, u, Purposes)
		}
	}
	now := store.FormatTime(s.Now())
	return s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM project_purposes WHERE project = $1`, project); err != nil {
			return audit.Entry{}, err
		}
		var names []string
		for _, u := range dedupe(purposes) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO project_purposes (project, purpose, set_by, set_at) VALUES ($1, $2, $3, $4)`,
				project, string(u), p.User, now); err != nil {
				return audit.Entry{}, err
			}
			names = append(names, string(u))
		}
		return event(p, "purposes.set", "project/"+project, map[string]string{"purposes": strings.Join(names, " ")}), nil
	})
}

// ProjectPurposes lists the purposes a project states.
func (s *Service) ProjectPurposes(ctx context.Context, project string) ([]Purpose, error) {
	return store.List(ctx, s.DB, func(r scanner) (Purpose, error) {
		var v Purpose
		return v, r.Scan(&v)
	}, `SELECT purpose FROM project_purposes WHERE project = $1 ORDER BY purpose`, project)
}

// Project reads a project (no access check: its code and agency are not secret).
func (s *Service) Project(ctx context.Context, code string) (access.Project, error) {
	var x access.Project
	err := s.DB.QueryRowContext(ctx, `SELECT code, name, COALESCE(agency, '') FROM projects WHERE code = $1`, code).Scan(&x.Code, &x.Name, &x.Agency)
	if errors.Is(err, sql.ErrNoRows) {
		return x, fmt.Errorf("%w: project %s", derrors.NotFound, code)
	}
	return x, err
}

// projectFor reads a project for p: another agency's project is not found, as one that does
// not exist (issue 18: no 403 that confirms it exists).
func (s *Service) projectFor(ctx context.Context, p access.Principal, code string) (access.Project, error) {
	x, err := s.Project(ctx, code)
	if err == nil && !p.Sees(x.Agency) {
		return access.Project{}, fmt.Errorf("%w: project %s", derrors.NotFound, code)
	}
	return x, err
}

// regionsOf maps agency codes to their regions; an agency that does not exist is an error.
func (s *Service) regionsOf(ctx context.Context, agencies []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range agencies {
		var r string
		err := s.DB.QueryRowContext(ctx, `SELECT region FROM agencies WHERE code = $1`, a).Scan(&r)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("%w: agency %s does not exist", derrors.Invalid, a)
		}
		if err != nil {
			return nil, err
		}
		out[a] = r
	}
	return out, nil
}

// change runs fn and appends the audit entry it returns, in one transaction.
func (s *Service) change(ctx context.Context, fn func(tx *sql.Tx) (audit.Entry, error)) error {
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		e, err := fn(tx)
		if err != nil {
			return err
		}
		e.Time = s.Now()
		_, err = s.Audit.AppendTx(ctx, tx, e)
		return err
	})
}

func event(p access.Principal, action, object string, detail map[string]string) audit.Entry {
	return audit.Entry{Actor: p.User, Source: p.Source, Action: action, Object: object, Detail: detail}
}

type scanner = store.Scanner

// strings runs a query of one text column.
func (s *Service) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	return store.Strings(ctx, s.DB, q, args...)
}

// dedupe sorts and removes repeats.
func dedupe[T ~string](vs []T) []T {
	out := slices.Clone(vs)
	slices.Sort(out)
	return slices.Compact(out)
}

func newID(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// checkText validates free text: required or not, at most max bytes, no control characters
// other than line breaks and tabs.
func checkText(field, v string, required bool, max int) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return fmt.Errorf("%w: %s is required", derrors.Invalid, field)
	case len(v) > max:
		return fmt.Errorf("%w: %s is longer than %d characters", derrors.Invalid, field, max)
	case strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' && r != '\r' }):
		return fmt.Errorf("%w: %s contains control characters", derrors.Invalid, field)
	}
	return nil
}
