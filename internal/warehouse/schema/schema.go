// Package schema is i2b2's star schema as the warehouse keeps it: each table's columns as
// files lay them out, how each column's text is read, which columns are required, which are
// sealed (the *_blob columns, see package seal) and which columns name a row (what a sealed
// value is bound to). The store's own tables (internal/store/migrations) add an agency column
// to every one.
package schema

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind is how a column's text is read.
type Kind int

const (
	Text      Kind = iota
	Integer        // a whole number
	Number         // a decimal number
	Date           // a day, YYYY-MM-DD (a time after it is dropped)
	Timestamp      // a day and a time of day, stored as YYYY-MM-DD HH:MM:SS
	Blob           // plain text in files, sealed in the store
)

// Column is one column of a table as files lay it out.
type Column struct {
	Name     string
	Kind     Kind
	Required bool   // must be in the file's header, and not empty
	Default  string // value when the file leaves the column out ("" for text means ''; NULL otherwise)
}

// Table is one warehouse table as files lay it out (i2b2's columns); the store adds agency.
type Table struct {
	Name string
	Cols []Column // the columns kept, in the order a Source yields them
	Key  []string // columns naming the row, bound to its sealed values
	// Ignored are i2b2's standard columns of the table that a file may have and the
	// warehouse does not keep (load bookkeeping: dates of updates and uploads, upload ids).
	Ignored []string
	// Files are the file names (without .csv) the table is read from; the table's name when
	// empty.
	Files []string
}

// Index is the position of the named column, or -1.
func (t *Table) Index(name string) int {
	for i, c := range t.Cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Ignores reports whether the table accepts and drops the named column.
func (t *Table) Ignores(name string) bool { return slices.Contains(t.Ignored, name) }

// Place is what a sealed value of row r (in file order) in column c is bound to.
func (t *Table) Place(c int, agency string, r []any) string {
	var b strings.Builder
	b.WriteString(t.Name + "." + t.Cols[c].Name + "/" + agency)
	for _, k := range t.Key {
		fmt.Fprintf(&b, "/%v", r[t.Index(k)])
	}
	return b.String()
}

// StoreColumns are the table's columns as stored: the file's columns and agency, except for
// patient_identity, whose identified data is stored sealed together as one document.
func (t *Table) StoreColumns() []string {
	if t.Name == "patient_identity" {
		return []string{"patient_num", "identity_blob", "agency"}
	}
	cols := make([]string, 0, len(t.Cols)+1)
	for _, c := range t.Cols {
		cols = append(cols, c.Name)
	}
	return append(cols, "agency")
}

// StoreName is the table's name in the store.
func (t *Table) StoreName() string {
	if t.Name == "ontology" {
		return "warehouse_ontology"
	}
	return t.Name
}

// bookkeeping are the load bookkeeping columns every i2b2 table has.
var bookkeeping = []string{"update_date", "download_date", "import_date", "upload_id"}

// Tables are the warehouse tables in load order. Columns added after the first release are
// at the end of each list, so that Sources written for fewer columns stay aligned.
var Tables = []*Table{
	{Name: "concept_dimension", Key: []string{"concept_path"}, Ignored: append([]string{"sourcesystem_cd"}, bookkeeping...), Cols: []Column{
		{Name: "concept_path", Required: true}, {Name: "concept_cd"}, {Name: "name_char"}, {Name: "concept_blob", Kind: Blob}}},
	{Name: "modifier_dimension", Key: []string{"modifier_path"}, Ignored: append([]string{"sourcesystem_cd"}, bookkeeping...), Cols: []Column{
		{Name: "modifier_path", Required: true}, {Name: "modifier_cd"}, {Name: "name_char"}, {Name: "modifier_blob", Kind: Blob}}},
	{Name: "provider_dimension", Key: []string{"provider_path", "provider_id"}, Ignored: append([]string{"sourcesystem_cd"}, bookkeeping...), Cols: []Column{
		{Name: "provider_id", Required: true}, {Name: "provider_path", Required: true}, {Name: "name_char"}, {Name: "provider_blob", Kind: Blob}}},
	{Name: "patient_dimension", Key: []string{"patient_num"}, Ignored: bookkeeping, Cols: []Column{
		{Name: "patient_num", Kind: Integer, Required: true}, {Name: "vital_status_cd"}, {Name: "birth_date", Kind: Date}, {Name: "death_date", Kind: Date},
		{Name: "sex_cd"}, {Name: "age_in_years_num", Kind: Integer}, {Name: "race_cd"}, {Name: "zip_cd"}, {Name: "patient_blob", Kind: Blob},
		{Name: "language_cd"}, {Name: "marital_status_cd"}, {Name: "religion_cd"}, {Name: "income_cd"}, {Name: "statecityzip_path"},
		{Name: "sourcesystem_cd"}}},
	{Name: "visit_dimension", Key: []string{"encounter_num"}, Ignored: bookkeeping, Cols: []Column{
		{Name: "encounter_num", Kind: Integer, Required: true}, {Name: "patient_num", Kind: Integer, Required: true}, {Name: "start_date", Kind: Timestamp},
		{Name: "end_date", Kind: Timestamp}, {Name: "inout_cd"}, {Name: "location_cd"}, {Name: "length_of_stay", Kind: Integer}, {Name: "visit_blob", Kind: Blob},
		{Name: "active_status_cd"}, {Name: "location_path"}, {Name: "sourcesystem_cd"}}},
	{Name: "observation_fact", Key: []string{"patient_num", "encounter_num", "concept_cd", "modifier_cd", "instance_num", "start_date"},
		Ignored: append([]string{"text_search_index"}, bookkeeping...), Cols: []Column{
			{Name: "encounter_num", Kind: Integer, Required: true}, {Name: "patient_num", Kind: Integer, Required: true}, {Name: "concept_cd", Required: true},
			{Name: "provider_id", Default: "@"}, {Name: "start_date", Kind: Timestamp, Required: true}, {Name: "modifier_cd", Default: "@"},
			{Name: "instance_num", Kind: Integer, Default: "1"}, {Name: "valtype_cd"}, {Name: "tval_char"}, {Name: "nval_num", Kind: Number},
			{Name: "valueflag_cd"}, {Name: "units_cd"}, {Name: "end_date", Kind: Timestamp}, {Name: "location_cd"}, {Name: "observation_blob", Kind: Blob},
			{Name: "quantity_num", Kind: Number}, {Name: "confidence_num", Kind: Number}, {Name: "sourcesystem_cd"}}},
	{Name: "patient_mapping", Key: []string{"patient_ide", "patient_ide_source"}, Ignored: append([]string{"upload_date", "sourcesystem_cd"}, bookkeeping...), Cols: []Column{
		{Name: "patient_ide", Required: true}, {Name: "patient_ide_source", Required: true}, {Name: "patient_num", Kind: Integer, Required: true},
		{Name: "patient_ide_status"}, {Name: "project_id", Default: "@"}}},
	{Name: "encounter_mapping", Key: []string{"encounter_ide", "encounter_ide_source"},
		Ignored: append([]string{"encounter_ide_status", "upload_date", "sourcesystem_cd"}, bookkeeping...), Cols: []Column{
			{Name: "encounter_ide", Required: true}, {Name: "encounter_ide_source", Required: true}, {Name: "project_id", Default: "@"},
			{Name: "encounter_num", Kind: Integer, Required: true}, {Name: "patient_ide"}, {Name: "patient_ide_source"}}},
	// Identified data: name, record number and address, sealed together as one document.
	{Name: "patient_identity", Key: []string{"patient_num"}, Cols: []Column{
		{Name: "patient_num", Kind: Integer, Required: true}, {Name: "name", Kind: Blob}, {Name: "mrn", Kind: Blob}, {Name: "address", Kind: Blob}}},
	// i2b2's ontology (metadata) table, of which the warehouse keeps what says how an item
	// finds its patients or visits (package cohort) and what the concept tree shows. i2b2 names
	// it after the category (i2b2.csv in its demo).
	{Name: "ontology", Key: []string{"c_fullname"}, Files: []string{"ontology", "i2b2"},
		Ignored: append([]string{"c_totalnum", "c_metadataxml", "c_comment", "valuetype_cd", "m_exclusion_cd", "c_path", "c_symbol", "sourcesystem_cd"}, bookkeeping...),
		Cols: []Column{{Name: "c_fullname", Required: true}, {Name: "c_hlevel", Kind: Integer}, {Name: "c_name"}, {Name: "c_synonym_cd", Default: "N"},
			{Name: "c_visualattributes"}, {Name: "c_basecode"}, {Name: "c_facttablecolumn"}, {Name: "c_tablename"}, {Name: "c_columnname"},
			{Name: "c_columndatatype"}, {Name: "c_operator"}, {Name: "c_dimcode"}, {Name: "c_tooltip"}, {Name: "m_applied_path", Default: "@"}}},
}

// Named returns the table of that name, or nil.
func Named(name string) *Table {
	for _, t := range Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Identity is a patient's identified data, the document sealed in patient_identity.
type Identity struct {
	Name    string `json:"name"`
	MRN     string `json:"mrn"`
	Address string `json:"address"`
}

// IdentityPlace is what a patient's sealed identity is bound to.
func IdentityPlace(agency string, num any) string {
	return fmt.Sprintf("patient_identity.identity_blob/%s/%v", agency, num)
}

// TimeLayout is how the warehouse writes times of day: sortable as text.
const TimeLayout = time.DateTime

var timeLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05.999999999 -07:00", "2006-01-02T15:04Z07:00", "2006-01-02T15:04",
	"2006-01-02 15:04", "2006-01-02Z07:00", "2006-01-02",
}

// ParseTime reads a date or a date and time as i2b2 writes them (xs:dateTime and the forms
// database exports use: with T or a space, with or without seconds, fractions or a zone; a
// date alone is midnight) and returns its wall-clock time as YYYY-MM-DD HH:MM:SS: the zone
// and fractions of a second are dropped, as i2b2 drops them. Errors never repeat the value.
func ParseTime(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) == 11 && s[10] == 'Z' {
		s = s[:10]
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.Format(TimeLayout), nil
		}
	}
	return "", errors.New("not a date or time (want YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)")
}

// StoredTime is a stored date or time read as a time of day: rows loaded before times were
// kept hold a date alone, which is midnight.
func StoredTime(s string) string {
	if len(s) == 10 {
		return s + " 00:00:00"
	}
	return s
}
