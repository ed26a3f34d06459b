package deidtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/database/dbtest"
)

// ResumePolicy is the policy of the resume fixture (ResumeSQL): tables that scrub free text
// and the tables whose identifiers that text names sit in different groups (no transformed
// foreign key ties them), so that an in-place run commits them in different transactions,
// and tables that neither scrub nor feed the scrub dictionary around them.
const ResumePolicy = `version: 1
default: error
tables:
  asset:
    columns:
      id: keep
      tag: hash
  audit_event:
    columns:
      id: keep
      server_id: keep
      note: scrub
  encounter:
    columns:
      id: keep
      mrn: hash
      ward: keep
  patient:
    columns:
      id: keep
      mrn: hash
      name: hash
      note: scrub
  server:
    columns:
      id: keep
      hostname: {placeholder: hostname}
  staff:
    columns:
      id: keep
      name: hash
      remark: scrub
  transport_request:
    columns:
      id: keep
      patient_id: keep
      comment: scrub
  zone:
    columns:
      id: keep
      number: hash
`

// ResumeTables are the resume fixture's tables.
var ResumeTables = []string{"asset", "audit_event", "encounter", "patient", "server", "staff", "transport_request", "zone"}

// ResumeIdentifiers are the values of the resume fixture's first n patients (and its
// servers) that the notes and comments repeat: none may survive a de-identification.
func ResumeIdentifiers(n int) []string {
	var ids []string
	for _, r := range Rows(n) {
		ids = append(ids, r.MRN, r.Name)
	}
	for i := range resumeServers(n) {
		ids = append(ids, serverName(i), staffName(i))
	}
	return ids
}

func resumeServers(n int) int { return max(1, n/10) }

// serverName is a bare host name, which no pattern recognises: only the dictionary does.
func serverName(i int) string { return fmt.Sprintf("xt-app%03d", i) }

// staffName is a member of staff, whom patients' notes name.
func staffName(i int) string {
	return fmt.Sprintf("Nurse Quill%c%c", 'a'+rune(i%26), 'a'+rune(i/26%26))
}

// ResumeSQL creates and fills the resume fixture with n patients in one kind of database.
func ResumeSQL(kind database.Kind, n int) []string {
	stmts := []string{
		`CREATE TABLE asset (id INTEGER PRIMARY KEY, tag INTEGER NOT NULL)`,
		`CREATE TABLE server (id INTEGER PRIMARY KEY, hostname VARCHAR(40) NOT NULL)`,
		`CREATE TABLE audit_event (id INTEGER PRIMARY KEY, server_id INTEGER, note TEXT,
			FOREIGN KEY (server_id) REFERENCES server (id))`,
		`CREATE TABLE patient (id INTEGER PRIMARY KEY, mrn VARCHAR(12) NOT NULL UNIQUE, name VARCHAR(40), note TEXT)`,
		`CREATE TABLE encounter (id INTEGER PRIMARY KEY, mrn VARCHAR(12) NOT NULL, ward VARCHAR(20),
			FOREIGN KEY (mrn) REFERENCES patient (mrn))`,
		`CREATE TABLE transport_request (id INTEGER PRIMARY KEY, patient_id INTEGER, comment TEXT,
			FOREIGN KEY (patient_id) REFERENCES patient (id))`,
		`CREATE TABLE staff (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, remark TEXT)`,
		`CREATE TABLE zone (id INTEGER PRIMARY KEY, number INTEGER NOT NULL)`,
	}
	var asset, server, audit, patient, encounter, staff, transport, zone []string
	servers := resumeServers(n)
	rows := Rows(n)
	for i := range servers {
		server = append(server, fmt.Sprintf("(%d, '%s')", i+1, serverName(i)))
		staff = append(staff, fmt.Sprintf("(%d, '%s', %s)", i+1, staffName(i), sq(fmt.Sprintf("visited %s on %s", rows[i].Name, wards[i%len(wards)]))))
	}
	for i, r := range rows {
		asset = append(asset, fmt.Sprintf("(%d, %d)", i+1, 70000+i*13))
		zone = append(zone, fmt.Sprintf("(%d, %d)", i+1, 500+i*3))
		patient = append(patient, fmt.Sprintf("(%d, '%s', '%s', %s)", i+1, r.MRN, r.Name,
			sq(fmt.Sprintf("Pt %s (%s) admitted by %s", r.Name, r.MRN, staffName(i%servers)))))
		encounter = append(encounter, fmt.Sprintf("(%d, '%s', '%s')", i+1, r.MRN, wards[i%len(wards)]))
		transport = append(transport, fmt.Sprintf("(%d, %d, %s)", i+1, i+1,
			sq(fmt.Sprintf("Move %s, MRN %s, to %s; porter paged from %s", r.Name, r.MRN, wards[(i+1)%len(wards)], serverName(i%servers)))))
		audit = append(audit, fmt.Sprintf("(%d, %d, %s)", i+1, 1+i%servers,
			sq(fmt.Sprintf("login of %s failed on %s", r.Name, serverName(i%servers)))))
	}
	for _, t := range []struct {
		name string
		rows []string
	}{{"asset", asset}, {"server", server}, {"audit_event", audit}, {"patient", patient}, {"encounter", encounter}, {"staff", staff}, {"transport_request", transport}, {"zone", zone}} {
		for rows := t.rows; len(rows) > 0; {
			k := min(len(rows), 500)
			stmts = append(stmts, "INSERT INTO "+t.name+" VALUES "+strings.Join(rows[:k], ", "))
			rows = rows[k:]
		}
	}
	return stmts
}

// FillResume creates a source database of the server's kind holding the resume fixture.
func FillResume(t *testing.T, s Server, n int) string {
	t.Helper()
	dsn := s.Source(t)
	db := dbtest.SQL(t, dsn)
	for _, q := range ResumeSQL(s.Kind, n) {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("fixture: %v\n%.200s", err, q)
		}
	}
	db.Close()
	return dsn
}
