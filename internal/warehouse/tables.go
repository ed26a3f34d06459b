package warehouse

import (
	"fmt"
	"strings"
)

// kind is how a column's text is read.
type kind int

const (
	text kind = iota
	integer
	number
	date
	blob // plain text in files, sealed in the store
)

type column struct {
	name     string
	kind     kind
	required bool   // must be in the file's header
	def      string // value when the file leaves the column out ("" for text means ''; NULL otherwise)
}

// table is one warehouse table as files lay it out (i2b2's columns); the store adds agency.
type table struct {
	name string
	cols []column
	key  []string // columns naming the row, bound to its sealed values
}

func (t *table) index(name string) int {
	for i, c := range t.cols {
		if c.name == name {
			return i
		}
	}
	return -1
}

// place is what a sealed value of row r in column c is bound to.
func (t *table) place(c int, agency string, r []any) string {
	var b strings.Builder
	b.WriteString(t.name + "." + t.cols[c].name + "/" + agency)
	for _, k := range t.key {
		fmt.Fprintf(&b, "/%v", r[t.index(k)])
	}
	return b.String()
}

// Tables are the warehouse tables in load order.
var Tables = []*table{
	{name: "concept_dimension", key: []string{"concept_path"}, cols: []column{
		{name: "concept_path", required: true}, {name: "concept_cd", required: true}, {name: "name_char"}, {name: "concept_blob", kind: blob}}},
	{name: "modifier_dimension", key: []string{"modifier_path"}, cols: []column{
		{name: "modifier_path", required: true}, {name: "modifier_cd", required: true}, {name: "name_char"}, {name: "modifier_blob", kind: blob}}},
	{name: "provider_dimension", key: []string{"provider_path", "provider_id"}, cols: []column{
		{name: "provider_id", required: true}, {name: "provider_path", required: true}, {name: "name_char"}, {name: "provider_blob", kind: blob}}},
	{name: "patient_dimension", key: []string{"patient_num"}, cols: []column{
		{name: "patient_num", kind: integer, required: true}, {name: "vital_status_cd"}, {name: "birth_date", kind: date}, {name: "death_date", kind: date},
		{name: "sex_cd"}, {name: "age_in_years_num", kind: integer}, {name: "race_cd"}, {name: "zip_cd"}, {name: "patient_blob", kind: blob}}},
	{name: "visit_dimension", key: []string{"encounter_num"}, cols: []column{
		{name: "encounter_num", kind: integer, required: true}, {name: "patient_num", kind: integer, required: true}, {name: "start_date", kind: date},
		{name: "end_date", kind: date}, {name: "inout_cd"}, {name: "location_cd"}, {name: "length_of_stay", kind: integer}, {name: "visit_blob", kind: blob}}},
	{name: "observation_fact", key: []string{"patient_num", "encounter_num", "concept_cd", "modifier_cd", "instance_num", "start_date"}, cols: []column{
		{name: "encounter_num", kind: integer, required: true}, {name: "patient_num", kind: integer, required: true}, {name: "concept_cd", required: true},
		{name: "provider_id", def: "@"}, {name: "start_date", kind: date, required: true}, {name: "modifier_cd", def: "@"},
		{name: "instance_num", kind: integer, def: "1"}, {name: "valtype_cd"}, {name: "tval_char"}, {name: "nval_num", kind: number},
		{name: "valueflag_cd"}, {name: "units_cd"}, {name: "end_date", kind: date}, {name: "location_cd"}, {name: "observation_blob", kind: blob}}},
	{name: "patient_mapping", key: []string{"patient_ide", "patient_ide_source"}, cols: []column{
		{name: "patient_ide", required: true}, {name: "patient_ide_source", required: true}, {name: "patient_num", kind: integer, required: true},
		{name: "patient_ide_status"}, {name: "project_id", def: "@"}}},
	{name: "encounter_mapping", key: []string{"encounter_ide", "encounter_ide_source"}, cols: []column{
		{name: "encounter_ide", required: true}, {name: "encounter_ide_source", required: true}, {name: "project_id", def: "@"},
		{name: "encounter_num", kind: integer, required: true}, {name: "patient_ide"}, {name: "patient_ide_source"}}},
	// Identified data: name, record number and address, sealed together as one document.
	{name: "patient_identity", key: []string{"patient_num"}, cols: []column{
		{name: "patient_num", kind: integer, required: true}, {name: "name", kind: blob}, {name: "mrn", kind: blob}, {name: "address", kind: blob}}},
}

// tableNamed returns the table of that name, or nil.
func tableNamed(name string) *table {
	for _, t := range Tables {
		if t.name == name {
			return t
		}
	}
	return nil
}
