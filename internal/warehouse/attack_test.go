package warehouse_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// The attacks of issue 23: i2b2 query definitions, written as i2b2's clients write them,
// that the warehouse once answered with a wrong count and no error. Each case's right
// answer comes from the made-up site's rows (the oracle, a loop over the facts); each case
// also shows that the wrong reading gives another count on these rows, so the test cannot
// pass by accident.

type instance struct {
	patient, enc  int64
	concept, prov string
	start         string
	num           int64
}

func instOf(f siteFact) instance {
	return instance{f.patient, f.enc, f.concept, f.provider, f.start, f.instance}
}

// i2b2GT is i2b2's NUMBER GT: the fact's own value (modifier '@', valtype N) read with its
// tval_char qualifier: E and GE values above the bound, G values at or above it.
func i2b2GT(f siteFact, bound float64) bool {
	if f.modifier != "@" || f.valtype != "N" || !f.hasNval {
		return false
	}
	return f.nval > bound && (f.tval == "E" || f.tval == "GE") || f.nval >= bound && f.tval == "G"
}

func readDef(t *testing.T, name string, data any) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "attack", name))
	must(t, err)
	if data == nil {
		return b
	}
	var out bytes.Buffer
	must(t, template.Must(template.New(name).Parse(string(b))).Execute(&out, data))
	return out.Bytes()
}

func TestI2B2Attacks(t *testing.T) {
	d := makeSite(23, 400)
	byPatient := func(concept string) map[int64][]siteFact {
		m := map[int64][]siteFact{}
		for _, f := range d.facts {
			if f.concept == concept {
				m[f.patient] = append(m[f.patient], f)
			}
		}
		return m
	}
	has := func(concept string) map[int64]bool {
		return d.patientsWhere(func(f siteFact) bool { return f.concept == concept })
	}
	between := func(s, lo, hi string) bool { return s >= lo && s <= hi }
	type attack struct {
		name, file string
		want       map[int64]bool // the right cohort
		wrong      map[int64]bool // what the wrong reading gives
	}
	var attacks []attack

	// 1. An item's own date constraint (constrain_by_date), with the time of day of its bounds.
	attacks = append(attacks, attack{"item-level date", "item_date.xml",
		d.patientsWhere(func(f siteFact) bool {
			return f.concept == cI10 && between(f.start, "2010-01-01 00:00:00", "2012-12-31 00:00:00")
		}), has(cI10)})

	// 2. Per-panel timing: panels 1 and 2 in one visit, panel 3 (ANY) at any time.
	sameVisit := func(concepts ...string) map[int64]bool {
		visits := map[int64]map[string]bool{}
		for _, f := range d.facts {
			if visits[f.enc] == nil {
				visits[f.enc] = map[string]bool{}
			}
			visits[f.enc][f.concept] = true
		}
		out := map[int64]bool{}
		for enc, cs := range visits {
			all := true
			for _, c := range concepts {
				all = all && cs[c]
			}
			if all {
				out[enc/100] = true
			}
		}
		return out
	}
	attacks = append(attacks, attack{"panel timing inside a SAMEVISIT query", "panel_timing.xml",
		and(sameVisit(cI10, cGlucose), has(cI25)), sameVisit(cI10, cGlucose, cI25)})

	// 3. SAMEINSTANCENUM: the dose and the route of one and the same medication instance.
	dose500, routeIV := map[instance]bool{}, map[instance]bool{}
	for _, f := range d.facts {
		if f.concept != cAmox {
			continue
		}
		if f.modifier == cDose && f.valtype == "N" && f.nval == 500 && f.tval == "E" {
			dose500[instOf(f)] = true
		}
		if f.modifier == cRoute && f.valtype == "T" && f.tval == "IV" {
			routeIV[instOf(f)] = true
		}
	}
	instances, visits := map[int64]bool{}, map[int64]bool{}
	visitDose := map[int64]bool{}
	for k := range dose500 {
		visitDose[k.enc] = true
		if routeIV[k] {
			instances[k.patient] = true
		}
	}
	for k := range routeIV {
		if visitDose[k.enc] {
			visits[k.patient] = true
		}
	}
	attacks = append(attacks, attack{"SAMEINSTANCENUM", "instance.xml", instances, visits})

	// 4. A temporal query: the main panel and two events, the first hypertension before the
	// first ischaemia.
	firstOf := func(fs []siteFact) string {
		m := fs[0].start
		for _, f := range fs {
			m = min(m, f.start)
		}
		return m
	}
	i10, i25 := byPatient(cI10), byPatient(cI25)
	temporal := map[int64]bool{}
	for p, fs := range i10 {
		if gs, ok := i25[p]; ok && firstOf(fs) < firstOf(gs) {
			temporal[p] = true
		}
	}
	attacks = append(attacks, attack{"temporal subqueries", "temporal.xml", temporal, has(cI10)})

	// 5. Query in query: an earlier stored query's patients (glucose tested) and ischaemia.
	attacks = append(attacks, attack{"masterid: a stored query", "masterid.xml", and(has(cGlucose), has(cI25)), nil})

	// 6. total_item_occurrences counts each item's facts, not the panel's.
	perItem, summed := map[int64]bool{}, map[int64]bool{}
	for p := range d.patientsWhere(func(siteFact) bool { return true }) {
		a, b := map[instance]bool{}, map[instance]bool{}
		for _, f := range i10[p] {
			a[instOf(f)] = true
		}
		for _, f := range i25[p] {
			b[instOf(f)] = true
		}
		perItem[p] = len(a) >= 3 || len(b) >= 3
		summed[p] = len(a)+len(b) >= 3
		if !perItem[p] {
			delete(perItem, p)
		}
		if !summed[p] {
			delete(summed, p)
		}
	}
	attacks = append(attacks, attack{"occurrences per item", "occurrences.xml", perItem, summed})

	// 7. Numeric values read with tval_char (E, G, L…).
	attacks = append(attacks, attack{"tval_char on numbers", "tval.xml",
		d.patientsWhere(func(f siteFact) bool { return f.concept == cGlucose && i2b2GT(f, 150) }),
		d.patientsWhere(func(f siteFact) bool { return f.concept == cGlucose && f.hasNval && f.nval > 150 })})

	// 8. The time of day of a panel's date bounds.
	attacks = append(attacks, attack{"time of day at date bounds", "time_of_day.xml",
		d.patientsWhere(func(f siteFact) bool {
			return f.concept == cI10 && between(f.start, "2012-06-01 12:00:00", "2013-06-01 08:30:00")
		}),
		d.patientsWhere(func(f siteFact) bool {
			return f.concept == cI10 && between(f.start[:10], "2012-06-01", "2013-06-01")
		})})

	// 9. Demographics through the ontology: female patients, whatever their facts.
	female := map[int64]bool{}
	for _, p := range d.patients {
		if p.sex == "F" {
			female[p.num] = true
		}
	}
	attacks = append(attacks, attack{`\i2b2\Demographics\Gender\Female\`, "female.xml", female, map[int64]bool{}})

	for _, a := range attacks {
		if len(a.want) == 0 || len(a.want) == len(d.patients) {
			t.Fatalf("%s: the right cohort has %d of %d patients: the data cannot show the attack", a.name, len(a.want), len(d.patients))
		}
		if a.wrong != nil && sameSet(a.want, a.wrong) {
			t.Fatalf("%s: the wrong reading gives the right cohort on this data: the test would prove nothing", a.name)
		}
	}

	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, ana := siteWorld(t, db, d, todayColumns)
		ctx := context.Background()
		glucose, err := w.Run(ctx, ana, "site", querydef.Query{Panels: []querydef.Panel{{Items: []querydef.Item{{Key: pGlucose}}}}})
		must(t, err)
		for _, a := range attacks {
			q, err := querydef.ParseXML(readDef(t, a.file, map[string]string{"Master": glucose.QueryID}))
			if err != nil {
				t.Errorf("%s: %v; want %s", a.name, err, fmtSet(a.want))
				continue
			}
			got, err := w.Run(ctx, ana, "site", q)
			if err != nil {
				t.Errorf("%s: %v; want %s", a.name, err, fmtSet(a.want))
				continue
			}
			if got.Count != int64(len(a.want)) {
				t.Errorf("%s: got %d patients, want %d (the wrong reading gives %d)", a.name, got.Count, len(a.want), len(a.wrong))
			}
		}
		// i2b2 refuses instance timing in a panel of a query whose timing is not
		// SAMEINSTANCENUM (its own test files expect an error).
		q, err := querydef.ParseXML(readDef(t, "instance_under_any.xml", nil))
		if err == nil {
			_, err = w.Run(ctx, ana, "site", q)
		}
		if err == nil || !strings.Contains(err.Error(), "SAMEINSTANCENUM") {
			t.Errorf("panel_timing SAMEINSTANCENUM in an ANY query: got %v, want a refusal naming SAMEINSTANCENUM", err)
		}
	})
}
