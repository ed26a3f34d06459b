// Package airlock takes export requests of aggregated outputs out of the secure processing
// environment (healthdata.be's SPE export process, CORI's aggregated-only rule).
//
// In each project the SPOC keeps the list of users who may request exports, each either
// automatic or validated. An analyst submits files (CSV tables with their disclosure.Meta)
// and a purpose; the disclosure checks run at once. A file that is not an aggregate is
// refused outright. An automatic analyst's export whose files pass (or only have cells
// suppressed) is released at once; a validated analyst's export, or one whose analyst asks
// for an exception with a written reason, waits in the data-governance officer's
// (DATA_OFFICER's) queue. The officer sees the checks' evidence — which cell, which rule —
// never the hidden values, and approves or rejects with a comment; nobody reviews their own
// request. The officer also samples automatic exports after the fact, can recall one (its
// links die, the analyst is asked for a new export) and move the analyst back to validated.
//
// A release records every file in the ledger (what was shown, from which population, by
// whom), which later checks compare against, and makes a download link per recipient: 32
// random bytes, stored as their SHA-256, bound to the recipient's sign-in and optionally to
// an address range, expiring (7 days unless the project says otherwise), revocable, every
// use audited. The recipient — the analyst, or in a bunker project, where the analyst is not
// known, the project's data publishers — is told by email.
package airlock

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/ledger"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/transfer"
	"github.com/stewardhealth/steward/internal/transfer/local"
	"github.com/stewardhealth/steward/internal/warehouse"
)

// Mode is how an analyst's exports are provisioned.
type Mode string

const (
	Automatic Mode = "automatic"
	Validated Mode = "validated"
)

// Status is where a request stands.
type Status string

const (
	Released Status = "released"
	Pending  Status = "pending_review"
	Rejected Status = "rejected"
	Refused  Status = "refused"
	Recalled Status = "recalled"
)

// Storage keeps the files that leave: a transfer destination that can also be read back.
type Storage interface {
	transfer.Destination
	Open(name string) (io.ReadCloser, error)
}

// Folder is Storage in a local folder (transfer/local writes each file atomically).
type Folder struct{ local.Folder }

// Open reads a stored file.
func (f Folder) Open(name string) (io.ReadCloser, error) {
	return os.Open(filepath.Join(f.Dir, filepath.Base(name)))
}

// Service runs export requests over the application database.
type Service struct {
	DB      *store.DB
	Audit   store.Audit
	Access  *access.Service
	Files   Storage
	Notify  access.Notifier // the recipients' email; nil sends none
	BaseURL string          // where download links point, e.g. https://steward.example.org
	Now     func() time.Time
	// Gate is issue 9's governance: an export of agencies' data needs its basis (an
	// approved ethics application, or a single agency's own evaluation) and their consent.
	// New sets it over the same store.
	Gate *governance.Service
	// Tables computes tables over stored cohort queries (the warehouse); nil: computed
	// tables are not offered.
	Tables TableSource
	// Ledger bounds the check over people (Threshold is set from the project's rules).
	Ledger ledger.Options
}

// New returns a service.
func New(db *store.DB, acc *access.Service, files Storage, n access.Notifier, baseURL string) *Service {
	return &Service{DB: db, Audit: store.Audit{DB: db}, Access: acc, Files: files, Notify: n,
		BaseURL: strings.TrimRight(baseURL, "/"), Now: time.Now, Gate: governance.New(db, governance.Config{})}
}

// Settings are a project's export settings.
type Settings struct {
	Rules    disclosure.Rules `json:"rules"`
	Bunker   bool             `json:"bunker"`    // analysts are not known: data publishers receive
	LinkDays int              `json:"link_days"` // download links live this many days (default 7)
	// Reviewers is how many distinct reviewers approve a request: 1 (default) or 2. An
	// exception always needs 2.
	Reviewers int `json:"reviewers"`
}

// Request is an export request as its author and reviewers see it.
type Request struct {
	ID        string    `json:"id"`
	Project   string    `json:"project"`
	Author    string    `json:"author"`
	Mode      Mode      `json:"mode"`
	Purpose   string    `json:"purpose"`
	Exception string    `json:"exception,omitempty"`
	Status    Status    `json:"status"`
	Created   time.Time `json:"created"`
	DecidedBy string    `json:"decided_by,omitempty"`
	Comment   string    `json:"comment,omitempty"`
	Sampled   bool      `json:"sampled"`
	Agencies  []string  `json:"agencies,omitempty"` // whose data the files aggregate
	Analysis  string    `json:"analysis"`           // the analysis that made them
	Basis     string    `json:"basis,omitempty"`    // the gate's basis: an application id, or single-agency:CODE
	Files     []File    `json:"files"`
	// Declared marks a hand-made upload: its persons and contributors are what the analyst
	// declared, not verified, so it always waits for a reviewer.
	Declared bool `json:"declared"`
	// StructuralReason is the analyst's reason for the zero cells the files declare
	// structural (each file's Meta.StructuralCells), kept with the request after review.
	StructuralReason string   `json:"structural_reason,omitempty"`
	Reviews          []Review `json:"reviews,omitempty"` // each reviewer's decision so far
	Needs            int      `json:"reviewers_needed"`  // distinct approvals that release it
}

// File is one file of a request with its check result (evidence, never hidden values).
type File struct {
	Name   string             `json:"name"`
	Meta   disclosure.Meta    `json:"meta"`
	Result *disclosure.Result `json:"result"`
	// Provenance says how Steward computed the file (nil for a hand-made upload).
	Provenance *warehouse.Table `json:"provenance,omitempty"`
	// Cells says where the persons and contributors behind every number of the file come
	// from: CellsDeclared (a hand-made upload's) or CellsComputed (a table Steward computed).
	Cells  string `json:"cells"`
	record disclosure.Release
}

// StructuralLabels are the cells the file declares structural zeros (Meta.StructuralCells),
// labelled as the evidence labels cells (e.g. "sex=M, procedure=hysterectomy").
func (f File) StructuralLabels() []string {
	out := make([]string, 0, len(f.Meta.StructuralCells))
	for _, k := range f.Meta.StructuralCells {
		if len(k) == len(f.Meta.Dimensions) {
			out = append(out, cellLabel(f.Meta.Dimensions, k))
		}
	}
	return out
}

// Where a file's numbers come from (File.Cells).
const (
	CellsDeclared = "declared, not verified" // a hand-made upload: the analyst's declaration
	CellsComputed = "computed"               // a table Steward computed from the warehouse
)

// cellsOf is File.Cells of a request's files.
func cellsOf(r *Request) string {
	if r.Declared {
		return CellsDeclared
	}
	return CellsComputed
}

// FileInput is one file submitted.
type FileInput struct {
	Name string          `json:"name"`
	Meta disclosure.Meta `json:"meta"`
	Data string          `json:"data"` // the CSV
	// table is set for a table Steward computed: its cells' persons and provenance.
	table *warehouse.Table
}

// Submission is what an analyst sends.
type Submission struct {
	Purpose   string `json:"purpose"`
	Exception string `json:"exception,omitempty"` // a written reason to release despite findings
	// Agencies are the agencies whose data the files aggregate: by default the project's
	// own; a site-wide project names them. Analysis names the analysis that made the files
	// as the ethics application names it (default "export"). Issue 9's gate decides on both.
	Agencies []string    `json:"agencies,omitempty"`
	Analysis string      `json:"analysis,omitempty"`
	Files    []FileInput `json:"files"`
	// StructuralReason says why the zero cells the files declare structural (their
	// metadata's structural_cells) cannot hold anyone; a declaration needs one.
	StructuralReason string `json:"structural_reason,omitempty"`
}

func randomID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (s *Service) change(ctx context.Context, fn func(tx *sql.Tx) ([]audit.Entry, error)) error {
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		es, err := fn(tx)
		if err != nil {
			return err
		}
		for _, e := range es {
			if _, err := s.Audit.AppendTx(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

func event(p access.Principal, action, object string, detail map[string]string) audit.Entry {
	return audit.Entry{Actor: p.User, Source: p.Source, Action: action, Object: object, Detail: detail}
}

// project returns the project if p may do a in it.
func (s *Service) project(ctx context.Context, p access.Principal, code string, a access.Action) (access.Project, error) {
	x, err := s.Access.Project(ctx, p, code)
	if err != nil {
		return x, err
	}
	return x, access.Check(p, a, x)
}

// Settings returns a project's export settings (defaults when none were set).
func (s *Service) Settings(ctx context.Context, project string) (Settings, error) {
	st := Settings{LinkDays: 7, Reviewers: 1}
	var rules string
	err := s.DB.QueryRowContext(ctx, `SELECT rules, bunker, link_days, reviewers FROM airlock_settings WHERE project = $1`, project).
		Scan(&rules, &st.Bunker, &st.LinkDays, &st.Reviewers)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal([]byte(rules), &st.Rules)
}

// ProjectSettings returns a project's export settings to its officers, SPOCs and data
// publishers, and to the command line.
func (s *Service) ProjectSettings(ctx context.Context, p access.Principal, project string) (Settings, error) {
	x, err := s.Access.Project(ctx, p, project)
	if err != nil {
		return Settings{}, err
	}
	if !cli(p) && !access.Allowed(p, access.ReviewExport, x) && !access.Allowed(p, access.ManageExporters, x) && !access.Allowed(p, access.ReceiveExport, x) {
		return Settings{}, access.Check(p, access.ReviewExport, x)
	}
	return s.Settings(ctx, x.Code)
}

// cli reports whether p is the command line's operator (an administrator on the server's
// host, who holds the database itself).
func cli(p access.Principal) bool {
	return p.Admin && p.Source == "cli" && strings.HasPrefix(p.User, "cli:")
}

// SetSettings changes a project's thresholds, reviewers, bunker flag and link lifetime (the
// officer, or the command line), audited with every value.
func (s *Service) SetSettings(ctx context.Context, p access.Principal, project string, st Settings) error {
	x, err := s.Access.Project(ctx, p, project)
	if err != nil {
		return err
	}
	if !cli(p) {
		if err := access.Check(p, access.ReviewExport, x); err != nil {
			return err
		}
	}
	r := st.Rules
	switch {
	case r.MinPersons < 0 || r.MaxDifferencing < 0 || r.DominanceN < 0 || r.MinProjects < -1:
		return fmt.Errorf("%w: thresholds: min_persons, max_differencing and dominance_n are 0 (the default) or more; min_projects -1 (off) or more", derrors.Invalid)
	case r.DominanceK < 0 || r.DominanceK > 100 || r.P < 0 || r.P > 100:
		return fmt.Errorf("%w: thresholds: dominance_k and p are percentages, 0 (the default) to 100", derrors.Invalid)
	}
	if st.LinkDays <= 0 || st.LinkDays > 90 {
		return fmt.Errorf("%w: link_days must be 1 to 90", derrors.Invalid)
	}
	if st.Reviewers == 0 {
		st.Reviewers = 1
	}
	if st.Reviewers != 1 && st.Reviewers != 2 {
		return fmt.Errorf("%w: reviewers must be 1 or 2 (an exception always needs 2)", derrors.Invalid)
	}
	rules, _ := json.Marshal(st.Rules)
	return s.change(ctx, func(tx *sql.Tx) ([]audit.Entry, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO airlock_settings (project, rules, bunker, link_days, reviewers) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (project) DO UPDATE SET rules = $2, bunker = $3, link_days = $4, reviewers = $5`, x.Code, string(rules), st.Bunker, st.LinkDays, st.Reviewers)
		return []audit.Entry{event(p, "export.settings", "project/"+x.Code, map[string]string{"rules": string(rules),
			"bunker": fmt.Sprint(st.Bunker), "link_days": fmt.Sprint(st.LinkDays), "reviewers": fmt.Sprint(st.Reviewers)})}, err
	})
}

// Exporter is one entry of the SPOC's list.
type Exporter struct {
	User    string    `json:"user"`
	Mode    Mode      `json:"mode"`
	IPRange string    `json:"ip_range,omitempty"` // download links work only from here
	SetBy   string    `json:"set_by"`
	SetAt   time.Time `json:"set_at"`
}

// SetExporter puts a user on the project's list (SPOC), or takes them off with mode "".
// ipRange, when not empty, binds the user's download links to that address range (CIDR).
func (s *Service) SetExporter(ctx context.Context, p access.Principal, project, user string, m Mode, ipRange string) error {
	x, err := s.project(ctx, p, project, access.ManageExporters)
	if err != nil {
		return err
	}
	if m != "" && m != Automatic && m != Validated {
		return fmt.Errorf("%w: mode %q (want automatic or validated)", derrors.Invalid, m)
	}
	if ipRange != "" {
		if _, err := netip.ParsePrefix(ipRange); err != nil {
			return fmt.Errorf("%w: address range %q: want a CIDR prefix such as 203.0.113.0/24", derrors.Invalid, ipRange)
		}
	}
	if m != "" && !s.mayExport(ctx, x, user) { // taking someone off always works
		return fmt.Errorf("%w: user %s cannot request exports in project %s (a user of the project's agency holding DATA_AGG or higher there)",
			derrors.Invalid, user, x.Code)
	}
	return s.setMode(ctx, p, x.Code, user, m, &ipRange, "")
}

// mayExport reports whether user exists and holds the right to request exports in project
// x (DATA_AGG or higher, of an agency that sees the project). An unknown user and another
// agency's user get the same answer, so the list tells nothing of who exists elsewhere.
func (s *Service) mayExport(ctx context.Context, x access.Project, user string) bool {
	u, err := s.Access.Principal(ctx, user, "")
	return err == nil && access.Allowed(u, access.RequestExport, x)
}

// onList reports whether user is on project's list of users who may request exports.
func (s *Service) onList(ctx context.Context, project, user string) (bool, error) {
	_, err := s.mode(ctx, project, user)
	if errors.Is(err, derrors.Forbidden) {
		return false, nil
	}
	return err == nil, err
}

// setMode writes a user's entry; ipRange nil keeps the range they have.
func (s *Service) setMode(ctx context.Context, p access.Principal, project, user string, m Mode, ipRange *string, why string) error {
	return s.change(ctx, func(tx *sql.Tx) ([]audit.Entry, error) {
		var err error
		if m == "" {
			_, err = tx.ExecContext(ctx, `DELETE FROM export_users WHERE project = $1 AND user_name = $2`, project, user)
		} else {
			keep := ipRange == nil
			if keep {
				ipRange = new(string)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO export_users (project, user_name, mode, ip_range, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (project, user_name) DO UPDATE SET mode = $3, set_by = $5, set_at = $6,
				ip_range = CASE WHEN $7 THEN export_users.ip_range ELSE $4 END`,
				project, user, string(m), *ipRange, p.User, store.FormatTime(s.Now()), keep)
		}
		if err != nil {
			return nil, fmt.Errorf("export list of %s: user %s: %w", project, user, err)
		}
		d := map[string]string{"user": user, "mode": string(m)}
		if ipRange != nil && *ipRange != "" {
			d["ip_range"] = *ipRange
		}
		if why != "" {
			d["why"] = why
		}
		return []audit.Entry{event(p, "export.exporter", "project/"+project+"/user/"+user, d)}, nil
	})
}

// Exporters lists the project's list (SPOC and officer).
func (s *Service) Exporters(ctx context.Context, p access.Principal, project string) ([]Exporter, error) {
	x, err := s.Access.Project(ctx, p, project)
	if err != nil {
		return nil, err
	}
	if !access.Allowed(p, access.ManageExporters, x) && !access.Allowed(p, access.ReviewExport, x) {
		return nil, access.Check(p, access.ManageExporters, x)
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT user_name, mode, ip_range, set_by, set_at FROM export_users WHERE project = $1 ORDER BY user_name`, x.Code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Exporter{}
	for rows.Next() {
		var e Exporter
		var at string
		if err := rows.Scan(&e.User, &e.Mode, &e.IPRange, &e.SetBy, &at); err != nil {
			return nil, err
		}
		e.SetAt, _ = store.ParseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *Service) mode(ctx context.Context, project, user string) (Mode, error) {
	var m Mode
	err := s.DB.QueryRowContext(ctx, `SELECT mode FROM export_users WHERE project = $1 AND user_name = $2`, project, user).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: %s is not on project %s's list of users who may request exports (ask the SPOC)", derrors.Forbidden, user, project)
	}
	return m, err
}

// earlier returns the ledger's releases of a population.
func (s *Service) earlier(ctx context.Context, population string) ([]disclosure.Release, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT record FROM release_ledger WHERE population = $1 ORDER BY released_at`, population)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []disclosure.Release
	for rows.Next() {
		var rec string
		var r disclosure.Release
		if err := rows.Scan(&rec); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(rec), &r); err != nil {
			return nil, fmt.Errorf("release ledger: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
