// Package querydef is i2b2's query language as Steward reads it: a cohort definition of panels
// (items OR-ed within a panel, panels AND-ed, a panel may be inverted), with date bounds,
// occurrence counts, value and modifier constraints, timing, temporal events and query in
// query — as JSON (Query's own form) or as i2b2's query_definition XML (psm 1.1, see
// ParseXML). Normalize checks a definition and puts it in canonical form, so that two
// wordings of the same cohort compare equal; Canonical is that form as text. Finding the
// patients of a definition is package cohort's work; what each construct means is written
// on its type here, from i2b2 1.7's query builder (edu.harvard.i2b2.crc's
// setfinder/querybuilder/temporal).
//
// Nothing is ignored silently. What Steward does not apply is refused by name; what i2b2
// itself reads and gives no effect (display names, icons, a unit i2b2 does not convert, a
// NUMBER constraint without an operator) is accepted and said in Notes.
package querydef

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/stewardhealth/steward/internal/derrors"
)

// Timings: where the facts of the panels must meet. SAME is i2b2's older name of SAMEVISIT.
const (
	Any        = "ANY"             // the same patient
	SameVisit  = "SAMEVISIT"       // the same visit (encounter_num)
	SameInstNo = "SAMEINSTANCENUM" // the same observation: encounter, concept, provider, start date and instance_num
)

// level orders the timings: a panel's timing may not be finer than its query's.
var level = map[string]int{Any: 0, SameVisit: 1, SameInstNo: 2}

// Query is a cohort definition.
//
// Panels are AND-ed. The query's Timing is how finely its panels' facts must meet: ANY (the
// default) the same patient, SAMEVISIT one visit, SAMEINSTANCENUM one observation instance.
// Each panel may ask for a coarser timing of its own (a SAMEVISIT query with a panel ANY:
// that panel anywhere in the patient's record, the others in one visit), never a finer one
// (i2b2 fails those queries).
//
// Events and Constraints make a temporal query (i2b2's subquery and subquery_constraint):
// each event is a query of its own whose facts carry dates, each constraint compares the
// dates of two events (see Constraint). The panels of the query, when it has any, are one
// more condition on the patient.
type Query struct {
	Name        string       `json:"name,omitempty"`
	Timing      string       `json:"timing,omitempty"`
	Panels      []Panel      `json:"panels,omitempty"`
	Events      []Event      `json:"events,omitempty"`
	Constraints []Constraint `json:"constraints,omitempty"`
	// Notes say what was read and has no effect on the count, as in i2b2 (a unit of measure
	// i2b2 does not convert, a value constraint i2b2 skips). Set by ParseXML and Normalize.
	Notes []string `json:"notes,omitempty"`
}

// Panel is a group of items of which one must hold (or, inverted, none).
type Panel struct {
	Invert bool `json:"invert,omitempty"`
	// Timing is the panel's own (ANY, SAMEVISIT, SAMEINSTANCENUM); empty means the query's.
	Timing string `json:"timing,omitempty"`
	// DateFrom and DateTo bound the date of every item's facts (i2b2's panel_date_from and
	// panel_date_to); see Bound.
	DateFrom *Bound `json:"date_from,omitempty"`
	DateTo   *Bound `json:"date_to,omitempty"`
	// Occurs is total_item_occurrences: each item on its own (not the panel summed) must have
	// so many distinct facts for the patient (for the visit, under SAMEVISIT timing); a
	// patient's facts of one observation (its modifier rows) count once. GE 1 by default.
	Occurs Occurrence `json:"occurrences,omitzero"`
	// Items are OR-ed. An inverted panel without items excludes nobody (i2b2's "everyone").
	Items []Item `json:"items"`
}

// Occurrence is a comparison of a number of facts: EQ NE GT LT GE LE.
type Occurrence struct {
	Op string `json:"op,omitempty"`
	N  int    `json:"n"`
}

// Item is what a panel's facts are: a concept path (a folder means every concept under it; an
// ontology entry may instead name patients or visits by a column of patient_dimension or
// visit_dimension, as i2b2's demographics), or "masterid:ID", the patients of the user's
// stored query ID of the same project. Dates bound its facts (several ranges AND-ed), Values
// constrain the facts' values (AND-ed), and Modifier narrows it to the concept's facts of a
// modifier instead of its own.
type Item struct {
	Key      string    `json:"key"`
	Dates    []Range   `json:"dates,omitempty"`
	Values   []Value   `json:"values,omitempty"`
	Value    *Value    `json:"value,omitempty"` // one value constraint; Normalize moves it to Values
	Modifier *Modifier `json:"modifier,omitempty"`
}

// Range is an item's date constraint (i2b2's constrain_by_date).
type Range struct {
	From *Bound `json:"from,omitempty"`
	To   *Bound `json:"to,omitempty"`
}

// Value constrains a fact's value, as i2b2 1.7's constrain_by_value does (on PostgreSQL):
//
//   - NUMBER compares nval_num of numeric facts (valtype_cd N) read with their tval_char:
//     E equal, G greater than, L less than, GE, LE, NE. GT v holds for E or GE values
//     above v and G values at or above v; GE v for E GE G values at or above v; LT and LE
//     the same downwards (L, LE); EQ and BETWEEN only for E values; NE for values other
//     than v that are not NE, and NE values of v itself.
//   - TEXT compares tval_char of text facts (valtype_cd T): EQ, NE (never the empty text),
//     IN a list, LIKE[begin] (or LIKE), LIKE[end], LIKE[contains] (case as written; % and
//     _ in the value are wildcards, as i2b2's LIKE), LIKE[exact] (equal).
//   - FLAG compares valueflag_cd (H, L, A, N…): EQ, NE (never the empty flag), IN.
//
// A constraint without an operator is skipped, as i2b2 1.7 does (and said in the notes).
// On an item (not a modifier) a constraint holds only for the concept's own facts
// (modifier_cd '@').
type Value struct {
	Type   string   `json:"type,omitempty"` // NUMBER (default), TEXT, FLAG
	Op     string   `json:"op,omitempty"`
	Number float64  `json:"number,omitempty"`
	High   float64  `json:"high,omitempty"`
	Text   string   `json:"text,omitempty"`
	List   []string `json:"list,omitempty"`
	// Unit is value_unit_of_measure: i2b2 compares values as stored unless a site turns unit
	// conversion on, so it is noted, not applied.
	Unit string `json:"unit,omitempty"`

	skip string // why i2b2 skips this constraint, when the XML says
}

// Modifier narrows an item to the facts that carry a modifier (i2b2's constrain_by_modifier):
// Key is a path in modifier_dimension (a folder means every modifier under it), Values
// constrain the modifier facts' values.
type Modifier struct {
	Key    string  `json:"key"`
	Values []Value `json:"values,omitempty"`
	Value  *Value  `json:"value,omitempty"` // one value constraint; Normalize moves it to Values
}

// Event is one of a temporal query's subqueries: panels (with their own timing, by default
// the query's), found like a query's, whose facts carry the dates the constraints compare.
type Event struct {
	ID     string  `json:"id"`
	Name   string  `json:"name,omitempty"`
	Timing string  `json:"timing,omitempty"`
	Panels []Panel `json:"panels"`
}

// Constraint compares two events of a patient, as i2b2's subquery_constraint: First's date Op
// Second's date, and each span: the later of the two dates Op (the earlier + Value Units).
// A side's date is its Column (STARTDATE, ENDDATE of the event's facts;
// ENCOUNTER_STARTDATE, ENCOUNTER_ENDDATE of their visits), of ANY of the event's facts or
// of the FIRST (earliest) or LAST (latest) one. The dates of an event are those of its
// matching facts under SAMEINSTANCENUM timing, of every fact of its matching visits under
// SAMEVISIT, and of every fact of its patients under ANY (i2b2's rule). Constraints are
// applied in i2b2's order (see package cohort): an event's facts that meet an earlier
// event's constraints are the ones a later constraint on it sees.
type Constraint struct {
	First  Side   `json:"first"`
	Op     string `json:"op"` // EQUAL LESS LESSEQUAL GREATER GREATEREQUAL
	Second Side   `json:"second"`
	Spans  []Span `json:"spans,omitempty"`

	notes []string // what the XML reader skipped, for the query's notes
}

// Side is one event of a constraint.
type Side struct {
	Event     string `json:"event"`
	Column    string `json:"column,omitempty"`    // STARTDATE (default) ENDDATE ENCOUNTER_STARTDATE ENCOUNTER_ENDDATE
	Aggregate string `json:"aggregate,omitempty"` // ANY (default) FIRST LAST
}

// Span bounds the time between the two dates of a constraint.
type Span struct {
	Op    string `json:"op"`    // EQUAL LESS LESSEQUAL GREATER GREATEREQUAL
	Value int    `json:"value"` // ≥ 0
	Units string `json:"units"` // YEAR MONTH DAY HOUR MINUTE SECOND
}

var occurOps = map[string]bool{"EQ": true, "NE": true, "GT": true, "LT": true, "GE": true, "LE": true}

// CompareOps are the operators of constraints and spans.
var CompareOps = map[string]bool{"EQUAL": true, "LESS": true, "LESSEQUAL": true, "GREATER": true, "GREATEREQUAL": true}

var (
	columns    = map[string]bool{"STARTDATE": true, "ENDDATE": true, "ENCOUNTER_STARTDATE": true, "ENCOUNTER_ENDDATE": true}
	aggregates = map[string]bool{"ANY": true, "FIRST": true, "LAST": true}
	spanUnits  = map[string]bool{"YEAR": true, "MONTH": true, "DAY": true, "HOUR": true, "MINUTE": true, "SECOND": true}
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", derrors.Invalid, fmt.Sprintf(format, args...))
}

// timing reads a timing (SAME is SAMEVISIT); "" stays "".
func timing(s string) (string, error) {
	switch t := strings.ToUpper(strings.TrimSpace(s)); t {
	case "":
		return "", nil
	case "SAME":
		return SameVisit, nil
	case Any, SameVisit, SameInstNo:
		return t, nil
	default:
		return "", fmt.Errorf("timing %q (want ANY, SAME, SAMEVISIT or SAMEINSTANCENUM)", s)
	}
}

// Temporal reports whether the query has events.
func (q *Query) Temporal() bool { return len(q.Events) > 0 }

// Normalize checks the query and puts it in canonical form: defaults made explicit, items
// sorted and unique within a panel, panels sorted. Two queries with the same meaning written
// differently normalize to the same value.
func (q *Query) Normalize() error {
	var err error
	explicit := strings.TrimSpace(q.Timing) != ""
	if q.Timing, err = timing(q.Timing); err != nil {
		return invalid("%v", err)
	}
	if q.Timing == "" {
		q.Timing = Any
	}
	if len(q.Events) > 0 {
		if q.Timing != Any {
			return invalid("query_timing %s with subqueries is not supported (a temporal query's timing is ANY; each event has its own)", q.Timing)
		}
		if len(q.Events) > 20 || len(q.Constraints) > 40 {
			return invalid("a temporal query has at most 20 events and 40 constraints")
		}
		if len(q.Constraints) == 0 {
			return invalid("subqueries without a subquery_constraint")
		}
	} else {
		if len(q.Constraints) > 0 {
			return invalid("subquery_constraint without subqueries")
		}
		if len(q.Panels) == 0 {
			return invalid("a query needs 1 to 40 panels")
		}
	}
	// Without a query_timing, panels that all ask for the same visit are a SAMEVISIT query
	// (as i2b2 answers them); other mixtures depend on the order i2b2 takes the panels in.
	if !explicit && len(q.Panels) > 0 && len(q.Events) == 0 {
		if t, ok := commonTiming(q.Panels); ok && t == SameVisit {
			q.Timing = SameVisit
		}
	}
	if q.Panels, err = normalizePanels(q.Panels, q.Timing, explicit || len(q.Events) > 0, "", &q.Notes); err != nil {
		return err
	}
	// A temporal query's main panels that only say "everyone" say nothing (i2b2 drops them).
	if len(q.Events) > 0 && len(q.Panels) == 1 && q.Panels[0].Everyone() {
		q.Panels = nil
	}
	ids := map[string]bool{}
	for i := range q.Events {
		e := &q.Events[i]
		e.ID = strings.TrimSpace(e.ID)
		where := fmt.Sprintf("subquery %d", i+1)
		if e.ID == "" || len(e.ID) > 200 {
			return invalid("%s: query_id of 1 to 200 characters", where)
		}
		if ids[e.ID] {
			return invalid("%s: query_id %q used twice", where, e.ID)
		}
		ids[e.ID] = true
		e.Name = strings.TrimSpace(e.Name)
		if e.Timing, err = timing(e.Timing); err != nil {
			return invalid("%s: %v", where, err)
		}
		if e.Timing == "" {
			e.Timing = q.Timing
		}
		if len(e.Panels) == 0 {
			return invalid("%s (%s) has no panel", where, e.ID)
		}
		if e.Panels, err = normalizePanels(e.Panels, e.Timing, true, where+" ", &q.Notes); err != nil {
			return err
		}
	}
	for i := range q.Constraints {
		c := &q.Constraints[i]
		where := fmt.Sprintf("subquery_constraint %d", i+1)
		c.Op = strings.ToUpper(strings.TrimSpace(c.Op))
		if !CompareOps[c.Op] {
			return invalid("%s: operator %q is not supported (want EQUAL LESS LESSEQUAL GREATER GREATEREQUAL)", where, c.Op)
		}
		for _, s := range []*Side{&c.First, &c.Second} {
			s.Event = strings.TrimSpace(s.Event)
			s.Column = cmpOr(strings.ToUpper(strings.TrimSpace(s.Column)), "STARTDATE")
			s.Aggregate = cmpOr(strings.ToUpper(strings.TrimSpace(s.Aggregate)), "ANY")
			if !ids[s.Event] {
				return invalid("%s: no subquery with query_id %q", where, s.Event)
			}
			if !columns[s.Column] {
				return invalid("%s: join_column %s is not supported (want STARTDATE ENDDATE ENCOUNTER_STARTDATE ENCOUNTER_ENDDATE)", where, s.Column)
			}
			if !aggregates[s.Aggregate] {
				return invalid("%s: aggregate_operator %q is not supported (want ANY FIRST LAST)", where, s.Aggregate)
			}
		}
		if c.First.Event == c.Second.Event {
			return invalid("%s compares subquery %q with itself", where, c.First.Event)
		}
		if len(c.Spans) > 4 {
			return invalid("%s: at most 4 spans", where)
		}
		for j := range c.Spans {
			s := &c.Spans[j]
			s.Op, s.Units = strings.ToUpper(strings.TrimSpace(s.Op)), strings.ToUpper(strings.TrimSpace(s.Units))
			if !CompareOps[s.Op] {
				return invalid("%s span %d: operator %q is not supported", where, j+1, s.Op)
			}
			if !spanUnits[s.Units] {
				return invalid("%s span %d: units %q is not supported (want YEAR MONTH DAY HOUR MINUTE SECOND)", where, j+1, s.Units)
			}
			if s.Value < 0 || s.Value > 100000 {
				return invalid("%s span %d: span_value from 0 to 100000", where, j+1)
			}
		}
	}
	for id := range ids {
		used := slices.ContainsFunc(q.Constraints, func(c Constraint) bool { return c.First.Event == id || c.Second.Event == id })
		if !used {
			q.Notes = append(q.Notes, fmt.Sprintf("subquery %q is in no constraint: its patients are one more condition", id))
		}
	}
	slices.Sort(q.Notes)
	q.Notes = slices.Compact(q.Notes)
	return nil
}

func cmpOr(a, b string) string {
	if a == "" {
		return b
	}
	return a
}

// commonTiming is the timing all panels name, if they name one and the same.
func commonTiming(ps []Panel) (string, bool) {
	var t string
	for i, p := range ps {
		pt, err := timing(p.Timing)
		if err != nil || i > 0 && pt != t {
			return "", false
		}
		t = pt
	}
	return t, t != ""
}

// normalizePanels checks the panels of a query (or event) of timing qt.
func normalizePanels(ps []Panel, qt string, explicit bool, prefix string, notes *[]string) ([]Panel, error) {
	if len(ps) > 40 {
		return nil, invalid("%sa query needs 1 to 40 panels", prefix)
	}
	for i := range ps {
		p := &ps[i]
		where := fmt.Sprintf("%spanel %d", prefix, i+1)
		t, err := timing(p.Timing)
		if err != nil {
			return nil, invalid("%s: panel_%v", where, err)
		}
		if t == "" {
			t = qt
		}
		if level[t] > level[qt] {
			if !explicit {
				return nil, invalid("%s: panel_timing %s without a query_timing (i2b2 answers such queries by the order of their panels): give the query's timing", where, t)
			}
			return nil, invalid("%s: panel_timing %s in a query whose timing is %s (i2b2 fails such queries): the query's timing must be %s", where, t, qt, t)
		}
		p.Timing = t
		if p.Occurs.Op == "" && p.Occurs.N == 0 {
			p.Occurs = Occurrence{"GE", 1}
		}
		p.Occurs.Op = strings.ToUpper(strings.TrimSpace(p.Occurs.Op))
		if !occurOps[p.Occurs.Op] || p.Occurs.N < 0 || p.Occurs.N > 1000000 {
			return nil, invalid("%s: occurrences %q %d (want EQ NE GT LT GE LE and a count ≥ 0)", where, p.Occurs.Op, p.Occurs.N)
		}
		for _, b := range []*Bound{p.DateFrom, p.DateTo} {
			if b != nil {
				if err := b.normalize(); err != nil {
					return nil, invalid("%s: %v", where, err)
				}
			}
		}
		if len(p.Items) == 0 && !p.Invert {
			return nil, invalid("%s has no item (only an inverted panel may be empty: it excludes nobody)", where)
		}
		if len(p.Items) > 200 {
			return nil, invalid("%s: at most 200 items", where)
		}
		for j := range p.Items {
			if err := p.Items[j].normalize(fmt.Sprintf("%s item %d", where, j+1), notes); err != nil {
				return nil, err
			}
		}
		slices.SortFunc(p.Items, func(a, b Item) int { return strings.Compare(itemKey(a), itemKey(b)) })
		p.Items = slices.CompactFunc(p.Items, func(a, b Item) bool { return itemKey(a) == itemKey(b) })
	}
	// An inverted panel without items excludes nobody: it says nothing. When nothing else is
	// left, one stands for every patient (as i2b2 answers a lone empty inverted panel).
	rest := slices.DeleteFunc(slices.Clone(ps), func(p Panel) bool { return p.Everyone() })
	if len(rest) == 0 && len(ps) > 0 {
		rest = []Panel{{Invert: true, Timing: qt, Occurs: Occurrence{"GE", 1}, Items: []Item{}}}
	}
	slices.SortFunc(rest, func(a, b Panel) int { return strings.Compare(panelKey(a), panelKey(b)) })
	return slices.CompactFunc(rest, func(a, b Panel) bool { return panelKey(a) == panelKey(b) }), nil
}

// Everyone reports whether the panel is the empty inverted panel that stands for every patient.
func (p Panel) Everyone() bool { return p.Invert && len(p.Items) == 0 }

// MasterPrefix starts the key of an item that names a stored query.
const MasterPrefix = "masterid:"

// Master is the stored query an item names (its key "masterid:ID"), or "".
func (it Item) Master() string {
	id, _ := strings.CutPrefix(it.Key, MasterPrefix)
	if id == it.Key {
		return ""
	}
	return id
}

func (it *Item) normalize(at string, notes *[]string) error {
	var ok bool
	k := strings.TrimSpace(it.Key)
	switch {
	case strings.HasPrefix(strings.ToLower(k), MasterPrefix):
		id := strings.TrimSpace(k[len(MasterPrefix):])
		if id == "" || len(id) > 100 {
			return invalid("%s: masterid without a query id", at)
		}
		it.Key = MasterPrefix + id
	case hasPrefixFold(k, "patient_set_coll_id:"), hasPrefixFold(k, "patient_set_enc_id:"):
		return invalid("%s: item_key %s…: patient sets are not supported (name the stored query with masterid:)", at, k[:strings.Index(k, ":")+1])
	case hasPrefixFold(k, "PATIENT:"), hasPrefixFold(k, "ENCOUNTER:"):
		return invalid("%s: item_key %s…: patient and encounter items are not supported", at, k[:strings.Index(k, ":")+1])
	default:
		if it.Key, ok = PathKey(k); !ok {
			return invalid("%s: empty or overlong key", at)
		}
	}
	if it.Value != nil {
		it.Values = append(it.Values, *it.Value)
		it.Value = nil
	}
	if len(it.Dates) > 20 || len(it.Values) > 20 {
		return invalid("%s: at most 20 date and 20 value constraints", at)
	}
	for i := range it.Dates {
		r := &it.Dates[i]
		if r.From == nil && r.To == nil {
			return invalid("%s: constrain_by_date without date_from or date_to", at)
		}
		for _, b := range []*Bound{r.From, r.To} {
			if b != nil {
				if err := b.normalize(); err != nil {
					return invalid("%s: %v", at, err)
				}
			}
		}
	}
	var err error
	if it.Values, err = normalizeValues(it.Values, at, notes); err != nil {
		return err
	}
	if m := it.Modifier; m != nil {
		if len(it.Values) > 0 {
			return invalid("%s: a value constraint goes on the item or on its modifier, not both", at)
		}
		if m.Key, ok = PathKey(m.Key); !ok {
			return invalid("%s: empty or overlong modifier key", at)
		}
		if m.Value != nil {
			m.Values = append(m.Values, *m.Value)
			m.Value = nil
		}
		if m.Values, err = normalizeValues(m.Values, at+" modifier", notes); err != nil {
			return err
		}
	}
	if it.Master() != "" && (len(it.Values) > 0 || it.Modifier != nil) {
		return invalid("%s: a masterid item takes no value or modifier constraint", at)
	}
	slices.SortFunc(it.Dates, func(a, b Range) int { return strings.Compare(jsonOf(a), jsonOf(b)) })
	it.Dates = slices.CompactFunc(it.Dates, func(a, b Range) bool { return jsonOf(a) == jsonOf(b) })
	return nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// normalizeValues checks value constraints, drops those i2b2 skips (noting them) and sorts
// the rest.
func normalizeValues(vs []Value, at string, notes *[]string) ([]Value, error) {
	out := vs[:0]
	for i := range vs {
		v := vs[i]
		skip, err := v.normalize()
		if err != nil {
			return nil, invalid("%s: %v", at, err)
		}
		if skip != "" {
			*notes = append(*notes, fmt.Sprintf("%s: %s", at, skip))
			continue
		}
		if v.Unit != "" {
			*notes = append(*notes, fmt.Sprintf("%s: values are compared as stored, in any unit (value_unit_of_measure %q is not converted, i2b2's default)", at, v.Unit))
			v.Unit = ""
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Value) int { return strings.Compare(jsonOf(a), jsonOf(b)) })
	return slices.CompactFunc(out, func(a, b Value) bool { return jsonOf(a) == jsonOf(b) }), nil
}

// PathKey puts a concept or modifier key in the form the trees use: trimmed, with i2b2's
// table prefix (\\TABLE_CD) taken off and a trailing backslash. It reports false for an
// empty or overlong key.
func PathKey(k string) (string, bool) {
	k = strings.TrimSpace(k)
	if rest, ok := strings.CutPrefix(k, `\\`); ok {
		if i := strings.Index(rest, `\`); i >= 0 {
			k = rest[i:]
		}
	}
	if k == "" || len(k) > 700 {
		return "", false
	}
	if !strings.HasSuffix(k, `\`) {
		k += `\`
	}
	return k, true
}

// textOps are the operators of TEXT and FLAG constraints.
var textOps = map[string]bool{"EQ": true, "NE": true, "IN": true}

// likeOps are TEXT's LIKE operators (LIKE alone is LIKE[begin]).
var likeOps = map[string]bool{"LIKE[BEGIN]": true, "LIKE[END]": true, "LIKE[CONTAINS]": true, "LIKE[EXACT]": true}

var numberOps = map[string]bool{"EQ": true, "NE": true, "GT": true, "LT": true, "GE": true, "LE": true, "BETWEEN": true}

// normalize checks a value constraint and puts it in canonical form. It returns why i2b2
// skips the constraint ("" when it applies); errors never repeat the values asked for.
func (v *Value) normalize() (string, error) {
	v.Type = strings.ToUpper(strings.TrimSpace(v.Type))
	v.Op = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(v.Op), " ", ""))
	v.Unit = strings.TrimSpace(v.Unit)
	if v.skip != "" {
		return v.skip, nil
	}
	if v.Type == "" {
		v.Type = "NUMBER"
	}
	if v.Op == "" {
		return fmt.Sprintf("constrain_by_value %s without value_operator is skipped (as i2b2 1.7 does)", v.Type), nil
	}
	switch v.Type {
	case "NUMBER":
		if !numberOps[v.Op] {
			return "", fmt.Errorf("NUMBER value operator %q is not supported (want EQ NE GT LT GE LE BETWEEN)", v.Op)
		}
		if v.Op != "BETWEEN" {
			v.High = 0
		}
		v.Text, v.List = "", nil
		return "", nil
	case "TEXT", "FLAG":
		if v.Op == "LIKE" {
			v.Op = "LIKE[BEGIN]"
		}
		if !textOps[v.Op] && !(v.Type == "TEXT" && likeOps[v.Op]) {
			want := "EQ NE IN"
			if v.Type == "TEXT" {
				want += " LIKE[begin] LIKE[end] LIKE[contains] LIKE[exact]"
			}
			return "", fmt.Errorf("%s value operator %q is not supported (want %s)", v.Type, v.Op, want)
		}
		v.Number, v.High = 0, 0
		if v.Op == "IN" {
			v.Text = ""
			if len(v.List) == 0 || len(v.List) > 200 {
				return "", fmt.Errorf("%s IN needs 1 to 200 values", v.Type)
			}
			for _, x := range v.List {
				if len(x) > 255 {
					return "", fmt.Errorf("%s IN: a value is longer than 255 bytes", v.Type)
				}
			}
			slices.Sort(v.List)
			v.List = slices.Compact(v.List)
			return "", nil
		}
		v.List = nil
		if len(v.Text) > 255 {
			return "", fmt.Errorf("%s %s: a value of at most 255 bytes", v.Type, v.Op)
		}
		return "", nil
	case "LARGETEXT":
		return "", errors.New("value_type LARGETEXT searches observation_blob, which the warehouse keeps sealed: not supported")
	case "MODIFIER":
		return "", errors.New("value_type MODIFIER (valtype_cd M) is not supported; constrain by modifier instead")
	}
	return "", fmt.Errorf("value_type %q is not supported (want NUMBER TEXT FLAG)", v.Type)
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

func itemKey(it Item) string { return jsonOf(it) }

func panelKey(p Panel) string { return jsonOf(p) }

// Canonical is the normalized query's meaning as text: the same for every way of writing the
// same cohort (the name and the notes do not count).
func (q Query) Canonical() string {
	q.Name, q.Notes = "", nil
	q.Events = slices.Clone(q.Events)
	for i := range q.Events {
		q.Events[i].Name = ""
	}
	return jsonOf(q)
}
