package scan

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/stewardhealth/steward/internal/policy"
)

// QuasiMarker starts the comment of a quasi-identifier's rule; ReviewMarker that of an
// undecided one.
const (
	QuasiMarker  = "quasi-identifier:"
	ReviewMarker = "REVIEW:"
)

// render writes the policy file: tables and columns in schema order, each rule with its
// reason as a comment, comments aligned per table.
func render(r *Result) []byte {
	var b strings.Builder
	if r.Sample > 0 {
		fmt.Fprintf(&b, "# Proposed by `steward deid scan` from a %s database, reading at most %s rows per table.\n", r.Kind, thousands(r.Sample))
	} else {
		fmt.Fprintf(&b, "# Proposed by `steward deid scan` from a %s database's column names alone (no rows read).\n", r.Kind)
	}
	b.WriteString("# Every column has a rule and the reason for it. Decide each line marked REVIEW before use;\n")
	b.WriteString("# quasi_identifiers lists what `steward deid verify` measures re-identification risk on.\n")
	b.WriteString("version: 1\ndefault: error\ntables:\n")
	for _, t := range r.Tables {
		fmt.Fprintf(&b, "  %s:\n    columns:\n", yamlKey(t.Name))
		width := 0
		lines := make([]string, len(t.Columns))
		for i, d := range t.Columns {
			lines[i] = yamlKey(d.Column) + ": " + d.Rule.String()
			width = max(width, len(lines[i]))
		}
		var quasi []string
		for i, d := range t.Columns {
			fmt.Fprintf(&b, "      %-*s  # %s\n", width, lines[i], oneLine(d.Comment()))
			// Shifted dates stay near-unique by design: grouping by them would hide what the
			// generalising rules buy, so the list verify measures leaves them out.
			if d.Quasi && d.Rule.Kind != policy.ShiftDate {
				quasi = append(quasi, yamlKey(d.Column))
			}
		}
		if len(quasi) > 0 {
			fmt.Fprintf(&b, "    quasi_identifiers: [%s]  # verify measures their k-anonymity together\n", strings.Join(quasi, ", "))
		}
	}
	return []byte(b.String())
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// yamlKey writes a table or column name as a YAML key, quoted when it would otherwise read
// as something else.
func yamlKey(s string) string {
	switch strings.ToLower(s) {
	case "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~":
	default:
		if plainKey.MatchString(s) {
			return s
		}
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }
