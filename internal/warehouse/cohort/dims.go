package cohort

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/schema"
)

// patientCols are the patient_dimension columns an ontology entry may name (text, read as
// stored), beside the dates and ages.
var patientCols = []string{"vital_status_cd", "sex_cd", "race_cd", "language_cd", "marital_status_cd", "religion_cd",
	"zip_cd", "income_cd", "statecityzip_path", "birth_date", "death_date"}

// person is a patient_dimension row as demographics read it.
type person struct {
	num    uint32
	cols   [11]string // patientCols, in order
	age    int64      // age_in_years_num
	hasAge bool
}

// AgeColumn is the ontology's column for a patient's age in whole years: age_in_years_num when
// the row has one, else the years from birth_date to the day of the query.
const AgeColumn = "age_in_years"

func (p *person) col(name string) (string, bool) {
	for i, c := range patientCols {
		if c == name {
			return p.cols[i], true
		}
	}
	return "", false
}

// ageOn is the patient's age in whole years on the day today (YYYY-MM-DD): age_in_years_num,
// or the full years since birth_date; false when neither is known.
func (p *person) ageOn(today string) (int64, bool) {
	if p.hasAge {
		return p.age, true
	}
	b := p.cols[9]
	if len(b) < 10 || len(today) < 10 {
		return 0, false
	}
	by, err1 := strconv.Atoi(b[:4])
	ty, err2 := strconv.Atoi(today[:4])
	if err1 != nil || err2 != nil {
		return 0, false
	}
	age := int64(ty - by)
	if today[5:10] < b[5:10] { // birthday not reached yet this year
		age--
	}
	if age < 0 {
		return 0, false
	}
	return age, true
}

// Today is the day ages are computed on; a variable so that tests can fix it.
var Today = func() string { return time.Now().UTC().Format(time.DateOnly) }

// peopleOf reads (once per scope) the patients with the columns demographics read.
func (s *Scope) peopleOf(ctx context.Context) ([]person, error) {
	return s.people.Get(func() ([]person, error) { return s.readPeople(ctx) })
}

func (s *Scope) readPeople(ctx context.Context) ([]person, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT patient_num, age_in_years_num, `+strings.Join(patientCols, ", ")+`
		FROM patient_dimension WHERE $1 = '' OR agency = $1`, s.agency)
	if err != nil {
		return nil, fmt.Errorf("patient_dimension: %w", err)
	}
	defer rows.Close()
	out := []person{}
	for rows.Next() {
		var p person
		var n int64
		var age sql.NullInt64
		var birth, death sql.NullString
		dst := []any{&n, &age}
		for i := range p.cols {
			switch patientCols[i] {
			case "birth_date":
				dst = append(dst, &birth)
			case "death_date":
				dst = append(dst, &death)
			default:
				dst = append(dst, &p.cols[i])
			}
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("patient_dimension: %w", err)
		}
		if n < 0 || n > math.MaxUint32 {
			return nil, fmt.Errorf("patient_dimension: patient_num out of range")
		}
		p.num, p.age, p.hasAge = uint32(n), age.Int64, age.Valid
		p.cols[9], p.cols[10] = birth.String, death.String
		out = append(out, p)
	}
	return out, rows.Err()
}

// visitRow is a visit_dimension row as visit items and temporal queries read it.
type visitRow struct {
	enc, patient int64
	start, end   string
	cols         [4]string // visitCols
	stay         sql.NullInt64
}

var visitCols = []string{"inout_cd", "location_cd", "location_path", "active_status_cd"}

func (v *visitRow) col(name string) (string, bool) {
	switch name {
	case "start_date":
		return v.start, true
	case "end_date":
		return v.end, true
	case "length_of_stay":
		if !v.stay.Valid {
			return "", true
		}
		return strconv.FormatInt(v.stay.Int64, 10), true
	}
	for i, c := range visitCols {
		if c == name {
			return v.cols[i], true
		}
	}
	return "", false
}

// visitsOf reads (once per scope) every visit.
func (s *Scope) visitsOf(ctx context.Context) ([]visitRow, error) {
	return s.visits.Get(func() ([]visitRow, error) { return s.readVisits(ctx) })
}

func (s *Scope) readVisits(ctx context.Context) ([]visitRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT encounter_num, patient_num, COALESCE(start_date, ''), COALESCE(end_date, ''), length_of_stay, `+
		strings.Join(visitCols, ", ")+` FROM visit_dimension WHERE $1 = '' OR agency = $1`, s.agency)
	if err != nil {
		return nil, fmt.Errorf("visit_dimension: %w", err)
	}
	defer rows.Close()
	out := []visitRow{}
	for rows.Next() {
		var v visitRow
		if err := rows.Scan(&v.enc, &v.patient, &v.start, &v.end, &v.stay, &v.cols[0], &v.cols[1], &v.cols[2], &v.cols[3]); err != nil {
			return nil, fmt.Errorf("visit_dimension: %w", err)
		}
		if err := checkNums(v.patient, v.enc); err != nil {
			return nil, fmt.Errorf("visit_dimension: %w", err)
		}
		v.start, v.end = schema.StoredTime(v.start), schema.StoredTime(v.end)
		out = append(out, v)
	}
	return out, rows.Err()
}

func checkNums(patient, enc int64) error {
	if patient < 0 || patient > math.MaxUint32 || enc < 0 || enc > math.MaxUint32 {
		return fmt.Errorf("patient_num or encounter_num out of range")
	}
	return nil
}

// allVisits is every visit of the scope as a set.
func (s *Scope) allVisits(ctx context.Context) (*set, error) {
	vs, err := s.visitsOf(ctx)
	if err != nil {
		return nil, err
	}
	out := newSet(visitLevel)
	for _, v := range vs {
		out.visits.Add(visitKey(v.patient, v.enc))
	}
	return out, nil
}

// ageBands are i2b2's age breakdown bands.
var ageBands = []struct {
	name   string
	lo, hi int64
}{{"0-9", 0, 9}, {"10-17", 10, 17}, {"18-34", 18, 34}, {"35-44", 35, 44}, {"45-54", 45, 54}, {"55-64", 55, 64}, {"65-74", 65, 74}, {"75-84", 75, 84}, {"85+", 85, math.MaxInt64}}

// cells are the breakdown cells' patients, for one day (ages change with it).
type cells struct {
	day   string
	cells map[string]map[string]*roaring.Bitmap
}

// Breakdowns counts a cohort by sex, age band, race and vital status: the cohort's overlap
// with each cell's patients (a bitmap per cell, made once per scope and day), so the time
// grows with the number of cells, not of patients. Ages are age_in_years_num, or computed
// from birth_date on the day of the query. Patients the cohort has and patient_dimension does
// not are counted as unknown.
func (s *Scope) Breakdowns(ctx context.Context, b *roaring.Bitmap) (map[string]map[string]int64, error) {
	c, err := s.cellsOf(ctx, Today())
	if err != nil {
		return nil, err
	}
	total := int64(b.GetCardinality())
	out := map[string]map[string]int64{}
	for dim, cs := range c.cells {
		out[dim] = map[string]int64{}
		known := int64(0)
		for cell, patients := range cs {
			if n := int64(b.AndCardinality(patients)); n > 0 {
				out[dim][cell] = n
				known += n
			}
		}
		if total > known {
			out[dim]["unknown"] += total - known
		}
	}
	for _, dim := range []string{"sex", "age", "race", "vital_status"} {
		if out[dim] == nil {
			out[dim] = map[string]int64{}
		}
	}
	return out, nil
}

// DimensionPatients is each breakdown dimension's cells with their patients (of the scope,
// ages on today), as Breakdowns counts them. The bitmaps are shared: do not modify them.
func (s *Scope) DimensionPatients(ctx context.Context) (map[string]map[string]*roaring.Bitmap, error) {
	c, err := s.cellsOf(ctx, Today())
	if err != nil {
		return nil, err
	}
	return c.cells, nil
}

// cellsOf returns the breakdown cells' patients on the day, made once per scope and day.
func (s *Scope) cellsOf(ctx context.Context, today string) (*cells, error) {
	if c := s.cells.Load(); c != nil && c.day == today {
		return c, nil
	}
	s.cellsMu.Lock()
	defer s.cellsMu.Unlock()
	if c := s.cells.Load(); c != nil && c.day == today {
		return c, nil
	}
	{
		people, err := s.peopleOf(ctx)
		if err != nil {
			return nil, err
		}
		lists := map[string]map[string][]uint32{"sex": {}, "age": {}, "race": {}, "vital_status": {}}
		for i := range people {
			p := &people[i]
			band := "unknown"
			if age, ok := p.ageOn(today); ok {
				for _, a := range ageBands {
					if age >= a.lo && age <= a.hi {
						band = a.name
					}
				}
			}
			sex, _ := p.col("sex_cd")
			race, _ := p.col("race_cd")
			vital, _ := p.col("vital_status_cd")
			vital = map[string]string{"Y": "deceased", "N": "living"}[vital]
			for dim, cell := range map[string]string{"sex": cmpUnknown(sex), "age": band, "race": cmpUnknown(race), "vital_status": cmpUnknown(vital)} {
				lists[dim][cell] = append(lists[dim][cell], p.num)
			}
		}
		c := &cells{day: today, cells: map[string]map[string]*roaring.Bitmap{}}
		for dim, cs := range lists {
			c.cells[dim] = map[string]*roaring.Bitmap{}
			for cell, l := range cs {
				c.cells[dim][cell] = roaring.BitmapOf(l...)
			}
		}
		s.cells.Store(c)
		return c, nil
	}
}

// Cells lists each breakdown dimension's cells in the scope — every cell some patient of the
// agency is in, and "unknown" — sorted, so that an obfuscated breakdown can show every cell
// whatever the cohort holds. Call it after Breakdowns.
func (s *Scope) Cells() map[string][]string {
	out := map[string][]string{}
	for _, dim := range []string{"sex", "age", "race", "vital_status"} {
		cells := []string{"unknown"}
		if c := s.cells.Load(); c != nil {
			for cell := range c.cells[dim] {
				if cell != "unknown" {
					cells = append(cells, cell)
				}
			}
		}
		slices.Sort(cells)
		out[dim] = cells
	}
	return out
}

func cmpUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// ontologyRow is an entry of the ontology table: how an item key finds its patients or
// visits (i2b2's metadata columns).
type ontologyRow struct {
	path, table, factColumn, column, datatype, operator, dimcode string
}

// ontologyOf reads (once per scope) the ontology entries that say how to find their items.
func (s *Scope) ontologyOf(ctx context.Context) (ontology, error) {
	return s.ontology.Get(func() (ontology, error) { return s.readOntology(ctx) })
}

// ontology is the ontology entries by path, and their paths sorted (for the entries under
// a folder).
type ontology struct {
	rows  map[string]ontologyRow
	paths []string
}

func (s *Scope) readOntology(ctx context.Context) (ontology, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c_fullname, lower(c_tablename), lower(c_facttablecolumn), lower(c_columnname), upper(c_columndatatype),
		upper(c_operator), c_dimcode FROM warehouse_ontology WHERE (agency = '' OR $1 = '' OR agency = $1) AND c_tablename <> ''`, s.agency)
	if err != nil {
		return ontology{}, fmt.Errorf("warehouse_ontology: %w", err)
	}
	defer rows.Close()
	out := map[string]ontologyRow{}
	for rows.Next() {
		var r ontologyRow
		if err := rows.Scan(&r.path, &r.table, &r.factColumn, &r.column, &r.datatype, &r.operator, &r.dimcode); err != nil {
			return ontology{}, fmt.Errorf("warehouse_ontology: %w", err)
		}
		r.table, r.factColumn, r.column = strings.TrimSpace(r.table), strings.TrimSpace(r.factColumn), strings.TrimSpace(r.column)
		r.operator, r.datatype = strings.TrimSpace(r.operator), strings.TrimSpace(r.datatype)
		out[r.path] = r
	}
	return ontology{rows: out, paths: slices.Sorted(maps.Keys(out))}, rows.Err()
}

// dimCond is an ontology entry's condition on a patient or visit column.
type dimCond struct {
	entry    string // the entry's path, for errors
	table    string // patient_dimension or visit_dimension
	column   string
	datatype string // T, N or D
	op       string // = <> < <= > >= IN LIKE BETWEEN
	values   []string
}

// condOf checks an ontology entry and reads its condition; what Steward cannot evaluate is
// refused by name (the entry, never a value).
func condOf(r ontologyRow) (*dimCond, error) {
	c := &dimCond{entry: r.path, table: r.table, column: r.column, datatype: r.datatype, op: r.operator}
	bad := func(what string) error {
		return fmt.Errorf("ontology entry %s: %s is not supported", r.path, what)
	}
	switch r.table {
	case "patient_dimension":
		if r.factColumn != "patient_num" {
			return nil, bad("c_facttablecolumn " + r.factColumn)
		}
		var p person
		if _, ok := p.col(r.column); !ok && r.column != AgeColumn && r.column != "age_in_years_num" {
			return nil, bad("c_columnname " + r.column)
		}
	case "visit_dimension":
		if r.factColumn != "encounter_num" {
			return nil, bad("c_facttablecolumn " + r.factColumn)
		}
		var v visitRow
		if _, ok := v.col(r.column); !ok {
			return nil, bad("c_columnname " + r.column)
		}
	default:
		return nil, bad("c_tablename " + r.table)
	}
	if c.datatype == "" {
		c.datatype = "T"
	}
	if c.datatype != "T" && c.datatype != "N" && c.datatype != "D" {
		return nil, bad("c_columndatatype " + c.datatype)
	}
	if r.column == AgeColumn || r.column == "age_in_years_num" || r.column == "length_of_stay" {
		c.datatype = "N"
	}
	code := strings.TrimSpace(r.dimcode)
	switch c.op {
	case "=", "<>", "<", "<=", ">", ">=":
		c.values = []string{unquote(code)}
	case "IN":
		c.values = querydef.ParseINList(code)
	case "BETWEEN":
		lo, hi, ok := strings.Cut(code, " and ")
		if !ok {
			lo, hi, ok = strings.Cut(code, " AND ")
		}
		if !ok {
			return nil, bad(`a BETWEEN c_dimcode without "low and high"`)
		}
		c.values = []string{unquote(lo), unquote(hi)}
	case "LIKE":
		if c.datatype != "T" {
			return nil, bad("LIKE on a column that is not text")
		}
		v := unquote(code)
		if !strings.HasSuffix(v, "%") {
			v += "%"
		}
		c.values = []string{v}
	default:
		return nil, bad("c_operator " + c.op)
	}
	for _, v := range c.values {
		switch c.datatype {
		case "N":
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return nil, bad("a c_dimcode that is not a number (an SQL expression?)")
			}
		case "D":
			if _, err := querydef.ParseTime(v); err != nil {
				return nil, bad("a c_dimcode that is not a date (an SQL expression?)")
			}
		}
	}
	return c, nil
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		s = strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	return s
}

// holds reports whether a column's value meets the condition; an empty value never does
// (SQL's NULL, and i2b2's empty codes).
func (c *dimCond) holds(v string, known bool) bool {
	if !known || v == "" {
		return false
	}
	switch c.datatype {
	case "N":
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return false
		}
		num := func(i int) float64 { f, _ := strconv.ParseFloat(c.values[i], 64); return f }
		switch c.op {
		case "=":
			return x == num(0)
		case "<>":
			return x != num(0)
		case "<":
			return x < num(0)
		case "<=":
			return x <= num(0)
		case ">":
			return x > num(0)
		case ">=":
			return x >= num(0)
		case "BETWEEN":
			return x >= num(0) && x <= num(1)
		case "IN":
			for i := range c.values {
				if x == num(i) {
					return true
				}
			}
		}
		return false
	case "D":
		v, _ = querydef.ParseTime(v)
		vals := make([]string, len(c.values))
		for i, x := range c.values {
			vals[i], _ = querydef.ParseTime(x)
		}
		return compareText(c.op, v, vals)
	}
	return compareText(c.op, v, c.values)
}

func compareText(op, v string, vals []string) bool {
	switch op {
	case "=":
		return v == vals[0]
	case "<>":
		return v != vals[0]
	case "<":
		return v < vals[0]
	case "<=":
		return v <= vals[0]
	case ">":
		return v > vals[0]
	case ">=":
		return v >= vals[0]
	case "BETWEEN":
		return v >= vals[0] && v <= vals[1]
	case "IN":
		for _, x := range vals {
			if v == x {
				return true
			}
		}
		return false
	case "LIKE":
		return like(v, vals[0])
	}
	return false
}

// patientsWhere is the patients whose row meets the condition (ages on today).
func (s *Scope) patientsWhere(ctx context.Context, c *dimCond) (*roaring.Bitmap, error) {
	people, err := s.peopleOf(ctx)
	if err != nil {
		return nil, err
	}
	today := Today()
	out := roaring.New()
	for i := range people {
		p := &people[i]
		var v string
		var known bool
		switch c.column {
		case AgeColumn, "age_in_years_num":
			var age int64
			if c.column == AgeColumn {
				age, known = p.ageOn(today)
			} else {
				age, known = p.age, p.hasAge
			}
			v = strconv.FormatInt(age, 10)
		default:
			v, known = p.col(c.column)
		}
		if c.holds(v, known) {
			out.Add(p.num)
		}
	}
	return out, nil
}

// VisitPatients is, for a column of visit_dimension (inout_cd or location_cd), each value's
// patients: those with at least one visit of it (of the scope; "unknown" for an empty value).
// A patient with visits of several values is in each.
func (s *Scope) VisitPatients(ctx context.Context, col string) (map[string]*roaring.Bitmap, error) {
	vs, err := s.visitsOf(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]*roaring.Bitmap{}
	for i := range vs {
		v, ok := vs[i].col(col)
		if !ok {
			return nil, fmt.Errorf("visit column %s is not read", col)
		}
		if v == "" {
			v = "unknown"
		}
		if out[v] == nil {
			out[v] = roaring.New()
		}
		out[v].Add(uint32(vs[i].patient))
	}
	return out, nil
}

// VisitsPerPatient is each patient's number of visits in the scope.
func (s *Scope) VisitsPerPatient(ctx context.Context) (map[int64]float64, error) {
	vs, err := s.visitsOf(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int64]float64{}
	for i := range vs {
		out[vs[i].patient]++
	}
	return out, nil
}
