package load

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/stewardhealth/steward/internal/warehouse/schema"
)

// The demographics a load puts in the ontology table, as i2b2's demo ontology has them, so
// that \i2b2\Demographics\Gender\Female\ and the like name the patients whose
// patient_dimension says so: one entry per value the loaded patients have, and i2b2's age
// bands on the age in years (age_in_years_num, or from birth_date on the day of the query).

// demographicFolders are the patient_dimension columns with an ontology folder, and names
// of well-known codes.
var demographicFolders = []struct {
	folder, column string
	names          map[string]string
}{
	{"Gender", "sex_cd", map[string]string{"F": "Female", "M": "Male", "U": "Unknown"}},
	{"Race", "race_cd", nil},
	{"Vital Status", "vital_status_cd", map[string]string{"N": "Living", "Y": "Deceased"}},
	{"Language", "language_cd", nil},
	{"Marital Status", "marital_status_cd", nil},
	{"Religion", "religion_cd", nil},
}

// ageBands are the age entries: name, operator, c_dimcode.
var ageBands = [][3]string{
	{"0-9 years old", "BETWEEN", "0 and 9"}, {"10-17 years old", "BETWEEN", "10 and 17"}, {"18-34 years old", "BETWEEN", "18 and 34"},
	{"35-44 years old", "BETWEEN", "35 and 44"}, {"45-54 years old", "BETWEEN", "45 and 54"}, {"55-64 years old", "BETWEEN", "55 and 64"},
	{"65-74 years old", "BETWEEN", "65 and 74"}, {"75-84 years old", "BETWEEN", "75 and 84"}, {">= 65 years old", ">=", "65"},
	{">= 85 years old", ">=", "85"},
}

// demographics collects the distinct values of the loaded patients' demographic columns.
type demographics struct {
	values map[string]map[string]bool // column → values
}

func newDemographics() *demographics { return &demographics{values: map[string]map[string]bool{}} }

func (d *demographics) add(t *schema.Table, row []any) {
	for _, f := range demographicFolders {
		i := t.Index(f.column)
		if i >= len(row)-1 {
			continue // a row without the column (its last value is the agency)
		}
		if s, ok := row[i].(string); ok && s != "" && len(s) <= 50 {
			if d.values[f.column] == nil {
				d.values[f.column] = map[string]bool{}
			}
			d.values[f.column][s] = true
		}
	}
}

// ontologyColumns are the columns the rows of entries fill, in order.
var ontologyColumns = []string{"c_fullname", "c_hlevel", "c_name", "c_synonym_cd", "c_visualattributes", "c_basecode",
	"c_facttablecolumn", "c_tablename", "c_columnname", "c_columndatatype", "c_operator", "c_dimcode", "c_tooltip", "m_applied_path", "agency"}

// entries are the ontology rows for what was collected (site-wide: agency ”).
func (d *demographics) entries() [][]any {
	const root = `\i2b2\Demographics\`
	row := func(path, name, visual, column, datatype, op, dimcode string) []any {
		level := strings.Count(strings.Trim(path, `\`), `\`)
		tooltip := strings.ReplaceAll(strings.Trim(strings.TrimPrefix(path, `\i2b2\`), `\`), `\`, ` \ `)
		table, fact := "", ""
		if column != "" {
			table, fact = "patient_dimension", "patient_num"
		}
		return []any{path, int64(level), name, "N", visual, "", fact, table, column, datatype, op, dimcode, tooltip, "@", ""}
	}
	if len(d.values) == 0 {
		return nil
	}
	out := [][]any{row(root, "Demographics", "FA", "", "", "", "")}
	for _, f := range demographicFolders {
		vals := d.values[f.column]
		if len(vals) == 0 {
			continue
		}
		folder := root + f.folder + `\`
		out = append(out, row(folder, f.folder, "FA", "", "", "", ""))
		for _, v := range slices.Sorted(func(yield func(string) bool) {
			for v := range vals {
				if !yield(v) {
					return
				}
			}
		}) {
			name := f.names[v]
			if name == "" {
				name = title(v)
			}
			name = strings.ReplaceAll(name, `\`, "/")
			out = append(out, row(folder+name+`\`, name, "LA", f.column, "T", "=", "'"+strings.ReplaceAll(v, "'", "''")+"'"))
		}
	}
	out = append(out, row(root+`Age\`, "Age", "FA", "", "", "", ""))
	for _, b := range ageBands {
		out = append(out, row(root+`Age\`+b[0]+`\`, b[0], "LA", "age_in_years", "N", b[1], b[2]))
	}
	return out
}

func title(s string) string {
	r := []rune(strings.ToLower(s))
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}

// insertOntology is the statement that adds an entry unless one of its path exists.
func insertOntology() string {
	marks := make([]string, len(ontologyColumns))
	for i := range marks {
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	return `INSERT INTO warehouse_ontology (` + strings.Join(ontologyColumns, ", ") + `) VALUES (` + strings.Join(marks, ", ") +
		`) ON CONFLICT (c_fullname, agency) DO NOTHING`
}

// insertStagedOntology adds an entry to a batch's staging table (approval adds it to the
// ontology unless one of its path exists).
func insertStagedOntology() string {
	marks := make([]string, len(ontologyColumns)+1)
	for i := range marks {
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	return `INSERT INTO staged_warehouse_ontology (batch_id, ` + strings.Join(ontologyColumns, ", ") + `) VALUES (` + strings.Join(marks, ", ") + `)`
}
