package web

import (
	"fmt"
	"maps"
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

// resultType is one of i2b2's result types (QT_QUERY_RESULT_TYPE) that Steward gives.
type resultType struct {
	id          int
	display     string // display_type
	description string
	dim         string // the warehouse's breakdown dimension
}

var resultTypes = map[string]resultType{
	"PATIENTSET":                    {1, "LIST", "Patient set", ""},
	"PATIENT_COUNT_XML":             {4, "CATNUM", "Number of patients", ""},
	"PATIENT_GENDER_COUNT_XML":      {5, "CATNUM", "Gender patient breakdown", "sex"},
	"PATIENT_VITALSTATUS_COUNT_XML": {6, "CATNUM", "Vital Status patient breakdown", "vital_status"},
	"PATIENT_RACE_COUNT_XML":        {7, "CATNUM", "Race patient breakdown", "race"},
	"PATIENT_AGE_COUNT_XML":         {8, "CATNUM", "Age patient breakdown", "age"},
}

// crcRequest answers /i2b2/services/QueryToolService/request by its psmheader/request_type.
func (s *Server) crcRequest(wh *warehouse.Warehouse) i2b2Handler {
	return func(r *http.Request, p access.Principal, m i2b2Message) (string, error) {
		if wh == nil {
			return "", fmt.Errorf("%w: this server has no warehouse", derrors.NotFound)
		}
		project, err := i2b2Project(m)
		if err != nil {
			return "", err
		}
		rt := m.Body.Find("psmheader").Child("request_type").Text()
		req := m.Body.Child("request")
		need := access.ScopeRead
		switch rt {
		case "CRC_QRY_runQueryInstance_fromQueryDefinition", "CRC_QRY_renameQueryMaster", "CRC_QRY_deleteQueryMaster":
			need = access.ScopeQuery
		}
		if !p.HasScope(need) {
			return "", fmt.Errorf("%w: this token lacks the %s scope %s needs", derrors.Forbidden, need, rt)
		}
		c := crc{s: s, wh: wh, r: r, p: p, project: project}
		switch rt {
		case "CRC_QRY_runQueryInstance_fromQueryDefinition":
			return c.run(m, req)
		case "CRC_QRY_getQueryMasterList_fromUserId":
			return c.masters(req)
		case "CRC_QRY_getQueryInstanceList_fromQueryMasterId":
			return c.instances(req.Child("query_master_id").Text())
		case "CRC_QRY_getQueryResultInstanceList_fromQueryInstanceId":
			return c.results(req.Child("query_instance_id").Text())
		case "CRC_QRY_getRequestXml_fromQueryMasterId":
			return c.requestXML(req.Child("query_master_id").Text())
		case "CRC_QRY_getResultDocument_fromResultInstanceId":
			return c.document(req.Child("query_result_instance_id").Text())
		case "CRC_QRY_getResultType":
			return resultTypeList(), nil
		case "CRC_QRY_renameQueryMaster":
			return c.rename(req.Child("query_master_id").Text(), req.Child("query_name").Text())
		case "CRC_QRY_deleteQueryMaster":
			return c.delete(req.Child("query_master_id").Text())
		case "":
			return "", fmt.Errorf("%w: no psmheader/request_type", derrors.Invalid)
		}
		return "", fmt.Errorf("%w: CRC request_type %s is not supported", derrors.Invalid, rt)
	}
}

// crc is one CRC request being answered.
type crc struct {
	s       *Server
	wh      *warehouse.Warehouse
	r       *http.Request
	p       access.Principal
	project string
}

// psmResponse wraps a CRC answer's elements in its response with a DONE condition.
func psmResponse(typ, inner string) string {
	var w i2b2.Writer
	w.Open("ns4:response", "xsi:type", "ns4:"+typ)
	w.Open("status").El("condition", "DONE", "type", "DONE").Close("status")
	w.Raw(inner)
	w.Close("ns4:response")
	return w.String()
}

// run answers CRC_QRY_runQueryInstance_fromQueryDefinition: the warehouse's answer, exactly
// as the JSON API gives it, with the result instances asked for in result_output_list.
func (c crc) run(m i2b2Message, req *i2b2.Node) (string, error) {
	def := req.Find("query_definition")
	if def == nil {
		return "", fmt.Errorf("%w: no query_definition", derrors.Invalid)
	}
	q, err := querydef.ParseXML([]byte(def.XML()))
	if err != nil {
		return "", err
	}
	var outputs, dims []string
	for _, o := range req.Find("result_output_list").Children("result_output") {
		name := strings.ToUpper(strings.TrimSpace(o.Attr("name")))
		t, ok := resultTypes[name]
		if !ok {
			return "", fmt.Errorf("%w: result_output %s is not supported (Steward gives %s)", derrors.Invalid, name, strings.Join(slices.Sorted(maps.Keys(resultTypes)), ", "))
		}
		if slices.Contains(outputs, name) {
			continue
		}
		outputs = append(outputs, name)
		if t.dim != "" {
			dims = append(dims, t.dim)
		}
	}
	if len(outputs) == 0 {
		outputs = []string{"PATIENT_COUNT_XML"}
	}
	a, err := c.wh.RunWith(c.r.Context(), c.p, c.project, q, warehouse.RunOptions{Breakdowns: dims})
	if err != nil {
		return "", err
	}
	var extra []i2b2.Result
	for _, name := range outputs {
		t := resultTypes[name]
		switch {
		case name == "PATIENT_COUNT_XML":
			continue
		case name == "PATIENTSET":
			extra = append(extra, i2b2.Result{ID: a.ResultID + "-patientset", Type: name, SetSize: a.Count, Method: a.Method,
				Description: fmt.Sprintf("Patient set for %q", a.Name), Created: a.Created})
		default:
			method := ""
			if a.Method != "" {
				method = "OBSUBTOTAL" // i2b2's name for noised breakdown cells
			}
			extra = append(extra, i2b2.Result{ID: a.ResultID + "-" + strings.ReplaceAll(t.dim, "_", ""), Type: name, SetSize: a.Count, Method: method,
				Description: fmt.Sprintf("%s for %q", t.description, a.Name), Document: resultDocument(name, a.Breakdowns[t.dim]), Created: a.Created})
		}
	}
	if err := i2b2.SaveRun(c.r.Context(), c.wh.DB, a.QueryID, def.XML(), extra); err != nil {
		return "", fmt.Errorf("store i2b2 results: %w", err)
	}
	var w i2b2.Writer
	writeMaster(&w, a, c.p.User, c.project, "")
	writeInstance(&w, a, c.p.User, c.project)
	for _, name := range outputs {
		if name == "PATIENT_COUNT_XML" {
			writeResult(&w, countResult(a), a.InstanceID)
		}
		for _, x := range extra {
			if x.Type == name {
				writeResult(&w, x, a.InstanceID)
			}
		}
	}
	return psmResponse("master_instance_result_responseType", w.String()), nil
}

// countResult is the patient count of an answer as a result instance: the set size shown and
// the obfuscation method, as stored.
func countResult(a warehouse.Answer) i2b2.Result {
	d := fmt.Sprintf("Number of patients for %q", a.Name)
	if a.Shown != "" && a.Shown != strconv.FormatInt(a.Count, 10) {
		d += ": " + a.Shown
	}
	return i2b2.Result{ID: a.ResultID, Type: "PATIENT_COUNT_XML", SetSize: a.Count, Method: a.Method, Description: d,
		Document: resultDocument("PATIENT_COUNT_XML", map[string]int64{"patient_count": a.Count}), Created: a.Created}
}

// resultDocument is an i2b2_result_envelope with a count per column.
func resultDocument(typ string, cells map[string]int64) string {
	var w i2b2.Writer
	w.Raw(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`)
	w.Open("ns10:i2b2_result_envelope", "xmlns:ns10", "http://www.i2b2.org/xsd/hive/msg/result/1.1/")
	w.Open("body").Open("ns10:result", "name", typ)
	for _, cell := range slices.Sorted(maps.Keys(cells)) {
		w.El("data", strconv.FormatInt(cells[cell], 10), "type", "int", "column", cell)
	}
	w.Close("ns10:result").Close("body").Close("ns10:i2b2_result_envelope")
	return w.String()
}

func writeMaster(w *i2b2.Writer, a warehouse.Answer, user, project, requestXML string) {
	w.Open("query_master")
	w.El("query_master_id", a.QueryID).El("name", a.Name).El("user_id", user).El("group_id", project).El("create_date", i2b2.Time(a.Created))
	if requestXML != "" {
		w.Open("request_xml").Raw(requestXML).Close("request_xml")
	}
	w.Close("query_master")
}

func writeStatusType(w *i2b2.Writer, id int, name string) {
	w.Open("query_status_type").El("status_type_id", strconv.Itoa(id)).El("name", name).El("description", name).Close("query_status_type")
}

func writeInstance(w *i2b2.Writer, a warehouse.Answer, user, project string) {
	w.Open("query_instance")
	w.El("query_instance_id", a.InstanceID).El("query_master_id", a.QueryID).El("user_id", user).El("group_id", project)
	w.El("batch_mode", "FINISHED").El("start_date", i2b2.Time(a.Created)).El("end_date", i2b2.Time(a.Created))
	writeStatusType(w, 6, "COMPLETED")
	w.Close("query_instance")
}

func writeResult(w *i2b2.Writer, x i2b2.Result, instance string) {
	t := resultTypes[x.Type]
	w.Open("query_result_instance")
	w.El("result_instance_id", x.ID).El("query_instance_id", instance).El("description", x.Description)
	w.Open("query_result_type").El("result_type_id", strconv.Itoa(t.id)).El("name", x.Type).El("display_type", t.display).
		El("visual_attribute_type", "LA").El("description", t.description).Close("query_result_type")
	w.El("set_size", strconv.FormatInt(x.SetSize, 10)).El("start_date", i2b2.Time(x.Created)).El("end_date", i2b2.Time(x.Created))
	w.El("obfuscate_method", x.Method)
	writeStatusType(w, 3, "FINISHED")
	w.Close("query_result_instance")
}

// resultTypeList answers CRC_QRY_getResultType: the result types Steward gives.
func resultTypeList() string {
	names := slices.SortedFunc(maps.Keys(resultTypes), func(a, b string) int { return resultTypes[a].id - resultTypes[b].id })
	var w i2b2.Writer
	for _, name := range names {
		t := resultTypes[name]
		w.Open("query_result_type").El("result_type_id", strconv.Itoa(t.id)).El("name", name).El("display_type", t.display).
			El("visual_attribute_type", "LA").El("description", t.description).Close("query_result_type")
	}
	return psmResponse("result_type_responseType", w.String())
}

// masters answers getQueryMasterList_fromUserId: the user's own queries in the project,
// newest first (fetch_size of them, if given).
func (c crc) masters(req *i2b2.Node) (string, error) {
	if u := req.Child("user_id").Text(); u != "" && u != c.p.User {
		return "", fmt.Errorf("%w: Steward lists your own queries only (user_id %s is not you)", derrors.Forbidden, u)
	}
	all, err := c.wh.Queries(c.r.Context(), c.p, c.project)
	if err != nil {
		return "", err
	}
	changed, err := i2b2.Masters(c.r.Context(), c.wh.DB, c.project, c.p.User)
	if err != nil {
		return "", err
	}
	var as []warehouse.Answer
	for _, a := range all {
		if m := changed[a.QueryID]; !m.Hidden {
			as = append(as, named(a, m))
		}
	}
	if n, err := strconv.Atoi(req.Child("fetch_size").Text()); err == nil && n > 0 && n < len(as) {
		as = as[:n]
	}
	var w i2b2.Writer
	for _, a := range as {
		writeMaster(&w, a, c.p.User, c.project, "")
	}
	return psmResponse("master_responseType", w.String()), nil
}

// named is the answer with the name an i2b2 client gave it.
func named(a warehouse.Answer, m i2b2.Master) warehouse.Answer {
	if m.Name != "" {
		a.Name = m.Name
	}
	return a
}

// answer is one of the user's stored answers in the project, by its query master, as i2b2
// clients see it (renamed; refused when deleted).
func (c crc) answer(master string) (warehouse.Answer, error) {
	if master == "" {
		return warehouse.Answer{}, fmt.Errorf("%w: no query_master_id", derrors.Invalid)
	}
	a, err := c.wh.Result(c.r.Context(), c.p, c.project, master)
	if err != nil {
		return a, err
	}
	changed, err := i2b2.Masters(c.r.Context(), c.wh.DB, c.project, c.p.User)
	if err != nil {
		return a, err
	}
	if changed[master].Hidden {
		return warehouse.Answer{}, fmt.Errorf("%w: query %s was deleted", derrors.Invalid, master)
	}
	return named(a, changed[master]), nil
}

// rename answers CRC_QRY_renameQueryMaster: the name i2b2 clients see from now on (the
// query keeps the name it was asked with in Steward's own API and audit log).
func (c crc) rename(master, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' }) {
		return "", fmt.Errorf("%w: query_name is 1 to 200 characters without control characters", derrors.Invalid)
	}
	a, err := c.answer(master)
	if err != nil {
		return "", err
	}
	if err := i2b2.Rename(c.r.Context(), c.wh.DB, a.QueryID, name); err != nil {
		return "", err
	}
	if err := c.s.svc.Record(c.r.Context(), c.p, "i2b2.rename", "project/"+c.project+"/query/"+a.QueryID, nil); err != nil {
		return "", err
	}
	a.Name = name
	var w i2b2.Writer
	writeMaster(&w, a, c.p.User, c.project, "")
	return psmResponse("master_responseType", w.String()), nil
}

// delete answers CRC_QRY_deleteQueryMaster: the query leaves the CRC cell's lists. Steward
// keeps it (the lockout counts it, the audit log names it, the JSON API lists it).
func (c crc) delete(master string) (string, error) {
	a, err := c.answer(master)
	if err != nil {
		return "", err
	}
	if err := i2b2.Hide(c.r.Context(), c.wh.DB, a.QueryID, time.Now()); err != nil {
		return "", err
	}
	if err := c.s.svc.Record(c.r.Context(), c.p, "i2b2.delete", "project/"+c.project+"/query/"+a.QueryID, nil); err != nil {
		return "", err
	}
	var w i2b2.Writer
	w.Open("query_master").El("query_master_id", a.QueryID).Close("query_master")
	return psmResponse("master_responseType", w.String()), nil
}

// byInstance is the stored answer a query instance belongs to.
func (c crc) byInstance(instance string) (warehouse.Answer, error) {
	if instance == "" {
		return warehouse.Answer{}, fmt.Errorf("%w: no query_instance_id", derrors.Invalid)
	}
	as, err := c.wh.Queries(c.r.Context(), c.p, c.project)
	if err != nil {
		return warehouse.Answer{}, err
	}
	for _, a := range as {
		if a.InstanceID == instance {
			return a, nil
		}
	}
	return warehouse.Answer{}, fmt.Errorf("%w: query instance %s", derrors.NotFound, instance)
}

func (c crc) instances(master string) (string, error) {
	a, err := c.answer(master)
	if err != nil {
		return "", err
	}
	var w i2b2.Writer
	writeInstance(&w, a, c.p.User, c.project)
	return psmResponse("instance_responseType", w.String()), nil
}

func (c crc) results(instance string) (string, error) {
	a, err := c.byInstance(instance)
	if err != nil {
		return "", err
	}
	extra, err := i2b2.Results(c.r.Context(), c.wh.DB, a.QueryID)
	if err != nil {
		return "", err
	}
	var w i2b2.Writer
	writeResult(&w, countResult(a), a.InstanceID)
	for _, x := range extra {
		writeResult(&w, x, a.InstanceID)
	}
	return psmResponse("result_responseType", w.String()), nil
}

func (c crc) requestXML(master string) (string, error) {
	a, err := c.answer(master)
	if err != nil {
		return "", err
	}
	x, err := i2b2.RequestXML(c.r.Context(), c.wh.DB, a.QueryID)
	if err != nil {
		return "", err
	}
	if x == "" {
		// Invalid, not NotFound: the query is the user's own, and a client opening it must not
		// count as refused access (watch.go).
		return "", fmt.Errorf("%w: query %s was not asked through i2b2's CRC cell, so it has no request XML", derrors.Invalid, a.QueryID)
	}
	var w i2b2.Writer
	writeMaster(&w, a, c.p.User, c.project, x)
	return psmResponse("master_responseType", w.String()), nil
}

// document answers getResultDocument_fromResultInstanceId: the count or a breakdown as it
// was told.
func (c crc) document(result string) (string, error) {
	if result == "" {
		return "", fmt.Errorf("%w: no query_result_instance_id", derrors.Invalid)
	}
	master, err := i2b2.ResultMaster(c.r.Context(), c.wh.DB, result)
	if err != nil {
		return "", err
	}
	var a warehouse.Answer
	var x i2b2.Result
	if master != "" {
		if a, err = c.answer(master); err != nil {
			return "", err
		}
		rs, err := i2b2.Results(c.r.Context(), c.wh.DB, master)
		if err != nil {
			return "", err
		}
		for _, r := range rs {
			if r.ID == result {
				x = r
			}
		}
	} else {
		as, err := c.wh.Queries(c.r.Context(), c.p, c.project)
		if err != nil {
			return "", err
		}
		for _, q := range as {
			if q.ResultID == result {
				a, x = q, countResult(q)
			}
		}
	}
	if x.ID == "" || x.Document == "" {
		return "", fmt.Errorf("%w: result document %s", derrors.NotFound, result)
	}
	var w i2b2.Writer
	writeResult(&w, x, a.InstanceID)
	w.Open("crc_xml_result").El("xml_result_id", x.ID).El("result_instance_id", x.ID).El("xml_value", x.Document).Close("crc_xml_result")
	return psmResponse("crc_xml_result_responseType", w.String()), nil
}

// unsupported reports whether err refuses the request as not understood (the JSON API's
// 400), which the audit log records for i2b2 messages as it records other refusals.
func unsupported(err error) bool { return derrors.Kind(err) == derrors.Invalid }
