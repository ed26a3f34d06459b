package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Free-text notes. They are written the way staff write them: terse, with
// patient names, MRNs, phone numbers, colleagues, machines and addresses
// mixed in, so that scrubbing has real work to do. Some carry nothing
// identifying at all.

var (
	isolations = []string{"contact precautions", "droplet precautions", "airborne isolation, N95", "neutropenic precautions", "no isolation"}
	equipment  = []string{"O2 2L NC", "O2 4L NC", "IV pump x2", "tele box", "bariatric bed", "wheelchair", "stretcher", "PCA pump", "wound vac"}
	relations  = []string{"wife", "husband", "daughter", "son", "mother", "father", "sister", "brother", "partner"}
	imaging    = []string{"CT", "CT abd/pelvis", "MRI brain", "US RUQ", "IR", "CTA chest", "X-ray"}
	plain      = []string{
		"Wheelchair, no monitor needed.",
		"Stretcher with O2 2L NC; contact precautions.",
		"STAT - tele box on, RN to accompany.",
		"Pt ambulatory with standby assist.",
		"Needs lift team, 2-person assist.",
		"Hold until pain meds given.",
		"Return to same bed after scan.",
		"Delay: elevator B out of service.",
		"Isolation cart follows pt.",
		"NPO after midnight, keep IV running.",
	}
	plainAudit = []string{
		"Session timed out after 15 min idle",
		"Report printed",
		"Census view refreshed",
		"Bed board filter changed",
		"Order set reviewed",
		"Print job queued",
	}
)

func (w *world) enterpriseOf(ei int) int { return w.campuses[w.encounters[ei].campus].enterprise }

func (w *world) randomServer(r *rand.Rand, ent int) *serverRow {
	for {
		s := &w.servers[r.IntN(len(w.servers))]
		if s.enterprise == ent {
			return s
		}
	}
}

func (w *world) randomEndpoint(r *rand.Rand, ent int) *endpointRow {
	for {
		e := &w.endpoints[r.IntN(len(w.endpoints))]
		if w.servers[e.server].enterprise == ent {
			return e
		}
	}
}

func shortUnit(u *unitRow) string { return u.spec.code }

func (w *world) transportNote(r *rand.Rand, t *transportRow) string {
	e := &w.encounters[t.encounter]
	p := &w.patients[e.patient]
	c := &w.campuses[e.campus]
	from, to := &w.units[t.fromUnit], &w.units[t.toUnit]
	req := &w.staff[t.requestedBy]
	ent := c.enterprise
	toName := to.spec.name
	if to.spec.typ == "RAD" {
		toName = pick(r, imaging)
	}
	switch x := r.IntN(100); {
	case x < 14:
		family := "family at bedside"
		if p.phone != "" {
			family = "family at " + p.phone
		}
		return fmt.Sprintf("Pt %s %s (%s) to %s, %s", p.first, p.last, p.mrn, toName, family)
	case x < 24:
		return fmt.Sprintf("%s, %s %s - %s. Needs %s.", strings.ToUpper(p.last), p.first, p.mrn, pick(r, isolations), pick(r, equipment))
	case x < 34:
		att := &w.staff[e.attending]
		return fmt.Sprintf("Transfer %s %s->%s per Dr. %s; call %s x%d when ready", p.mrn, shortUnit(from), shortUnit(to), att.last, req.display(), 4000+r.IntN(6000))
	case x < 42:
		rel := pick(r, relations)
		if p.email != "" {
			return fmt.Sprintf("Pt %s is a fall risk. %s %s %s will meet pt on %s; updates to %s", p.last, rel, pick(r, maleNames), p.last, toName, p.email)
		}
		return fmt.Sprintf("Pt %s is a fall risk. %s %s %s will meet pt on %s", p.last, rel, pickFirst(r), p.last, toName)
	case x < 48:
		other := &w.patients[r.IntN(len(w.patients))]
		return fmt.Sprintf("Do not room with %s (%s) - family conflict. Pt %s %s OK for semi-private otherwise.", other.last, other.mrn, p.first, p.last)
	case x < 54:
		return fmt.Sprintf("%s %s, DOB %s, %s to %s. Interpreter needed (Spanish).", p.first, p.last, p.birthDate, p.mrn, toName)
	case x < 62:
		ws := &w.workstations[pick(r, from.workstations)]
		return fmt.Sprintf("Requested from %s (%s) by %s", ws.name, ws.ip, req.display())
	case x < 68:
		ep := w.randomEndpoint(r, ent)
		return fmt.Sprintf("Bed board showed stale status; HL7 resent via %s, ticket to %s", ep.url, w.staff[pick(r, c.staff["bed_manager"])].email)
	case x < 73:
		srv := w.randomServer(r, ent)
		return fmt.Sprintf("Dispatch screen frozen, entered manually. IT says %s (%s) was rebooting.", srv.hostname, srv.ip)
	case x < 77:
		return fmt.Sprintf("Called %s re: delay, no answer. Escalated to %s.", req.email, w.staff[pick(r, c.staff["bed_manager"])].display())
	default:
		return pick(r, plain)
	}
}

func (w *world) auditNote(r *rand.Rand, a *auditRow) string {
	e := &w.encounters[a.encounter]
	p := &w.patients[e.patient]
	ws := &w.workstations[a.workstation]
	user := &w.staff[a.user]
	ent := w.enterpriseOf(a.encounter)
	switch a.event {
	case "chart_open":
		if r.IntN(2) == 0 {
			return fmt.Sprintf("Chart %s opened", p.mrn)
		}
		return fmt.Sprintf("Opened chart for %s, %s (%s) from %s", p.last, p.first, p.mrn, ws.name)
	case "bed_assign":
		bed := w.beds[w.assignments[e.segments[0]].bed].label
		for _, si := range e.segments {
			if !w.assignments[si].start.After(a.at) {
				bed = w.beds[w.assignments[si].bed].label
			}
		}
		return fmt.Sprintf("Bed %s assigned to %s by %s", bed, p.mrn, user.login)
	case "transfer_request":
		return fmt.Sprintf("Transport requested for %s %s, call back %s", p.first, p.last, user.email)
	case "wristband_print":
		printer := &w.servers[len(serverSpecs)*ent+len(serverSpecs)-1]
		return fmt.Sprintf("Wristband printed for %s, %s DOB %s via %s", strings.ToUpper(p.last), p.first, p.birthDate, printer.fqdn)
	case "hl7_send":
		ep := w.randomEndpoint(r, ent)
		srv := &w.servers[ep.server]
		if r.IntN(3) == 0 {
			return fmt.Sprintf("ADT^A08 for %s queued on %s (%s), retry 2 of 5", p.mrn, srv.fqdn, srv.ip)
		}
		return fmt.Sprintf("ADT^A02 sent to %s", ep.url)
	case "discharge":
		if r.IntN(2) == 0 {
			return "Discharge order signed"
		}
		return fmt.Sprintf("Discharge order for %s %s; summary e-mailed to %s", p.first, p.last, w.staff[e.attending].email)
	case "break_glass":
		return fmt.Sprintf("Break-the-glass access to %s by %s: covering physician", p.mrn, user.display())
	case "login":
		if r.IntN(4) == 0 {
			return fmt.Sprintf("Failed login for %s from %s", user.login, ws.ip)
		}
		return fmt.Sprintf("Login from %s (%s)", ws.name, ws.ip)
	}
	return pick(r, plainAudit)
}
