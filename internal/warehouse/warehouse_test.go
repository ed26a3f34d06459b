package warehouse_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

var root = access.CLI("test")

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var testKey = func() *seal.Keys {
	k, err := seal.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		panic(err)
	}
	return k
}()

// The test warehouse: north's patients 1…300 in project diab (agency north), south's
// 100001…100100 that north must never see.
var (
	north = synthetic.Warehouse{Seed: 11, First: 0, Patients: 300, Ontology: true}
	south = synthetic.Warehouse{Seed: 12, First: 100000, Patients: 100}
)

// world is a store with the warehouse loaded and one user per track role in project diab.
func world(t *testing.T, db *store.DB) (*warehouse.Warehouse, map[string]access.Principal) {
	t.Helper()
	ctx := context.Background()
	s := access.New(db, access.Config{}, nil)
	must(t, s.CreateRegion(ctx, root, access.Region{Code: "west", Name: "West"}))
	must(t, s.CreateAgency(ctx, root, access.Agency{Code: "north", Name: "North clinic", Region: "west"}))
	must(t, s.CreateAgency(ctx, root, access.Agency{Code: "south", Name: "South clinic", Region: "west"}))
	must(t, s.CreateProject(ctx, root, access.Project{Code: "diab", Name: "Diabetes", Agency: "north"}))
	users := map[string]access.Principal{}
	for _, r := range access.Track {
		name := strings.ToLower(strings.TrimPrefix(string(r), "DATA_"))
		must(t, s.CreateUser(ctx, root, access.User{Name: name, Agency: "north"}, "correct horse battery"))
		must(t, s.Grant(ctx, root, name, "diab", r))
		p, err := s.Principal(ctx, name, "test")
		must(t, err)
		users[name] = p
	}
	must(t, s.CreateUser(ctx, root, access.User{Name: "sam", Agency: "south"}, "correct horse battery"))
	p, err := s.Principal(ctx, "sam", "test")
	must(t, err)
	users["sam"] = p
	for agency, g := range map[string]synthetic.Warehouse{"north": north, "south": south} {
		_, err := load.Run(ctx, db, testKey, g.Inputs(), load.Options{Agency: agency})
		must(t, err)
	}
	return warehouse.New(db, s, testKey), users
}

// oracle holds the generated facts to answer queries independently of the warehouse.
type oracle struct {
	concepts  [][]any // concept_dimension rows
	modifiers [][]any // modifier_dimension rows
	facts     [][]any // observation_fact rows
	patients  []int64
	people    map[int64][]any // patient_dimension rows by patient_num
}

func newOracle(t testing.TB, g synthetic.Warehouse) *oracle {
	o := &oracle{}
	for _, in := range g.Inputs() {
		var dst *[][]any
		switch in.Table {
		case "concept_dimension":
			dst = &o.concepts
		case "modifier_dimension":
			dst = &o.modifiers
		case "observation_fact":
			dst = &o.facts
		case "patient_dimension":
		default:
			continue
		}
		for {
			r, err := in.Source.Next()
			if err == io.EOF {
				break
			}
			must(t, err)
			if dst == nil {
				o.patients = append(o.patients, r[0].(int64))
				if o.people == nil {
					o.people = map[int64][]any{}
				}
				o.people[r[0].(int64)] = r
			} else {
				*dst = append(*dst, r)
			}
		}
	}
	return o
}

func compare(op string, a, b float64) bool {
	switch op {
	case "EQ":
		return a == b
	case "NE":
		return a != b
	case "GT":
		return a > b
	case "LT":
		return a < b
	case "LE":
		return a <= b
	}
	return a >= b
}

// under returns the codes (column 1) of the tree rows whose path (column 0) is at or under key.
func under(tree [][]any, key string) map[string]bool {
	if !strings.HasSuffix(key, `\`) {
		key += `\`
	}
	m := map[string]bool{}
	for _, c := range tree {
		if strings.HasPrefix(c[0].(string), key) {
			m[c[1].(string)] = true
		}
	}
	return m
}

// valueHolds says whether fact f meets value constraint v, read the plain way from the row:
// NUMBER nval_num (column 9) of numeric facts (valtype N, column 7) with i2b2's qualifier in
// tval_char (column 8: E equal, G greater, L less than the number); TEXT tval_char of text
// facts (valtype T), LIKE as SQL's on PostgreSQL (case as written, % and _ wildcards); FLAG
// valueflag_cd (10).
func valueHolds(v *querydef.Value, f []any) bool {
	if v == nil {
		return true
	}
	typ, op := strings.ToUpper(v.Type), strings.ToUpper(v.Op)
	if typ == "" || typ == "NUMBER" {
		n, ok := f[9].(float64)
		if !ok || f[7] != "N" {
			return false
		}
		t := f[8].(string)
		switch op {
		case "BETWEEN":
			return t == "E" && n >= v.Number && n <= v.High
		case "GT":
			return t == "E" && n > v.Number || t == "G" && n >= v.Number
		case "GE":
			return (t == "E" || t == "G") && n >= v.Number
		case "LT":
			return t == "E" && n < v.Number || t == "L" && n <= v.Number
		case "LE":
			return (t == "E" || t == "L") && n <= v.Number
		case "EQ":
			return t == "E" && n == v.Number
		case "NE":
			return n != v.Number && t != "NE" || n == v.Number && t == "NE"
		}
		panic("oracle: operator " + op)
	}
	s := f[10].(string)
	if typ == "TEXT" {
		if f[7] != "T" {
			return false
		}
		s = f[8].(string)
	}
	likeRE := func(pattern string) bool {
		re := "^" + strings.NewReplacer("%", ".*", "_", ".").Replace(regexp.QuoteMeta(pattern)) + "$"
		return regexp.MustCompile("(?s)" + re).MatchString(s)
	}
	switch op {
	case "EQ", "LIKE[EXACT]":
		return s == v.Text
	case "NE":
		return s != v.Text && s != ""
	case "IN":
		return slices.Contains(v.List, s)
	case "LIKE", "LIKE[BEGIN]":
		return likeRE(v.Text + "%")
	case "LIKE[END]":
		return likeRE("%" + v.Text)
	case "LIKE[CONTAINS]":
		return likeRE("%" + v.Text + "%")
	}
	panic("oracle: operator " + op)
}

// count answers a query the plain way: for each panel and each of its items, count each
// patient's (or visit's) distinct observations (patient, visit, concept, provider, start,
// instance) among the item's facts by looping over every fact: an item's facts are its
// concepts' facts of any modifier, or those meeting its values (modifier '@'), or with a
// modifier constraint the modifier's facts of its concepts. A panel holds for a patient
// (visit) when one of its items has as many as its occurrences ask.
func (o *oracle) count(q querydef.Query) int { return len(o.cohort(q)) }

// cohort is the patients of a query, found as count describes.
func (o *oracle) cohort(q querydef.Query) map[int64]bool {
	codes := func(key string) map[string]bool { return under(o.concepts, key) }
	visit := q.Timing == "SAMEVISIT"
	unit := func(f []any) int64 {
		if visit {
			return f[0].(int64)
		}
		return f[1].(int64)
	}
	owner := map[int64]int64{}
	for _, f := range o.facts {
		owner[f[0].(int64)] = f[1].(int64)
	}
	var sets []map[int64]bool
	var inverted []bool
	for _, p := range q.Panels {
		op, n := p.Occurs.Op, p.Occurs.N
		if op == "" {
			op, n = "GE", 1
		}
		set := map[int64]bool{}
		for _, it := range p.Items {
			items := codes(it.Key)
			var mods map[string]bool
			if it.Modifier != nil {
				mods = under(o.modifiers, it.Modifier.Key)
			}
			vs := append([]querydef.Value(nil), it.Values...)
			if it.Value != nil {
				vs = append(vs, *it.Value)
			}
			if it.Modifier != nil {
				vs = append([]querydef.Value(nil), it.Modifier.Values...)
				if it.Modifier.Value != nil {
					vs = append(vs, *it.Modifier.Value)
				}
			}
			distinct := map[int64]map[string]bool{}
			for _, f := range o.facts {
				date := f[4].(string)
				if p.DateFrom != nil && date < p.DateFrom.At || p.DateTo != nil && date > p.DateTo.At {
					continue
				}
				if !items[f[2].(string)] {
					continue
				}
				mod := f[5].(string)
				switch {
				case mods != nil && !mods[mod]:
					continue
				case mods == nil && len(vs) > 0 && mod != "@":
					continue
				}
				if slices.ContainsFunc(vs, func(v querydef.Value) bool { return !valueHolds(&v, f) }) {
					continue
				}
				u := unit(f)
				if distinct[u] == nil {
					distinct[u] = map[string]bool{}
				}
				distinct[u][fmt.Sprint(f[0], f[1], f[2], f[3], f[4], f[6])] = true
			}
			for u, d := range distinct {
				if compare(op, float64(len(d)), float64(n)) {
					set[u] = true
				}
			}
		}
		sets = append(sets, set)
		inverted = append(inverted, p.Invert)
	}
	var universe []int64
	if visit {
		for e := range owner {
			universe = append(universe, e)
		}
	} else {
		universe = o.patients
	}
	result := map[int64]bool{}
	for _, u := range universe {
		ok := true
		for i, s := range sets {
			ok = ok && s[u] != inverted[i]
		}
		if ok {
			if visit {
				result[owner[u]] = true
			} else {
				result[u] = true
			}
		}
	}
	return result
}

func item(key string) querydef.Item { return querydef.Item{Key: key} }

func panel(items ...querydef.Item) querydef.Panel { return querydef.Panel{Items: items} }

var (
	e11     = `\i2b2\Diagnoses\ICD10\E\E11\`
	chapE   = `\i2b2\Diagnoses\ICD10\E\`
	glucose = synthetic.LabPath(0)
	a1c     = synthetic.LabPath(1)
)

// conformance is the table of i2b2-style definitions the warehouse must answer as the oracle does.
var conformance = []struct {
	name string
	q    querydef.Query
}{
	{"one leaf concept", querydef.Query{Panels: []querydef.Panel{panel(item(synthetic.DiagnosisPath(0)))}}},
	{"folder means everything under it", querydef.Query{Panels: []querydef.Panel{panel(item(chapE))}}},
	{"items OR-ed", querydef.Query{Panels: []querydef.Panel{panel(item(synthetic.DiagnosisPath(3)), item(synthetic.DiagnosisPath(77)))}}},
	{"panels AND-ed", querydef.Query{Panels: []querydef.Panel{panel(item(chapE)), panel(item(`\i2b2\Diagnoses\ICD10\C\`)), panel(item(`\i2b2\Demographics\Sex\F\`))}}},
	{"NOT panel", querydef.Query{Panels: []querydef.Panel{panel(item(`\i2b2\Diagnoses\ICD10\C\`)), {Invert: true, Items: []querydef.Item{item(chapE)}}}}},
	{"only NOT", querydef.Query{Panels: []querydef.Panel{{Invert: true, Items: []querydef.Item{item(`\i2b2\Diagnoses\ICD10\C\`)}}}}},
	{"occurrences GE 3", querydef.Query{Panels: []querydef.Panel{{Occurs: querydef.Occurrence{Op: "GE", N: 3}, Items: []querydef.Item{item(chapE)}}}}},
	{"occurrences EQ 2", querydef.Query{Panels: []querydef.Panel{{Occurs: querydef.Occurrence{Op: "EQ", N: 2}, Items: []querydef.Item{item(`\i2b2\Diagnoses\ICD10\C\`)}}}}},
	{"occurrences LT 3", querydef.Query{Panels: []querydef.Panel{{Occurs: querydef.Occurrence{Op: "LT", N: 3}, Items: []querydef.Item{item(chapE)}}}}},
	{"occurrences NE 1", querydef.Query{Panels: []querydef.Panel{{Occurs: querydef.Occurrence{Op: "NE", N: 1}, Items: []querydef.Item{item(chapE)}}}}},
	{"occurrences GT and LE", querydef.Query{Panels: []querydef.Panel{{Occurs: querydef.Occurrence{Op: "GT", N: 4}, Items: []querydef.Item{item(glucose)}},
		{Occurs: querydef.Occurrence{Op: "LE", N: 6}, Items: []querydef.Item{item(glucose)}}}}},
	{"date range", querydef.Query{Panels: []querydef.Panel{{DateFrom: &querydef.Bound{At: "2016-01-01 00:00:00"}, DateTo: &querydef.Bound{At: "2016-06-30 12:00:00"}, Items: []querydef.Item{item(chapE)}}}}},
	{"value GT", querydef.Query{Panels: []querydef.Panel{{Items: []querydef.Item{{Key: glucose, Value: &querydef.Value{Op: "GT", Number: 150}}}}}}},
	{"value BETWEEN and LE", querydef.Query{Panels: []querydef.Panel{{Items: []querydef.Item{{Key: a1c, Value: &querydef.Value{Op: "BETWEEN", Number: 6.5, High: 8}}}},
		{Items: []querydef.Item{{Key: glucose, Value: &querydef.Value{Op: "LE", Number: 70}}}}}}},
	{"SAMEVISIT", querydef.Query{Timing: "SAMEVISIT", Panels: []querydef.Panel{panel(item(e11)), {Items: []querydef.Item{{Key: glucose, Value: &querydef.Value{Op: "GT", Number: 140}}}}}}},
	{"SAMEVISIT with NOT", querydef.Query{Timing: "SAMEVISIT", Panels: []querydef.Panel{panel(item(glucose)), {Invert: true, Items: []querydef.Item{item(chapE)}}}}},
	// TEXT constraints on tval_char of text facts.
	{"text EQ", one(querydef.Item{Key: smoking, Value: &querydef.Value{Type: "TEXT", Op: "EQ", Text: "current smoker"}})},
	{"text NE", one(querydef.Item{Key: smoking, Value: &querydef.Value{Type: "TEXT", Op: "NE", Text: "never smoked"}})},
	{"text IN", one(querydef.Item{Key: smoking, Value: &querydef.Value{Type: "TEXT", Op: "IN", List: []string{"never smoked", "former smoker"}}})},
	{"text LIKE begins", one(querydef.Item{Key: smoking, Value: &querydef.Value{Type: "text", Op: "LIKE", Text: "current"}})},
	{"text LIKE is case-sensitive", one(querydef.Item{Key: smoking, Value: &querydef.Value{Type: "text", Op: "LIKE", Text: "Current"}})},
	{"text LIKE ends", one(querydef.Item{Key: smoking, Value: &querydef.Value{Type: "TEXT", Op: "LIKE[end]", Text: "smoker"}})},
	{"text LIKE contains", one(querydef.Item{Key: smoking, Value: &querydef.Value{Type: "TEXT", Op: "LIKE[contains]", Text: "every"}})},
	{"text LIKE exact", one(querydef.Item{Key: smoking, Value: &querydef.Value{Type: "TEXT", Op: "LIKE[exact]", Text: "unknown"}})},
	{"LIKE takes % and _ as wildcards", one(querydef.Item{Key: smoking, Value: &querydef.Value{Type: "TEXT", Op: "LIKE[contains]", Text: "r_s%er"}})},
	{"text on numeric facts matches nothing", one(querydef.Item{Key: glucose, Value: &querydef.Value{Type: "TEXT", Op: "LIKE[contains]", Text: "1"}})},
	// FLAG constraints on valueflag_cd.
	{"flag EQ H", one(querydef.Item{Key: glucose, Value: &querydef.Value{Type: "FLAG", Op: "EQ", Text: "H"}})},
	{"flag NE N over a folder", one(querydef.Item{Key: `\i2b2\Labs\`, Value: &querydef.Value{Type: "FLAG", Op: "NE", Text: "N"}})},
	{"flag IN, twice", querydef.Query{Panels: []querydef.Panel{{Occurs: querydef.Occurrence{Op: "GE", N: 2},
		Items: []querydef.Item{{Key: synthetic.LabPath(2), Value: &querydef.Value{Type: "FLAG", Op: "IN", List: []string{"L", "H"}}}}}}}},
	{"flag A on text, NOT", querydef.Query{Panels: []querydef.Panel{panel(item(chapE)),
		{Invert: true, Items: []querydef.Item{{Key: smoking, Value: &querydef.Value{Type: "FLAG", Op: "EQ", Text: "A"}}}}}}},
	// Modifier constraints: the concept's facts of a modifier, with or without a value.
	{"modifier", one(querydef.Item{Key: chapE, Modifier: &querydef.Modifier{Key: primary}})},
	{"modifier folder", one(querydef.Item{Key: `\i2b2\Diagnoses\ICD10\C\`, Modifier: &querydef.Modifier{Key: `\i2b2\Modifiers\Diagnosis\`}})},
	{"modifier with text", one(querydef.Item{Key: `\i2b2\Diagnoses\`, Modifier: &querydef.Modifier{Key: severity, Value: &querydef.Value{Type: "TEXT", Op: "EQ", Text: "severe"}}})},
	{"modifier with number", one(querydef.Item{Key: glucose, Modifier: &querydef.Modifier{Key: fasting, Value: &querydef.Value{Op: "GE", Number: 8}}})},
	{"modifier occurrences", querydef.Query{Panels: []querydef.Panel{{Occurs: querydef.Occurrence{Op: "GE", N: 3},
		Items: []querydef.Item{{Key: `\i2b2\Diagnoses\`, Modifier: &querydef.Modifier{Key: primary}}}}}}},
	{"modifier SAMEVISIT with value", querydef.Query{Timing: "SAMEVISIT", Panels: []querydef.Panel{panel(item(`\i2b2\Diagnoses\ICD10\E\`)),
		{Items: []querydef.Item{{Key: glucose, Modifier: &querydef.Modifier{Key: fasting, Value: &querydef.Value{Op: "LT", Number: 4}}},
			{Key: glucose, Value: &querydef.Value{Type: "FLAG", Op: "EQ", Text: "H"}}}}}}},
}

var (
	smoking  = `\i2b2\Observations\Smoking\`
	primary  = `\i2b2\Modifiers\Diagnosis\Primary\`
	severity = `\i2b2\Modifiers\Diagnosis\Severity\`
	fasting  = `\i2b2\Modifiers\Lab\Fasting\`
)

// one is a query of one panel of one item.
func one(it querydef.Item) querydef.Query {
	return querydef.Query{Panels: []querydef.Panel{{Items: []querydef.Item{it}}}}
}

func TestConformance(t *testing.T) {
	o := newOracle(t, north)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, users := world(t, db)
		ctx := context.Background()
		nonzero := 0
		for _, c := range conformance {
			want := o.count(c.q)
			a, err := w.Run(ctx, users["agg"], "diab", c.q)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if a.Count != int64(want) || a.Method != "" {
				t.Errorf("%s: got count %d (method %q), want %d exact", c.name, a.Count, a.Method, want)
			}
			if want > 0 && want < len(o.patients) {
				nonzero++
			}
			var sum int64
			for _, n := range a.Breakdowns["sex"] {
				sum += n
			}
			if sum != a.Count {
				t.Errorf("%s: sex breakdown sums to %d, want %d", c.name, sum, a.Count)
			}
		}
		if nonzero < len(conformance)-4 {
			t.Errorf("only %d of %d definitions select some but not all patients: the table tests too little", nonzero, len(conformance))
		}
	})
}

// The breakdowns of an exact answer count the cohort's patients by sex, i2b2's age bands,
// race and vital status, as their patient_dimension rows say.
func TestBreakdownsCountTheCohort(t *testing.T) {
	o := newOracle(t, north)
	band := func(age int64) string {
		for _, b := range []struct {
			hi   int64
			name string
		}{{9, "0-9"}, {17, "10-17"}, {34, "18-34"}, {44, "35-44"}, {54, "45-54"}, {64, "55-64"}, {74, "65-74"}, {84, "75-84"}} {
			if age <= b.hi {
				return b.name
			}
		}
		return "85+"
	}
	db := storetest.Open(t, store.SQLite)
	w, users := world(t, db)
	for _, q := range []querydef.Query{one(item(chapE)), one(item(synthetic.DiagnosisPath(3))),
		{Panels: []querydef.Panel{{Invert: true, Items: []querydef.Item{item(`\i2b2\Diagnoses\ICD10\C\`)}}}}} {
		want := map[string]map[string]int64{"sex": {}, "age": {}, "race": {}, "vital_status": {}}
		for n := range o.cohort(q) {
			r := o.people[n]
			want["sex"][r[4].(string)]++
			want["age"][band(r[5].(int64))]++
			want["race"][r[6].(string)]++
			want["vital_status"][map[string]string{"N": "living", "Y": "deceased"}[r[1].(string)]]++
		}
		a, err := w.Run(context.Background(), users["agg"], "diab", q)
		must(t, err)
		if fmt.Sprint(a.Breakdowns) != fmt.Sprint(want) {
			t.Errorf("breakdowns of %d patients:\n got %v\nwant %v", a.Count, a.Breakdowns, want)
		}
	}
}

func TestSouthIsNeverCounted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, users := world(t, db)
		q := querydef.Query{Panels: []querydef.Panel{{Invert: true, Items: []querydef.Item{item(`\i2b2\Nothing\`)}}}}
		_, err := w.Run(context.Background(), users["agg"], "diab", q)
		if !errors.Is(err, derrors.Invalid) {
			t.Errorf("unknown concept: got %v, want invalid", err)
		}
		all := querydef.Query{Panels: []querydef.Panel{{Invert: true, Items: []querydef.Item{item(`\i2b2\Diagnoses\ICD10\Z\`)}}}}
		all.Panels[0].Items[0].Key = `\i2b2\Demographics\`
		all.Panels = append(all.Panels, panel(item(`\i2b2\Demographics\`)))
		all.Panels[0].Invert = false
		a, err := w.Run(context.Background(), users["agg"], "diab", all)
		must(t, err)
		if a.Count != north.Patients {
			t.Errorf("every patient of diab: got %d, want north's %d (south's %d must not count)", a.Count, north.Patients, south.Patients)
		}
		if _, err := w.Run(context.Background(), users["sam"], "diab", all); !errors.Is(err, derrors.NotFound) {
			t.Errorf("south's user in north's project: got %v, want not found", err)
		}
	})
}
