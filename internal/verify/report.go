package verify

import (
	"fmt"
	"strings"
	"time"
)

// Check names one of verify's checks.
type Check string

// The checks, in the order the report gives them.
const (
	Survivors Check = "survivors"
	Patterns  Check = "patterns"
	Structure Check = "structure"
	Joins     Check = "joins"
	Coverage  Check = "coverage"
	Risk      Check = "risk"
)

// CheckInfo describes a check for the report.
type CheckInfo struct {
	ID    Check  `json:"id"`
	Title string `json:"title"`
	Rule  string `json:"rule"`
}

// Checks lists every check with what it asserts.
var Checks = []CheckInfo{
	{Survivors, "No original identifier survives", "No value of a column the policy replaces (hash, pseudonym, placeholder, null) appears in any text column of the copy, as the whole value or, for values of four or more characters, inside text, in any case, with or without diacritics and separators (a host name also by its short name); and no transformed column holds exactly the values it held before."},
	{Patterns, "No recognisable identifier remains", "Kept and scrubbed text columns hold no e-mail address, URL, host name, IP address, phone number or SSN, other than the reserved placeholders the rules write."},
	{Structure, "Nothing lost", "The copy has the same tables, columns, types and constraints as the original, and the same number of rows in every table."},
	{Joins, "Joins survive", "Every foreign key of the original resolves in the copy (no orphans), hashed keys stay unique, and hashed values fill exactly the width the rule gives them in their column."},
	{Coverage, "Every column classified", "Every column of the original has a rule written in the policy; none is copied by default."},
	{Risk, "Re-identification risk", "k-anonymity of each table's quasi-identifiers, before and after: the smallest group of records sharing one combination, and how many records are in groups smaller than 5."},
}

// Report is the outcome of a verification: counts only, never a value.
type Report struct {
	Generated    time.Time     `json:"generated"`
	Steward      string        `json:"steward_version"` // the build that made the report (internal/version)
	Duration     time.Duration `json:"duration_ns"`
	Policy       string        `json:"policy"`
	PolicySHA256 string        `json:"policy_sha256"`
	Source       string        `json:"source"` // DSNs without passwords
	Target       string        `json:"target"`
	MinK         int           `json:"min_k,omitempty"`
	Summary      []CheckResult `json:"checks"`
	Tables       []*Table      `json:"tables"`
	Findings     []Finding     `json:"findings"`
	Passed       bool          `json:"passed"`  // every check passed
	Verdict      string        `json:"verdict"` // the banner: ALL CHECKS PASSED, CHECKS FAILED…, NO CHECK FAILED…
}

// Status is a check's outcome.
type Status string

// The outcomes of a check.
const (
	StatusPassed      Status = "passed"
	StatusFailed      Status = "failed"
	StatusReview      Status = "needs review" // nothing failed, but a person must look (k < 5 without --min-k)
	StatusNotMeasured Status = "not measured" // there was nothing to measure (no quasi-identifiers)
)

// CheckResult is one check's outcome over the whole copy.
type CheckResult struct {
	CheckInfo
	Findings int64  `json:"findings"`
	Status   Status `json:"status"`
	Passed   bool   `json:"passed"` // Status is StatusPassed
}

// Table is one table's part of the report.
type Table struct {
	Name       string          `json:"name"`
	SourceRows int64           `json:"source_rows"`
	TargetRows int64           `json:"target_rows"`
	Columns    []*Column       `json:"columns"`
	Risk       *RiskResult     `json:"risk,omitempty"`
	Findings   map[Check]int64 `json:"findings,omitempty"`
}

// Column is one column's part of the report.
type Column struct {
	Name     string          `json:"name"`
	Rule     string          `json:"rule"` // as the policy writes it; "(unclassified)" when absent
	Checked  int64           `json:"values_checked"`
	Findings map[Check]int64 `json:"findings,omitempty"`
}

// RiskResult is the k-anonymity of a table's quasi-identifiers, before and after.
type RiskResult struct {
	QuasiIdentifiers []string `json:"quasi_identifiers"`
	Original         KStats   `json:"original"`
	Deidentified     KStats   `json:"deidentified"`
}

// KStats summarises the groups of records that share one combination of quasi-identifiers.
type KStats struct {
	Records int64 `json:"records"`
	Groups  int64 `json:"groups"`
	K       int64 `json:"k"`       // the smallest group's size
	Below5  int64 `json:"below_5"` // records in groups of fewer than 5
	Unique  int64 `json:"unique"`  // records alone in their group
}

// Finding is one thing a check found, counted: where, and how many values or rows.
type Finding struct {
	Check  Check  `json:"check"`
	Table  string `json:"table,omitempty"`
	Column string `json:"column,omitempty"`
	Count  int64  `json:"count"`
	What   string `json:"what"`
	// Keys names the rows, by the copy's primary key ("id=7"), for the findings that are
	// about cells; at most MaxKeys of them.
	Keys   []string `json:"keys,omitempty"`
	Review bool     `json:"review,omitempty"` // for a person to look at; the check does not fail for it
}

// Failed lists the checks that failed.
func (r *Report) Failed() []Check { return r.with(StatusFailed) }

// ToReview lists the checks that did not fail but did not pass either: those that need
// review, and those with nothing to measure.
func (r *Report) ToReview() []Check {
	return append(r.with(StatusReview), r.with(StatusNotMeasured)...)
}

func (r *Report) with(s Status) []Check {
	var out []Check
	for _, c := range r.Summary {
		if c.Status == s {
			out = append(out, c.ID)
		}
	}
	return out
}

// banner is the report's verdict in a line: ALL CHECKS PASSED only when every check did.
func (r *Report) banner() string {
	n := len(r.Summary)
	if failed := len(r.Failed()); failed > 0 {
		return fmt.Sprintf("CHECKS FAILED: %d of %d", failed, n)
	}
	var parts []string
	if k := len(r.with(StatusReview)); k > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d NEEDS REVIEW", k, n))
	}
	if k := len(r.with(StatusNotMeasured)); k > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d NOT MEASURED", k, n))
	}
	if len(parts) > 0 {
		return "NO CHECK FAILED — " + strings.Join(parts, ", ")
	}
	return "ALL CHECKS PASSED"
}

// Label is how a report writes a status.
func (s Status) Label() string {
	switch s {
	case StatusPassed:
		return "Passed"
	case StatusFailed:
		return "Failed"
	case StatusReview:
		return "Needs review"
	case StatusNotMeasured:
		return "Not measured"
	}
	return string(s)
}
