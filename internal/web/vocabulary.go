package web

import (
	"encoding/json"
	"regexp"
	"strings"
)

// Seed 002, Part C: "database tables are not directly read so that knowledge about the
// construction of the database itself is not released". The warehouse keeps i2b2's star
// schema (observation_fact, patient_num, nval_num…); what the JSON API, its public OpenAPI
// document, the pages and the error messages show is this vocabulary instead. Every column
// of the warehouse's data tables that can reach an answer has its neutral name here; a
// column that has none is left out of an answer (and logged), never shown by its name. The
// i2b2 protocol (its XML query_definition, accepted as input) is the documented exception.
var neutral = map[string]string{
	// patients
	"patient_num": "patient", "vital_status_cd": "vital_status", "birth_date": "born", "death_date": "died",
	"sex_cd": "sex", "age_in_years_num": "age", "race_cd": "race", "zip_cd": "zip", "patient_blob": "details",
	// visits
	"encounter_num": "visit", "start_date": "start", "end_date": "end", "inout_cd": "setting",
	"location_cd": "location", "length_of_stay": "days", "visit_blob": "details",
	// observations
	"concept_cd": "concept", "provider_id": "provider", "modifier_cd": "modifier", "instance_num": "instance",
	"valtype_cd": "value_type", "tval_char": "text", "nval_num": "value", "valueflag_cd": "flag",
	"units_cd": "units", "observation_blob": "details",
	// concepts, modifiers, providers
	"concept_path": "path", "name_char": "name", "concept_blob": "details", "modifier_path": "path",
	"modifier_blob": "details", "provider_path": "path", "provider_blob": "details",
	// identified data
	"mrn": "record_number",
	// stored queries
	"result_type": "result", "query_master_id": "query", "query_instance_id": "instance",
	"result_instance_id": "result", "set_size": "size", "real_set_size": "true_size",
	"obfuscation_method": "method",
	// tables, as error messages may name them
	"observation_fact": "observations", "patient_dimension": "patients", "visit_dimension": "visits",
	"concept_dimension": "concepts", "modifier_dimension": "modifiers", "provider_dimension": "providers",
	"patient_mapping": "patient identifiers", "encounter_mapping": "visit identifiers", "patient_identity": "identified data",
}

// neutralJSON re-encodes v with every object key the warehouse's construction names
// replaced by its neutral word.
func neutralJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return renameKeys(out), nil
}

func renameKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			if n, ok := neutral[k]; ok {
				k = n
			} else if strings.Contains(k, "_") && schemaLike.MatchString(k) {
				continue // a column without a neutral name: left out rather than shown
			}
			m[k] = renameKeys(val)
		}
		return m
	case []any:
		for i := range x {
			x[i] = renameKeys(x[i])
		}
		return x
	}
	return v
}

// schemaLike matches the warehouse's naming of columns (i2b2's _cd, _num, _char, _blob,
// _path, _ide… suffixes), for keys the vocabulary does not know.
var schemaLike = regexp.MustCompile(`_(cd|num|char|blob|path|ide|ide_source|ide_status|dimension|fact|mapping)$`)

// identifierRE finds the identifiers in a message.
var identifierRE = regexp.MustCompile(`[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)+`)

// neutralText rewrites the warehouse's names in a message (an error) to the neutral words.
func neutralText(s string) string {
	if !strings.Contains(s, "_") {
		return s
	}
	return identifierRE.ReplaceAllStringFunc(s, func(id string) string {
		if n, ok := neutral[id]; ok {
			return strings.ReplaceAll(n, "_", " ")
		}
		return id
	})
}
