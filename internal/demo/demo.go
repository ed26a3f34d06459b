// Package demo builds a synthetic hospital capacity-management database:
// the "production copy" that `steward demo` de-identifies and that tests use
// as realistic input.
//
// Everything in it is invented, from bundled name lists and a seeded
// pseudo-random generator. The same seed and Size always give the same rows.
package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Size says how many rows to make; the zero Size means Default.
//
// Patients and Encounters are exact counts. The organisation (enterprises,
// campuses, units, beds, servers, workstations, endpoints) has a fixed
// shape; bed assignments, transport requests and audit events follow from
// the encounters.
type Size struct{ Patients, Encounters int }

// Default is the size used when Build is given the zero Size.
var Default = Size{Patients: 2000, Encounters: 6000}

// Build creates a new SQLite database file at path and fills it with the
// demo data for seed and size. The file must not exist yet. If Build fails
// it removes the file it created.
func Build(ctx context.Context, path string, seed uint64, size Size) (err error) {
	if size == (Size{}) {
		size = Default
	}
	if size.Patients < 0 || size.Encounters < 0 {
		return fmt.Errorf("demo: negative size %+v", size)
	}
	if size.Encounters > 0 && size.Patients == 0 {
		return fmt.Errorf("demo: %d encounters need at least one patient", size.Encounters)
	}
	// O_EXCL makes "must not exist" race-free; SQLite treats the empty
	// file as an empty database.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("demo: %s already exists", path)
		}
		return fmt.Errorf("demo: create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("demo: create %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.Remove(path)
			os.Remove(path + "-journal")
			err = fmt.Errorf("demo: build %s: %w", path, err)
		}
	}()

	w := generate(seed, size)
	if err := ctx.Err(); err != nil {
		return err
	}

	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, p := range []string{"PRAGMA foreign_keys=ON", "PRAGMA journal_mode=DELETE", "PRAGMA user_version=1"} {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	if err := w.insert(ctx, tx); err != nil {
		return err
	}
	// Belt and braces: the inserts ran with foreign keys on, but check
	// the whole database once before committing.
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	bad := rows.Next()
	rows.Close()
	if bad {
		return errors.New("foreign key check failed")
	}
	return tx.Commit()
}

// dsn turns a file path into a data source name for modernc.org/sqlite,
// which would otherwise read anything after a '?' as connection options.
func dsn(path string) string {
	if !strings.ContainsAny(path, "?#") {
		return path
	}
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + esc.Replace(path)
}

const schema = `
CREATE TABLE enterprise (
	id   INTEGER PRIMARY KEY,
	name VARCHAR(100) NOT NULL UNIQUE
);

CREATE TABLE campus (
	id            INTEGER PRIMARY KEY,
	enterprise_id INTEGER NOT NULL REFERENCES enterprise (id),
	name          VARCHAR(100) NOT NULL UNIQUE,
	address       VARCHAR(200) NOT NULL,
	city          VARCHAR(60) NOT NULL,
	zip           CHAR(5) NOT NULL
);
CREATE INDEX campus_enterprise_idx ON campus (enterprise_id);

CREATE TABLE unit (
	id        INTEGER PRIMARY KEY,
	campus_id INTEGER NOT NULL REFERENCES campus (id),
	name      VARCHAR(60) NOT NULL,
	unit_type VARCHAR(12) NOT NULL,
	UNIQUE (campus_id, name)
);

CREATE TABLE bed (
	id      INTEGER PRIMARY KEY,
	unit_id INTEGER NOT NULL REFERENCES unit (id),
	label   VARCHAR(10) NOT NULL,
	status  VARCHAR(12) NOT NULL CHECK (status IN ('available', 'occupied', 'cleaning', 'blocked')),
	UNIQUE (unit_id, label)
);

CREATE TABLE patient (
	id         INTEGER PRIMARY KEY,
	mrn        VARCHAR(12) NOT NULL UNIQUE,
	first_name VARCHAR(40) NOT NULL,
	last_name  VARCHAR(60) NOT NULL,
	birth_date DATE NOT NULL,
	sex        CHAR(1) NOT NULL CHECK (sex IN ('F', 'M', 'U')),
	zip        CHAR(5) NOT NULL,
	phone      VARCHAR(20),
	email      VARCHAR(120),
	ssn        CHAR(11) UNIQUE
);
CREATE INDEX patient_name_idx ON patient (last_name, first_name);

CREATE TABLE encounter (
	id              INTEGER PRIMARY KEY,
	patient_id      INTEGER NOT NULL REFERENCES patient (id),
	account_no      VARCHAR(20) NOT NULL UNIQUE,
	campus_id       INTEGER NOT NULL REFERENCES campus (id),
	encounter_class VARCHAR(12) NOT NULL,
	admit_at        TIMESTAMP NOT NULL,
	discharge_at    TIMESTAMP,
	disposition     VARCHAR(20),
	attending       VARCHAR(80) NOT NULL,
	CHECK (discharge_at IS NULL OR discharge_at >= admit_at),
	CHECK ((discharge_at IS NULL) = (disposition IS NULL))
);
CREATE INDEX encounter_patient_idx ON encounter (patient_id);
CREATE INDEX encounter_campus_admit_idx ON encounter (campus_id, admit_at);

CREATE TABLE bed_assignment (
	id           INTEGER PRIMARY KEY,
	encounter_id INTEGER NOT NULL REFERENCES encounter (id),
	bed_id       INTEGER NOT NULL REFERENCES bed (id),
	start_at     TIMESTAMP NOT NULL,
	end_at       TIMESTAMP,
	CHECK (end_at IS NULL OR end_at >= start_at)
);
CREATE INDEX bed_assignment_encounter_idx ON bed_assignment (encounter_id);
CREATE INDEX bed_assignment_bed_idx ON bed_assignment (bed_id, start_at);

CREATE TABLE transport_request (
	id           INTEGER PRIMARY KEY,
	encounter_id INTEGER NOT NULL REFERENCES encounter (id),
	from_unit_id INTEGER NOT NULL REFERENCES unit (id),
	to_unit_id   INTEGER NOT NULL REFERENCES unit (id),
	requested_at TIMESTAMP NOT NULL,
	requested_by VARCHAR(80) NOT NULL,
	priority     VARCHAR(8) NOT NULL CHECK (priority IN ('routine', 'urgent', 'stat')),
	status       VARCHAR(12) NOT NULL CHECK (status IN ('pending', 'completed', 'cancelled')),
	note         TEXT
);
CREATE INDEX transport_request_encounter_idx ON transport_request (encounter_id);

CREATE TABLE server (
	id            INTEGER PRIMARY KEY,
	enterprise_id INTEGER NOT NULL REFERENCES enterprise (id),
	hostname      VARCHAR(63) NOT NULL UNIQUE,
	fqdn          VARCHAR(255) NOT NULL UNIQUE,
	ip_address    VARCHAR(45) NOT NULL,
	role          VARCHAR(20) NOT NULL
);

CREATE TABLE workstation (
	id         INTEGER PRIMARY KEY,
	name       VARCHAR(32) NOT NULL UNIQUE,
	ip_address VARCHAR(45) NOT NULL,
	unit_id    INTEGER NOT NULL REFERENCES unit (id)
);
CREATE INDEX workstation_unit_idx ON workstation (unit_id);

CREATE TABLE integration_endpoint (
	id        INTEGER PRIMARY KEY,
	name      VARCHAR(80) NOT NULL,
	url       VARCHAR(255) NOT NULL UNIQUE,
	server_id INTEGER NOT NULL REFERENCES server (id)
);

CREATE TABLE audit_event (
	id             INTEGER PRIMARY KEY,
	at             TIMESTAMP NOT NULL,
	encounter_id   INTEGER NOT NULL REFERENCES encounter (id),
	workstation_id INTEGER NOT NULL REFERENCES workstation (id),
	user_name      VARCHAR(60) NOT NULL,
	event          VARCHAR(40) NOT NULL,
	note           TEXT
);
CREATE INDEX audit_event_at_idx ON audit_event (at);
CREATE INDEX audit_event_encounter_idx ON audit_event (encounter_id);
`

// table is one INSERT statement and the rows to run it with.
type table struct {
	insert string
	n      int
	row    func(i int) []any
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(tsLayout)
}

func (w *world) tables() []table {
	return []table{
		{"INSERT INTO enterprise (id, name) VALUES (?, ?)", len(w.enterprises), func(i int) []any {
			e := &w.enterprises[i]
			return []any{e.id, e.spec.name}
		}},
		{"INSERT INTO campus (id, enterprise_id, name, address, city, zip) VALUES (?, ?, ?, ?, ?, ?)", len(w.campuses), func(i int) []any {
			c := &w.campuses[i]
			return []any{c.id, w.enterprises[c.enterprise].id, c.spec.name, c.spec.address, c.spec.city, c.spec.zip}
		}},
		{"INSERT INTO unit (id, campus_id, name, unit_type) VALUES (?, ?, ?, ?)", len(w.units), func(i int) []any {
			u := &w.units[i]
			return []any{u.id, w.campuses[u.campus].id, u.spec.name, u.spec.typ}
		}},
		{"INSERT INTO bed (id, unit_id, label, status) VALUES (?, ?, ?, ?)", len(w.beds), func(i int) []any {
			b := &w.beds[i]
			return []any{b.id, w.units[b.unit].id, b.label, b.status}
		}},
		{"INSERT INTO patient (id, mrn, first_name, last_name, birth_date, sex, zip, phone, email, ssn) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", len(w.patients), func(i int) []any {
			p := &w.patients[i]
			return []any{p.id, p.mrn, p.first, p.last, p.birthDate, p.sex, p.zip, nullable(p.phone), nullable(p.email), nullable(p.ssn)}
		}},
		{"INSERT INTO encounter (id, patient_id, account_no, campus_id, encounter_class, admit_at, discharge_at, disposition, attending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", len(w.encounters), func(i int) []any {
			e := &w.encounters[i]
			return []any{e.id, w.patients[e.patient].id, e.account, w.campuses[e.campus].id, e.class, ts(e.admit), ts(e.discharge), nullable(e.disposition), w.staff[e.attending].display()}
		}},
		{"INSERT INTO bed_assignment (id, encounter_id, bed_id, start_at, end_at) VALUES (?, ?, ?, ?, ?)", len(w.assignments), func(i int) []any {
			a := &w.assignments[i]
			return []any{a.id, w.encounters[a.encounter].id, w.beds[a.bed].id, ts(a.start), ts(a.end)}
		}},
		{"INSERT INTO transport_request (id, encounter_id, from_unit_id, to_unit_id, requested_at, requested_by, priority, status, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", len(w.transports), func(i int) []any {
			t := &w.transports[i]
			return []any{t.id, w.encounters[t.encounter].id, w.units[t.fromUnit].id, w.units[t.toUnit].id, ts(t.at), w.staff[t.requestedBy].display(), t.priority, t.status, nullable(t.note)}
		}},
		{"INSERT INTO server (id, enterprise_id, hostname, fqdn, ip_address, role) VALUES (?, ?, ?, ?, ?, ?)", len(w.servers), func(i int) []any {
			s := &w.servers[i]
			return []any{s.id, w.enterprises[s.enterprise].id, s.hostname, s.fqdn, s.ip, s.role}
		}},
		{"INSERT INTO workstation (id, name, ip_address, unit_id) VALUES (?, ?, ?, ?)", len(w.workstations), func(i int) []any {
			ws := &w.workstations[i]
			return []any{ws.id, ws.name, ws.ip, w.units[ws.unit].id}
		}},
		{"INSERT INTO integration_endpoint (id, name, url, server_id) VALUES (?, ?, ?, ?)", len(w.endpoints), func(i int) []any {
			e := &w.endpoints[i]
			return []any{e.id, e.name, e.url, w.servers[e.server].id}
		}},
		{"INSERT INTO audit_event (id, at, encounter_id, workstation_id, user_name, event, note) VALUES (?, ?, ?, ?, ?, ?, ?)", len(w.audits), func(i int) []any {
			a := &w.audits[i]
			return []any{a.id, ts(a.at), w.encounters[a.encounter].id, w.workstations[a.workstation].id, w.staff[a.user].login, a.event, nullable(a.note)}
		}},
	}
}

func (w *world) insert(ctx context.Context, tx *sql.Tx) error {
	for _, t := range w.tables() {
		stmt, err := tx.PrepareContext(ctx, t.insert)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", t.insert, err)
		}
		for i := 0; i < t.n; i++ {
			if i%4096 == 0 {
				if err := ctx.Err(); err != nil {
					stmt.Close()
					return err
				}
			}
			if _, err := stmt.ExecContext(ctx, t.row(i)...); err != nil {
				stmt.Close()
				return fmt.Errorf("%s row %d: %w", t.insert, i+1, err)
			}
		}
		if err := stmt.Close(); err != nil {
			return err
		}
	}
	return nil
}
