// Package scan proposes a de-identification policy for a database: it reads the schema and
// a sample of each table's rows and gives every column a rule, with the reason in a comment.
//
// The model: each column gets evidence from two sources, both in internal/detect. Its name
// (tokenised, abbreviations expanded: pt_fname, dob, mrn, acct_no, ws_name, ip_addr) gives a
// class such as "surname" or "zip code"; its sampled values give counts — how many are
// known given names or surnames, e-mail or IP addresses, host names, URLs, dates, record
// numbers, and how many hold an identifier inside free text. A rule follows from the class,
// confirmed or overruled by the values; the table decides what a bare "name" is (a campus's
// name is an organisation, a workstation's a host name, a unit's a label). Integer keys are
// surrogates and kept; both ends of a foreign key get the same rule. Dates of a patient's
// records are shifted by the row's entity key (its encounter, else its patient), so
// intervals survive.
//
// Quasi-identifiers — birth date, age, ZIP code, sex, race, admission and discharge dates —
// get a generalising rule (or keep, for sex and race) and a comment that starts with
// "quasi-identifier:" and, unless shifted, is listed in the table's quasi_identifiers. Whatever the scan cannot decide is
// hashed (or emptied) with "REVIEW:" in its comment (after the quasi-identifier marker, if
// any): a scan errs on the side of protection. Comments give counts and percentages, never a sampled value.
package scan

import (
	"context"
	"fmt"
	"slices"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/detect"
	"github.com/stewardhealth/steward/internal/policy"
)

// DefaultSample is how many rows of each table a scan reads when Options.Sample is 0.
const DefaultSample = 1000

// ShiftDays is the largest date shift the scan proposes, either way.
const ShiftDays = 365

// Options tune a scan.
type Options struct {
	Sample int // rows read per table; 0 means DefaultSample, negative reads none (names only)
}

// Decision is the rule the scan gives one column, and why.
type Decision struct {
	Table, Column string
	Rule          policy.Rule
	Reason        string // the comment, without its "quasi-identifier:" or "REVIEW:" marker
	Quasi         bool   // a quasi-identifier: verify measures k-anonymity over these
	Review        bool   // undecided: a person should look
}

// Identifying reports whether the scan found the column identifying: any rule but keep.
func (d *Decision) Identifying() bool { return d.Rule.Kind != policy.Keep }

// Comment is the YAML comment written after the rule.
// A quasi-identifier's comment starts with its marker, even when it is also to be reviewed
// ("quasi-identifier: REVIEW: …"), so a reader sees both.
func (d *Decision) Comment() string {
	c := d.Reason
	if d.Review {
		c = ReviewMarker + " " + c
	}
	if d.Quasi {
		c = QuasiMarker + " " + c
	}
	return c
}

// Table is the decisions for one table.
type Table struct {
	Name    string
	Sampled int // rows read
	Columns []*Decision
}

// Result is a scan's outcome: a decision per column and the policy file they make.
type Result struct {
	Kind   database.Kind
	Sample int
	Tables []*Table
	Policy []byte // the policy file: version 1, default error, every column listed
}

// Decision returns the decision for a column, or nil.
func (r *Result) Decision(table, column string) *Decision {
	for _, t := range r.Tables {
		if t.Name == table {
			for _, d := range t.Columns {
				if d.Column == column {
					return d
				}
			}
		}
	}
	return nil
}

// Scan reads db's schema and a sample of every table and proposes a complete policy. The
// policy it returns passes policy.Check against the schema; Scan fails if it would not.
func Scan(ctx context.Context, db database.DB, o Options) (*Result, error) {
	n := o.Sample
	if n == 0 {
		n = DefaultSample
	}
	s, err := db.Schema(ctx)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	res := &Result{Kind: db.Kind(), Sample: max(n, 0)}
	linked := personLinked(s)
	for _, t := range s.Tables {
		st, rows, err := sample(ctx, db, t, n)
		if err != nil {
			return nil, err
		}
		tr := &Table{Name: t.Name, Sampled: rows}
		tc := newTableContext(s, t, linked)
		for i, c := range t.Columns {
			d := decide(tc, c, st[i], rows)
			d.Table, d.Column = t.Name, c.Name
			d.Rule = fit(t, c, d)
			tr.Columns = append(tr.Columns, d)
		}
		res.Tables = append(res.Tables, tr)
	}
	joinForeignKeys(s, res)
	res.Policy = render(res)
	p, err := policy.Parse("scan", res.Policy)
	if err == nil {
		err = p.Check(s)
	}
	if err != nil {
		return nil, fmt.Errorf("the proposed policy does not fit the schema (a bug in scan): %w", err)
	}
	return res, nil
}

// tableContext is what the table tells about its columns.
type tableContext struct {
	t      *database.Table
	words  []string
	linked bool   // rows are about a patient (directly or through foreign keys)
	by     string // the entity key dates are shifted by, "" when there is none
}

var (
	hostTables   = []string{"server", "servers", "workstation", "workstations", "host", "hosts", "device", "devices", "computer", "computers", "machine", "machines", "node", "nodes", "ws"}
	orgTables    = []string{"enterprise", "campus", "campuses", "facility", "facilities", "hospital", "hospitals", "organization", "organisation", "org", "clinic", "clinics", "practice", "practices", "site", "sites", "employer", "employers", "system"}
	personTables = []string{"patient", "patients", "person", "persons", "people", "staff", "provider", "providers", "physician", "physicians", "user", "users", "employee", "employees", "contact", "contacts", "guarantor", "guarantors", "member", "members", "clinician", "clinicians", "nurse", "nurses", "practitioner", "practitioners", "subscriber", "subscribers", "kin", "doctor", "doctors", "technician", "technicians", "resident", "residents"}
	episodeWords = []string{"encounter", "encounters", "visit", "visits", "admission", "admissions", "episode", "episodes", "stay", "stays", "enc", "case", "cases"}
)

func hasAny(words []string, set []string) bool {
	for _, w := range words {
		if slices.Contains(set, w) {
			return true
		}
	}
	return false
}

func newTableContext(s *database.Schema, t *database.Table, linked map[string]bool) *tableContext {
	tc := &tableContext{t: t, words: detect.Tokens(t.Name), linked: linked[t.Name]}
	tc.by = entityKey(s, t, linked)
	return tc
}

// personLinked finds the tables whose rows are about a patient: those with a patient or
// encounter key, a record number or a birth date, and, through foreign keys, those that
// reference such a table.
func personLinked(s *database.Schema) map[string]bool {
	linked := map[string]bool{}
	for _, t := range s.Tables {
		words := detect.Tokens(t.Name)
		if hasAny(words, []string{"patient", "patients", "person", "persons", "member", "members", "subscriber", "guarantor"}) || hasAny(words, episodeWords) {
			linked[t.Name] = true
			continue
		}
		for _, c := range t.Columns {
			switch detect.Column(t.Name, c.Name).Class {
			case detect.SubjectID, detect.BirthDate, detect.Admission:
				linked[t.Name] = true
			case detect.RecordNo:
				if hasAny(detect.Tokens(c.Name), []string{"mrn", "chart"}) {
					linked[t.Name] = true
				}
			}
			if episodeKey(c.Name) {
				linked[t.Name] = true
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, t := range s.Tables {
			if linked[t.Name] {
				continue
			}
			for _, fk := range t.ForeignKeys {
				if linked[fk.RefTable] && fk.RefTable != t.Name {
					linked[t.Name], changed = true, true
					break
				}
			}
		}
	}
	return linked
}

// episodeKey reports an encounter or visit key column: encounter_id, visit_no, csn.
func episodeKey(col string) bool {
	w := detect.Tokens(col)
	return hasAny(w, episodeWords) && hasAny(w, []string{"id", "key", "no", "num", "number", "nbr"}) || hasAny(w, []string{"csn", "fin"})
}

// entityKey picks the column a linked table's dates are shifted by: the encounter (the
// table's own key when it is an encounter table, else its encounter column), else the
// patient, else the table's own single-column key.
func entityKey(s *database.Schema, t *database.Table, linked map[string]bool) string {
	words := detect.Tokens(t.Name)
	pk := ""
	if len(t.PrimaryKey) == 1 {
		pk = t.PrimaryKey[0]
	}
	if hasAny(words, episodeWords) && pk != "" {
		return pk
	}
	for _, c := range t.Columns {
		if episodeKey(c.Name) {
			return c.Name
		}
	}
	if hasAny(words, []string{"patient", "patients", "person", "persons", "member", "members"}) && pk != "" {
		return pk
	}
	for _, c := range t.Columns {
		if detect.Column(t.Name, c.Name).Class == detect.SubjectID {
			return c.Name
		}
	}
	for _, c := range t.Columns {
		if h := detect.Column(t.Name, c.Name); h.Class == detect.RecordNo && hasAny(detect.Tokens(c.Name), []string{"mrn", "chart"}) {
			return c.Name
		}
	}
	for _, fk := range t.ForeignKeys {
		if linked[fk.RefTable] && len(fk.Columns) == 1 {
			return fk.Columns[0]
		}
	}
	return pk
}
