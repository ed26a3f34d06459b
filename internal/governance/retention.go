package governance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
)

// Kind is a kind of record a retention rule applies to: the records that became
// unnecessary at some time (a project's end, a decision, a closing), counted and removed
// once that time is more than the rule's days ago. Other packages add their own kinds
// (warehouse data of ended projects, released export files) to Service.Kinds.
type Kind struct {
	Name     string `json:"name"`
	Describe string `json:"describe"`
	// Count counts, and Remove deletes, the records whose time is before cutoff.
	Count  func(ctx context.Context, db *store.DB, cutoff time.Time) (int64, error) `json:"-"`
	Remove func(ctx context.Context, tx *sql.Tx, cutoff time.Time) (int64, error)   `json:"-"`
}

// TableKind is a Kind over rows of one table: those matching where (SQL over the table's
// columns, $1 being the cutoff in store.TimeFormat) are past it.
func TableKind(name, describe, table, where string) Kind {
	return Kind{Name: name, Describe: describe,
		Count: func(ctx context.Context, db *store.DB, cutoff time.Time) (int64, error) {
			var n int64
			err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE `+where, store.FormatTime(cutoff)).Scan(&n)
			return n, err
		},
		Remove: func(ctx context.Context, tx *sql.Tx, cutoff time.Time) (int64, error) {
			res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+where, store.FormatTime(cutoff))
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		},
	}
}

// EndedProjects is the SQL condition, over a table's project column, of the projects that
// ended before the cutoff $1: the time their records became unnecessary.
const EndedProjects = `project IN (SELECT project FROM project_terms WHERE ends_on < $1)`

// builtinKinds are the records the governance and access tables hold past their use.
func builtinKinds() []Kind {
	ended := EndedProjects
	return []Kind{
		TableKind("project_grants", "roles held in projects that ended (no one reads their data any more)", "grants", ended),
		TableKind("project_consents", "consents recorded for projects that ended", "consents", ended),
		TableKind("rejected_applications", "ethics applications the board rejected, from the decision", "ethics_applications",
			`status = 'rejected' AND decided_at < $1`),
		TableKind("closed_corrections", "corrections a person asked for, from when the agency closed them", "person_corrections",
			`status <> 'requested' AND closed_at < $1`),
		TableKind("expired_tokens", "API tokens, from their expiry", "api_tokens", `expires_at < $1`),
	}
}

// Rule is how long a kind of record is kept.
type Rule struct {
	Kind  string `json:"kind"`
	Days  int    `json:"days"`
	Basis string `json:"basis"` // why: the purpose, the law, the agreement
}

// SetRule sets the retention rule of a kind (site administrators).
func (s *Service) SetRule(ctx context.Context, p access.Principal, r Rule) error {
	if err := access.Check(p, access.ManageUsers, access.Project{}); err != nil {
		return err
	}
	if p.Agency != "" {
		return fmt.Errorf("%w: retention rules are set by the site's administrators", derrors.Forbidden)
	}
	if !slices.ContainsFunc(s.Kinds, func(k Kind) bool { return k.Name == r.Kind }) {
		return fmt.Errorf("%w: no kind of record named %q (see steward retention)", derrors.Invalid, r.Kind)
	}
	if r.Days < 0 || r.Days > 100*366 {
		return fmt.Errorf("%w: retention of %s: days must be between 0 and 36600", derrors.Invalid, r.Kind)
	}
	if err := checkText("basis", r.Basis, true, 500); err != nil {
		return err
	}
	now := store.FormatTime(s.Now())
	return s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO retention_rules (kind, days, basis, set_by, set_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (kind) DO UPDATE SET days = $2, basis = $3, set_by = $4, set_at = $5`, r.Kind, r.Days, r.Basis, p.User, now)
		return event(p, "retention.rule", "retention/"+r.Kind, map[string]string{"days": fmt.Sprint(r.Days)}), err
	})
}

// SetProjectEnd records when a project's work ends; retention rules count from it.
func (s *Service) SetProjectEnd(ctx context.Context, p access.Principal, project string, ends time.Time) error {
	x, err := s.projectFor(ctx, p, project)
	if err != nil {
		return err
	}
	if err := access.Check(p, access.ManageGrants, x); err != nil {
		return err
	}
	now := store.FormatTime(s.Now())
	return s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO project_terms (project, ends_on, set_by, set_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (project) DO UPDATE SET ends_on = $2, set_by = $3, set_at = $4`, project, store.FormatTime(ends), p.User, now)
		return event(p, "project.end", "project/"+project, map[string]string{"ends_on": ends.UTC().Format("2006-01-02")}), err
	})
}

// Due is one kind of record with its rule and how many records are past it.
type Due struct {
	Kind
	Rule   *Rule     `json:"rule,omitempty"` // nil: no rule, nothing is removed
	Cutoff time.Time `json:"cutoff,omitzero"`
	Past   int64     `json:"past"`
}

// Expired lists every kind with its rule and the number of records past it.
func (s *Service) Expired(ctx context.Context) ([]Due, error) {
	out := make([]Due, 0, len(s.Kinds))
	for _, k := range s.Kinds {
		d := Due{Kind: k}
		var r Rule
		err := s.DB.QueryRowContext(ctx, `SELECT kind, days, basis FROM retention_rules WHERE kind = $1`, k.Name).Scan(&r.Kind, &r.Days, &r.Basis)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, err
		default:
			d.Rule = &r
			d.Cutoff = s.Now().UTC().AddDate(0, 0, -r.Days)
			if d.Past, err = k.Count(ctx, s.DB, d.Cutoff); err != nil {
				return nil, fmt.Errorf("retention of %s: %w", k.Name, err)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// RemoveExpired deletes what is past its rule, one kind per transaction with its audit
// entry (the kind, the cutoff and the count), and returns what it removed.
func (s *Service) RemoveExpired(ctx context.Context, p access.Principal) ([]Due, error) {
	if err := access.Check(p, access.ManageUsers, access.Project{}); err != nil {
		return nil, err
	}
	due, err := s.Expired(ctx)
	if err != nil {
		return nil, err
	}
	for i, d := range due {
		if d.Rule == nil || d.Past == 0 {
			continue
		}
		err := s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
			n, err := d.Remove(ctx, tx, d.Cutoff)
			due[i].Past = n
			return event(p, "retention.remove", "retention/"+d.Name, map[string]string{
				"removed": fmt.Sprint(n), "cutoff": d.Cutoff.Format("2006-01-02"), "days": fmt.Sprint(d.Rule.Days)}), err
		})
		if err != nil {
			return due, fmt.Errorf("retention of %s: %w", d.Name, err)
		}
	}
	return due, nil
}
