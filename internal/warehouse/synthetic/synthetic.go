// Package synthetic makes a made-up research warehouse: deterministic (the same seed and
// size give the same rows), with diagnoses on ICD-10-like concept paths, labs with numeric
// values and flags, a text fact (smoking status), modifiers, visits, demographics,
// providers, mappings and identified data. Each patient's rows come from a generator seeded
// by the patient's number, so every table can be produced on its own and still agree.
package synthetic

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/stewardhealth/steward/internal/warehouse/load"
)

// Demo sizes: about 100 facts per patient.
const (
	DemoPatients = 10_000
	DemoSeed     = 7
)

// chapters are the ICD-10 letters the generator draws codes from (10 categories × 5 codes each).
var chapters = []struct{ letter, name string }{
	{"C", "Neoplasms"}, {"E", "Endocrine, nutritional and metabolic diseases"}, {"F", "Mental and behavioural disorders"},
	{"G", "Diseases of the nervous system"}, {"I", "Diseases of the circulatory system"}, {"J", "Diseases of the respiratory system"},
	{"K", "Diseases of the digestive system"}, {"M", "Diseases of the musculoskeletal system"}, {"N", "Diseases of the genitourinary system"},
	{"R", "Symptoms and signs"},
}

// labs are the numeric tests: LOINC-like code, name, unit, mean, spread.
var labs = []struct {
	code, name, unit string
	mean, sd         float64
}{
	{"2345-7", "Glucose", "mg/dL", 100, 25}, {"4548-4", "Hemoglobin A1c", "%", 5.8, 1.1}, {"2160-0", "Creatinine", "mg/dL", 1.0, 0.3},
	{"2093-3", "Cholesterol", "mg/dL", 190, 40}, {"718-7", "Hemoglobin", "g/dL", 13.8, 1.6}, {"6690-2", "Leukocytes", "10*3/uL", 7.2, 2.0},
	{"777-3", "Platelets", "10*3/uL", 250, 60}, {"2951-2", "Sodium", "mmol/L", 139, 3}, {"2823-3", "Potassium", "mmol/L", 4.2, 0.4},
	{"1742-6", "ALT", "U/L", 28, 12},
}

var (
	sexes = []string{"F", "M"}
	races = []string{"white", "black", "asian", "other", "unknown"}
	first = []string{"Ada", "Ben", "Cora", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Milo", "Nia", "Otto", "Pia"}
	last  = []string{"Archer", "Baker", "Carter", "Dalton", "Ellis", "Fischer", "Garcia", "Hughes", "Ito", "Jensen", "Kowalski", "Lopez"}
)

// diagnosisCode is the i-th code of the 500 (chapter, category, subcode).
func diagnosisCode(i int) (letter string, category, code string) {
	ch := chapters[i/50]
	cat := fmt.Sprintf("%s%02d", ch.letter, 10+(i%50)/5)
	return ch.letter, cat, fmt.Sprintf("%s.%d", cat, i%5)
}

// DiagnosisPath is the concept path of the i-th diagnosis code (0 ≤ i < 500).
func DiagnosisPath(i int) string {
	l, cat, code := diagnosisCode(i)
	return fmt.Sprintf(`\i2b2\Diagnoses\ICD10\%s\%s\%s\`, l, cat, code)
}

// LabPath is the concept path of the i-th lab test (0 ≤ i < 10).
func LabPath(i int) string { return `\i2b2\Labs\LOINC\` + labs[i].code + `\` }

type genVisit struct {
	num        int64
	start, end string
	inout      string
	facts      [][]any // observation_fact rows
}

type genPatient struct {
	num                         int64
	sex, race, vital, zip       string
	birth, death                string
	age                         int64
	visits                      []genVisit
	firstName, lastName, street string
}

var epoch = 16436 // 2015-01-01 in days since 1970

func day(d int) string {
	y, m, dd := dateOf(d)
	b := [10]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-', byte('0' + dd/10), byte('0' + dd%10)}
	return string(b[:])
}

func dateOf(d int) (int, int, int) {
	// civil-from-days (Howard Hinnant)
	z := d + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
		y++
	}
	return y, m, dd
}

// detail says how much of a patient to generate: every level makes the same random draws up
// to where it stops, so each level agrees with the fuller ones.
type detail int

const (
	demographicsOnly detail = iota // what comes before the visits (demographics, identity)
	visitsOnly                     // visits and death date; the facts are drawn but not kept
	withFacts                      // everything, observation_fact rows included
)

// codeTables are the codes and names precomputed so that generating a fact allocates little.
type codeTables struct {
	dxFacts  [500]any    // "ICD10:E11.0"
	dxCats   [500]string // "E11"
	labFacts [10]any
	labUnits [10]any // as many as labs
	provIDs  [50]any // "P07"
}

// tables are made at the first patient generated.
var tables = sync.OnceValue(func() *codeTables {
	t := &codeTables{}
	for i := range t.dxFacts {
		_, cat, code := diagnosisCode(i)
		t.dxFacts[i], t.dxCats[i] = "ICD10:"+code, cat
	}
	for i, l := range labs {
		t.labFacts[i], t.labUnits[i] = "LOINC:"+l.code, l.unit
	}
	for i := range t.provIDs {
		t.provIDs[i] = fmt.Sprintf("P%02d", i)
	}
	return t
})

var (
	inouts   = []string{"O", "O", "O", "I", "E"}
	labFlags = []any{"H", "N", "L"}
)

// Text values: smoking status (a text fact of every patient, flagged A when current) and
// the severity a chronic diagnosis may carry as a modifier.
var (
	smoking    = []string{"never smoked", "former smoker", "current smoker", "current every day smoker", "unknown"}
	severities = []string{"mild", "moderate", "severe"}
)

// patient generates patient num (1-based) of the warehouse with the seed, to the detail asked.
func patient(seed uint64, num int64, level detail) genPatient {
	tb := tables()
	dxFacts, dxCats, labFacts, labUnits, provIDs := &tb.dxFacts, &tb.dxCats, &tb.labFacts, &tb.labUnits, &tb.provIDs
	r := rand.New(rand.NewPCG(seed, uint64(num)))
	p := genPatient{num: num, sex: sexes[r.IntN(2)], race: races[min(r.IntN(10), 4)], zip: strconv.Itoa(100 + r.IntN(900))}
	p.firstName, p.lastName = first[r.IntN(len(first))], last[r.IntN(len(last))]
	p.street = strconv.Itoa(1+r.IntN(999)) + " " + last[r.IntN(len(last))] + " Street"
	born := epoch - 365*(r.IntN(90)+1) - r.IntN(365)
	p.birth = day(born)
	ref := epoch + 3652 // 2025-01-01
	p.age = int64((ref - born) / 365)
	p.vital = "N"
	if level == demographicsOnly {
		return p
	}
	keep := level == withFacts
	// Chronic conditions: a skewed draw over the 500 codes, so counts range from rare to common.
	chronic := make([]int, 1+r.IntN(6))
	for i := range chronic {
		chronic[i] = int(math.Min(499, math.Floor(500*math.Pow(r.Float64(), 2.5))))
	}
	diabetic := false
	for _, c := range chronic {
		diabetic = diabetic || dxCats[c] == "E11"
	}
	var pnum any = num
	nv := 5 + r.IntN(16)
	p.visits = make([]genVisit, 0, nv)
	d := epoch + r.IntN(1200)
	var seen []int
	for v := range nv {
		// The time of day comes from the visit's number, not the random draws, so that the
		// rows stay those of the warehouse before times were kept.
		clock := clockOf(num*100 + int64(v))
		gv := genVisit{num: num*100 + int64(v), start: day(d) + clock, inout: inouts[r.IntN(5)]}
		stay := 0
		if gv.inout == "I" {
			stay = 1 + r.IntN(7)
		}
		gv.end = day(d+stay) + clock
		var vnum, start, end any = gv.num, gv.start, gv.end
		if keep {
			gv.facts = make([][]any, 0, 16)
		}
		// fact adds a fact of the concept (modifier '@') and returns its provider.
		fact := func(code any, inst int64, valtype string, tval, val, flag, unit any) any {
			var note any
			if r.IntN(50) == 0 && keep {
				note = "note " + strconv.FormatInt(inst, 10) + " for visit " + strconv.FormatInt(gv.num, 10)
			}
			prov := provIDs[r.IntN(50)]
			if keep {
				gv.facts = append(gv.facts, []any{vnum, pnum, code, prov, start, "@", inst, valtype, tval, val, flag, unit, end, "", note})
			}
			return prov
		}
		// modify adds a modifier fact beside the concept's fact.
		modify := func(code, prov any, inst int64, modifier any, valtype string, tval, val, unit any) {
			if keep {
				gv.facts = append(gv.facts, []any{vnum, pnum, code, prov, start, modifier, inst, valtype, tval, val, "", unit, end, "", nil})
			}
		}
		diagnosis := func(code any, chronic bool) {
			prov := fact(code, 1, "", "", nil, "", "")
			if r.IntN(8) == 0 {
				modify(code, prov, 1, "DX:PRIMARY", "", "", nil, "")
			}
			if chronic && r.IntN(6) == 0 {
				modify(code, prov, 1, "DX:SEVERITY", "T", severities[r.IntN(len(severities))], nil, "")
			}
		}
		if v == 0 {
			fact("DEM|SEX:"+p.sex, 1, "", "", nil, "", "")
			fact("DEM|RACE:"+p.race, 1, "", "", nil, "", "")
			status := smoking[r.IntN(len(smoking))]
			flag := "N"
			if strings.HasPrefix(status, "current") {
				flag = "A"
			}
			fact("OBS:SMOKING", 1, "T", status, nil, flag, "")
		}
		seen = seen[:0]
		for _, c := range chronic {
			if !slices.Contains(seen, c) && r.IntN(2) == 0 {
				seen = append(seen, c)
				diagnosis(dxFacts[c], true)
			}
		}
		if acute := r.IntN(500); !slices.Contains(seen, acute) {
			diagnosis(dxFacts[acute], false)
		}
		for i, l := range r.Perm(len(labs))[:4+r.IntN(4)] {
			lab := labs[l]
			mean := lab.mean
			if diabetic && lab.code == "2345-7" {
				mean *= 1.5
			}
			val := max(math.Round((mean+lab.sd*r.NormFloat64())*10)/10, 0)
			flag := labFlags[1]
			if val > lab.mean+1.5*lab.sd {
				flag = labFlags[0]
			} else if val < lab.mean-1.5*lab.sd {
				flag = labFlags[2]
			}
			// i2b2's qualifier of a numeric value: E (equal), and now and then G (greater
			// than) or L (less than), from the numbers, not the random draws.
			qualifier := "E"
			switch (num + int64(v)*13 + int64(i)*7) % 41 {
			case 0:
				qualifier = "G"
			case 1:
				qualifier = "L"
			}
			prov := fact(labFacts[l], int64(i+1), "N", qualifier, val, flag, labUnits[l])
			if lab.code == "2345-7" && r.IntN(4) == 0 {
				modify(labFacts[l], prov, int64(i+1), "LAB:FASTING", "N", "E", float64(r.IntN(15)), "h")
			}
		}
		p.visits = append(p.visits, gv)
		d += 20 + r.IntN(120)
	}
	if r.IntN(12) == 0 {
		p.vital = "Y"
		p.death = day(d)
	}
	return p
}

// clockOf is a visit's time of day, " HH:MM:00" between 07:00 and 18:59.
func clockOf(visit int64) string {
	m := 420 + (visit*97)%720
	b := [9]byte{' ', byte('0' + m/600), byte('0' + m/60%10), ':', byte('0' + m%60/10), byte('0' + m%10), ':', '0', '0'}
	return string(b[:])
}

// funcSource is a load.Source over a function.
type funcSource func() ([]any, error)

func (f funcSource) Next() ([]any, error) { return f() }

// perPatient yields rows for each patient first+1 … first+n in turn.
func perPatient(seed uint64, first, n int64, level detail, rows func(p genPatient) [][]any) load.Source {
	num, n := first, first+n
	var buf [][]any
	return funcSource(func() ([]any, error) {
		for len(buf) == 0 {
			if num == n {
				return nil, io.EOF
			}
			num++
			buf = rows(patient(seed, num, level))
		}
		r := buf[0]
		buf = buf[1:]
		return r, nil
	})
}

func sliceSource(rows [][]any) load.Source {
	return perPatient(0, 0, 1, demographicsOnly, func(genPatient) [][]any { return rows })
}

// Warehouse describes a synthetic warehouse.
type Warehouse struct {
	Seed     uint64
	First    int64 // patients are numbered First+1 … First+Patients
	Patients int64 // about 100 facts each
	Ontology bool  // include the concept, provider and modifier dimensions
}

// Inputs returns the synthetic warehouse's tables, in the layout of package schema.
func (g Warehouse) Inputs() []load.Input {
	seed, first, n := g.Seed, g.First, g.Patients
	var concepts, providers, modifiers [][]any
	concepts = append(concepts, []any{`\i2b2\`, "i2b2", "All concepts", nil}, []any{`\i2b2\Diagnoses\`, "DX", "Diagnoses", nil},
		[]any{`\i2b2\Diagnoses\ICD10\`, "ICD10", "ICD-10", nil}, []any{`\i2b2\Labs\`, "LABS", "Laboratory tests", nil},
		[]any{`\i2b2\Labs\LOINC\`, "LOINC", "LOINC", nil}, []any{`\i2b2\Demographics\`, "DEM", "Demographics", nil},
		[]any{`\i2b2\Demographics\Sex\`, "DEM|SEX", "Sex", nil}, []any{`\i2b2\Demographics\Race\`, "DEM|RACE", "Race", nil})
	for _, ch := range chapters {
		concepts = append(concepts, []any{`\i2b2\Diagnoses\ICD10\` + ch.letter + `\`, "ICD10:" + ch.letter, ch.name, nil})
	}
	for i := range 500 {
		l, cat, code := diagnosisCode(i)
		if i%5 == 0 {
			concepts = append(concepts, []any{fmt.Sprintf(`\i2b2\Diagnoses\ICD10\%s\%s\`, l, cat), "ICD10:" + cat, "Category " + cat, nil})
		}
		concepts = append(concepts, []any{DiagnosisPath(i), "ICD10:" + code, "Diagnosis " + code, nil})
	}
	for i, l := range labs {
		concepts = append(concepts, []any{LabPath(i), "LOINC:" + l.code, l.name + " (" + l.unit + ")", nil})
	}
	for _, s := range sexes {
		concepts = append(concepts, []any{`\i2b2\Demographics\Sex\` + s + `\`, "DEM|SEX:" + s, map[string]string{"F": "Female", "M": "Male"}[s], nil})
	}
	for _, r := range races {
		concepts = append(concepts, []any{`\i2b2\Demographics\Race\` + r + `\`, "DEM|RACE:" + r, r, nil})
	}
	for i := range 50 {
		providers = append(providers, []any{fmt.Sprintf("P%02d", i), fmt.Sprintf(`\i2b2\Providers\P%02d\`, i), fmt.Sprintf("Provider %02d", i), nil})
	}
	concepts = append(concepts, []any{`\i2b2\Observations\`, "OBS", "Observations", nil},
		[]any{`\i2b2\Observations\Smoking\`, "OBS:SMOKING", "Smoking status (text)", nil})
	modifiers = append(modifiers, []any{`\i2b2\Modifiers\`, "MOD", "Modifiers", nil},
		[]any{`\i2b2\Modifiers\Diagnosis\`, "DX:MOD", "Diagnosis modifiers", nil},
		[]any{`\i2b2\Modifiers\Diagnosis\Primary\`, "DX:PRIMARY", "Primary diagnosis", nil},
		[]any{`\i2b2\Modifiers\Diagnosis\Severity\`, "DX:SEVERITY", "Severity (text: mild, moderate, severe)", nil},
		[]any{`\i2b2\Modifiers\Lab\`, "LAB:MOD", "Laboratory modifiers", nil},
		[]any{`\i2b2\Modifiers\Lab\Fasting\`, "LAB:FASTING", "Hours fasting (number)", nil})
	var in []load.Input
	if g.Ontology {
		in = []load.Input{
			{Table: "concept_dimension", Estimate: int64(len(concepts)), Source: sliceSource(concepts)},
			{Table: "modifier_dimension", Estimate: int64(len(modifiers)), Source: sliceSource(modifiers)},
			{Table: "provider_dimension", Estimate: 50, Source: sliceSource(providers)},
		}
	}
	return append(in, []load.Input{
		{Table: "patient_dimension", Estimate: n, Source: perPatient(seed, first, n, visitsOnly, func(p genPatient) [][]any {
			return [][]any{{p.num, p.vital, p.birth, nilIfEmpty(p.death), p.sex, p.age, p.race, p.zip, fmt.Sprintf("chart summary of patient %d", p.num)}}
		})},
		{Table: "visit_dimension", Estimate: n * 12, Source: perPatient(seed, first, n, visitsOnly, func(p genPatient) [][]any {
			var rows [][]any
			for _, v := range p.visits {
				rows = append(rows, []any{v.num, p.num, v.start, v.end, v.inout, "", nil, fmt.Sprintf("visit %d summary", v.num)})
			}
			return rows
		})},
		{Table: "observation_fact", Estimate: n * 100, Source: perPatient(seed, first, n, withFacts, func(p genPatient) [][]any {
			var rows [][]any
			for _, v := range p.visits {
				rows = append(rows, v.facts...)
			}
			return rows
		})},
		{Table: "patient_mapping", Estimate: n, Source: perPatient(seed, first, n, demographicsOnly, func(p genPatient) [][]any {
			return [][]any{{mrn(p.num), "HOSPITAL", p.num, "A", "@"}}
		})},
		{Table: "encounter_mapping", Estimate: n * 12, Source: perPatient(seed, first, n, visitsOnly, func(p genPatient) [][]any {
			var rows [][]any
			for _, v := range p.visits {
				rows = append(rows, []any{fmt.Sprintf("V%09d", v.num), "HOSPITAL", "@", v.num, mrn(p.num), "HOSPITAL"})
			}
			return rows
		})},
		{Table: "patient_identity", Estimate: n, Source: perPatient(seed, first, n, demographicsOnly, func(p genPatient) [][]any {
			return [][]any{{p.num, p.firstName + " " + p.lastName, mrn(p.num), p.street}}
		})},
	}...)
}

func mrn(num int64) string { return fmt.Sprintf("MRN%08d", num*7919%100000000) }

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
