package warehouse_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse/cohort"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// allColumns are every standard column of i2b2's tables, as an i2b2 export has them.
var allColumns = columns{
	"concept_dimension":  {"concept_path", "concept_cd", "name_char", "concept_blob", "update_date", "download_date", "import_date", "sourcesystem_cd", "upload_id"},
	"modifier_dimension": {"modifier_path", "modifier_cd", "name_char", "modifier_blob", "update_date", "download_date", "import_date", "sourcesystem_cd", "upload_id"},
	"patient_dimension": {"patient_num", "vital_status_cd", "birth_date", "death_date", "sex_cd", "age_in_years_num", "language_cd", "race_cd",
		"marital_status_cd", "religion_cd", "zip_cd", "statecityzip_path", "income_cd", "patient_blob", "update_date", "download_date",
		"import_date", "sourcesystem_cd", "upload_id"},
	"visit_dimension": {"encounter_num", "patient_num", "active_status_cd", "start_date", "end_date", "inout_cd", "location_cd", "location_path",
		"length_of_stay", "visit_blob", "update_date", "download_date", "import_date", "sourcesystem_cd", "upload_id"},
	"observation_fact": {"encounter_num", "patient_num", "concept_cd", "provider_id", "start_date", "modifier_cd", "instance_num", "valtype_cd",
		"tval_char", "nval_num", "valueflag_cd", "quantity_num", "units_cd", "end_date", "location_cd", "observation_blob", "confidence_num",
		"update_date", "download_date", "import_date", "sourcesystem_cd", "upload_id", "text_search_index"},
}

const testToday = "2025-06-15"

// ageOf is a made-up patient's age on testToday: age_in_years_num, or whole years since birth.
func ageOf(p sitePatient) (int64, bool) {
	if p.hasAge {
		return p.age, true
	}
	b, err := time.Parse(time.DateOnly, p.birth)
	if err != nil {
		return 0, false
	}
	t, _ := time.Parse(time.DateOnly, testToday)
	age := int64(t.Year() - b.Year())
	if t.YearDay() < b.YearDay() && (t.Month() < b.Month() || t.Month() == b.Month() && t.Day() < b.Day()) {
		age--
	}
	return age, true
}

// The constructs i2b2 accepts that the warehouse once refused, and the rest of i2b2's query
// language, on the made-up site loaded from CSV files with every standard i2b2 column: each
// count against the oracle of the site's rows.
func TestI2B2Conformance(t *testing.T) {
	old := cohort.Today
	cohort.Today = func() string { return testToday }
	t.Cleanup(func() { cohort.Today = old })

	d := makeSite(31, 300)
	has := func(concept string) map[int64]bool {
		return d.patientsWhere(func(f siteFact) bool { return f.concept == concept })
	}
	patients := func(ok func(p sitePatient) bool) map[int64]bool {
		out := map[int64]bool{}
		for _, p := range d.patients {
			if ok(p) {
				out[p.num] = true
			}
		}
		return out
	}
	visitsWith := func(ok func(fs []siteFact) bool) map[int64]bool {
		byVisit := map[int64][]siteFact{}
		for _, f := range d.facts {
			byVisit[f.enc] = append(byVisit[f.enc], f)
		}
		out := map[int64]bool{}
		for _, fs := range byVisit {
			if ok(fs) {
				out[fs[0].patient] = true
			}
		}
		return out
	}
	any := func(fs []siteFact, ok func(f siteFact) bool) bool {
		for _, f := range fs {
			if ok(f) {
				return true
			}
		}
		return false
	}
	is := func(c string) func(f siteFact) bool { return func(f siteFact) bool { return f.concept == c } }
	byPatient := func(c string) map[int64][]siteFact {
		m := map[int64][]siteFact{}
		for _, f := range d.facts {
			if f.concept == c {
				m[f.patient] = append(m[f.patient], f)
			}
		}
		return m
	}
	i10, i25, glu := byPatient(cI10), byPatient(cI25), byPatient(cGlucose)
	within30 := map[int64]bool{}
	lastEnd := map[int64]bool{}
	for p, as := range i10 {
		for _, a := range as {
			at, _ := time.Parse(time.DateTime, a.start)
			for _, b := range i25[p] {
				bt, _ := time.Parse(time.DateTime, b.start)
				if a.start <= b.start && !bt.After(at.AddDate(0, 0, 30)) {
					within30[p] = true
				}
			}
		}
		if gs, ok := glu[p]; ok {
			last, first := "", gs[0].start
			for _, a := range as {
				last = max(last, a.end)
			}
			for _, g := range gs {
				first = min(first, g.start)
			}
			if last > first {
				lastEnd[p] = true
			}
		}
	}
	dose500 := map[instance]bool{}
	for _, f := range d.facts {
		if f.concept == cAmox && f.modifier == cDose && f.valtype == "N" && f.nval == 500 && f.tval == "E" {
			dose500[instOf(f)] = true
		}
	}
	dosed := map[int64]bool{}
	for k := range dose500 {
		dosed[k.patient] = true
	}
	twoOrders := visitsWith(func(fs []siteFact) bool {
		n := map[instance]bool{}
		for _, f := range fs {
			if f.concept == cAmox {
				n[instOf(f)] = true
			}
		}
		return len(n) >= 2
	})
	female2012 := map[int64]bool{}
	for _, v := range d.visits {
		if v.start >= "2012-01-01 00:00:00" && v.start <= "2012-12-31 23:59:59" {
			for _, p := range d.patients {
				if p.num == v.patient && p.sex == "F" {
					female2012[p.num] = true
				}
			}
		}
	}

	cases := []struct {
		name, file string
		want       map[int64]bool
		note       string // a note the answer must carry
	}{
		{"query_timing SAME is SAMEVISIT", "same.xml", and(visitsWith(func(fs []siteFact) bool { return any(fs, is(cI10)) && any(fs, is(cGlucose)) }), has(cI25)), ""},
		{"NUMBER without an operator is skipped", "number_no_operator.xml", has(cGlucose), "without value_operator is skipped"},
		{"two constrain_by_value on one fact", "two_values.xml", d.patientsWhere(func(f siteFact) bool {
			ge := f.nval >= 100 && (f.tval == "E" || f.tval == "GE" || f.tval == "G")
			le := f.nval <= 150 && (f.tval == "E" || f.tval == "LE" || f.tval == "L")
			return f.concept == cGlucose && f.modifier == "@" && f.valtype == "N" && ge && le
		}), "value_unit_of_measure"[:0]},
		{"namespace prefixes", "namespaces.xml", has(cI10), ""},
		{"an inverted panel without items is everyone", "everyone.xml", patients(func(sitePatient) bool { return true }), ""},
		{"item date on END_DATE, exclusive", "end_date.xml", d.patientsWhere(func(f siteFact) bool { return f.concept == cI10 && f.end > "2013-03-01 08:00:00" }), ""},
		{"temporal: within 30 days after", "span.xml", within30, ""},
		{"temporal: LAST end date after FIRST start date", "last_end.xml", lastEnd, ""},
		{"SAMEVISIT with an inverted panel", "visit_not.xml", visitsWith(func(fs []siteFact) bool { return any(fs, is(cI10)) && !any(fs, is(cGlucose)) }), ""},
		{"SAMEINSTANCENUM query with an ANY panel", "instance_any.xml", and(dosed, has(cI25)), ""},
		{"occurrences per visit", "visit_occurrences.xml", twoOrders, ""},
		{"LIKE on a modifier's text", "route_like.xml", d.patientsWhere(func(f siteFact) bool {
			return f.concept == cAmox && f.modifier == cRoute && f.valtype == "T" && strings.HasPrefix(f.tval, "I")
		}), ""},
		{"Gender Male", "demographics_Gender_Male.xml", patients(func(p sitePatient) bool { return p.sex == "M" }), ""},
		{"Vital Status Deceased", "demographics_Vital_Status_Deceased.xml", patients(func(p sitePatient) bool { return p.vital == "Y" }), ""},
		{"Race Asian", "demographics_Race_Asian.xml", patients(func(p sitePatient) bool { return p.race == "asian" }), ""},
		{"Age >= 65, from birth dates where no age", "demographics_Age____65_years_old.xml", patients(func(p sitePatient) bool { a, ok := ageOf(p); return ok && a >= 65 }), ""},
		{"the Age folder", "demographics_Age.xml", patients(func(p sitePatient) bool { _, ok := ageOf(p); return ok }), ""},
		{"demographics with a panel date: a visit in the range", "demographics_dated.xml", female2012, ""},
	}
	for _, c := range cases {
		if len(c.want) == 0 {
			t.Fatalf("%s: nobody in the right cohort: the data cannot show it", c.name)
		}
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, ana := siteWorld(t, db, d, allColumns)
		ctx := context.Background()
		glucose, err := w.Run(ctx, ana, "site", querydef.Query{Panels: []querydef.Panel{{Items: []querydef.Item{{Key: pGlucose}}}}})
		must(t, err)
		// A stored query that names the glucose query: a query in a query in a query.
		inner, err := querydef.ParseXML(readDef(t, "../attack/masterid.xml", map[string]string{"Master": glucose.QueryID}))
		must(t, err)
		middle, err := w.Run(ctx, ana, "site", inner)
		must(t, err)
		for _, c := range append(cases, struct {
			name, file string
			want       map[int64]bool
			note       string
		}{"masterid nested", "nested.xml", and(and(has(cGlucose), has(cI25)), has(cI10)), ""}) {
			def := readDef(t, "../conformance/"+c.file, map[string]string{"Master": middle.QueryID})
			q, err := querydef.ParseXML(def)
			if err != nil {
				t.Errorf("%s: %v; want %s", c.name, err, fmtSet(c.want))
				continue
			}
			a, err := w.Run(ctx, ana, "site", q)
			if err != nil {
				t.Errorf("%s: %v; want %s", c.name, err, fmtSet(c.want))
				continue
			}
			if a.Count != int64(len(c.want)) {
				t.Errorf("%s: got %d patients, want %d", c.name, a.Count, len(c.want))
			}
			t.Logf("%s: %d of %d patients", c.name, a.Count, len(d.patients))
			if c.note != "" && !strings.Contains(strings.Join(a.Notes, "\n"), c.note) {
				t.Errorf("%s: notes %q, want one saying %q", c.name, a.Notes, c.note)
			}
		}
		// Ages in the breakdowns: age_in_years_num, or from the birth date on the day asked.
		all, err := querydef.ParseXML(readDef(t, "../conformance/everyone.xml", nil))
		must(t, err)
		a, err := w.Run(ctx, ana, "site", all)
		must(t, err)
		want := map[string]int64{}
		for _, p := range d.patients {
			age, _ := ageOf(p)
			for _, b := range []struct {
				name   string
				lo, hi int64
			}{{"0-9", 0, 9}, {"10-17", 10, 17}, {"18-34", 18, 34}, {"35-44", 35, 44}, {"45-54", 45, 54}, {"55-64", 55, 64}, {"65-74", 65, 74}, {"75-84", 75, 84}, {"85+", 85, 1 << 62}} {
				if age >= b.lo && age <= b.hi {
					want[b.name]++
				}
			}
		}
		for band, n := range want {
			if a.Breakdowns["age"][band] != n {
				t.Errorf("age breakdown %s: got %d, want %d (%v)", band, a.Breakdowns["age"][band], n, a.Breakdowns["age"])
			}
		}
		if a.Breakdowns["age"]["unknown"] != 0 {
			t.Errorf("age breakdown: %d unknown, want 0 (every patient has a birth date)", a.Breakdowns["age"]["unknown"])
		}
		// A stored query of another user is not a masterid this user may name.
		s := access.New(db, access.Config{}, nil)
		must(t, s.CreateUser(ctx, root, access.User{Name: "bea", Agency: "north"}, "correct horse battery"))
		must(t, s.Grant(ctx, root, "bea", "site", access.DataAgg))
		bea, err := s.Principal(ctx, "bea", "test")
		must(t, err)
		q, err := querydef.ParseXML(readDef(t, "../attack/masterid.xml", map[string]string{"Master": glucose.QueryID}))
		must(t, err)
		if _, err := w.Run(ctx, bea, "site", q); err == nil || !strings.Contains(err.Error(), "masterid:"+glucose.QueryID) {
			t.Errorf("another user's stored query as masterid: got %v, want a refusal naming it", err)
		}
	})
}
