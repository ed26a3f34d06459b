package main

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The generator's fixed seed: every run, on every machine, loads the same rows.
const seed1, seed2 = 0x5eed_57e3_a4d0_0001, 0x0bad_c0ff_ee15_beef

// columns is the patient table, in order: the DDL of the source (with its primary key) and
// of the baseline's target (without).
var columns = []struct{ name, typ string }{
	{"id", "bigint NOT NULL"},
	{"mrn", "varchar(12)"},
	{"first_name", "varchar(40)"},
	{"last_name", "varchar(60)"},
	{"ssn", "char(11)"},
	{"phone", "varchar(20)"},
	{"email", "varchar(120)"},
	{"birth_date", "date"},
	{"sex", "char(1)"},
	{"zip", "char(5)"},
	{"admitted_at", "timestamp"},
	{"note", "text"},
}

func columnNames() []string {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.name
	}
	return names
}

func createTable(pk bool) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE patient (")
	for i, c := range columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.name + " " + c.typ)
	}
	if pk {
		b.WriteString(", PRIMARY KEY (id)")
	}
	b.WriteString(")")
	return b.String()
}

// policyYAML: the six identifiers hashed, the birth date shifted per patient, the note
// scrubbed, the rest kept.
const policyYAML = `version: 1
default: error
tables:
  patient:
    columns:
      id: keep
      mrn: hash
      first_name: hash
      last_name: hash
      ssn: hash
      phone: hash
      email: hash
      birth_date: {shift_date: {by: id, days: 365}}
      sex: keep
      zip: keep
      admitted_at: keep
      note: scrub
`

var firstNames = []string{
	"Jane", "John", "Maria", "Omar", "Wei", "Aoife", "Zoë", "Liam", "Sofia", "Noah",
	"Amara", "Lucas", "Priya", "Mateo", "Hana", "Ethan", "Fatima", "Oliver", "Chloé", "Diego",
	"Yuki", "Emma", "Kwame", "Isabel", "Arjun", "Léa", "Samuel", "Nadia", "Tomás", "Grace",
	"Mohammed", "Olivia", "Sven", "Ingrid", "Ravi", "Elena", "Kofi", "Ana", "Henrik", "Mei",
	"Daniel", "Sara", "Pavel", "Leila", "Jonas", "Camila", "Malik", "Ruth", "Felix", "Nora",
	"Hiroshi", "Clara", "Emeka", "Julia", "Tariq", "Alice", "Bruno", "Eva", "Andrés", "Lucy",
}

var lastNames = []string{
	"Doe", "Haddad", "Lefèvre", "Santos", "Chen", "Byrne", "O'Brien", "Nguyen", "Kowalski", "Okafor",
	"García", "Müller", "Rossi", "Tanaka", "Patel", "Johansson", "Dubois", "Kim", "Novak", "Silva",
	"Ahmed", "Murphy", "Schmidt", "Yamamoto", "Fernández", "Larsen", "Mensah", "Ivanova", "Costa", "Walsh",
	"Andersen", "Cohen", "Moreau", "Singh", "Herrera", "Bauer", "Kaur", "Papadopoulos", "Lindqvist", "Reyes",
	"Abubakar", "Hoffmann", "Sato", "Ward", "Castillo", "Jensen", "Petrov", "Adeyemi", "Romano", "Fischer",
	"Mwangi", "Berg", "Ortiz", "Hughes", "Kovács", "Nakamura", "Dias", "Wagner", "Quinn", "Alvarez",
}

var domains = []string{"example.org", "mail.example.com", "example.net", "patients.example.health"}

var complaints = []string{
	"chest pain", "shortness of breath", "abdominal pain", "fever and cough", "a fall at home",
	"syncope", "headache", "palpitations", "lower back pain", "a wound check", "dizziness", "a rash",
}

var plans = []string{
	"ECG normal, troponin pending", "CXR clear, started on fluids", "labs drawn, vitals stable",
	"CT ordered, analgesia given", "observed 4h, discharged home", "admitted for monitoring",
	"referred to cardiology", "wound dressed, review in 7 days",
}

// generator yields the patient rows in order; it is a pgx.CopyFromSource. Row i is the same
// whatever the number of rows asked for.
type generator struct {
	r    *rand.Rand
	n, i int
	row  []any
	buf  []byte
}

func newGenerator(n int) *generator {
	return &generator{r: rand.New(rand.NewPCG(seed1, seed2)), n: n, row: make([]any, len(columns))}
}

func (g *generator) Next() bool {
	if g.i >= g.n {
		return false
	}
	g.i++
	g.fill()
	return true
}

func (g *generator) Values() ([]any, error) { return g.row, nil }

func (g *generator) Err() error { return nil }

var (
	birthBase = time.Date(1930, 1, 1, 0, 0, 0, 0, time.UTC)
	admitBase = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
)

func (g *generator) num(width int, v int) string {
	g.buf = strconv.AppendInt(g.buf[:0], int64(v), 10)
	if pad := width - len(g.buf); pad > 0 {
		return strings.Repeat("0", pad) + string(g.buf)
	}
	return string(g.buf)
}

func (g *generator) fill() {
	r, id := g.r, g.i
	// 7919 is prime and shares no factor with 10⁹: distinct ids get distinct MRNs.
	mrn := "MRN" + g.num(9, int((uint64(id)*7919+104729)%1_000_000_000))
	first := firstNames[r.IntN(len(firstNames))]
	last := lastNames[r.IntN(len(lastNames))]
	area := 1 + r.IntN(898)
	if area == 666 {
		area = 667
	}
	ssn := g.num(3, area) + "-" + g.num(2, 1+r.IntN(99)) + "-" + g.num(4, 1+r.IntN(9999))
	pa, pe, pn := g.num(3, 201+r.IntN(789)), g.num(3, 200+r.IntN(800)), g.num(4, r.IntN(10000))
	var phone string
	switch r.IntN(3) {
	case 0:
		phone = "(" + pa + ") " + pe + "-" + pn
	case 1:
		phone = pa + "-" + pe + "-" + pn
	default:
		phone = "+1 " + pa + " " + pe + " " + pn
	}
	email := strings.ToLower(ascii(first)+"."+ascii(last)) + strconv.Itoa(id) + "@" + domains[r.IntN(len(domains))]
	birth := birthBase.AddDate(0, 0, r.IntN(90*365))
	sex := [...]string{"F", "M", "F", "M", "X"}[r.IntN(5)]
	zip := g.num(5, 1001+r.IntN(98950))
	admitted := admitBase.Add(time.Duration(r.Int64N(6*365*24*3600)) * time.Second)
	ip := "10." + strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(1+r.IntN(254))
	complaint, plan := complaints[r.IntN(len(complaints))], plans[r.IntN(len(plans))]
	var note string
	switch r.IntN(3) {
	case 0:
		note = "Pt " + first + " " + last + " (" + mrn + ") seen for " + complaint + "; " + plan + ". Portal login from " + ip + " noted at triage."
	case 1:
		note = first + " " + last + ", " + mrn + ", presented with " + complaint + ". " + plan + ". Bedside monitor " + ip + " paired."
	default:
		note = "Follow-up of " + first + " " + last + " [" + mrn + "] after " + complaint + ": " + plan + ". Remote session from " + ip + " closed."
	}
	g.row[0], g.row[1], g.row[2], g.row[3] = int64(id), mrn, first, last
	g.row[4], g.row[5], g.row[6], g.row[7] = ssn, phone, email, birth
	g.row[8], g.row[9], g.row[10], g.row[11] = sex, zip, admitted, note
}

// ascii drops the accents of the few names that have them, for e-mail addresses.
func ascii(s string) string { return asciiNames.Replace(s) }

var asciiNames = strings.NewReplacer("ë", "e", "é", "e", "è", "e", "á", "a", "í", "i", "ü", "u", "'", "")
