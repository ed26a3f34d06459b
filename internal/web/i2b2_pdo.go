package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/i2b2"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// pdoRequest answers /i2b2/services/QueryToolService/pdorequest: getPDO_fromInputList for a
// patient set (a result instance of the user's query, or its query master), through the
// warehouse's patient-level read — DATA_LDS and above; observation_set blob="true" (and the
// blob columns of patients and visits) for DATA_DEID and above, as seed 001 says; refused
// below, as the JSON API refuses. onlykeys="true" on a set gives its keys only. Panels of a
// filter_list keep the observations of their items' concepts, one observation_set each.
func (s *Server) pdoRequest(wh *warehouse.Warehouse) i2b2Handler {
	return func(r *http.Request, p access.Principal, m i2b2Message) (string, error) {
		if wh == nil {
			return "", fmt.Errorf("%w: this server has no warehouse", derrors.NotFound)
		}
		project, err := i2b2Project(m)
		if err != nil {
			return "", err
		}
		if rt := m.Body.Find("pdoheader").Child("request_type").Text(); rt != "getPDO_fromInputList" {
			return "", fmt.Errorf("%w: PDO request_type %q is not supported (Steward answers getPDO_fromInputList)", derrors.Invalid, rt)
		}
		if !p.HasScope(access.ScopeQuery) {
			return "", fmt.Errorf("%w: this token lacks the query scope getPDO_fromInputList needs", derrors.Forbidden)
		}
		req := m.Body.Child("request")
		list := req.Find("input_list").Child("patient_list")
		if list == nil || list.Child("patient_set_coll_id") == nil {
			return "", fmt.Errorf("%w: input_list/patient_list/patient_set_coll_id names no patient set (other input lists are not supported)", derrors.Invalid)
		}
		c := crc{s: s, wh: wh, r: r, p: p, project: project}
		master, err := c.masterOf(list.Child("patient_set_coll_id").Text())
		if err != nil {
			return "", err
		}
		out := req.Find("output_option")
		sets := map[string]*i2b2.Node{}
		for _, name := range []string{"patient_set", "event_set", "observation_set"} {
			if n := out.Child(name); n != nil {
				sets[name] = n
			}
		}
		if len(sets) == 0 {
			return "", fmt.Errorf("%w: output_option asks for no patient_set, event_set or observation_set", derrors.Invalid)
		}
		o := warehouse.PDOOptions{}
		for _, n := range sets {
			switch b := n.Attr("blob"); b {
			case "", "false":
			case "true":
				o.Blobs = true
			default:
				return "", fmt.Errorf("%w: blob is true or false", derrors.Invalid)
			}
		}
		lo, _ := strconv.Atoi(list.Attr("min"))
		hi, _ := strconv.Atoi(list.Attr("max"))
		if lo < 0 || hi < 0 {
			return "", fmt.Errorf("%w: patient_list min and max are not negative", derrors.Invalid)
		}
		o.Offset = lo
		if hi > lo {
			o.Limit = min(hi-lo, 1000)
		}
		pdo, err := wh.Patients(r.Context(), p, project, master, o)
		if err != nil {
			return "", err
		}
		var filters [][]string
		var names []string
		for _, panel := range req.Find("filter_list").Children("panel") {
			var keys []string
			for _, it := range panel.Children("item") {
				k, ok := querydef.PathKey(it.Child("item_key").Text())
				if !ok {
					return "", fmt.Errorf("%w: filter_list item without an item_key", derrors.Invalid)
				}
				keys = append(keys, k)
			}
			filters, names = append(filters, keys), append(names, panel.Attr("name"))
		}
		return writePDO(pdo, sets, filters, names), nil
	}
}

// masterOf is the query master of a patient set id: a result instance of one of the
// user's queries in the project (the count, PATIENTSET or a breakdown), or the master itself.
func (c crc) masterOf(id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("%w: an empty patient_set_coll_id", derrors.Invalid)
	}
	if m, err := i2b2.ResultMaster(c.r.Context(), c.wh.DB, id); err != nil || m != "" {
		return m, err
	}
	as, err := c.wh.Queries(c.r.Context(), c.p, c.project)
	if err != nil {
		return "", err
	}
	for _, a := range as {
		if a.ResultID == id || a.QueryID == id {
			return a.QueryID, nil
		}
	}
	return "", fmt.Errorf("%w: patient set %s", derrors.NotFound, id)
}

// pdoValue writes a column's value as i2b2 writes it ("" for none).
func pdoValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return i2b2.Time(x)
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

// observationKeys are the observation_fact columns that are its key (onlykeys="true").
var observationKeys = map[string]string{"encounter_num": "event_id", "patient_num": "patient_id", "concept_cd": "concept_cd",
	"provider_id": "observer_cd", "start_date": "start_date", "modifier_cd": "modifier_cd", "instance_num": "instance_num"}

// observationValues are the other columns, by i2b2's element names.
var observationValues = [][2]string{{"valtype_cd", "valuetype_cd"}, {"tval_char", "tval_char"}, {"nval_num", "nval_num"},
	{"valueflag_cd", "valueflag_cd"}, {"quantity_num", "quantity_num"}, {"units_cd", "units_cd"}, {"end_date", "end_date"},
	{"location_cd", "location_cd"}, {"confidence_num", "confidence_num"}, {"observation_blob", "observation_blob"}}

func writePDO(pdo warehouse.PDO, sets map[string]*i2b2.Node, filters [][]string, names []string) string {
	var w i2b2.Writer
	w.Open("ns4:response", "xsi:type", "ns4:patient_data_responseType", "xmlns:pdo", i2b2.NSPDO)
	w.Open("pdo:patient_data")
	if n := sets["observation_set"]; n != nil {
		onlyKeys := n.Attr("onlykeys") == "true"
		paths := map[string][]string{} // concept_cd → its paths
		for _, c := range pdo.Concepts {
			cd := pdoValue(c["concept_cd"])
			paths[cd] = append(paths[cd], pdoValue(c["concept_path"]))
		}
		if len(filters) == 0 {
			filters, names = [][]string{nil}, []string{""}
		}
		for i, keys := range filters {
			w.Open("pdo:observation_set", "panel_name", names[i])
			for _, ob := range pdo.Observations {
				if keys != nil && !slices.ContainsFunc(paths[pdoValue(ob["concept_cd"])], func(p string) bool {
					return slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(p, k) })
				}) {
					continue
				}
				w.Open("observation")
				for _, col := range []string{"encounter_num", "patient_num", "concept_cd", "provider_id", "start_date", "modifier_cd", "instance_num"} {
					attrs := []string{}
					if col == "encounter_num" || col == "patient_num" {
						attrs = []string{"source", "i2b2"}
					}
					w.El(observationKeys[col], pdoValue(ob[col]), attrs...)
				}
				if !onlyKeys {
					for _, c := range observationValues {
						if v, ok := ob[c[0]]; ok {
							w.El(c[1], pdoValue(v))
						}
					}
				}
				w.Close("observation")
			}
			w.Close("pdo:observation_set")
		}
	}
	params := func(row map[string]any, skip ...string) {
		cols := make([]string, 0, len(row))
		for k := range row {
			if !slices.Contains(skip, k) {
				cols = append(cols, k)
			}
		}
		slices.Sort(cols)
		for _, k := range cols {
			if v := pdoValue(row[k]); v != "" {
				w.El("param", v, "column", k, "name", k)
			}
		}
	}
	if n := sets["event_set"]; n != nil {
		w.Open("pdo:event_set")
		for _, v := range pdo.Visits {
			w.Open("event").El("event_id", pdoValue(v["encounter_num"]), "source", "i2b2").El("patient_id", pdoValue(v["patient_num"]), "source", "i2b2")
			if n.Attr("onlykeys") != "true" {
				params(v, "encounter_num", "patient_num")
			}
			w.Close("event")
		}
		w.Close("pdo:event_set")
	}
	if n := sets["patient_set"]; n != nil {
		w.Open("pdo:patient_set")
		for _, pt := range pdo.Patients {
			w.Open("patient").El("patient_id", pdoValue(pt["patient_num"]), "source", "i2b2")
			if n.Attr("onlykeys") != "true" {
				params(pt, "patient_num")
			}
			w.Close("patient")
		}
		w.Close("pdo:patient_set")
	}
	w.Close("pdo:patient_data")
	w.Close("ns4:response")
	return w.String()
}
