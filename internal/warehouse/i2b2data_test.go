package warehouse_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/load"
)

// An i2b2 site's data as it comes, made up by the tests (never by the warehouse's own
// generator): facts with times of day, numeric values with i2b2's tval_char qualifiers
// (E, G, L, GE, LE, NE), medications whose instances carry dose and route modifiers, visits
// with start and end times, demographics with birth dates (and no age for some patients),
// and concept_dimension rows for demographics as i2b2 exports them (no facts behind them).
// The tests load it through the CSV loader and answer every query a second time, by
// looping over these rows (the oracle), never by asking the warehouse.

type siteFact struct {
	enc, patient     int64
	concept          string
	provider         string
	start, end       string // YYYY-MM-DD HH:MM:SS
	modifier         string
	instance         int64
	valtype, tval    string
	nval             float64
	hasNval          bool
	flag             string
	units            string
	location, source string
}

type sitePatient struct {
	num                int64
	vital, sex, race   string
	birth, death       string // YYYY-MM-DD or ""
	age                int64
	hasAge             bool
	language, marital  string
	religion, zip      string
	income, statecity  string
	source             string
	updated, imported  string
	downloaded, upload string
}

type siteVisit struct {
	enc, patient int64
	start, end   string
	inout        string
	location     string
	stay         int64
}

type siteData struct {
	concepts  [][2]string // path, code ("" for a folder row without a code)
	modifiers [][2]string
	patients  []sitePatient
	visits    []siteVisit
	facts     []siteFact
}

// Concept paths and codes of the made-up site.
const (
	pI10     = `\i2b2\Diagnoses\Circulatory\I10\`
	pI25     = `\i2b2\Diagnoses\Circulatory\I25\`
	pCirc    = `\i2b2\Diagnoses\Circulatory\`
	pGlucose = `\i2b2\Labs\Glucose\`
	pAmox    = `\i2b2\Medications\Amoxicillin\`
	pDose    = `\i2b2\Modifiers\Dose\`
	pRoute   = `\i2b2\Modifiers\Route\`
	pFemale  = `\i2b2\Demographics\Gender\Female\`
	pMale    = `\i2b2\Demographics\Gender\Male\`
	cI10     = "ICD10:I10"
	cI25     = "ICD10:I25"
	cGlucose = "LOINC:2345-7"
	cAmox    = "RXNORM:723"
	cDose    = "MED:DOSE"
	cRoute   = "MED:ROUTE"
)

var siteEpoch = time.Date(2009, 1, 1, 0, 0, 0, 0, time.UTC)

func stamp(t time.Time) string { return t.Format(time.DateTime) }

// makeSite generates the made-up site: n patients, deterministic for the seed.
func makeSite(seed uint64, n int) *siteData {
	r := rand.New(rand.NewPCG(seed, 99))
	d := &siteData{
		// Folder rows have no code, as i2b2 exports them.
		concepts: [][2]string{{`\i2b2\`, ""}, {`\i2b2\Diagnoses\`, ""}, {pCirc, ""}, {pI10, cI10}, {pI25, cI25},
			{`\i2b2\Labs\`, ""}, {pGlucose, cGlucose}, {`\i2b2\Medications\`, ""}, {pAmox, cAmox},
			{`\i2b2\Demographics\`, ""}, {`\i2b2\Demographics\Gender\`, ""}, {pFemale, "DEM|SEX:f"}, {pMale, "DEM|SEX:m"}},
		modifiers: [][2]string{{`\i2b2\Modifiers\`, ""}, {pDose, cDose}, {pRoute, cRoute}},
	}
	tvals := []string{"E", "E", "E", "E", "E", "E", "E", "E", "E", "E", "E", "E", "G", "G", "L", "L", "GE", "LE", "NE"}
	for p := int64(1); p <= int64(n); p++ {
		born := time.Date(1930+r.IntN(80), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
		pt := sitePatient{num: p, vital: []string{"N", "N", "N", "N", "N", "N", "N", "N", "Y", ""}[r.IntN(10)],
			sex: []string{"F", "M", "F", "M", "U"}[r.IntN(5)], race: []string{"white", "black", "asian", "other"}[r.IntN(4)],
			birth: born.Format(time.DateOnly), language: "english", marital: "single", religion: "none", zip: strconv.Itoa(10000 + r.IntN(90000)),
			income: "medium", statecity: `\\US\\MA\\Boston\\`, source: "DEMO", updated: "2019-05-01 10:11:12", imported: "2019-05-02 00:00:00",
			downloaded: "2019-04-30 23:59:59", upload: "17"}
		if r.IntN(3) > 0 {
			pt.age, pt.hasAge = int64(2025-born.Year()), true
		}
		if pt.vital == "Y" {
			pt.death = "2015-03-01"
		}
		d.patients = append(d.patients, pt)
		for v := range 2 + r.IntN(6) {
			enc := p*100 + int64(v)
			start := siteEpoch.Add(time.Duration(r.IntN(6*365*24*60)) * time.Minute).Add(time.Duration(r.IntN(60)) * time.Second)
			end := start.Add(time.Duration(r.IntN(4*24*60)) * time.Minute)
			d.visits = append(d.visits, siteVisit{enc: enc, patient: p, start: stamp(start), end: stamp(end), inout: []string{"I", "O", "E"}[r.IntN(3)], location: "LOC" + strconv.Itoa(r.IntN(3)), stay: int64(end.Sub(start).Hours() / 24)})
			at := func() time.Time { return start.Add(time.Duration(r.IntN(180)) * time.Minute) }
			fact := func(concept string, t time.Time) siteFact {
				return siteFact{enc: enc, patient: p, concept: concept, provider: "P" + strconv.Itoa(1+r.IntN(5)), start: stamp(t),
					end: stamp(t.Add(time.Duration(r.IntN(600)) * time.Minute)), modifier: "@", instance: 1, location: "", source: "DEMO"}
			}
			if r.IntN(100) < 35 {
				d.facts = append(d.facts, fact(cI10, at()))
			}
			if r.IntN(100) < 20 {
				d.facts = append(d.facts, fact(cI25, at()))
			}
			if r.IntN(100) < 60 {
				f := fact(cGlucose, at())
				f.valtype, f.tval, f.hasNval, f.units = "N", tvals[r.IntN(len(tvals))], true, "mg/dL"
				f.nval = float64(60 + r.IntN(190))
				if r.IntN(8) == 0 {
					f.nval = 150
				}
				d.facts = append(d.facts, f)
			}
			if r.IntN(100) < 40 {
				t := at()
				prov := "P" + strconv.Itoa(1+r.IntN(5))
				for inst := range int64(1 + r.IntN(3)) {
					base := fact(cAmox, t)
					base.provider, base.instance = prov, inst+1
					dose, route := base, base
					dose.modifier, dose.valtype, dose.tval, dose.nval, dose.hasNval, dose.units = cDose, "N", "E", []float64{250, 500}[r.IntN(2)], true, "mg"
					route.modifier, route.valtype, route.tval = cRoute, "T", []string{"PO", "IV"}[r.IntN(2)]
					d.facts = append(d.facts, base, dose, route)
				}
			}
		}
	}
	// Facts on the edges of the attack tests' date bounds, for patients with nothing else
	// (so that reading a bound without its time of day changes the count).
	for i, at := range []string{"2012-06-01 09:15:00", "2013-06-01 10:00:00", "2012-06-01 13:00:00", "2012-12-31 15:00:00", "2010-01-01 00:00:00"} {
		p := int64(9001 + i)
		d.patients = append(d.patients, sitePatient{num: p, vital: "N", sex: "F", race: "white", birth: "1960-02-03", age: 65, hasAge: true})
		d.visits = append(d.visits, siteVisit{enc: p * 100, patient: p, start: at, end: at, inout: "O"})
		d.facts = append(d.facts, siteFact{enc: p * 100, patient: p, concept: cI10, provider: "P1", start: at, end: at, modifier: "@", instance: 1})
	}
	return d
}

// columns are the columns each table's CSV file is written with.
type columns map[string][]string

// todayColumns are the columns the warehouse loaded before it took i2b2's files as they come.
var todayColumns = columns{
	"concept_dimension":  {"concept_path", "concept_cd", "name_char"},
	"modifier_dimension": {"modifier_path", "modifier_cd", "name_char"},
	"patient_dimension":  {"patient_num", "vital_status_cd", "birth_date", "death_date", "sex_cd", "age_in_years_num", "race_cd", "zip_cd"},
	"visit_dimension":    {"encounter_num", "patient_num", "start_date", "end_date", "inout_cd", "location_cd", "length_of_stay"},
	"observation_fact": {"encounter_num", "patient_num", "concept_cd", "provider_id", "start_date", "modifier_cd", "instance_num",
		"valtype_cd", "tval_char", "nval_num", "valueflag_cd", "units_cd", "end_date", "location_cd"},
}

// value is a row's field of the named column, as i2b2 writes it in a CSV export.
func (d *siteData) value(table string, i int, col string) string {
	switch table {
	case "concept_dimension", "modifier_dimension":
		var row [2]string
		if table == "concept_dimension" {
			row = d.concepts[i]
		} else {
			row = d.modifiers[i]
		}
		switch col {
		case "concept_path", "modifier_path":
			return row[0]
		case "concept_cd", "modifier_cd":
			return row[1]
		case "name_char":
			parts := strings.Split(strings.Trim(row[0], `\`), `\`)
			return parts[len(parts)-1]
		case "concept_blob", "modifier_blob":
			return ""
		case "update_date", "download_date", "import_date":
			return "2019-05-01 10:11:12.0"
		case "sourcesystem_cd":
			return "DEMO"
		case "upload_id":
			return "17"
		}
	case "patient_dimension":
		p := d.patients[i]
		m := map[string]string{"patient_num": strconv.FormatInt(p.num, 10), "vital_status_cd": p.vital, "birth_date": p.birth,
			"death_date": p.death, "sex_cd": p.sex, "race_cd": p.race, "zip_cd": p.zip, "language_cd": p.language,
			"marital_status_cd": p.marital, "religion_cd": p.religion, "income_cd": p.income, "statecityzip_path": p.statecity,
			"update_date": p.updated, "download_date": p.downloaded, "import_date": p.imported, "sourcesystem_cd": p.source, "upload_id": p.upload,
			"patient_blob": ""}
		if p.hasAge {
			m["age_in_years_num"] = strconv.FormatInt(p.age, 10)
		}
		return m[col]
	case "visit_dimension":
		v := d.visits[i]
		m := map[string]string{"encounter_num": strconv.FormatInt(v.enc, 10), "patient_num": strconv.FormatInt(v.patient, 10),
			"start_date": v.start, "end_date": v.end, "inout_cd": v.inout, "location_cd": v.location, "length_of_stay": strconv.FormatInt(v.stay, 10),
			"active_status_cd": "F", "location_path": `\Hospital\`, "update_date": "2019-05-01 10:11:12", "download_date": "2019-04-30 23:59:59",
			"import_date": "2019-05-02 00:00:00", "sourcesystem_cd": "DEMO", "upload_id": "17", "visit_blob": ""}
		return m[col]
	case "observation_fact":
		f := d.facts[i]
		m := map[string]string{"encounter_num": strconv.FormatInt(f.enc, 10), "patient_num": strconv.FormatInt(f.patient, 10),
			"concept_cd": f.concept, "provider_id": f.provider, "start_date": f.start, "modifier_cd": f.modifier,
			"instance_num": strconv.FormatInt(f.instance, 10), "valtype_cd": f.valtype, "tval_char": f.tval, "valueflag_cd": f.flag,
			"units_cd": f.units, "end_date": f.end, "location_cd": f.location, "quantity_num": "1", "confidence_num": "",
			"observation_blob": "", "update_date": "2019-05-01 10:11:12", "download_date": "2019-04-30 23:59:59",
			"import_date": "2019-05-02 00:00:00", "sourcesystem_cd": f.source, "upload_id": "17", "text_search_index": strconv.Itoa(i + 1)}
		if f.hasNval {
			m["nval_num"] = strconv.FormatFloat(f.nval, 'f', -1, 64)
		}
		return m[col]
	}
	panic("siteData: no column " + table + "." + col)
}

func (d *siteData) rows(table string) int {
	return map[string]int{"concept_dimension": len(d.concepts), "modifier_dimension": len(d.modifiers), "patient_dimension": len(d.patients),
		"visit_dimension": len(d.visits), "observation_fact": len(d.facts)}[table]
}

// writeCSV writes the site's tables as CSV files with the given columns.
func (d *siteData) writeCSV(t testing.TB, dir string, cols columns) {
	t.Helper()
	for table, head := range cols {
		f, err := os.Create(filepath.Join(dir, table+".csv"))
		must(t, err)
		w := csv.NewWriter(f)
		must(t, w.Write(head))
		for i := range d.rows(table) {
			rec := make([]string, len(head))
			for j, c := range head {
				rec[j] = d.value(table, i, c)
			}
			must(t, w.Write(rec))
		}
		w.Flush()
		must(t, w.Error())
		must(t, f.Close())
	}
}

// siteWorld loads the made-up site (as CSV with the given columns) for agency north and
// returns the warehouse with a DATA_AGG user in project site.
func siteWorld(t *testing.T, db *store.DB, d *siteData, cols columns) (*warehouse.Warehouse, access.Principal) {
	t.Helper()
	ctx := context.Background()
	s := access.New(db, access.Config{}, nil)
	must(t, s.CreateRegion(ctx, root, access.Region{Code: "west", Name: "West"}))
	must(t, s.CreateAgency(ctx, root, access.Agency{Code: "north", Name: "North clinic", Region: "west"}))
	must(t, s.CreateProject(ctx, root, access.Project{Code: "site", Name: "Site", Agency: "north"}))
	must(t, s.CreateUser(ctx, root, access.User{Name: "ana", Agency: "north"}, "correct horse battery"))
	must(t, s.Grant(ctx, root, "ana", "site", access.DataAgg))
	p, err := s.Principal(ctx, "ana", "test")
	must(t, err)
	dir := t.TempDir()
	d.writeCSV(t, dir, cols)
	in, done, err := load.CSVInputs(dir)
	must(t, err)
	defer done()
	_, err = load.Run(ctx, db, testKey, in, load.Options{Agency: "north"})
	must(t, err)
	return warehouse.New(db, s, testKey), p
}

// patientsWhere is the set of patients some fact satisfies.
func (d *siteData) patientsWhere(ok func(f siteFact) bool) map[int64]bool {
	out := map[int64]bool{}
	for _, f := range d.facts {
		if ok(f) {
			out[f.patient] = true
		}
	}
	return out
}

func and(a, b map[int64]bool) map[int64]bool {
	out := map[int64]bool{}
	for p := range a {
		if b[p] {
			out[p] = true
		}
	}
	return out
}

func sameSet(a, b map[int64]bool) bool { return len(a) == len(b) && len(and(a, b)) == len(a) }

func fmtSet(s map[int64]bool) string { return fmt.Sprintf("%d patients", len(s)) }
