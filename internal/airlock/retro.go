package airlock

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
)

// Retroactive checks as a process (issue 16, seed 003: "the data governance officer also
// performs retroactive checks on SPE automatic exports"). Each project samples a share of the
// automatic exports released in a period (RetroSettings: 10 % per month by default); once a
// period has ended, the server's schedule (steward serve, hourly) or `steward export retro
// run` samples it — once: a period sampled is recorded with its count, the number picked
// (round(rate × released)) and the seed that picked them, so a run is reproducible. The
// officer records each sample's outcome; a recall outcome recalls the export by the usual
// path (links die, the analyst is mailed). Every run, sample, outcome and settings change is
// audited.

// RetroSettings are a project's sampling settings.
type RetroSettings struct {
	Rate   float64 `json:"rate"`   // the share of a period's released automatic exports sampled, 0 to 1
	Period string  `json:"period"` // month or week (ISO weeks, Monday to Sunday, UTC)
}

// DefaultRetroSettings sample 10 % of each month's automatic exports.
func DefaultRetroSettings() RetroSettings { return RetroSettings{Rate: 0.10, Period: "month"} }

// Retroactive check outcomes.
const (
	OutcomeOpen             = ""
	OutcomeNoIssue          = "no_issue"
	OutcomeAnalystContacted = "analyst_contacted"
	OutcomeNewExportAsked   = "new_export_asked"
	OutcomeRecalled         = "recalled"
)

// Outcomes are the outcomes an officer may record.
var Outcomes = []string{OutcomeNoIssue, OutcomeAnalystContacted, OutcomeNewExportAsked, OutcomeRecalled}

// RetroRun is one project's period sampled (or found sampled already).
type RetroRun struct {
	Project  string   `json:"project"`
	Period   string   `json:"period"`
	Released int      `json:"released"`
	Picked   int      `json:"picked"`
	Rate     float64  `json:"rate"`
	Seed     int64    `json:"seed"`
	Samples  []string `json:"samples"`
	Already  bool     `json:"already_sampled,omitempty"`
}

// RetroSample is one sampled export and its outcome.
type RetroSample struct {
	Request   string     `json:"request"`
	Project   string     `json:"project"`
	Period    string     `json:"period"`
	Author    string     `json:"author"`
	Status    Status     `json:"status"`
	SampledAt time.Time  `json:"sampled_at"`
	Outcome   string     `json:"outcome"`
	OutcomeBy string     `json:"outcome_by,omitempty"`
	OutcomeAt *time.Time `json:"outcome_at,omitempty"`
}

// Validate checks the settings.
func (st RetroSettings) Validate() error {
	if math.IsNaN(st.Rate) || st.Rate < 0 || st.Rate > 1 {
		return fmt.Errorf("%w: rate is a share from 0 to 1", derrors.Invalid)
	}
	if st.Period != "month" && st.Period != "week" {
		return fmt.Errorf("%w: period is month or week", derrors.Invalid)
	}
	return nil
}

func (s *Service) retroSettings(ctx context.Context, project string) (RetroSettings, error) {
	st := DefaultRetroSettings()
	err := s.DB.QueryRowContext(ctx, `SELECT rate, period FROM export_retro_settings WHERE project = $1`, project).Scan(&st.Rate, &st.Period)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultRetroSettings(), nil
	}
	return st, err
}

// RetroSettings are the project's sampling settings: its officers read them.
func (s *Service) RetroSettings(ctx context.Context, p access.Principal, project string) (RetroSettings, error) {
	x, err := s.project(ctx, p, project, access.ReviewExport)
	if err != nil {
		return RetroSettings{}, err
	}
	return s.retroSettings(ctx, x.Code)
}

// SetRetroSettings changes the project's sampling settings: its officers, audited with the
// values before and after.
func (s *Service) SetRetroSettings(ctx context.Context, p access.Principal, project string, st RetroSettings) error {
	x, err := s.project(ctx, p, project, access.ReviewExport)
	if err != nil {
		return err
	}
	if err := st.Validate(); err != nil {
		return err
	}
	old, err := s.retroSettings(ctx, x.Code)
	if err != nil {
		return err
	}
	return s.change(ctx, func(tx *sql.Tx) ([]audit.Entry, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO export_retro_settings (project, rate, period, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (project) DO UPDATE SET rate = excluded.rate, period = excluded.period, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			x.Code, st.Rate, st.Period, store.FormatTime(s.Now()), p.User); err != nil {
			return nil, err
		}
		return []audit.Entry{event(p, "export.retro_settings", "project/"+x.Code, map[string]string{
			"rate": fmt.Sprintf("%g → %g", old.Rate, st.Rate), "period": old.Period + " → " + st.Period})}, nil
	})
}

// periodOf is the period of the kind holding t: its label and bounds [start, end), UTC.
func periodOf(kind string, t time.Time) (string, time.Time, time.Time) {
	t = t.UTC()
	if kind == "week" {
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		start := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
		y, w := start.ISOWeek()
		return fmt.Sprintf("%d-W%02d", y, w), start, start.AddDate(0, 0, 7)
	}
	start := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start.Format("2006-01"), start, start.AddDate(0, 1, 0)
}

// lastEnded is the last period of the kind that ended at or before t.
func lastEnded(kind string, t time.Time) (string, time.Time, time.Time) {
	_, start, _ := periodOf(kind, t)
	return periodOf(kind, start.Add(-time.Nanosecond))
}

// pick chooses k of the ids (sorted first), the same for the same seed, project and period.
func pick(ids []string, k int, seed int64, project, period string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	h := fnv.New64a()
	h.Write([]byte(project + "\x00" + period))
	r := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	out := ids[:k]
	slices.Sort(out)
	return out
}

// RunRetro samples, for the project (or, with "", every project), the last period ended by
// at that was not sampled yet: round(rate × released) of the automatic exports released in
// it and still released (never one sampled before). seed nil draws one (recorded with the run). A run of every project
// is the schedule's: site staff only; one project's, its officers' or site staff's.
func (s *Service) RunRetro(ctx context.Context, p access.Principal, project string, at time.Time, seed *int64) ([]RetroRun, error) {
	site := p.User != "" && p.Admin && p.Agency == ""
	var codes []string
	if project == "" {
		if !site {
			return nil, fmt.Errorf("%w: a run over every project is the site's schedule", derrors.Forbidden)
		}
		var err error
		if codes, err = store.Strings(ctx, s.DB, `SELECT code FROM projects ORDER BY code`); err != nil {
			return nil, err
		}
	} else {
		x, err := s.Access.Project(ctx, p, project)
		if err != nil {
			return nil, err
		}
		if !site && !access.Allowed(p, access.ReviewExport, x) {
			return nil, access.Check(p, access.ReviewExport, x)
		}
		codes = []string{x.Code}
	}
	var out []RetroRun
	for _, code := range codes {
		run, err := s.runRetro(ctx, p, code, at, seed)
		if err != nil {
			return out, fmt.Errorf("project %s: %w", code, err)
		}
		out = append(out, run)
	}
	return out, nil
}

func (s *Service) runRetro(ctx context.Context, p access.Principal, project string, at time.Time, seed *int64) (RetroRun, error) {
	st, err := s.retroSettings(ctx, project)
	if err != nil {
		return RetroRun{}, err
	}
	label, start, end := lastEnded(st.Period, at)
	run := RetroRun{Project: project, Period: label, Rate: st.Rate, Samples: []string{}}
	var done int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM export_retro_runs WHERE project = $1 AND period = $2`, project, label).Scan(&done); err != nil {
		return run, err
	}
	if done > 0 {
		err := s.DB.QueryRowContext(ctx, `SELECT released, picked, rate, seed FROM export_retro_runs WHERE project = $1 AND period = $2`, project, label).
			Scan(&run.Released, &run.Picked, &run.Rate, &run.Seed)
		if err == nil {
			run.Samples, err = store.Strings(ctx, s.DB, `SELECT request_id FROM export_retro_samples WHERE project = $1 AND period = $2 ORDER BY request_id`, project, label)
		}
		run.Already = true
		return run, err
	}
	ids, err := store.Strings(ctx, s.DB, `SELECT id FROM export_requests WHERE project = $1 AND mode = $2 AND status = $3 AND decided_by = ''
		AND created_at >= $4 AND created_at < $5`, project, string(Automatic), string(Released), store.FormatTime(start), store.FormatTime(end))
	if err != nil {
		return run, err
	}
	if seed != nil {
		run.Seed = *seed
	} else {
		var b [8]byte
		crand.Read(b[:])
		run.Seed = int64(binary.LittleEndian.Uint64(b[:]) >> 1)
	}
	// A period's exports sampled already (by a period of the other kind, before the settings
	// changed) count as released but are not picked again.
	taken, err := store.Strings(ctx, s.DB, `SELECT r.request_id FROM export_retro_samples r JOIN export_requests e ON e.id = r.request_id
		WHERE e.project = $1 AND e.created_at >= $2 AND e.created_at < $3`, project, store.FormatTime(start), store.FormatTime(end))
	if err != nil {
		return run, err
	}
	open := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(taken, id) })
	run.Released = len(ids)
	run.Picked = min(int(math.Round(st.Rate*float64(len(ids)))), len(open))
	run.Samples = pick(open, run.Picked, run.Seed, project, label)
	now := store.FormatTime(s.Now())
	err = s.change(ctx, func(tx *sql.Tx) ([]audit.Entry, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO export_retro_runs (project, period, released, picked, rate, seed, run_at, run_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			project, label, run.Released, run.Picked, run.Rate, run.Seed, now, p.User); err != nil {
			return nil, fmt.Errorf("%w: period %s is being sampled already", derrors.Conflict, label)
		}
		es := []audit.Entry{event(p, "export.retro_run", "project/"+project, map[string]string{"period": label,
			"released": strconv.Itoa(run.Released), "picked": strconv.Itoa(run.Picked), "rate": fmt.Sprint(run.Rate), "seed": strconv.FormatInt(run.Seed, 10)})}
		for _, id := range run.Samples {
			if _, err := tx.ExecContext(ctx, `INSERT INTO export_retro_samples (request_id, project, period, sampled_at) VALUES ($1, $2, $3, $4)`, id, project, label, now); err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE export_requests SET sampled = TRUE WHERE id = $1`, id); err != nil {
				return nil, err
			}
			es = append(es, event(p, "export.retro_sample", "export/"+id, map[string]string{"period": label}))
		}
		return es, nil
	})
	return run, err
}

// RetroSamples lists the project's samples (of one period, or every period with ""), for
// its officers, newest period first.
func (s *Service) RetroSamples(ctx context.Context, p access.Principal, project, period string) ([]RetroSample, error) {
	x, err := s.project(ctx, p, project, access.ReviewExport)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT r.request_id, r.project, r.period, e.author, e.status, r.sampled_at, r.outcome, r.outcome_by, r.outcome_at
		FROM export_retro_samples r JOIN export_requests e ON e.id = r.request_id
		WHERE r.project = $1 AND ($2 = '' OR r.period = $2) ORDER BY r.period DESC, r.request_id`, x.Code, period)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []RetroSample{}
	for rows.Next() {
		var r RetroSample
		var sampled, at string
		if err := rows.Scan(&r.Request, &r.Project, &r.Period, &r.Author, &r.Status, &sampled, &r.Outcome, &r.OutcomeBy, &at); err != nil {
			return nil, err
		}
		r.SampledAt, _ = store.ParseTime(sampled)
		if at != "" {
			t, _ := store.ParseTime(at)
			r.OutcomeAt = &t
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetRetroOutcome records a sample's outcome in the project: an officer of it who is not its
// author, with a note (the recall's reason for "recalled"; optional for "no_issue"),
// audited. "recalled" recalls the export (Recall, with demote moving the analyst back to
// validated) unless it was recalled already.
func (s *Service) SetRetroOutcome(ctx context.Context, p access.Principal, project, request, outcome, note string, demote bool) error {
	if !slices.Contains(Outcomes, outcome) {
		return fmt.Errorf("%w: outcome is one of %s", derrors.Invalid, strings.Join(Outcomes, ", "))
	}
	var sampleProject, author, status string
	err := s.DB.QueryRowContext(ctx, `SELECT r.project, e.author, e.status FROM export_retro_samples r JOIN export_requests e ON e.id = r.request_id
		WHERE r.request_id = $1`, request).Scan(&sampleProject, &author, &status)
	if errors.Is(err, sql.ErrNoRows) || err == nil && sampleProject != project {
		return fmt.Errorf("%w: no retroactive sample %s", derrors.NotFound, request)
	}
	if err != nil {
		return err
	}
	if _, err := s.project(ctx, p, project, access.ReviewExport); err != nil {
		if errors.Is(err, derrors.NotFound) {
			return fmt.Errorf("%w: no retroactive sample %s", derrors.NotFound, request)
		}
		return err
	}
	if author == p.User {
		return fmt.Errorf("%w: the author of an export does not check it", derrors.Forbidden)
	}
	note = strings.TrimSpace(note)
	if outcome != OutcomeNoIssue && (len(note) < 5 || len(note) > 500) {
		return fmt.Errorf("%w: give a note for the outcome (5 to 500 characters)", derrors.Invalid)
	}
	if outcome == OutcomeRecalled && status != string(Recalled) {
		if err := s.Recall(ctx, p, request, note, demote); err != nil {
			return err
		}
	}
	return s.change(ctx, func(tx *sql.Tx) ([]audit.Entry, error) {
		if _, err := tx.ExecContext(ctx, `UPDATE export_retro_samples SET outcome = $1, outcome_by = $2, outcome_at = $3 WHERE request_id = $4`,
			outcome, p.User, store.FormatTime(s.Now()), request); err != nil {
			return nil, err
		}
		d := map[string]string{"outcome": outcome}
		if note != "" {
			d["note"] = note
		}
		return []audit.Entry{event(p, "export.retro_outcome", "export/"+request, d)}, nil
	})
}
