package policy

import (
	"os"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/database"
)

func TestParseExample(t *testing.T) {
	b, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse("example.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"patient.mrn":        "hash",
		"patient.birth_date": "{shift_date: {by: id, days: 365}}",
		"patient.zip":        "{generalize: zip3}",
		"patient.ssn":        "{hash: {alphabet: digits}}",
		"patient.phone":      "null",
		"enterprise.name":    "{pseudonym: Enterprise}",
		"server.ip_address":  "{placeholder: ip}",
	}
	for name, rule := range want {
		table, col, _ := strings.Cut(name, ".")
		r, ok := p.Rule(table, col)
		if !ok || r.String() != rule {
			t.Errorf("%s: got %s, want %s", name, r, rule)
		}
	}
	var quasi []string
	for _, q := range p.Table("patient").Quasi {
		quasi = append(quasi, q.Name)
	}
	if got := strings.Join(quasi, ","); got != "birth_date,zip,sex" {
		t.Errorf("patient quasi-identifiers: got %s, want birth_date,zip,sex", got)
	}
	if _, ok := p.Rule("patient", "unlisted"); ok {
		t.Error("an unlisted column got a rule under default: error")
	}
}

func TestParseErrorsNamePlaceAndFix(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"unknown rule", "version: 1\ntables:\n  p:\n    columns:\n      a: hsh\n", `p.yaml:5:10: p.a: unknown rule "hsh" (rules: keep, hash,`},
		{"empty rule", "version: 1\ntables:\n  p:\n    columns:\n      a:\n", `p.yaml:5:7: p.a: missing rule`},
		{"shift without days", "version: 1\ntables:\n  p:\n    columns:\n      a: {shift_date: {by: id}}\n", "p.a: shift_date needs both by and days"},
		{"bad alphabet", "version: 1\ntables:\n  p:\n    columns:\n      a: {hash: {alphabet: b64}}\n", `p.yaml:5:28: p.a: unknown alphabet "b64" (alphabets: hex, base32, digits)`},
		{"bad level", "version: 1\ntables:\n  p:\n    columns:\n      a: {generalize: decade}\n", `unknown generalize level "decade"`},
		{"option on keep", "version: 1\ntables:\n  p:\n    columns:\n      a: {keep: yes}\n", "rule keep takes no options"},
		{"version", "version: 2\ntables: {}\n", `p.yaml:1:10: unsupported policy version "2"`},
		{"missing version", "tables: {}\n", "missing version (add `version: 1` at the top)"},
		{"unknown key", "version: 1\ndefaults: keep\n", `p.yaml:2:1: unknown key "defaults"`},
		{"twice", "version: 1\ntables:\n  p:\n    columns:\n      a: keep\n      a: hash\n", `p.yaml:6:7: not valid YAML: mapping key "a" already defined at [5:7]`},
		{"quasi not a list", "version: 1\ntables:\n  p:\n    quasi_identifiers: zip\n", `p.yaml:4:24: quasi_identifiers of p must be a list of column names`},
		{"table key", "version: 1\ntables:\n  p:\n    colums: {}\n", `p.yaml:4:5: unknown key "colums" in table p`},
		{"not yaml", "version: 1\ntables: [\n", "p.yaml:2:9: not valid YAML"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(c.src))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestDefaultKeep(t *testing.T) {
	p, err := Parse("p.yaml", []byte("version: 1\ndefault: keep\ntables:\n  p:\n    columns:\n      a: hash\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := p.Rule("q", "b"); !ok || r.Kind != Keep {
		t.Errorf("unlisted column under default: keep: got %v %v, want keep", r, ok)
	}
}

// TestFixNeverKeepsNames: where Check suggests a fix, a column whose name says it holds
// names (a person's or an organisation's) is never offered keep.
func TestFixNeverKeepsNames(t *testing.T) {
	s := &database.Schema{Tables: []*database.Table{
		{Name: "patient", Columns: []*database.Column{
			{Name: "id", Type: database.Integer},
			{Name: "last_name", Type: database.Text, Length: 40},
			{Name: "initials", Type: database.Text, Length: 3},
		}},
		{Name: "enterprise", Columns: []*database.Column{
			{Name: "id", Type: database.Integer},
			{Name: "name", Type: database.Text, Length: 100},
		}},
	}}
	cases := []struct{ name, src, column string }{
		{"a column not listed", "version: 1\ntables:\n  patient:\n    columns:\n      id: keep\n      initials: null\n  enterprise:\n    columns:\n      id: keep\n      name: {pseudonym: Enterprise}\n", "last_name"},
		{"a hash too short", "version: 1\ntables:\n  patient:\n    columns:\n      id: keep\n      last_name: hash\n      initials: hash\n  enterprise:\n    columns:\n      id: keep\n      name: {pseudonym: Enterprise}\n", "initials"},
		{"a table not listed", "version: 1\ntables:\n  patient:\n    columns:\n      id: keep\n      last_name: hash\n      initials: null\n", "enterprise"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			err = p.Check(s)
			if err == nil {
				t.Fatal("got no error")
			}
			for _, e := range AsErrors(err) {
				if strings.Contains(e.Error(), c.column) && strings.Contains(e.Fix, "keep") {
					t.Errorf("got %q: the fix offers keep for %s, which holds names", e, c.column)
				}
			}
		})
	}
}

// TestMalformedYAMLPointsAtTheOpening: a bracket or brace left open is reported where it
// opened, not where the parser gave up.
func TestMalformedYAMLPointsAtTheOpening(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"a flow map left open", "version: 1\ntables:\n  patient:\n    columns:\n      mrn: hash\n      birth_date: {shift_date: {by: id, days: 365}\n      zip: {generalize: zip3}\n      sex: keep\n", "p.yaml:6:19:"},
		{"a list left open", "version: 1\ntables:\n  patient:\n    columns:\n      mrn: hash\n    quasi_identifiers: [birth_date, zip\n  other:\n    columns:\n      a: keep\n", "p.yaml:6:24:"},
		{"a brace inside quotes does not count", "version: 1\ntables:\n  patient:\n    columns:\n      mrn: {placeholder: \"{x\"\n      zip: keep\n", "p.yaml:5:12:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(c.src))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got %v, want an error at %s", err, c.want)
			}
		})
	}
}
