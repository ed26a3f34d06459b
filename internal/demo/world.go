package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// The fixed shape of the demo organisation: two enterprises, five campuses,
// forty units and about eight hundred beds. The shape does not depend on the
// seed; everything that describes people and events does.

type enterpriseSpec struct {
	name        string
	code        string // host-name prefix, e.g. "stb"
	localDomain string // AD / DNS domain of the internal network
	publicSite  string // public web domain
	netOctet    int    // second octet of the enterprise's 10.x.0.0/16 ranges
	zipPrefixes []string
	weight      int // share of patients whose home is this enterprise
}

type campusSpec struct {
	enterprise int // index into enterprises
	name       string
	code       string // workstation-name prefix, e.g. "STBN"
	address    string
	city       string
	zip        string
	weight     int // share of the enterprise's encounters
	units      []unitSpec
}

type unitSpec struct {
	code  string // bed-label and workstation-name infix, e.g. "4W"
	name  string
	typ   string
	beds  int
	multi bool // two beds per room ("4W-12A", "4W-12B") rather than one ("ICU-07")
}

var enterpriseSpecs = []enterpriseSpec{
	{name: "St. Brigid Health System", code: "stb", localDomain: "stbrigid.local", publicSite: "stbrigid.org",
		netOctet: 20, zipPrefixes: []string{"606", "606", "606", "604", "605"}, weight: 60},
	{name: "Mercy Vale Health", code: "mvh", localDomain: "mercyvale.local", publicSite: "mercyvale.org",
		netOctet: 40, zipPrefixes: []string{"441", "441", "440", "442"}, weight: 40},
}

var campusSpecs = []campusSpec{
	{enterprise: 0, name: "St. Brigid North Campus", code: "STBN", address: "1200 N Brigid Avenue", city: "Harlow", zip: "60614", weight: 30,
		units: []unitSpec{
			{"ED", "Emergency Department", "ED", 32, false},
			{"ICU", "ICU", "ICU", 20, false},
			{"CVICU", "Cardiovascular ICU", "ICU", 12, false},
			{"4W", "4 West Med-Surg", "MEDSURG", 28, true},
			{"4E", "4 East Med-Surg", "MEDSURG", 28, true},
			{"5W", "5 West Telemetry", "TELE", 24, true},
			{"5E", "5 East Oncology", "ONC", 20, false},
			{"LD", "Labor & Delivery", "LD", 14, false},
			{"PACU", "PACU", "PACU", 16, false},
			{"3N", "3 North Orthopedics", "ORTHO", 24, true},
		}},
	{enterprise: 0, name: "St. Brigid South Campus", code: "STBS", address: "8800 S Kedzie Road", city: "Harlow", zip: "60652", weight: 20,
		units: []unitSpec{
			{"ED", "Emergency Department", "ED", 24, false},
			{"ICU", "ICU", "ICU", 16, false},
			{"3W", "3 West Med-Surg", "MEDSURG", 28, true},
			{"3E", "3 East Med-Surg", "MEDSURG", 28, true},
			{"4N", "4 North Telemetry", "TELE", 24, true},
			{"PEDS", "Pediatrics", "PEDS", 16, false},
			{"BH", "Behavioral Health", "BH", 20, true},
			{"RAD", "Radiology Holding", "RAD", 6, false},
		}},
	{enterprise: 0, name: "St. Brigid Riverside Campus", code: "STBR", address: "45 Riverside Parkway", city: "Fox Crossing", zip: "60505", weight: 10,
		units: []unitSpec{
			{"ED", "Emergency Department", "ED", 16, false},
			{"PCU", "Progressive Care Unit", "PCU", 16, false},
			{"2W", "2 West Med-Surg", "MEDSURG", 24, true},
			{"2E", "2 East Rehab", "REHAB", 20, true},
			{"OBS", "Observation Unit", "OBS", 16, false},
			{"PACU", "PACU", "PACU", 10, false},
		}},
	{enterprise: 1, name: "Mercy Vale Medical Center", code: "MVMC", address: "2500 Vale Boulevard", city: "Vale City", zip: "44106", weight: 30,
		units: []unitSpec{
			{"ED", "Emergency Department", "ED", 36, false},
			{"MICU", "Medical ICU", "ICU", 20, false},
			{"SICU", "Surgical ICU", "ICU", 16, false},
			{"NICU", "NICU", "NICU", 20, false},
			{"6W", "6 West Med-Surg", "MEDSURG", 30, true},
			{"6E", "6 East Med-Surg", "MEDSURG", 30, true},
			{"7W", "7 West Cardiac Telemetry", "TELE", 28, true},
			{"7E", "7 East Neuro", "NEURO", 24, true},
			{"LD", "Labor & Delivery", "LD", 16, false},
			{"RAD", "Radiology Holding", "RAD", 8, false},
		}},
	{enterprise: 1, name: "Mercy Vale Lakeshore Campus", code: "MVLS", address: "17 Lakeshore Drive", city: "Port Easton", zip: "44095", weight: 15,
		units: []unitSpec{
			{"ED", "Emergency Department", "ED", 20, false},
			{"ICU", "ICU", "ICU", 12, false},
			{"2N", "2 North Med-Surg", "MEDSURG", 28, true},
			{"2S", "2 South Med-Surg", "MEDSURG", 28, true},
			{"OBS", "Observation Unit", "OBS", 14, false},
			{"PACU", "PACU", "PACU", 10, false},
		}},
}

var serverSpecs = []struct{ suffix, role string }{
	{"xt-sql01", "database"},
	{"xt-sql02", "database"},
	{"xt-app01", "application"},
	{"xt-app02", "application"},
	{"xt-web01", "web"},
	{"hl7-01", "interface"},
	{"hl7-02", "interface"},
	{"dc01", "domain_controller"},
	{"fs01", "file"},
	{"print01", "print"},
}

// endpointSpecs: url is a template where {code}, {local} and {public} are
// replaced by the enterprise's values; server is an index into serverSpecs.
var endpointSpecs = []struct {
	name, url string
	server    int
}{
	{"ADT inbound (HL7 v2.5)", "mllp://{code}-hl7-01.{local}:6661", 5},
	{"ADT outbound to bed board", "mllp://{code}-hl7-02.{local}:6662", 6},
	{"Lab results inbound", "mllp://{code}-hl7-01.{local}:6670", 5},
	{"EVS cleaning status", "https://api.{public}/evs/v1/status", 2},
	{"Transport dispatch", "https://{code}-xt-app02.{local}:8443/transport/dispatch", 3},
	{"ADT REST", "https://api.{public}/adt", 4},
	{"Nightly census extract", "sftp://census@{code}-fs01.{local}/outbound/census", 8},
	{"FHIR Encounter API", "https://fhir.{public}/r4/Encounter", 4},
}

// Staff per campus, by role.
var staffMix = []struct {
	role, suffix string
	n            int
}{
	{"physician", "MD", 14},
	{"nurse", "RN", 22},
	{"transport", "", 6},
	{"bed_manager", "RN", 3},
	{"registrar", "", 4},
}

// Row types. Empty strings stand for NULL in nullable columns.

type enterpriseRow struct {
	id   int64
	spec *enterpriseSpec
}

type campusRow struct {
	id         int64
	enterprise int
	spec       *campusSpec
	units      []int            // indexes into world.units
	byType     map[string][]int // unit type -> indexes into world.units; looked up by key only
	staff      map[string][]int // role -> indexes into world.staff; looked up by key only
}

type unitRow struct {
	id           int64
	campus       int
	spec         *unitSpec
	beds         []int
	workstations []int
}

type bedRow struct {
	id     int64
	unit   int
	label  string
	status string
	freeAt time.Time
}

type staffMember struct {
	first, last, role, suffix, login, email string
	campus                                  int
}

// display is how staff are written in the database and in notes.
func (s *staffMember) display() string {
	if s.suffix == "" {
		return s.first + " " + s.last
	}
	return s.first + " " + s.last + ", " + s.suffix
}

type serverRow struct {
	id                 int64
	enterprise         int
	hostname, fqdn, ip string
	role               string
}

type workstationRow struct {
	id       int64
	unit     int
	name, ip string
}

type endpointRow struct {
	id        int64
	server    int
	name, url string
}

// buildStructure creates the organisation: enterprises, campuses, units,
// beds, staff, servers, workstations and integration endpoints.
func (w *world) buildStructure(r *rand.Rand) {
	for i := range enterpriseSpecs {
		w.enterprises = append(w.enterprises, enterpriseRow{id: int64(i + 1), spec: &enterpriseSpecs[i]})
	}
	usedLogins := map[string]bool{}
	usedEmails := map[string]bool{}
	for ci := range campusSpecs {
		cs := &campusSpecs[ci]
		c := campusRow{id: int64(ci + 1), enterprise: cs.enterprise, spec: cs,
			byType: map[string][]int{}, staff: map[string][]int{}}
		ent := &enterpriseSpecs[cs.enterprise]
		for ui := range cs.units {
			us := &cs.units[ui]
			u := unitRow{id: int64(len(w.units) + 1), campus: ci, spec: us}
			uidx := len(w.units)
			for b := 0; b < us.beds; b++ {
				var label string
				if us.multi {
					label = fmt.Sprintf("%s-%02d%c", us.code, b/2+1, 'A'+rune(b%2))
				} else {
					label = fmt.Sprintf("%s-%02d", us.code, b+1)
				}
				u.beds = append(u.beds, len(w.beds))
				w.beds = append(w.beds, bedRow{id: int64(len(w.beds) + 1), unit: uidx, label: label})
			}
			// Workstations: numbered with gaps, as real fleets are.
			nws := 2 + r.IntN(3)
			if us.typ == "ED" {
				nws += 3
			}
			num := 0
			hosts := map[int]bool{}
			for k := 0; k < nws; k++ {
				num += 1 + r.IntN(3)
				var ip string
				if r.IntN(20) == 0 {
					ip = fmt.Sprintf("fd00:%x:%x:%x::%x", ent.netOctet, ci+1, ui+10, 0x100+r.IntN(0xe00))
				} else {
					h := 20 + r.IntN(230)
					for hosts[h] {
						h = 20 + r.IntN(230)
					}
					hosts[h] = true
					ip = fmt.Sprintf("10.%d.%d.%d", ent.netOctet+ci+1, ui+10, h)
				}
				u.workstations = append(u.workstations, len(w.workstations))
				w.workstations = append(w.workstations, workstationRow{
					id: int64(len(w.workstations) + 1), unit: uidx,
					name: fmt.Sprintf("%s-%s-WS%02d", cs.code, us.code, num), ip: ip,
				})
			}
			c.units = append(c.units, uidx)
			c.byType[us.typ] = append(c.byType[us.typ], uidx)
			w.units = append(w.units, u)
		}
		for _, m := range staffMix {
			for k := 0; k < m.n; k++ {
				first := pickFirst(r)
				last := pick(r, lastNames)
				login := uniqueName(usedLogins, asciiLower(first)[:1]+asciiLower(last), "")
				email := uniqueName(usedEmails, asciiLower(first)+"."+asciiLower(last), "") + "@" + ent.publicSite
				c.staff[m.role] = append(c.staff[m.role], len(w.staff))
				w.staff = append(w.staff, staffMember{first: first, last: last, role: m.role, suffix: m.suffix,
					login: login, email: email, campus: ci})
			}
		}
		w.campuses = append(w.campuses, c)
	}
	for ei := range enterpriseSpecs {
		ent := &enterpriseSpecs[ei]
		first := len(w.servers)
		for si, s := range serverSpecs {
			host := ent.code + "-" + s.suffix
			w.servers = append(w.servers, serverRow{
				id: int64(len(w.servers) + 1), enterprise: ei,
				hostname: host, fqdn: host + "." + ent.localDomain,
				ip: fmt.Sprintf("10.%d.1.%d", ent.netOctet, 10+si*3+r.IntN(3)), role: s.role,
			})
		}
		rep := strings.NewReplacer("{code}", ent.code, "{local}", ent.localDomain, "{public}", ent.publicSite)
		for _, e := range endpointSpecs {
			w.endpoints = append(w.endpoints, endpointRow{
				id: int64(len(w.endpoints) + 1), server: first + e.server, name: e.name, url: rep.Replace(e.url),
			})
		}
	}
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// pickWeighted returns an index into weights with probability proportional
// to its weight. Integer weights keep the result independent of
// floating-point contraction, which Go permits to differ by architecture.
func pickWeighted(r *rand.Rand, weights []int) int {
	total := 0
	for _, x := range weights {
		total += x
	}
	v := r.IntN(total)
	for i, x := range weights {
		if v < x {
			return i
		}
		v -= x
	}
	return len(weights) - 1
}

func pickFirst(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		return pick(r, femaleNames)
	}
	return pick(r, maleNames)
}

var asciiFold = strings.NewReplacer(
	"á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ñ", "n", "ü", "u", "ë", "e",
	"Á", "A", "É", "E", "Í", "I", "Ó", "O", "Ú", "U", "Ñ", "N", "Ü", "U",
)

// asciiLower turns a name into the letters-only lower-case form used in
// logins and e-mail addresses: "García-López" -> "garcialopez".
func asciiLower(s string) string {
	s = strings.ToLower(asciiFold.Replace(s))
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// uniqueName returns base, or base followed by the smallest number >= 2 that
// is not in used, and records the result.
func uniqueName(used map[string]bool, base, sep string) string {
	name := base
	for n := 2; used[name]; n++ {
		name = fmt.Sprintf("%s%s%d", base, sep, n)
	}
	used[name] = true
	return name
}
