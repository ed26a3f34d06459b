package policy

import (
	"fmt"
	"strings"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/detect"
)

// Check holds the policy against a database schema and returns every problem found.
func (p *Policy) Check(s *database.Schema) error {
	var es Errors
	bad := func(at Pos, fix, format string, args ...any) {
		es = append(es, &Error{File: p.File, Pos: at, Msg: fmt.Sprintf(format, args...), Fix: fix})
	}
	for _, pt := range p.Tables {
		t := s.Table(pt.Name)
		if t == nil {
			bad(pt.Pos, "check the spelling, or remove the entry"+nearest(pt.Name, tableNames(s)), "table %s does not exist in the database", pt.Name)
			continue
		}
		for _, pc := range pt.Columns {
			c := t.Column(pc.Name)
			if c == nil {
				bad(pc.Pos, "check the spelling, or remove the entry"+nearest(pc.Name, columnNames(t)), "column %s.%s does not exist", pt.Name, pc.Name)
				continue
			}
			if msg, fix := suits(pc.Rule, t, c); msg != "" {
				bad(pc.Rule.Pos, fix, "%s.%s (%s): %s", t.Name, c.Name, c.Native, msg)
			}
		}
		for _, q := range pt.Quasi {
			if t.Column(q.Name) == nil {
				bad(q.Pos, "check the spelling, or remove it from the list"+nearest(q.Name, columnNames(t)), "quasi-identifier %s.%s does not exist", pt.Name, q.Name)
			}
		}
	}
	for _, t := range s.Tables {
		pt := p.Table(t.Name)
		if p.Default != Keep && pt == nil {
			fix := fmt.Sprintf("add `%s:` with a rule for each of its columns (`steward deid scan` proposes them)", t.Name)
			if named := namesIn(t); len(named) == 0 {
				fix += ", or set `default: keep`"
			} else {
				fix += "; names need a rule that replaces them: " + strings.Join(named, ", ")
			}
			bad(Pos{}, fix, "table %s is not in the policy and the default is error", t.Name)
			continue
		}
		if p.Default != Keep {
			var missing []string
			for _, c := range t.Columns {
				if pt.Column(c.Name) == nil {
					missing = append(missing, c.Name)
				}
			}
			if len(missing) > 0 {
				example := missing[0] + ": keep"
				if holdsNames(t.Name, missing[0]) {
					example = missing[0] + ": hash"
				}
				bad(pt.Pos, "add a rule for each, e.g. `"+example+"`", "table %s: column(s) %s not in the policy and the default is error", t.Name, strings.Join(missing, ", "))
			}
		}
		for _, fk := range t.ForeignKeys {
			ref := s.Table(fk.RefTable)
			if ref == nil {
				continue
			}
			for i, col := range fk.Columns {
				if i >= len(fk.RefColumns) {
					break
				}
				a, okA := p.Rule(t.Name, col)
				b, okB := p.Rule(ref.Name, fk.RefColumns[i])
				if !okA || !okB || a.Same(b) {
					continue
				}
				at := a.Pos
				if at.Line == 0 {
					at = b.Pos
				}
				bad(at, "give both columns the same rule", "foreign key %s.%s → %s.%s: rules differ (%s vs %s), so joins would break", t.Name, col, ref.Name, fk.RefColumns[i], a, b)
			}
		}
	}
	return es.err()
}

// suits says why a rule cannot apply to a column, with a fix, or "" when it can.
func suits(r Rule, t *database.Table, c *database.Column) (msg, fix string) {
	ty := c.Type
	text := ty == database.Text
	switch r.Kind {
	case Keep, Scrub:
		if r.Kind == Scrub && !text {
			return "scrub works on text columns only", "use keep, null or a rule for " + ty.String() + " values"
		}
	case Hash:
		switch {
		case text:
			if c.Length > 0 && c.Length < 6 {
				fix := "use null, generalize, or keep if the column is not identifying"
				if holdsNames(t.Name, c.Name) {
					fix = "use null: a name cut this short cannot be hashed apart"
				}
				return fmt.Sprintf("a hash cut to %d characters would collide constantly", c.Length), fix
			}
		case ty == database.Integer:
		default:
			fix := hashFix(ty)
			if holdsNames(t.Name, c.Name) {
				fix = "use null"
			}
			return "hash needs a text or integer column, not " + ty.String(), fix
		}
	case Pseudonym:
		if !text {
			return "pseudonym needs a text column", "use hash for integer columns"
		}
		if c.Length > 0 && c.Length < 5 {
			return fmt.Sprintf("column holds %d characters, too few for a pseudonym", c.Length), "use hash or null"
		}
	case Placeholder:
		if !text && ty != database.Inet {
			return "placeholder needs a text column", "use hash or null"
		}
		if ty == database.Inet && r.Text != PlaceIP {
			return "an address column takes only {placeholder: ip}", "use {placeholder: ip}"
		}
	case ShiftDate:
		if ty != database.Date && ty != database.Timestamp && !text {
			return "shift_date needs a date or timestamp column", "use keep, null or generalize"
		}
		by := t.Column(r.By)
		if by == nil {
			return fmt.Sprintf("shift_date by column %s does not exist in %s", r.By, t.Name), "name a column of the same table that identifies the person or encounter" + nearest(r.By, columnNames(t))
		}
	case Generalize:
		switch r.Text {
		case Year, Month:
			if ty != database.Date && ty != database.Timestamp && !text {
				return "generalize " + r.Text + " needs a date or timestamp column", ""
			}
		case Zip3:
			if !text {
				return "generalize zip3 needs a text column", "store ZIP codes as text, or use hash"
			}
			if c.Length > 0 && c.Length < 3 {
				return "column too short for a ZIP code", ""
			}
		case AgeBand:
			if ty != database.Integer && ty != database.Decimal && ty != database.Float && !text {
				return "generalize age_band needs an age (a number, or text)", "for a birth date, use {generalize: year} or shift_date"
			}
			if text && c.Length > 0 && c.Length < 3 {
				return "column too short for an age band such as 90+", ""
			}
		}
	case Null:
		if c.NotNull {
			switch ty {
			case database.Text, database.Integer, database.Float, database.Decimal, database.Bool, database.Bytes:
			default:
				return "the column is NOT NULL and a " + ty.String() + " has no empty value", "use shift_date or generalize, or keep"
			}
		}
	}
	return "", ""
}

// holdsNames reports whether a column's name says it holds names — a person's, their
// initials or login, an organisation's — so that no fix offers to keep it.
func holdsNames(table, column string) bool {
	switch detect.Column(table, column).Class {
	case detect.FirstName, detect.MiddleName, detect.LastName, detect.FullName, detect.PersonRef, detect.Username, detect.Org, detect.Name:
		return true
	}
	return false
}

// namesIn lists the columns of t that hold names.
func namesIn(t *database.Table) []string {
	var out []string
	for _, c := range t.Columns {
		if holdsNames(t.Name, c.Name) {
			out = append(out, c.Name)
		}
	}
	return out
}

func hashFix(ty database.Type) string {
	switch ty {
	case database.Date, database.Timestamp:
		return "use shift_date or {generalize: year} for dates"
	case database.Inet:
		return "use {placeholder: ip}"
	}
	return "use null, or keep if the column is not identifying"
}

func tableNames(s *database.Schema) []string {
	n := make([]string, len(s.Tables))
	for i, t := range s.Tables {
		n[i] = t.Name
	}
	return n
}

func columnNames(t *database.Table) []string {
	n := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		n[i] = c.Name
	}
	return n
}

// nearest suggests the closest existing name, when one is close.
func nearest(name string, names []string) string {
	best, bestD := "", 4
	for _, n := range names {
		if d := distance(strings.ToLower(name), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean " + best + "?"
}

// distance is the Levenshtein edit distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
