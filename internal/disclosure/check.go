// Package disclosure decides whether an output may leave the secure processing environment.
//
// An output is a CSV table of cells: dimension columns name a cell, one column counts the
// persons in it, optional magnitude columns hold summed amounts, and an optional contributor
// column names the project or agency each row's contribution comes from (rows of one cell
// are its contributions; the contributor column is never released). Meta says which column
// is which; a column it does not name is refused.
//
// Check first refuses anything that is not an aggregate — identifying column names,
// identifiers, person names or free text among the values, a row per person — outright. It
// then judges every cell, with reasons:
//
//   - persons: a cell of 1 to MinPersons persons is suppressed (CORI: more than 30);
//   - contributors: a cell with persons from MinProjects or fewer projects is suppressed
//     (CORI: more than 3 projects in each sector);
//   - dominance (n,k): the n largest contributions making k % or more of a magnitude;
//     p %: the rest of the cell being within p % of the largest contribution;
//   - zeros: a zero cell is suppressed unless the metadata names it in structural_cells
//     (the zero is impossible by construction, a reviewer validating the declaration);
//   - sensitive dimensions: a zero cell, and a cell holding 100 % of its group, disclose
//     something about everyone in the group and are suppressed;
//   - differencing: a cell (or the table's total) that differs from an earlier release of
//     the same population by 1 to MinPersons persons is suppressed (or the file refused).
//
// Then secondary suppression: totals are treated as public (in this release or another), so
// a hidden cell must not be recomputable from the margins. Each line of the table (a row,
// a column, …, with its total) that hides exactly one cell gets a second hidden cell, and
// a rank test over all the lines' equations confirms that no hidden cell is determined.
//
// The verdict is Pass (nothing hidden), Suppressed (the released file hides the cells
// listed) or Refused (nothing may leave without an officer's exception, and a file that is
// not an aggregate never). Evidence describes each finding by its rule and threshold,
// never by the hidden value.
package disclosure

import (
	"fmt"
	"slices"
	"sort"
)

// Rules are the thresholds; the zero value of a field means its default.
type Rules struct {
	MinPersons      int     `json:"min_persons,omitempty"`      // a cell needs more than this many persons (default 30)
	MinProjects     int     `json:"min_projects,omitempty"`     // and persons from more than this many contributors (default 3); -1 turns the rule off
	DominanceN      int     `json:"dominance_n,omitempty"`      // (n,k) rule: the n largest contributions … (default 2)
	DominanceK      float64 `json:"dominance_k,omitempty"`      // … must make less than k % of the cell (default 90)
	P               float64 `json:"p,omitempty"`                // p % rule (default 10)
	MaxDifferencing int     `json:"max_differencing,omitempty"` // releases of a population may not differ by 1…this many persons (default MinPersons)
}

// WithDefaults fills the zero fields.
func (r Rules) WithDefaults() Rules {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&r.MinPersons, 30)
	def(&r.MinProjects, 3)
	def(&r.DominanceN, 2)
	def(&r.MaxDifferencing, r.MinPersons)
	if r.DominanceK == 0 {
		r.DominanceK = 90
	}
	if r.P == 0 {
		r.P = 10
	}
	return r
}

// Verdict is the outcome for one file.
type Verdict string

const (
	Pass       Verdict = "pass"
	Suppressed Verdict = "suppressed"
	Refused    Verdict = "refused"
)

// Rule names a check.
type Rule string

const (
	RulePersons      Rule = "persons"
	RuleProjects     Rule = "projects"
	RuleDominance    Rule = "dominance"
	RuleP            Rule = "p_percent"
	RuleZero         Rule = "zero"
	RuleFull         Rule = "full"
	RuleSecondary    Rule = "secondary"
	RuleDifferencing Rule = "differencing"
)

// Finding is one reason a cell is hidden.
type Finding struct {
	Rule   Rule   `json:"rule"`
	Reason string `json:"reason"` // the rule and threshold, never the hidden value
}

// Result is what Check found in one file.
type Result struct {
	File     string     `json:"file"`
	Verdict  Verdict    `json:"verdict"`
	Outright bool       `json:"outright,omitempty"` // refused as not an aggregate: no exception possible
	Reasons  []string   `json:"reasons,omitempty"`  // why the file is refused
	Cells    int        `json:"cells"`
	Hidden   []Evidence `json:"hidden,omitempty"` // the suppressed cells, with their findings
	Freed    []string   `json:"freed,omitempty"`  // cells an approved exception shows although a rule hid them
	// Unverified are the rules judged on what the file declares of its contributors, which no
	// check can confirm (persons of one project relabelled as four look the same): they hold
	// for every cell only if the declaration is true. Empty for a table Steward computed.
	Unverified []Finding `json:"unverified,omitempty"`
	table      *Table
	hidden     map[*Cell][]Finding
	freed      map[*Cell]bool // never hidden again by secondary suppression
	// secondaryWhy is why secondary suppression could not protect the table, if it could not.
	secondaryWhy string
}

// Evidence is one suppressed cell as the officer sees it: where, and why.
type Evidence struct {
	Cell     string    `json:"cell"`
	Findings []Finding `json:"findings"`
}

// Check judges table t under rules r against earlier releases of the same population.
// head is the file's header, as ReadCSV returned it.
func Check(t *Table, head []string, r Rules, earlier []Release) *Result {
	r = r.WithDefaults()
	res := &Result{File: t.Name, Cells: len(t.Cells), table: t, hidden: map[*Cell][]Finding{}}
	if why := identifying(t, head); len(why) > 0 {
		res.Verdict, res.Outright, res.Reasons = Refused, true, why
		return res
	}
	m := t.Meta
	if len(m.Magnitudes) > 0 && m.Contributor == "" {
		res.Reasons = append(res.Reasons, "magnitudes need a contributor column: dominance and p % are judged on each contributor's share")
	}
	for i, c := range m.Magnitudes {
		switch st := m.Statistic(c); {
		case st == "min" || st == "max":
			res.Reasons = append(res.Reasons, fmt.Sprintf("column %s: a %s is one person's value and is not released", c, st))
		case (st == "sum" || st == "count") && !t.personValues() && t.rows > 0 && t.magWhole[i] && t.magMax[i] <= float64(r.MinPersons):
			res.Reasons = append(res.Reasons, fmt.Sprintf("column %s: declared a %s but holds only whole numbers of %d or less, like small counts of persons; counts go in the persons column, where cells of %d or fewer are hidden", c, st, r.MinPersons, r.MinPersons))
		}
	}
	if r.MinProjects > 0 && m.Contributor == "" {
		res.Reasons = append(res.Reasons, fmt.Sprintf("no contributor column: cannot show that every cell holds persons of more than %d projects", r.MinProjects))
	}
	if m.Contributor != "" {
		if r.MinProjects > 0 {
			res.Unverified = append(res.Unverified, Finding{RuleProjects, fmt.Sprintf("contributors declared, not verified: every cell's %ss are what the file's %s column says", m.Contributor, m.Contributor)})
		}
		if len(m.Magnitudes) > 0 {
			res.Unverified = append(res.Unverified,
				Finding{RuleDominance, "contributors declared, not verified: the contributions are split as the file declares"},
				Finding{RuleP, "contributors declared, not verified: the contributions are split as the file declares"})
		}
	}
	for _, c := range t.Cells {
		res.primary(c, r, m)
	}
	res.sensitive(r)
	res.Reasons = append(res.Reasons, res.differencing(r, earlier)...)
	if why := res.secondary(); why != "" {
		res.Reasons, res.secondaryWhy = append(res.Reasons, why), why
	}
	res.Verdict = Pass
	switch {
	case len(res.Reasons) > 0:
		res.Verdict = Refused
	case len(res.hidden) > 0:
		res.Verdict = Suppressed
	}
	for _, c := range t.Cells { // table order
		if f, ok := res.hidden[c]; ok {
			res.Hidden = append(res.Hidden, Evidence{Cell: t.label(c), Findings: f})
		}
	}
	return res
}

func (res *Result) hide(c *Cell, rule Rule, format string, a ...any) {
	res.hidden[c] = append(res.hidden[c], Finding{Rule: rule, Reason: fmt.Sprintf(format, a...)})
}

// Hides reports whether the cell with these dimension values is suppressed.
func (res *Result) Hides(key ...string) bool {
	c := res.table.Cell(key...)
	_, ok := res.hidden[c]
	return c != nil && ok
}

// primary applies the per-cell rules.
func (res *Result) primary(c *Cell, r Rules, m Meta) {
	if c.Persons > 0 && c.Persons <= int64(r.MinPersons) {
		res.hide(c, RulePersons, "%d persons or fewer (a cell needs more than %d)", r.MinPersons, r.MinPersons)
	}
	if c.Persons == 0 && !m.structuralCell(c.Key) {
		res.hide(c, RuleZero, "no persons: a zero says something of everyone the cell describes (declare the cell a structural zero, with a reason, if it cannot be otherwise)")
	}
	if m.Contributor != "" && r.MinProjects > 0 && c.Persons > 0 && c.Projects() <= r.MinProjects {
		res.hide(c, RuleProjects, "persons of %d %ss or fewer (a cell needs more than %d)", r.MinProjects, m.Contributor, r.MinProjects)
	}
	if len(c.Values) > 0 {
		vals := make([]float64, len(c.Values))
		for i, v := range c.Values {
			vals[i] = max(v, -v)
		}
		res.dominance(c, r, "the value", "persons' values", "person", vals)
	}
	if m.Contributor == "" || len(c.Values) > 0 { // the persons are the contributions that count
		return
	}
	for i, name := range m.Magnitudes {
		vals := make([]float64, 0, len(c.contrib))
		for _, v := range c.contrib {
			vals = append(vals, max(v[i], -v[i]))
		}
		res.dominance(c, r, name, "contributions", "contributor", vals)
	}
}

// dominance applies the (n,k) and p % rules to the cell's contributions vals (not negative):
// of contributors, or of persons when Steward computed the table.
func (res *Result) dominance(c *Cell, r Rules, name, of, one string, vals []float64) {
	total := 0.0
	for _, v := range vals {
		total += v
	}
	if total == 0 {
		return
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(vals)))
	top := 0.0
	for _, v := range vals[:min(r.DominanceN, len(vals))] {
		top += v
	}
	if top >= r.DominanceK/100*total {
		res.hide(c, RuleDominance, "%s: the %d largest %s make %g %% or more of the cell", name, r.DominanceN, of, r.DominanceK)
	}
	second := 0.0
	if len(vals) > 1 {
		second = vals[1]
	}
	if total-vals[0]-second < r.P/100*vals[0] {
		res.hide(c, RuleP, "%s: the second largest %s could estimate the largest within %g %%", name, one, r.P)
	}
}

// sensitive hides, in each sensitive dimension, the zero cells and a cell holding all the
// persons of its group (the cells agreeing on every other dimension).
func (res *Result) sensitive(r Rules) {
	t := res.table
	for _, s := range t.Meta.Sensitive {
		si := slices.Index(t.Meta.Dimensions, s)
		groups := map[string][]*Cell{}
		var order []string
		values := map[string]bool{}
		for _, c := range t.Cells {
			if c.Key[si] == t.Meta.Total && t.Meta.Total != "" {
				continue
			}
			values[c.Key[si]] = true
			k := slices.Clone(c.Key)
			k[si] = ""
			g := keyOf(k)
			if _, ok := groups[g]; !ok {
				order = append(order, g)
			}
			groups[g] = append(groups[g], c)
		}
		for _, g := range order {
			cells := groups[g]
			var sum int64
			for _, c := range cells {
				sum += c.Persons
			}
			for _, c := range cells {
				switch {
				case c.Persons == 0 && !slices.ContainsFunc(res.hidden[c], func(f Finding) bool { return f.Rule == RuleZero }):
					res.hide(c, RuleZero, "no persons in sensitive dimension %s: says something of everyone in the group", s)
				case c.Persons == sum && len(values) > 1:
					res.hide(c, RuleFull, "every person of the group has this %s", s)
				}
			}
		}
	}
}

// structuralCell reports whether the metadata declares the cell with this key a structural zero.
func (m Meta) structuralCell(key []string) bool {
	return slices.ContainsFunc(m.StructuralCells, func(k []string) bool { return slices.Equal(k, key) })
}

// Verified marks the contributors as known, not declared: for a table Steward computed from
// the warehouse, whose contributors it counted itself.
func (res *Result) Verified() { res.Unverified = nil }

// personValues reports whether Steward computed the table's magnitudes from persons' values
// (a cell carries them): then they are known, not declared, and a column of small whole
// numbers is a true statistic, not counts in disguise.
func (t *Table) personValues() bool {
	for _, c := range t.Cells {
		if len(c.Values) > 0 {
			return true
		}
	}
	return false
}
