package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// pcgStream is the fixed second word of the PCG state; the seed is the first.
const pcgStream = 0x5745_5741_5244_0001 // "STEWARD" + 1

// Time frame of the data. Nothing here reads the clock.
var (
	windowStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	windowEnd   = time.Date(2025, 6, 30, 23, 59, 59, 0, time.UTC) // last possible admission
	snapshot    = time.Date(2025, 7, 1, 6, 0, 0, 0, time.UTC)     // when the "copy" was taken
	birthLatest = time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC)
)

const (
	dateLayout = "2006-01-02"
	tsLayout   = "2006-01-02 15:04:05"
)

type world struct {
	enterprises  []enterpriseRow
	campuses     []campusRow
	units        []unitRow
	beds         []bedRow
	staff        []staffMember
	servers      []serverRow
	workstations []workstationRow
	endpoints    []endpointRow
	patients     []patientRow
	encounters   []encounterRow
	assignments  []assignmentRow
	transports   []transportRow
	audits       []auditRow
}

type patientRow struct {
	id                          int64
	mrn, first, last, birthDate string
	birth                       time.Time
	sex, zip                    string
	phone, email, ssn           string // "" = NULL
	home                        int    // enterprise index
}

type encounterRow struct {
	id          int64
	patient     int
	campus      int
	account     string
	class       string
	admit       time.Time
	discharge   time.Time // zero = still admitted at the snapshot
	disposition string    // "" = NULL
	attending   int       // index into staff
	segments    []int     // indexes into world.assignments
}

type assignmentRow struct {
	id         int64
	encounter  int
	bed        int
	start, end time.Time // zero end = still in the bed
}

type transportRow struct {
	id               int64
	encounter        int
	fromUnit, toUnit int
	at               time.Time
	requestedBy      int // staff
	priority, status string
	note             string // "" = NULL
}

type auditRow struct {
	id          int64
	at          time.Time
	encounter   int
	workstation int
	user        int // staff
	event       string
	note        string // "" = NULL
}

// generate builds the whole database in memory. All randomness comes from r,
// consumed in a fixed order, so equal seeds give equal worlds.
func generate(seed uint64, size Size) *world {
	r := rand.New(rand.NewPCG(seed, pcgStream))
	w := &world{}
	w.buildStructure(r)
	w.makePatients(r, size.Patients)
	w.makeEncounters(r, size.Encounters)
	w.finishBeds(r)
	return w
}

func (w *world) makePatients(r *rand.Rand, n int) {
	usedMRN := map[int]bool{}
	usedSSN := map[string]bool{}
	entWeights := make([]int, len(enterpriseSpecs))
	for i, e := range enterpriseSpecs {
		entWeights[i] = e.weight
	}
	mrnRange := 100_000_000
	if n > mrnRange/4 {
		mrnRange = n * 4 // only for absurd sizes; keeps the loop below finite
	}
	w.patients = make([]patientRow, 0, n)
	for i := 0; i < n; i++ {
		p := patientRow{id: int64(i + 1)}
		m := r.IntN(mrnRange)
		for usedMRN[m] {
			m = r.IntN(mrnRange)
		}
		usedMRN[m] = true
		p.mrn = fmt.Sprintf("MRN%08d", m)

		switch x := r.IntN(200); {
		case x == 0:
			p.sex = "U"
			p.first = pickFirst(r)
		case x < 101:
			p.sex = "F"
			p.first = pick(r, femaleNames)
		default:
			p.sex = "M"
			p.first = pick(r, maleNames)
		}
		p.last = pick(r, lastNames)

		// Ages skew old, as inpatient populations do.
		var age int
		switch x := r.IntN(100); {
		case x < 4:
			age = 0
		case x < 10:
			age = 1 + r.IntN(17)
		case x < 45:
			age = 18 + r.IntN(42)
		default:
			age = 60 + r.IntN(36)
		}
		p.birth = birthLatest.AddDate(-age, 0, -r.IntN(365))
		p.birthDate = p.birth.Format(dateLayout)

		p.home = pickWeighted(r, entWeights)
		if r.IntN(25) == 0 {
			p.zip = fmt.Sprintf("%05d", 1000+r.IntN(98000)) // visitor from out of the area
		} else {
			p.zip = pick(r, enterpriseSpecs[p.home].zipPrefixes) + fmt.Sprintf("%02d", r.IntN(100))
		}

		if r.IntN(10) != 0 {
			if r.IntN(3) == 0 {
				p.phone = fmt.Sprintf("(555) %03d-%04d", 200+r.IntN(800), r.IntN(10000))
			} else {
				p.phone = fmt.Sprintf("555-%03d-%04d", 200+r.IntN(800), r.IntN(10000))
			}
		}
		if age >= 13 && r.IntN(5) != 0 {
			first, last := asciiLower(p.first), asciiLower(p.last)
			var local string
			switch r.IntN(4) {
			case 0:
				local = first + "." + last
			case 1:
				local = first + last + fmt.Sprint(r.IntN(100))
			case 2:
				local = first[:1] + last
			default:
				local = last + "." + first + fmt.Sprint(r.IntN(10))
			}
			p.email = local + "@" + pick(r, []string{"example.com", "example.net", "example.org", "mail.example.com"})
		}
		if r.IntN(4) != 0 {
			// Area numbers 900-999 are never issued, so these cannot be real.
			s := fmt.Sprintf("9%02d-%02d-%04d", r.IntN(100), 1+r.IntN(99), 1+r.IntN(9999))
			for usedSSN[s] {
				s = fmt.Sprintf("9%02d-%02d-%04d", r.IntN(100), 1+r.IntN(99), 1+r.IntN(9999))
			}
			usedSSN[s] = true
			p.ssn = s
		}
		w.patients = append(w.patients, p)
	}
}

// plannedStay is one encounter before beds are assigned.
type plannedStay struct {
	patient, campus int
	class           string
	admit           time.Time
	los             time.Duration
	path            []int // units, in order
}

func (w *world) makeEncounters(r *rand.Rand, n int) {
	np := len(w.patients)
	if n == 0 || np == 0 {
		return
	}
	// How many encounters each patient has: everyone (while they last) gets
	// one, the rest go half to anyone and half to a small group of
	// frequent visitors.
	counts := make([]int, np)
	order := r.Perm(np)
	for i := 0; i < n && i < np; i++ {
		counts[order[i]]++
	}
	frequent := order[:max(1, np/10)]
	for i := np; i < n; i++ {
		if r.IntN(2) == 0 {
			counts[r.IntN(np)]++
		} else {
			counts[pick(r, frequent)]++
		}
	}

	stays := make([]plannedStay, 0, n)
	window := windowEnd.Sub(windowStart)
	for pi := range w.patients {
		k := counts[pi]
		if k == 0 {
			continue
		}
		p := &w.patients[pi]
		slice := window / time.Duration(k)
		for j := 0; j < k; j++ {
			s := w.planStay(r, pi, p)
			// Each stay lives inside its own slice of the window, so a
			// patient's stays never overlap. The last one may run past
			// the snapshot: that patient is still in hospital.
			lo := windowStart.Add(time.Duration(j) * slice)
			hi := lo.Add(slice)
			if j == k-1 {
				hi = windowEnd.Add(21 * 24 * time.Hour)
			}
			if limit := hi.Sub(lo) - time.Hour; s.los > limit {
				s.los = max(limit, 30*time.Minute)
			}
			latest := hi.Add(-s.los)
			if latest.After(windowEnd) {
				latest = windowEnd
			}
			span := latest.Sub(lo)
			if span < time.Minute {
				span = time.Minute
			}
			s.admit = lo.Add(time.Duration(r.Int64N(int64(span/time.Second))) * time.Second)
			stays = append(stays, s)
		}
	}
	// Encounter ids follow admission order, as a real sequence would.
	slices.SortStableFunc(stays, func(a, b plannedStay) int { return a.admit.Compare(b.admit) })

	usedAcct := map[int64]bool{}
	w.encounters = make([]encounterRow, 0, n)
	for i := range stays {
		s := &stays[i]
		ent := campusSpecs[s.campus].enterprise
		a := 1 + r.Int64N(9_999_999_999)
		for usedAcct[a] {
			a = 1 + r.Int64N(9_999_999_999)
		}
		usedAcct[a] = true
		c := &w.campuses[s.campus]
		e := encounterRow{
			id: int64(i + 1), patient: s.patient, campus: s.campus, class: s.class, admit: s.admit,
			account:   fmt.Sprintf("%s%010d", upper(enterpriseSpecs[ent].code), a),
			attending: pick(r, c.staff["physician"]),
		}
		if d := s.admit.Add(s.los); !d.After(snapshot) {
			e.discharge = d
			e.disposition = w.disposition(r, s.class)
		}
		w.encounters = append(w.encounters, e)
		w.placeInBeds(r, len(w.encounters)-1, s)
	}
	slices.SortStableFunc(w.transports, func(a, b transportRow) int { return a.at.Compare(b.at) })
	for i := range w.transports {
		w.transports[i].id = int64(i + 1)
	}
	slices.SortStableFunc(w.audits, func(a, b auditRow) int { return a.at.Compare(b.at) })
	for i := range w.audits {
		w.audits[i].id = int64(i + 1)
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// between returns a duration in [lo, hi], to the second. It uses integer
// arithmetic only, so results are the same on every architecture.
func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.Int64N(int64((hi-lo)/time.Second)+1))*time.Second
}

const (
	minute = time.Minute
	hour   = time.Hour
	day    = 24 * time.Hour
)

var adultWardTypes = []string{"MEDSURG", "MEDSURG", "MEDSURG", "TELE", "TELE", "ONC", "ORTHO", "PCU", "REHAB", "NEURO", "BH"}

// planStay chooses where a stay happens, what kind it is, how long it lasts
// and which units it passes through.
func (w *world) planStay(r *rand.Rand, pi int, p *patientRow) plannedStay {
	ent := p.home
	if r.IntN(10) == 0 {
		ent = r.IntN(len(enterpriseSpecs))
	}
	var idx []int
	var weights []int
	for ci, cs := range campusSpecs {
		if cs.enterprise == ent {
			idx = append(idx, ci)
			weights = append(weights, cs.weight)
		}
	}
	ci := idx[pickWeighted(r, weights)]
	c := &w.campuses[ci]
	age := windowStart.Year() - p.birth.Year()
	s := plannedStay{patient: pi, campus: ci}

	ward := func() int {
		switch {
		case age < 1 && len(c.byType["NICU"]) > 0:
			return pick(r, c.byType["NICU"])
		case age < 18 && len(c.byType["PEDS"]) > 0:
			return pick(r, c.byType["PEDS"])
		}
		for {
			if t := c.byType[pick(r, adultWardTypes)]; len(t) > 0 {
				return pick(r, t)
			}
		}
	}
	ed := pick(r, c.byType["ED"])

	switch x := r.IntN(100); {
	case x < 22:
		s.class, s.path, s.los = "emergency", []int{ed}, between(r, 2*hour, 10*hour)
	case x < 30:
		s.class, s.los = "observation", between(r, 12*hour, 44*hour)
		if obs := c.byType["OBS"]; len(obs) > 0 {
			s.path = []int{ed, pick(r, obs)}
		} else {
			s.path = []int{ed, ward()}
		}
	case x < 64:
		s.class, s.path, s.los = "inpatient", []int{ed, ward()}, between(r, 1*day, 6*day)
		if r.IntN(5) == 0 {
			s.los += between(r, 2*day, 10*day)
		}
	case x < 74:
		s.class, s.los = "inpatient", between(r, 3*day, 18*day)
		icu := c.byType["ICU"]
		if len(icu) == 0 {
			icu = c.byType["PCU"] // step-down care at a campus without an ICU
		}
		s.path = []int{ed, pick(r, icu), ward()}
	case x < 85 && len(c.byType["PACU"]) > 0:
		s.class, s.path, s.los = "surgical", []int{pick(r, c.byType["PACU"]), ward()}, between(r, 1*day, 6*day)
	case x < 92 && p.sex == "F" && age >= 16 && age <= 45 && len(c.byType["LD"]) > 0:
		s.class, s.path, s.los = "maternity", []int{pick(r, c.byType["LD"])}, between(r, 1*day, 3*day)
	default:
		s.class, s.path, s.los = "inpatient", []int{ward()}, between(r, 1*day, 7*day)
	}
	return s
}

func (w *world) disposition(r *rand.Rand, class string) string {
	switch x := r.IntN(100); {
	case x < 3:
		return "ama"
	case x < 6:
		return "transfer"
	case class == "emergency" || class == "maternity" || class == "observation" || x < 60:
		return "home"
	case x < 78:
		return "home_health"
	case x < 94:
		return "snf"
	case x < 98:
		return "rehab"
	default:
		return "expired"
	}
}

// placeInBeds splits a stay over its units, finds a free bed in each, and
// records the transport requests and audit events that go with it.
func (w *world) placeInBeds(r *rand.Rand, ei int, s *plannedStay) {
	e := &w.encounters[ei]
	end := e.discharge // zero if still admitted
	total := s.los
	// Segment boundaries.
	starts := make([]time.Time, len(s.path))
	starts[0] = e.admit
	rest := total
	for i := 1; i < len(s.path); i++ {
		var d time.Duration
		switch w.units[s.path[i-1]].spec.typ {
		case "ED":
			d = min(between(r, 2*hour, 9*hour), rest*2/5)
		case "PACU":
			d = min(between(r, 1*hour, 4*hour), rest/4)
		default:
			d = rest * time.Duration(35+r.IntN(31)) / 100
		}
		d = d.Round(time.Second)
		starts[i] = starts[i-1].Add(d)
		rest -= d
	}
	c := &w.campuses[e.campus]
	prevUnit := -1
	var lastSeg int = -1
	for i, u := range s.path {
		if starts[i].After(snapshot) {
			break // moves that had not happened yet when the copy was taken
		}
		segEnd := e.admit.Add(total)
		if i+1 < len(s.path) {
			segEnd = starts[i+1]
		}
		open := segEnd.After(snapshot)
		b := w.freeBed(r, u, starts[i])
		if open {
			w.beds[b].freeAt = snapshot.Add(365 * 24 * time.Hour)
			w.beds[b].status = "occupied"
		} else {
			w.beds[b].freeAt = segEnd.Add(between(r, 30*minute, 2*hour))
		}
		a := assignmentRow{id: int64(len(w.assignments) + 1), encounter: ei, bed: b, start: starts[i]}
		if !open {
			a.end = segEnd
		}
		e.segments = append(e.segments, len(w.assignments))
		w.assignments = append(w.assignments, a)
		lastSeg = len(w.assignments) - 1
		if prevUnit >= 0 {
			at := starts[i].Add(-time.Duration(10+r.IntN(80)) * time.Minute)
			w.addTransport(r, ei, prevUnit, u, at, "completed")
		}
		prevUnit = u
	}
	// Imaging trips from the last bed.
	stayEnd := end
	if stayEnd.IsZero() {
		stayEnd = snapshot
	}
	if rad := c.byType["RAD"]; len(rad) > 0 && (s.class == "inpatient" || s.class == "surgical") && r.IntN(100) < 35 {
		seg := w.assignments[lastSeg]
		if span := stayEnd.Sub(seg.start); span > time.Hour {
			at := seg.start.Add(time.Duration(r.Int64N(int64(span/time.Second))) * time.Second)
			status := "completed"
			if r.IntN(10) == 0 {
				status = "cancelled"
			}
			w.addTransport(r, ei, w.beds[seg.bed].unit, pick(r, rad), at, status)
		}
	}
	w.addAudits(r, ei, stayEnd)
}

// freeBed returns a bed of unit u that is free at t, or failing that the
// one that frees up first.
func (w *world) freeBed(r *rand.Rand, u int, t time.Time) int {
	beds := w.units[u].beds
	for try := 0; try < 6; try++ {
		b := pick(r, beds)
		if !w.beds[b].freeAt.After(t) {
			return b
		}
	}
	best := beds[0]
	for _, b := range beds[1:] {
		if w.beds[b].freeAt.Before(w.beds[best].freeAt) {
			best = b
		}
	}
	return best
}

func (w *world) addTransport(r *rand.Rand, ei, from, to int, at time.Time, status string) {
	e := &w.encounters[ei]
	c := &w.campuses[e.campus]
	by := pick(r, c.staff[pick(r, []string{"nurse", "nurse", "nurse", "bed_manager", "registrar"})])
	t := transportRow{encounter: ei, fromUnit: from, toUnit: to, at: at, requestedBy: by, status: status}
	switch x := r.IntN(100); {
	case x < 70:
		t.priority = "routine"
	case x < 92:
		t.priority = "urgent"
	default:
		t.priority = "stat"
	}
	if r.IntN(12) != 0 {
		t.note = w.transportNote(r, &t)
	}
	w.transports = append(w.transports, t)
}

var laterEvents = []string{"bed_assign", "transfer_request", "wristband_print", "hl7_send", "discharge", "break_glass", "login", "session_timeout", "chart_open"}

// addAudits records about two audit events per encounter.
func (w *world) addAudits(r *rand.Rand, ei int, stayEnd time.Time) {
	e := &w.encounters[ei]
	c := &w.campuses[e.campus]
	n := 2
	if r.IntN(100) < 15 {
		n = 3
	}
	for k := 0; k < n; k++ {
		var at time.Time
		var event string
		if k == 0 {
			at = e.admit.Add(time.Duration(r.IntN(1200)) * time.Second)
			event = pick(r, []string{"chart_open", "chart_open", "bed_assign"})
		} else {
			event = pick(r, laterEvents)
			if event == "discharge" && e.discharge.IsZero() {
				event = "chart_open"
			}
			if event == "discharge" {
				at = e.discharge.Add(-time.Duration(r.IntN(3600)) * time.Second)
			} else if span := stayEnd.Sub(e.admit); span > time.Second {
				at = e.admit.Add(time.Duration(r.Int64N(int64(span/time.Second))) * time.Second)
			} else {
				at = e.admit
			}
		}
		if at.Before(e.admit) {
			at = e.admit
		}
		if at.After(snapshot) {
			at = snapshot
		}
		// The workstation is on the unit the patient was on at the time.
		seg := e.segments[0]
		for _, si := range e.segments {
			if !w.assignments[si].start.After(at) {
				seg = si
			}
		}
		unit := w.beds[w.assignments[seg].bed].unit
		ws := pick(r, w.units[unit].workstations)
		role := "nurse"
		switch event {
		case "chart_open":
			role = pick(r, []string{"registrar", "nurse", "physician"})
		case "bed_assign", "transfer_request":
			role = pick(r, []string{"bed_manager", "nurse"})
		case "discharge", "break_glass":
			role = "physician"
		}
		a := auditRow{at: at, encounter: ei, workstation: ws, user: pick(r, c.staff[role]), event: event}
		if r.IntN(12) != 0 {
			a.note = w.auditNote(r, &a)
		}
		w.audits = append(w.audits, a)
	}
}

// finishBeds gives every bed not occupied at the snapshot a status.
func (w *world) finishBeds(r *rand.Rand) {
	for i := range w.beds {
		if w.beds[i].status != "" {
			continue
		}
		switch x := r.IntN(100); {
		case x < 80:
			w.beds[i].status = "available"
		case x < 93:
			w.beds[i].status = "cleaning"
		default:
			w.beds[i].status = "blocked"
		}
	}
}
