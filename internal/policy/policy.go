// Package policy reads and checks a de-identification policy: which rule applies to every
// column of every table of a database.
//
// A policy is a YAML file:
//
//	version: 1
//	default: error          # error (every column must be listed) | keep
//	tables:
//	  patient:
//	    columns:
//	      mrn: hash
//	      birth_date: {shift_date: {by: id, days: 365}}
//	      zip: {generalize: zip3}
//	    quasi_identifiers: [birth_date, zip]   # optional: measured by verify
//
// Parse reads it strictly: an unknown key, an unknown rule or a malformed option is an error
// that names the file, line and column and says how to fix it. Check then holds the policy
// against a database's schema: every table and column it names must exist, every rule must
// suit its column's type, foreign keys must get the same rule at both ends (or joins break),
// and, under default: error, every column must be listed. All problems are reported at once,
// before anything is written.
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Kind names a rule.
type Kind string

// The rules.
const (
	Keep        Kind = "keep"
	Hash        Kind = "hash"
	Pseudonym   Kind = "pseudonym"
	Placeholder Kind = "placeholder"
	ShiftDate   Kind = "shift_date"
	Generalize  Kind = "generalize"
	Null        Kind = "null"
	Scrub       Kind = "scrub"
)

// Rules lists every rule in the order the documentation gives them.
var Rules = []Kind{Keep, Hash, Pseudonym, Placeholder, ShiftDate, Generalize, Null, Scrub}

// Hash alphabets.
const (
	Hex    = "hex"
	Base32 = "base32"
	Digits = "digits"
)

// Placeholder kinds with a structure; any other placeholder text is used as it is.
const (
	PlaceIP       = "ip"
	PlaceHostname = "hostname"
	PlaceURL      = "url"
	PlaceEmail    = "email"
)

// Generalisation levels.
const (
	Year    = "year"
	Month   = "month"
	Zip3    = "zip3"
	AgeBand = "age_band"
)

// Rule is what happens to one column's values.
type Rule struct {
	Kind     Kind
	Alphabet string // Hash: hex (default), base32 or digits
	Text     string // Pseudonym: the prefix; Placeholder: ip, hostname, url, email or fixed text; Generalize: the level
	By       string // ShiftDate: the column whose value names the entity
	Days     int    // ShiftDate: the largest shift, in days, either way
	Pos      Pos
}

// String is the rule as a policy file would write it.
func (r Rule) String() string {
	switch r.Kind {
	case Hash:
		if r.Alphabet != "" && r.Alphabet != Hex {
			return fmt.Sprintf("{hash: {alphabet: %s}}", r.Alphabet)
		}
		return "hash"
	case Pseudonym, Placeholder, Generalize:
		return fmt.Sprintf("{%s: %s}", r.Kind, r.Text)
	case ShiftDate:
		return fmt.Sprintf("{shift_date: {by: %s, days: %d}}", r.By, r.Days)
	}
	return string(r.Kind)
}

// Transforms reports whether the rule changes values.
func (r Rule) Transforms() bool { return r.Kind != Keep }

// Same reports whether two rules map equal values to equal values (what a foreign key needs).
func (r Rule) Same(o Rule) bool {
	r.Pos, o.Pos = Pos{}, Pos{}
	if r.Kind == Hash && r.Alphabet == "" {
		r.Alphabet = Hex
	}
	if o.Kind == Hash && o.Alphabet == "" {
		o.Alphabet = Hex
	}
	return r == o
}

// Pos is a place in the policy file.
type Pos struct{ Line, Column int }

// Column is a column's entry.
type Column struct {
	Name string
	Rule Rule
	Pos  Pos
}

// Table is a table's entry.
type Table struct {
	Name    string
	Columns []*Column
	// Quasi lists the columns that, together, could single a person out (birth date, ZIP
	// code, sex, admission date): verify measures the k-anonymity of their combination.
	Quasi []QuasiIdentifier
	Pos   Pos
}

// QuasiIdentifier names a column of a table's quasi_identifiers list.
type QuasiIdentifier struct {
	Name string
	Pos  Pos
}

// Column returns the entry of the named column, or nil.
func (t *Table) Column(name string) *Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Policy is a parsed policy file.
type Policy struct {
	File    string
	Version int
	Default Kind // Keep, or "" for error
	Tables  []*Table
	Source  []byte // the file's bytes, to fingerprint a run
}

// Table returns the entry of the named table, or nil.
func (p *Policy) Table(name string) *Table {
	for _, t := range p.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Rule returns the rule for a column: its entry's, or the default. ok is false when the
// column is not listed and the default is error.
func (p *Policy) Rule(table, column string) (r Rule, ok bool) {
	if t := p.Table(table); t != nil {
		if c := t.Column(column); c != nil {
			return c.Rule, true
		}
	}
	if p.Default == Keep {
		return Rule{Kind: Keep}, true
	}
	return Rule{}, false
}

// Error is one problem with a policy, at a place in its file.
type Error struct {
	File string
	Pos  Pos
	Msg  string
	Fix  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Pos.Line, e.Pos.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Fix != "" {
		b.WriteString(" (")
		b.WriteString(e.Fix)
		b.WriteString(")")
	}
	return b.String()
}

// Errors is every problem found, in file order; it is what Parse and Check return.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Pos.Line != es[j].Pos.Line {
			return es[i].Pos.Line < es[j].Pos.Line
		}
		return es[i].Pos.Column < es[j].Pos.Column
	})
	return es
}

// Load reads and parses a policy file.
func Load(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse parses a policy; name is used in error messages.
func Parse(name string, src []byte) (*Policy, error) {
	p := &Policy{File: name, Source: bytes.Clone(src)}
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, yamlError(name, src, err)
	}
	lines := strings.Split(string(src), "\n")
	var es Errors
	bad := func(n ast.Node, fix, format string, args ...any) {
		es = append(es, &Error{File: name, Pos: pos(n), Msg: fmt.Sprintf(format, args...), Fix: fix})
	}
	if len(f.Docs) != 1 || f.Docs[0].Body == nil {
		return nil, &Error{File: name, Msg: "empty policy", Fix: "start with `version: 1` and a `tables:` map"}
	}
	top, ok := mapping(f.Docs[0].Body)
	if !ok {
		return nil, &Error{File: name, Pos: pos(f.Docs[0].Body), Msg: "a policy is a map with version, default and tables"}
	}
	seenVersion := false
	for _, kv := range top {
		key := keyString(kv)
		switch key {
		case "version":
			seenVersion = true
			v, ok := scalar(kv.Value)
			if ok && v == "1" {
				p.Version = 1
			} else {
				bad(kv.Value, "write `version: 1`", "unsupported policy version %q", v)
			}
		case "default":
			v, _ := scalar(kv.Value)
			switch v {
			case "error":
				p.Default = ""
			case "keep":
				p.Default = Keep
			default:
				bad(kv.Value, "use `default: error` to require every column, or `default: keep`", "unknown default %q", v)
			}
		case "tables":
			tables, ok := mapping(kv.Value)
			if !ok {
				bad(kv.Value, "write each table as `name:` with a `columns:` map under it", "tables must be a map of table names")
				continue
			}
			for _, tkv := range tables {
				t := &Table{Name: keyString(tkv), Pos: pos(tkv.Key)}
				if p.Table(t.Name) != nil {
					bad(tkv.Key, "merge the two entries", "table %s is listed twice", t.Name)
					continue
				}
				p.Tables = append(p.Tables, t)
				body, ok := mapping(tkv.Value)
				if !ok {
					bad(tkv.Value, "write `columns:` under the table", "table %s must be a map with columns", t.Name)
					continue
				}
				for _, b := range body {
					switch keyString(b) {
					case "columns":
					case "quasi_identifiers":
						seq, ok := unwrap(b.Value).(*ast.SequenceNode)
						if !ok {
							bad(b.Value, "write the column names as a list, e.g. `quasi_identifiers: [birth_date, zip, sex]`", "quasi_identifiers of %s must be a list of column names", t.Name)
							continue
						}
						for _, v := range seq.Values {
							name, ok := scalar(v)
							if !ok {
								bad(v, "write a column name", "quasi_identifiers of %s must be a list of column names", t.Name)
								continue
							}
							t.Quasi = append(t.Quasi, QuasiIdentifier{Name: name, Pos: pos(v)})
						}
						continue
					default:
						bad(b.Key, "a table has `columns:` and, optionally, `quasi_identifiers:`", "unknown key %q in table %s", keyString(b), t.Name)
						continue
					}
					cols, ok := mapping(b.Value)
					if !ok {
						bad(b.Value, "write one `column: rule` per line", "columns of %s must be a map of column names to rules", t.Name)
						continue
					}
					for _, ckv := range cols {
						c := &Column{Name: keyString(ckv), Pos: pos(ckv.Key)}
						if t.Column(c.Name) != nil {
							bad(ckv.Key, "keep one entry", "column %s.%s is listed twice", t.Name, c.Name)
							continue
						}
						r, e := parseRule(ckv.Value, lines)
						if e != nil {
							if e.Msg == "missing rule" {
								e.Pos = c.Pos
							}
							e.File = name
							e.Msg = fmt.Sprintf("%s.%s: %s", t.Name, c.Name, e.Msg)
							es = append(es, e)
							continue
						}
						c.Rule = r
						t.Columns = append(t.Columns, c)
					}
				}
			}
		default:
			bad(kv.Key, "the top level has version, default and tables", "unknown key %q", key)
		}
	}
	if !seenVersion {
		es = append(es, &Error{File: name, Pos: Pos{1, 1}, Msg: "missing version", Fix: "add `version: 1` at the top"})
	}
	if err := es.err(); err != nil {
		return nil, err
	}
	return p, nil
}

var ruleList = func() string {
	s := make([]string, len(Rules))
	for i, r := range Rules {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}()

func parseRule(n ast.Node, lines []string) (Rule, *Error) {
	at := pos(n)
	if _, null := unwrap(n).(*ast.NullNode); null && !written(lines, at) {
		return Rule{}, &Error{Pos: at, Msg: "missing rule", Fix: "rules: " + ruleList}
	}
	fail := func(n ast.Node, fix, format string, args ...any) (Rule, *Error) {
		return Rule{}, &Error{Pos: pos(n), Msg: fmt.Sprintf(format, args...), Fix: fix}
	}
	if s, ok := scalar(n); ok {
		switch Kind(s) {
		case Keep, Hash, Null, Scrub:
			return Rule{Kind: Kind(s), Pos: at}, nil
		case Pseudonym, Placeholder, ShiftDate, Generalize:
			return fail(n, "see the rule's form in the README", "rule %s needs an option, e.g. %s", s, example(Kind(s)))
		}
		if s == "" {
			return fail(n, "rules: "+ruleList, "missing rule")
		}
		return fail(n, "rules: "+ruleList, "unknown rule %q", s)
	}
	m, ok := mapping(n)
	if !ok || len(m) != 1 {
		return fail(n, "write a rule name, or a map with one rule name and its options", "a rule is `keep`, `hash`, … or a one-key map such as %s", example(ShiftDate))
	}
	kv := m[0]
	k := Kind(keyString(kv))
	r := Rule{Kind: k, Pos: at}
	switch k {
	case Pseudonym, Placeholder, Generalize:
		v, ok := scalar(kv.Value)
		if !ok || v == "" {
			return fail(kv.Value, "e.g. "+example(k), "%s needs a text option", k)
		}
		r.Text = v
		if k == Generalize && v != Year && v != Month && v != Zip3 && v != AgeBand {
			return fail(kv.Value, "levels: year, month, zip3, age_band", "unknown generalize level %q", v)
		}
		return r, nil
	case Hash:
		opts, ok := mapping(kv.Value)
		if !ok {
			return fail(kv.Value, "e.g. {hash: {alphabet: base32}}", "hash options must be a map")
		}
		for _, o := range opts {
			v, _ := scalar(o.Value)
			if keyString(o) != "alphabet" {
				return fail(o.Key, "hash has only `alphabet`", "unknown hash option %q", keyString(o))
			}
			if v != Hex && v != Base32 && v != Digits {
				return fail(o.Value, "alphabets: hex, base32, digits", "unknown alphabet %q", v)
			}
			r.Alphabet = v
		}
		return r, nil
	case ShiftDate:
		opts, ok := mapping(kv.Value)
		if !ok {
			return fail(kv.Value, "e.g. "+example(k), "shift_date options must be a map with by and days")
		}
		for _, o := range opts {
			v, _ := scalar(o.Value)
			switch keyString(o) {
			case "by":
				r.By = v
			case "days":
				d, err := strconv.Atoi(v)
				if err != nil || d < 1 || d > 3650 {
					return fail(o.Value, "a whole number of days from 1 to 3650", "days must be a positive number of days")
				}
				r.Days = d
			default:
				return fail(o.Key, "shift_date has `by` and `days`", "unknown shift_date option %q", keyString(o))
			}
		}
		if r.By == "" || r.Days == 0 {
			return fail(kv.Value, "e.g. "+example(k), "shift_date needs both by and days")
		}
		return r, nil
	case Keep, Null, Scrub:
		return fail(kv.Key, "write it as a plain word", "rule %s takes no options", k)
	}
	return fail(kv.Key, "rules: "+ruleList, "unknown rule %q", string(k))
}

func example(k Kind) string {
	switch k {
	case Pseudonym:
		return "{pseudonym: Enterprise}"
	case Placeholder:
		return "{placeholder: hostname}"
	case ShiftDate:
		return "{shift_date: {by: patient_id, days: 365}}"
	case Generalize:
		return "{generalize: zip3}"
	}
	return string(k)
}

// mapping returns the entries of a map node (block or flow style).
func mapping(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch m := unwrap(n).(type) {
	case *ast.MappingNode:
		return m.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}, true
	}
	return nil, false
}

func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		default:
			return n
		}
	}
}

// scalar returns the text of a scalar node (null reads as "null", which is also a rule).
func scalar(n ast.Node) (string, bool) {
	switch v := unwrap(n).(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return v.GetToken().Value, true
	case *ast.NullNode:
		return "null", true
	case *ast.LiteralNode:
		return v.Value.Value, true
	}
	return "", false
}

func keyString(kv *ast.MappingValueNode) string {
	if s, ok := scalar(kv.Key); ok {
		return s
	}
	return kv.Key.String()
}

func pos(n ast.Node) Pos {
	if n == nil {
		return Pos{}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Pos{}
	}
	return Pos{tk.Position.Line, tk.Position.Column}
}

// written reports whether a null value is written in the file (null, ~) rather than left
// empty (`col:`), which the YAML parser also reads as null.
func written(lines []string, at Pos) bool {
	if at.Line < 1 || at.Line > len(lines) {
		return false
	}
	line := lines[at.Line-1]
	if at.Column < 1 || at.Column > len(line) {
		return false
	}
	rest := strings.TrimSpace(line[at.Column-1:])
	return rest != "" && !strings.HasPrefix(rest, "#")
}

var yamlPos = regexp.MustCompile(`^\[(\d+):(\d+)\]\s*`)

// yamlError turns the YAML parser's "[line:column] message" into our file:line:column form.
// A bracket or brace left open is reported where it opened: the parser notices only where
// the next line starts, or at the end of the file.
func yamlError(name string, src []byte, err error) *Error {
	msg := oneLine(err.Error())
	e := &Error{File: name, Msg: "not valid YAML: " + msg}
	if m := yamlPos.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		e.Pos = Pos{line, col}
		e.Msg = "not valid YAML: " + msg[len(m[0]):]
	}
	if strings.Contains(msg, "must be specified") || strings.Contains(msg, "could not find flow") {
		if at, open, ok := unclosed(src, e.Pos); ok && at != e.Pos {
			close := map[byte]string{'{': "}", '[': "]"}[open]
			e.Msg = fmt.Sprintf("not valid YAML: the %c opened here is never closed (the parser stopped at line %d, column %d: %s)", open, e.Pos.Line, e.Pos.Column, strings.TrimPrefix(e.Msg, "not valid YAML: "))
			e.Fix = "add the missing " + close
			e.Pos = at
		}
	}
	return e
}

// unclosed finds the innermost flow bracket or brace still open at position upto (or at the
// end, for none), skipping quoted text and comments.
func unclosed(src []byte, upto Pos) (Pos, byte, bool) {
	type opener struct {
		at Pos
		c  byte
	}
	var stack []opener
	line, col := 1, 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '\n' {
			line, col = line+1, 0
			continue
		}
		col++
		if upto.Line > 0 && (line > upto.Line || line == upto.Line && col >= upto.Column) {
			break
		}
		switch {
		case c == '#' && (col == 1 || src[i-1] == ' ' || src[i-1] == '\t'):
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			q := c
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
				col++
				if q == '"' && src[i] == '\\' && i+1 < len(src) {
					i++
					col++
					continue
				}
				if src[i] == q {
					if q == '\'' && i+1 < len(src) && src[i+1] == '\'' {
						i++
						col++
						continue
					}
					break
				}
			}
		case c == '{' || c == '[':
			stack = append(stack, opener{Pos{line, col}, c})
		case (c == '}' || c == ']') && len(stack) > 0:
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) == 0 {
		return Pos{}, 0, false
	}
	top := stack[len(stack)-1]
	return top.at, top.c, true
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// AsErrors returns the list of policy problems inside err, if it holds any.
func AsErrors(err error) Errors {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	var e *Error
	if errors.As(err, &e) {
		return Errors{e}
	}
	return nil
}
