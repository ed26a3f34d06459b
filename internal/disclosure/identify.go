package disclosure

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/stewardhealth/steward/internal/detect"
)

// refusedClasses are what a column's name may say it holds that no aggregate output may
// carry: people, their identifiers and contact points, free text, organisations (CORI: no
// agency or project may be identified) and row keys.
var refusedClasses = []detect.Class{detect.FirstName, detect.MiddleName, detect.LastName, detect.FullName,
	detect.PersonRef, detect.Username, detect.SubjectID, detect.RecordNo, detect.SSNClass, detect.PhoneClass,
	detect.EmailClass, detect.IPClass, detect.HostClass, detect.URLClass, detect.Endpoint, detect.DeviceID,
	detect.Address, detect.BirthDate, detect.Notes, detect.Org, detect.Name, detect.Key}

// refusedKinds are identifiers that no dimension value may be.
var refusedKinds = []detect.Kind{detect.IPv4, detect.IPv6, detect.Email, detect.URL, detect.Hostname,
	detect.Phone, detect.SSN, detect.MRN}

// identifying returns the reasons the file is not an aggregate, naming columns and line
// counts, never values: columns without a role, identifying column names, identifiers, person
// names or free text among dimension values, and a row per person.
func identifying(t *Table, head []string) []string {
	var why []string
	m := t.Meta
	for _, h := range head {
		if h != m.Persons && h != m.Contributor && !slices.Contains(m.Dimensions, h) && !slices.Contains(m.Magnitudes, h) {
			why = append(why, fmt.Sprintf("column %s has no role in the metadata (persons, contributor, dimension or magnitude)", h))
		}
	}
	for _, c := range slices.Concat(m.Dimensions, m.Magnitudes) {
		if cl := detect.Column(t.Name, c).Class; slices.Contains(refusedClasses, cl) {
			why = append(why, fmt.Sprintf("column %s: its name says it holds %s", c, cl))
		}
	}
	for i, d := range m.Dimensions {
		seen := map[string]bool{}
		for _, c := range t.Cells {
			v := c.Key[i]
			if seen[v] || v == m.Total {
				continue
			}
			seen[v] = true
			if r := valueReason(v); r != "" {
				why = append(why, fmt.Sprintf("column %s: a value is %s", d, r))
				break
			}
		}
	}
	why = append(why, rowLevel(t)...)
	if t.repeats > 0 {
		what := "cell"
		if m.Contributor != "" {
			what = "cell and " + m.Contributor
		}
		why = append(why, fmt.Sprintf("%d of %d rows repeat a %s already seen: a row per person or record, not an aggregate", t.repeats, t.rows, what))
	} else if t.rows >= 10 && 2*t.rowsOfOne > t.rows {
		why = append(why, fmt.Sprintf("%d of %d rows count exactly one person: a row per person, not an aggregate", t.rowsOfOne, t.rows))
	}
	return why
}

// valueReason says why one dimension value is refused, or "".
func valueReason(v string) string {
	if k := detect.Classify(v); slices.Contains(refusedKinds, k) {
		return "an identifier (" + string(k) + ")"
	}
	if detect.IsPersonName(v) {
		return "a person's name"
	}
	if len(v) > 60 || len(strings.Fields(v)) > 8 {
		return "free text"
	}
	if k, ok := detect.FindInText(v); ok {
		return "text holding an identifier (" + string(k) + ")"
	}
	return ""
}

// minRowsForKey is how many cells a table needs before a dimension holding a different value
// in each of them is taken for a row key rather than a short list of categories.
const minRowsForKey = 10

// rowLevel returns the reasons the file's own rows show row-level data whatever its persons
// column declares: a dimension value that is a number with decimals (a measurement or a
// statistic such as a mean carried in a dimension, not a category), and, in a table of two or
// more dimensions and at least minRowsForKey cells, a dimension holding a different value in
// every cell, each with a digit (a code, an exact age or date: one row per person, whatever
// count the row declares). Margin cells are left out. Reasons name columns, never values.
func rowLevel(t *Table) []string {
	var why []string
	m := t.Meta
	var cells []*Cell
	for _, c := range t.Cells {
		if !c.Margin(m.Total) {
			cells = append(cells, c)
		}
	}
	varies := 0 // dimensions with more than one value
	distinct := make([]map[string]bool, len(m.Dimensions))
	for i := range m.Dimensions {
		distinct[i] = map[string]bool{}
		for _, c := range cells {
			distinct[i][c.Key[i]] = true
		}
		if len(distinct[i]) > 1 {
			varies++
		}
	}
	for i, d := range m.Dimensions {
		for v := range distinct[i] {
			if decimal(v) {
				why = append(why, fmt.Sprintf("column %s: a value is a number with decimals: a measurement or statistic carried in a dimension, not a category", d))
				break
			}
		}
		if len(m.Dimensions) < 2 || varies < 2 || len(cells) < minRowsForKey || len(distinct[i]) != len(cells) {
			continue
		}
		digits := true
		for v := range distinct[i] {
			if !strings.ContainsAny(v, "0123456789") {
				digits = false
				break
			}
		}
		if digits {
			why = append(why, fmt.Sprintf("column %s: a different value in each of the %d cells, like a code or an exact measurement: row-level data, not an aggregate, whatever the persons column declares", d, len(cells)))
		}
	}
	return why
}

// decimal reports whether v is a number with a fractional part written out (7.35, 6.80).
func decimal(v string) bool {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, ".") {
		return false
	}
	_, err := strconv.ParseFloat(v, 64)
	return err == nil
}
