// Package schema is i2b2's star schema as the warehouse keeps it: each table's columns as
// files lay them out, how each column's text is read, which columns are required, which are
// sealed (the *_blob columns, see package seal) and which columns name a row (what a sealed
// value is bound to). The store's own tables (internal/store/migrations) add an agency column
// to every one.
package schema

import (
	"fmt"
	"strings"
)

// Kind is how a column's text is read.
type Kind int

const (
	Text Kind = iota
	Integer
	Number
	Date
	Blob // plain text in files, sealed in the store
)

// Column is one column of a table as files lay it out.
type Column struct {
	Name     string
	Kind     Kind
	Required bool   // must be in the file's header
	Default  string // value when the file leaves the column out ("" for text means ''; NULL otherwise)
}

// Table is one warehouse table as files lay it out (i2b2's columns); the store adds agency.
type Table struct {
	Name string
	Cols []Column
	Key  []string // columns naming the row, bound to its sealed values
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

// Tables are the warehouse tables in load order.
var Tables = []*Table{
	{Name: "concept_dimension", Key: []string{"concept_path"}, Cols: []Column{
		{Name: "concept_path", Required: true}, {Name: "concept_cd", Required: true}, {Name: "name_char"}, {Name: "concept_blob", Kind: Blob}}},
	{Name: "modifier_dimension", Key: []string{"modifier_path"}, Cols: []Column{
		{Name: "modifier_path", Required: true}, {Name: "modifier_cd", Required: true}, {Name: "name_char"}, {Name: "modifier_blob", Kind: Blob}}},
	{Name: "provider_dimension", Key: []string{"provider_path", "provider_id"}, Cols: []Column{
		{Name: "provider_id", Required: true}, {Name: "provider_path", Required: true}, {Name: "name_char"}, {Name: "provider_blob", Kind: Blob}}},
	{Name: "patient_dimension", Key: []string{"patient_num"}, Cols: []Column{
		{Name: "patient_num", Kind: Integer, Required: true}, {Name: "vital_status_cd"}, {Name: "birth_date", Kind: Date}, {Name: "death_date", Kind: Date},
		{Name: "sex_cd"}, {Name: "age_in_years_num", Kind: Integer}, {Name: "race_cd"}, {Name: "zip_cd"}, {Name: "patient_blob", Kind: Blob}}},
	{Name: "visit_dimension", Key: []string{"encounter_num"}, Cols: []Column{
		{Name: "encounter_num", Kind: Integer, Required: true}, {Name: "patient_num", Kind: Integer, Required: true}, {Name: "start_date", Kind: Date},
		{Name: "end_date", Kind: Date}, {Name: "inout_cd"}, {Name: "location_cd"}, {Name: "length_of_stay", Kind: Integer}, {Name: "visit_blob", Kind: Blob}}},
	{Name: "observation_fact", Key: []string{"patient_num", "encounter_num", "concept_cd", "modifier_cd", "instance_num", "start_date"}, Cols: []Column{
		{Name: "encounter_num", Kind: Integer, Required: true}, {Name: "patient_num", Kind: Integer, Required: true}, {Name: "concept_cd", Required: true},
		{Name: "provider_id", Default: "@"}, {Name: "start_date", Kind: Date, Required: true}, {Name: "modifier_cd", Default: "@"},
		{Name: "instance_num", Kind: Integer, Default: "1"}, {Name: "valtype_cd"}, {Name: "tval_char"}, {Name: "nval_num", Kind: Number},
		{Name: "valueflag_cd"}, {Name: "units_cd"}, {Name: "end_date", Kind: Date}, {Name: "location_cd"}, {Name: "observation_blob", Kind: Blob}}},
	{Name: "patient_mapping", Key: []string{"patient_ide", "patient_ide_source"}, Cols: []Column{
		{Name: "patient_ide", Required: true}, {Name: "patient_ide_source", Required: true}, {Name: "patient_num", Kind: Integer, Required: true},
		{Name: "patient_ide_status"}, {Name: "project_id", Default: "@"}}},
	{Name: "encounter_mapping", Key: []string{"encounter_ide", "encounter_ide_source"}, Cols: []Column{
		{Name: "encounter_ide", Required: true}, {Name: "encounter_ide_source", Required: true}, {Name: "project_id", Default: "@"},
		{Name: "encounter_num", Kind: Integer, Required: true}, {Name: "patient_ide"}, {Name: "patient_ide_source"}}},
	// Identified data: name, record number and address, sealed together as one document.
	{Name: "patient_identity", Key: []string{"patient_num"}, Cols: []Column{
		{Name: "patient_num", Kind: Integer, Required: true}, {Name: "name", Kind: Blob}, {Name: "mrn", Kind: Blob}, {Name: "address", Kind: Blob}}},
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
