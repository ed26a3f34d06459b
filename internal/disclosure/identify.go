package disclosure

import (
	"fmt"
	"slices"
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
