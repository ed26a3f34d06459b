package load_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

func TestCSVLoadNamesTheBadRowAndKeepsNothing(t *testing.T) {
	dir := t.TempDir()
	must(t, load.WriteCSV(dir, synthetic.Warehouse{Seed: 3, Patients: 30, Ontology: true}.Inputs()))
	facts := filepath.Join(dir, "observation_fact.csv")
	good, err := os.ReadFile(facts)
	must(t, err)
	lines := strings.Split(string(good), "\n")
	cases := []struct {
		name, header string
		line         int
		edit         func(fields []string) []string
		want         string
	}{
		{"bad number", "", 5, func(f []string) []string { f[9] = "high"; return f }, "observation_fact.csv line 5 column nval_num: not a number"},
		{"bad date", "", 9, func(f []string) []string { f[4] = "31/12/2020"; return f }, "observation_fact.csv line 9 column start_date: not a date"},
		{"missing key", "", 7, func(f []string) []string { f[2] = ""; return f }, "observation_fact.csv line 7 column concept_cd: empty, but required"},
		{"unknown column", strings.Replace(lines[0], "tval_char", "tval", 1), 0, nil, "observation_fact.csv line 1 column tval: not a column of observation_fact"},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, c := range cases {
			edited := append([]string(nil), lines...)
			if c.header != "" {
				edited[0] = c.header
			} else {
				edited[c.line-1] = strings.Join(c.edit(strings.Split(edited[c.line-1], ",")), ",")
			}
			must(t, os.WriteFile(facts, []byte(strings.Join(edited, "\n")), 0o644))
			in, done, err := load.CSVInputs(dir)
			if err == nil {
				_, err = load.Run(ctx, db, testKey, in, load.Options{})
				done()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: got error %v, want one containing %q", c.name, err, c.want)
			}
			var n int
			must(t, db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM patient_dimension) + (SELECT COUNT(*) FROM concept_dimension)`).Scan(&n))
			if n != 0 {
				t.Fatalf("%s: %d rows kept after a failed load, want 0", c.name, n)
			}
		}
		must(t, os.WriteFile(facts, good, 0o644))
		in, done, err := load.CSVInputs(dir)
		must(t, err)
		defer done()
		rows, err := load.Run(ctx, db, testKey, in, load.Options{Agency: "north"})
		must(t, err)
		var facts, patients int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM observation_fact WHERE agency = 'north'`).Scan(&facts))
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM patient_dimension WHERE agency = 'north'`).Scan(&patients))
		if want := len(lines) - 2; facts != want || patients != 30 || rows < int64(facts) {
			t.Errorf("loaded %d facts and %d patients (%d rows), want %d and 30", facts, patients, rows, want)
		}
	})
}

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

// An i2b2 export as it comes: every standard column of its tables, folder rows without
// codes, times of day with fractions and in either form, a byte order mark, the ontology
// table under i2b2's demo name. It loads, and what the warehouse keeps reads back as the
// files have it (times as YYYY-MM-DD HH:MM:SS); the bookkeeping columns are accepted and
// dropped.
func TestI2B2ExportLoadsAsItComes(t *testing.T) {
	files := map[string]string{
		"concept_dimension.csv": "\ufeffCONCEPT_PATH,CONCEPT_CD,NAME_CHAR,CONCEPT_BLOB,UPDATE_DATE,DOWNLOAD_DATE,IMPORT_DATE,SOURCESYSTEM_CD,UPLOAD_ID\n" +
			`\i2b2\,,All,,2019-05-01 10:11:12.0,2019-05-01 00:00:00.0,2019-05-02 00:00:00.0,DEMO,17` + "\n" +
			`\i2b2\Diagnoses\I10\,ICD10:I10,Hypertension,,2019-05-01 10:11:12.0,,,DEMO,17` + "\n",
		"modifier_dimension.csv": "MODIFIER_PATH,MODIFIER_CD,NAME_CHAR,MODIFIER_BLOB,UPDATE_DATE,DOWNLOAD_DATE,IMPORT_DATE,SOURCESYSTEM_CD,UPLOAD_ID\n" +
			`\Dose\,,Dose,,,,,DEMO,` + "\n" + `\Dose\mg\,MED:DOSE,mg,,,,,DEMO,` + "\n",
		"provider_dimension.csv": "PROVIDER_ID,PROVIDER_PATH,NAME_CHAR,PROVIDER_BLOB,UPDATE_DATE,DOWNLOAD_DATE,IMPORT_DATE,SOURCESYSTEM_CD,UPLOAD_ID\n" +
			`P1,\Providers\P1\,Dr One,,,,,DEMO,17` + "\n",
		"patient_dimension.csv": "PATIENT_NUM,VITAL_STATUS_CD,BIRTH_DATE,DEATH_DATE,SEX_CD,AGE_IN_YEARS_NUM,LANGUAGE_CD,RACE_CD,MARITAL_STATUS_CD,RELIGION_CD,ZIP_CD,STATECITYZIP_PATH,INCOME_CD,PATIENT_BLOB,UPDATE_DATE,DOWNLOAD_DATE,IMPORT_DATE,SOURCESYSTEM_CD,UPLOAD_ID\n" +
			`1,N,1950-03-04 00:00:00.0,,F,,english,white,married,christian,02114,Zip codes\Massachusetts\Boston\02114\,medium,,2019-05-01 10:11:12.0,,,DEMO,17` + "\n",
		"visit_dimension.csv": "ENCOUNTER_NUM,PATIENT_NUM,ACTIVE_STATUS_CD,START_DATE,END_DATE,INOUT_CD,LOCATION_CD,LOCATION_PATH,LENGTH_OF_STAY,VISIT_BLOB,UPDATE_DATE,DOWNLOAD_DATE,IMPORT_DATE,SOURCESYSTEM_CD,UPLOAD_ID\n" +
			`100,1,F,2012-06-01T09:15:30.000,2012-06-03 17:00:00.0,I,LOC1,\Hospital\Ward\,2,,,,,DEMO,17` + "\n",
		"observation_fact.csv": "ENCOUNTER_NUM,PATIENT_NUM,CONCEPT_CD,PROVIDER_ID,START_DATE,MODIFIER_CD,INSTANCE_NUM,VALTYPE_CD,TVAL_CHAR,NVAL_NUM,VALUEFLAG_CD,QUANTITY_NUM,UNITS_CD,END_DATE,LOCATION_CD,OBSERVATION_BLOB,CONFIDENCE_NUM,UPDATE_DATE,DOWNLOAD_DATE,IMPORT_DATE,SOURCESYSTEM_CD,UPLOAD_ID,TEXT_SEARCH_INDEX\n" +
			`100,1,ICD10:I10,P1,2012-06-01 09:20:00.0,@,1,N,G,150,H,1,mg/dL,2012-06-01 10:00:00.0,LOC1,,0.9,2019-05-01 10:11:12.0,,,DEMO,17,1` + "\n" +
			`100,1,LOINC:1,P1,2012-06-01 09:20:00.0,@,1,N,,7.5,,,mg/dL,,,,,,,,DEMO,17,2` + "\n",
		"i2b2.csv": "C_HLEVEL,C_FULLNAME,C_NAME,C_SYNONYM_CD,C_VISUALATTRIBUTES,C_TOTALNUM,C_BASECODE,C_METADATAXML,C_FACTTABLECOLUMN,C_TABLENAME,C_COLUMNNAME,C_COLUMNDATATYPE,C_OPERATOR,C_DIMCODE,C_COMMENT,C_TOOLTIP,M_APPLIED_PATH,UPDATE_DATE,DOWNLOAD_DATE,IMPORT_DATE,SOURCESYSTEM_CD,VALUETYPE_CD,M_EXCLUSION_CD,C_PATH,C_SYMBOL\n" +
			`2,\i2b2\Demographics\Language\English\,English,N,LA,12,DEM|LANGUAGE:english,,patient_num,patient_dimension,language_cd,T,=,'english',,Demographics \ Language \ English,@,2019-05-01 10:11:12.0,,,DEMO,,,\i2b2\Demographics\Language\,English` + "\n",
	}
	dir := t.TempDir()
	for name, body := range files {
		must(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		in, done, err := load.CSVInputs(dir)
		must(t, err)
		defer done()
		if _, err := load.Run(ctx, db, testKey, in, load.Options{}); err != nil {
			t.Fatalf("load: %v", err)
		}
		for _, c := range []struct{ query, want string }{
			{`SELECT concept_cd FROM concept_dimension WHERE concept_path = '\i2b2\'`, ""},
			{`SELECT start_date || '|' || end_date FROM visit_dimension`, "2012-06-01 09:15:30|2012-06-03 17:00:00"},
			{`SELECT active_status_cd || '|' || location_path || '|' || sourcesystem_cd FROM visit_dimension`, `F|\Hospital\Ward\|DEMO`},
			{`SELECT birth_date || '|' || language_cd || '|' || marital_status_cd || '|' || religion_cd || '|' || income_cd || '|' || statecityzip_path FROM patient_dimension`,
				`1950-03-04|english|married|christian|medium|Zip codes\Massachusetts\Boston\02114\`},
			{`SELECT start_date || '|' || end_date || '|' || tval_char || '|' || CAST(quantity_num AS TEXT) || '|' || CAST(confidence_num AS TEXT) FROM observation_fact WHERE concept_cd = 'ICD10:I10'`,
				"2012-06-01 09:20:00|2012-06-01 10:00:00|G|1|0.9"},
			// A numeric value without a qualifier is an equal one, as i2b2's loaders write it.
			{`SELECT tval_char FROM observation_fact WHERE concept_cd = 'LOINC:1'`, "E"},
			{`SELECT c_tablename || '|' || c_columnname || '|' || c_operator || '|' || c_dimcode FROM warehouse_ontology WHERE c_fullname = '\i2b2\Demographics\Language\English\'`,
				"patient_dimension|language_cd|=|'english'"},
			{`SELECT c_columnname || '|' || c_dimcode FROM warehouse_ontology WHERE c_fullname = '\i2b2\Demographics\Gender\Female\'`, "sex_cd|'F'"},
		} {
			var got string
			must(t, db.QueryRowContext(ctx, c.query).Scan(&got))
			got = strings.ReplaceAll(got, ".0|", "|") // PostgreSQL writes a whole double as 1, SQLite as 1.0
			got = strings.TrimSuffix(got, ".0")
			if got != c.want {
				t.Errorf("%s:\n got %q\nwant %q", c.query, got, c.want)
			}
		}
	})
}
