package cohort

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// A temporal query, as i2b2 1.7 answers one (TemporalQuery, TemporalSubQuery,
// TemporalQueryConstraintMapping):
//
//   - Each event (subquery) is found like a query at its own timing; its rows carry dates:
//     for the facts' dates, every fact of its matching instances (SAMEINSTANCENUM), of its
//     matching visits (SAMEVISIT) or of its patients (ANY); for the visits' dates, the
//     visits of those (all the patient's visits under ANY).
//   - The events are taken one after another in i2b2's order (orderEvents): the first's rows
//     all stand; a later event's row stands when its patient has a standing row of the event
//     before it and each constraint attached to it holds against an earlier event: some
//     standing row of that event (ANY) or the patient's earliest (FIRST) or latest (LAST)
//     date over all its rows, compared with this row's date (ANY) or this event's
//     earliest or latest date for the patient.
//   - The events no constraint names, then the query's own panels, follow as conditions on
//     the patient; the answer is the patients standing at the end.
//
// i2b2 attaches each constraint to one of its two events; for some shapes (constraints in a
// cycle) that event is taken first, or before the other, and i2b2 loses the constraint or
// finds nobody: those are refused.

// eventRow is one dated row of an event.
type eventRow struct {
	patient    int64
	start, end string // the facts' or the visits' dates; "" when unknown
}

// attachment is a constraint as i2b2 attaches it: to the event taken later, against other.
type attachment struct {
	c     *querydef.Constraint
	index int // the constraint's number, for errors
	other string
}

// orderEvents is i2b2's order of the constrained events and the constraints attached to each.
func orderEvents(cs []querydef.Constraint) ([]string, map[string][]attachment) {
	counts := map[string]int{}
	for _, c := range cs {
		counts[c.First.Event]++
		counts[c.Second.Event]++
	}
	var order []string
	attached := map[string][]attachment{}
	for i := range cs {
		c := &cs[i]
		first, second := c.First.Event, c.Second.Event
		fa, sa := c.First.Aggregate, c.Second.Aggregate
		switch {
		case fa == "ANY" && (sa == "FIRST" || sa == "LAST"):
			first, second = second, first
		case sa == "ANY" && (fa == "FIRST" || fa == "LAST"):
		default:
			fc, sc := counts[first], counts[second]
			if sc < fc || fc == sc && (c.Op == "GREATER" || c.Op == "GREATEREQUAL") {
				first, second = second, first
			}
		}
		fi, si := slices.Index(order, first), slices.Index(order, second)
		switch {
		case fi < 0 && si < 0:
			order = append(order, first, second)
		case fi < 0:
			order = slices.Insert(order, si, first)
		case si < 0:
			order = slices.Insert(order, fi+1, second)
		case si > fi:
			order = slices.Delete(order, si, si+1)
			order = slices.Insert(order, fi, second)
		}
		attached[second] = append(attached[second], attachment{c: c, index: i + 1, other: first})
	}
	return order, attached
}

func (e *evaluation) temporal(ctx context.Context, q querydef.Query) (*roaring.Bitmap, error) {
	order, attached := orderEvents(q.Constraints)
	pos := map[string]int{}
	for i, id := range order {
		pos[id] = i
	}
	for id, as := range attached {
		for _, a := range as {
			if pos[id] == 0 || pos[a.other] > pos[id] {
				return nil, refuse("subquery_constraint %d: i2b2 applies subquery constraints one event after another and cannot apply this one (its events are in a cycle of constraints): not supported", a.index)
			}
		}
	}
	events := map[string]*querydef.Event{}
	for i := range q.Events {
		events[q.Events[i].ID] = &q.Events[i]
	}
	// What dates each constrained event's rows carry: the facts' or the visits'.
	visitDates := map[string]bool{}
	factDates := map[string]bool{}
	endDates := map[string]bool{}
	for _, c := range q.Constraints {
		for _, s := range []querydef.Side{c.First, c.Second} {
			if strings.HasPrefix(s.Column, "ENCOUNTER_") {
				visitDates[s.Event] = true
			} else {
				factDates[s.Event] = true
				endDates[s.Event] = endDates[s.Event] || s.Column == "ENDDATE"
			}
		}
	}
	rows := map[string]map[int64][]eventRow{}     // every row of each event taken, by patient
	standing := map[string]map[int64][]eventRow{} // the rows that stand
	var prev *roaring.Bitmap
	for k, id := range order {
		ev := events[id]
		if visitDates[id] && factDates[id] {
			return nil, refuse("subquery %q: constraints on both its facts' dates and its visits' dates are not supported", id)
		}
		all, ok, err := e.datedEvent(ctx, ev, visitDates[id] || endDates[id])
		if err != nil {
			return nil, err
		}
		if !ok {
			c, err := e.panels(ctx, ev.Panels, levelOf(ev.Timing), fmt.Sprintf("subquery %q ", id))
			if err != nil {
				return nil, err
			}
			if all, err = e.s.eventRows(ctx, c, visitDates[id], endDates[id]); err != nil {
				return nil, err
			}
		}
		rows[id] = byPatient(all)
		if k == 0 {
			standing[id] = rows[id]
			prev = rowPatients(all)
			continue
		}
		var keep []eventRow
		for _, r := range all {
			if !prev.Contains(uint32(r.patient)) {
				continue
			}
			ok := true
			for _, a := range attached[id] {
				if !constraintHolds(a, id, r, rows, standing) {
					ok = false
					break
				}
			}
			if ok {
				keep = append(keep, r)
			}
		}
		standing[id] = byPatient(keep)
		prev = rowPatients(keep)
	}
	// Events in no constraint, then the query's own panels: conditions on the patient.
	for i := range q.Events {
		ev := &q.Events[i]
		if _, ok := pos[ev.ID]; ok {
			continue
		}
		c, err := e.panels(ctx, ev.Panels, levelOf(ev.Timing), fmt.Sprintf("subquery %q ", ev.ID))
		if err != nil {
			return nil, err
		}
		prev = roaring.And(prev, c.toPatients())
	}
	if len(q.Panels) > 0 {
		c, err := e.panels(ctx, q.Panels, patientLevel, "")
		if err != nil {
			return nil, err
		}
		prev = roaring.And(prev, c.toPatients())
	}
	return prev, nil
}

func byPatient(rs []eventRow) map[int64][]eventRow {
	out := map[int64][]eventRow{}
	for _, r := range rs {
		out[r.patient] = append(out[r.patient], r)
	}
	return out
}

func rowPatients(rs []eventRow) *roaring.Bitmap {
	b := roaring.New()
	for _, r := range rs {
		b.Add(uint32(r.patient))
	}
	return b
}

// value is a row's date of a constraint's column.
func value(r eventRow, column string) string {
	if strings.HasSuffix(column, "ENDDATE") {
		return r.end
	}
	return r.start
}

// extreme is the earliest (first) or latest date of a column over a patient's rows.
func extreme(rs []eventRow, column string, first bool) string {
	out := ""
	for _, r := range rs {
		v := value(r, column)
		if v == "" {
			continue
		}
		if out == "" || first && v < out || !first && v > out {
			out = v
		}
	}
	return out
}

// constraintHolds reports whether row r of event id meets an attached constraint.
func constraintHolds(a attachment, id string, r eventRow, rows, standing map[string]map[int64][]eventRow) bool {
	c := a.c
	mine, theirs := c.First, c.Second
	if c.First.Event != id {
		mine, theirs = c.Second, c.First
	}
	var own string
	switch mine.Aggregate {
	case "FIRST":
		own = extreme(rows[id][r.patient], mine.Column, true)
	case "LAST":
		own = extreme(rows[id][r.patient], mine.Column, false)
	default:
		own = value(r, mine.Column)
	}
	if own == "" {
		return false
	}
	var others []string
	switch theirs.Aggregate {
	case "FIRST", "LAST":
		if v := extreme(rows[theirs.Event][r.patient], theirs.Column, theirs.Aggregate == "FIRST"); v != "" {
			others = []string{v}
		}
	default:
		for _, o := range standing[theirs.Event][r.patient] {
			if v := value(o, theirs.Column); v != "" {
				others = append(others, v)
			}
		}
	}
	for _, o := range others {
		first, second := own, o
		if c.First.Event != id {
			first, second = o, own
		}
		if compareDates(c, first, second) {
			return true
		}
	}
	return false
}

// compareDates is first Op second and every span: the later date (the second, or the first
// when the operator is GREATER or GREATEREQUAL) span-Op the other plus the span.
func compareDates(c *querydef.Constraint, first, second string) bool {
	if !cmpOp(c.Op, strings.Compare(first, second)) {
		return false
	}
	for _, s := range c.Spans {
		earlier, later := first, second
		if c.Op == "GREATER" || c.Op == "GREATEREQUAL" {
			earlier, later = second, first
		}
		e, err1 := time.Parse(querydef.Layout, earlier)
		l, err2 := time.Parse(querydef.Layout, later)
		if err1 != nil || err2 != nil {
			return false
		}
		if !cmpOp(s.Op, l.Compare(addSpan(e, s.Value, s.Units))) {
			return false
		}
	}
	return true
}

func cmpOp(op string, c int) bool {
	switch op {
	case "EQUAL":
		return c == 0
	case "LESS":
		return c < 0
	case "LESSEQUAL":
		return c <= 0
	case "GREATER":
		return c > 0
	case "GREATEREQUAL":
		return c >= 0
	}
	return false
}

// addSpan adds n units to t as PostgreSQL adds an interval: months and years keep the day,
// clamped to the month's last day.
func addSpan(t time.Time, n int, units string) time.Time {
	months := 0
	switch units {
	case "YEAR":
		months = 12 * n
	case "MONTH":
		months = n
	case "DAY":
		return t.AddDate(0, 0, n)
	case "HOUR":
		return t.Add(time.Duration(n) * time.Hour)
	case "MINUTE":
		return t.Add(time.Duration(n) * time.Minute)
	default:
		return t.Add(time.Duration(n) * time.Second)
	}
	y, m, d := t.Date()
	total := int(m) - 1 + months
	y += total / 12
	m = time.Month(total%12 + 1)
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return time.Date(y, m, min(d, last), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
}

// datedEvent reads the rows of an event of one panel of SAMEINSTANCENUM timing whose items
// are concepts bounded by start dates only, when only its start dates are compared: its
// facts' starts, from the dated facts, no SQL. It reports false for other events.
func (e *evaluation) datedEvent(ctx context.Context, ev *querydef.Event, other bool) ([]eventRow, bool, error) {
	if other || len(ev.Panels) != 1 || ev.Timing != querydef.SameInstNo {
		return nil, false, nil
	}
	p := &ev.Panels[0]
	if p.Invert || p.Timing != querydef.SameInstNo || !defaultOccurs(p) {
		return nil, false, nil
	}
	var out []eventRow
	for j := range p.Items {
		it := &p.Items[j]
		if it.Master() != "" || len(it.Values) > 0 || it.Modifier != nil {
			return nil, false, nil
		}
		for _, b := range bounds(p, it) {
			if b != nil && b.EndDate() {
				return nil, false, nil
			}
		}
		ps, err := e.resolveKey(ctx, it.Key, "")
		if err != nil || len(ps.conds) > 0 || len(ps.codes) == 0 {
			return nil, false, nil // the general path says what is wrong
		}
		rs, err := e.s.datedRows(ctx, ps.codes, p, it)
		if err != nil {
			return nil, false, err
		}
		out = append(out, rs...)
	}
	return out, true, nil
}

// eventRows are the dated rows of an event's members (see the comment above).
func (s *Scope) eventRows(ctx context.Context, c *set, visitDates, endDates bool) ([]eventRow, error) {
	patients := c.toPatients()
	var out []eventRow
	if !visitDates && !endDates && c.level == instanceLevel {
		for k := range c.instances {
			out = append(out, eventRow{patient: k.patient, start: k.start})
		}
		return out, nil
	}
	if visitDates {
		vs, err := s.visitsOf(ctx)
		if err != nil {
			return nil, err
		}
		var encs map[uint64]bool
		if c.level != patientLevel {
			encs = map[uint64]bool{}
			for k := range c.project(visitLevel).visitsIter() {
				encs[k] = true
			}
		}
		for _, v := range vs {
			if !patients.Contains(uint32(v.patient)) || encs != nil && !encs[visitKey(v.patient, v.enc)] {
				continue
			}
			out = append(out, eventRow{patient: v.patient, start: v.start, end: v.end})
		}
		return out, nil
	}
	nums := make([]string, 0, patients.GetCardinality())
	it := patients.Iterator()
	for it.HasNext() {
		nums = append(nums, fmt.Sprint(it.Next()))
	}
	const chunk = 5000
	for i := 0; i < len(nums); i += chunk {
		// The numbers come from the store and are formatted here, so they may be written in.
		q := `SELECT patient_num, encounter_num, concept_cd, provider_id, start_date, COALESCE(end_date, ''), instance_num, modifier_cd,
			valtype_cd, tval_char, nval_num, valueflag_cd FROM observation_fact WHERE ($1 = '' OR agency = $1) AND patient_num IN (` +
			strings.Join(nums[i:min(i+chunk, len(nums))], ", ") + `)`
		err := s.scanFacts(ctx, q, []any{s.agency}, func(f *fact) {
			switch c.level {
			case visitLevel:
				if !c.visits.Contains(visitKey(f.patient, f.enc)) {
					return
				}
			case instanceLevel:
				if _, ok := c.instances[f.instance()]; !ok {
					return
				}
			}
			out = append(out, eventRow{patient: f.patient, start: f.start, end: f.end})
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// visitsIter yields the members of a visit set.
func (s *set) visitsIter() func(yield func(uint64) bool) {
	return func(yield func(uint64) bool) {
		it := s.visits.Iterator()
		for it.HasNext() {
			if !yield(it.Next()) {
				return
			}
		}
	}
}
