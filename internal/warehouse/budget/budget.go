// Package budget keeps the privacy budget of DATA_OBFSC answers and states the guarantee it
// gives.
//
// The mechanism. Every count an obfuscated user is told — a cohort's total, a breakdown
// dimension's cells, a concept's totalnum — is the true count plus Gaussian noise of standard
// deviation σ, rounded (package noise). Adding or removing one patient changes a count by at
// most 1, and changes one cell of each breakdown dimension by at most 1 (a patient is in one
// cell of a dimension), so each new count, and each new breakdown dimension, is a Gaussian
// mechanism of L2 sensitivity 1: ρ = 1/(2σ²) in zero-concentrated differential privacy
// (zCDP, Bun and Steinke 2016). zCDP composes by adding ρ, also when each question is chosen
// after seeing the answers before it. The noise is keyed by the question and the data, and
// what a user was told is stored with its release, so the same question asked again gets the
// same answer — the stored one, not a recomputation that might have drifted — and costs
// nothing (it tells nothing new); every other question spends. What a question costs depends only on what is asked and on
// what the user was told before, never on the data, so the budget's refusals tell nothing
// either.
//
// The account. Each user has, per project and per period (PeriodDays, aligned on UTC days
// from 1970-01-01), a budget of ρ; an answer whose new counts would spend more is refused
// whole, with the period's end, until the period ends or an administrator grants more for
// the period (audited, with a reason). The spend is one conditional UPDATE in the transaction
// that stores the answer, so concurrent answers never overspend on either store, and the
// releases are rows with a unique key, so two identical questions at once are charged once.
//
// The guarantee (Guarantee computes it from the settings). Everything one user is told in one
// project in one period is ρ-zCDP for every patient, hence (ε, δ₀)-differentially private with
// ε = ρ + 2√(ρ·ln(1/δ₀)), δ₀ = 10⁻⁶, except for the minimum: a total whose true count is at
// most m is hidden whatever its noise (so that 0, 1 and 3 give the same answer), which the
// pure Gaussian mechanism would show only when its noisy value reaches the threshold T, with
// probability at most η = Q((T − ½ − m)/σ). Over k totals the two differ with probability at
// most k·η, so the whole is (ε, δ₀ + (1+e^ε)·k·η)-differentially private. And for any one
// count, the answers carry Fisher information at most 2ρ about it, so no unbiased estimate
// from everything a user may ask in a period has a spread below 1/√(2ρ); rounding an
// estimate of that spread hits the exact count with probability erf(½·√ρ).
//
// With the defaults (σ = 10, ρ = 0.1 per 30 days, m = 3, T = 60): 20 new counts per user and
// project per period (a breakdown dimension costs as much as a count), ε = 2.45,
// δ = 3.0·10⁻⁶, spread at least 2.24, exact recovery at most 17.7 %.
//
// What the guarantee does not cover: colluding users (each has a budget; k users together
// have k·ρ), a user's budgets in several projects over the same agency, later periods (m
// periods give m·ρ) and grants (each adds to ρ); the vocabulary of the breakdown cells (which
// sexes, races and vital statuses occur in the agency at all); the governance gate's count of
// clients left out. Neighbouring data sets differ by one patient's records added or removed.
package budget

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
)

// Delta0 is the δ at which the guarantee is stated.
const Delta0 = 1e-6

// Nano is the unit of the account: spending is counted in ρ/Nano, whole numbers.
const Nano = 1e9

// Units converts ρ into the account's units, rounding up (a cost) unless ρ is within a
// rounding error of a whole number of units.
func Units(rho float64) int64 {
	u := rho * Nano
	if r := math.Round(u); math.Abs(u-r) < 1e-3 {
		return int64(r)
	}
	return int64(math.Ceil(u))
}

// Rho converts units back into ρ.
func Rho(units int64) float64 { return float64(units) / Nano }

// CountRho is the ρ of one count (a total, a totalnum, or a breakdown dimension) at noise σ.
func CountRho(sigma float64) float64 { return 1 / (2 * sigma * sigma) }

// Q is the standard normal's upper tail.
func Q(x float64) float64 { return 0.5 * math.Erfc(x/math.Sqrt2) }

// Params are what the guarantee depends on.
type Params struct {
	Sigma, BreakdownSigma float64
	Minimum, Threshold    int
	Rho                   float64 // per user, project and period
	PeriodDays            int
}

// Guarantee is the statement the settings give.
type Guarantee struct {
	Rho              float64 `json:"rho"`               // zCDP per user, project and period
	Epsilon          float64 `json:"epsilon"`           // … hence (ε, δ)-differential privacy
	Delta            float64 `json:"delta"`             //
	CountCost        float64 `json:"count_cost"`        // ρ of one new count
	DimensionCost    float64 `json:"dimension_cost"`    // ρ of one new breakdown dimension
	Counts           int64   `json:"counts_per_period"` // new counts one user may be told per project and period
	Spread           float64 `json:"spread"`            // least spread of an estimate of one count from all of them
	ExactRecovery    float64 `json:"exact_recovery"`    // how often rounding such an estimate hits the count
	PeriodDays       int     `json:"period_days"`       //
	ThresholdEscapes float64 `json:"threshold_escapes"` // η: a hidden small total's chance of being shown by the pure mechanism
	Text             string  `json:"text"`              // the same in plain words
	Limits           string  `json:"limits"`            // what it does not cover
}

// State computes the guarantee.
func (p Params) State() Guarantee {
	g := Guarantee{CountCost: CountRho(p.Sigma), DimensionCost: CountRho(p.BreakdownSigma), PeriodDays: p.PeriodDays}
	limit, cost := Units(p.Rho), Units(g.CountCost)
	g.Rho = Rho(limit)
	if cost > 0 {
		g.Counts = limit / cost
	}
	g.Epsilon = g.Rho + 2*math.Sqrt(g.Rho*math.Log(1/Delta0))
	g.ThresholdEscapes = Q((float64(p.Threshold) - 0.5 - float64(p.Minimum)) / p.Sigma)
	g.Delta = Delta0 + (1+math.Exp(g.Epsilon))*float64(g.Counts)*g.ThresholdEscapes
	g.Spread = 1 / math.Sqrt(2*g.Rho)
	g.ExactRecovery = math.Erf(0.5 / (g.Spread * math.Sqrt2))
	g.Text = fmt.Sprintf("Everything one user is told by obfuscated answers in one project in %d days is differentially private for every "+
		"patient (Gaussian noise under a budget of ρ = %.3g in zCDP): whether a patient's records are in the warehouse changes the "+
		"probability of any set of answers by a factor of at most %.3g (ε = %.2f), give or take %.1e (δ). A user may be told %d new counts in that time (a total, a totalnum or a "+
		"breakdown dimension each; asking the same question again is free). No unbiased estimate of any one count from all of them has a "+
		"spread below %.2f; rounded, it hits the exact count %.1f %% of the time. Counts are noised with σ %g (shown ±%.0f), "+
		"totals of %d or fewer patients and noisy counts under %d are shown as \"< %d\".",
		p.PeriodDays, g.Rho, math.Exp(g.Epsilon), g.Epsilon, g.Delta, g.Counts, g.Spread, 100*g.ExactRecovery, p.Sigma, math.Round(1.96*p.Sigma),
		p.Minimum, p.Threshold, p.Threshold)
	g.Limits = "Per user: colluding users add their budgets, and a user's budgets in several projects over the same agency add up. " +
		"Per period: over m periods the bound is m·ρ, and an administrator's grant adds to ρ. Outside it: which breakdown cells exist " +
		"in the agency, and the governance gate's count of clients left out."
	return g
}

// Account names one user's budget in one project at one time.
type Account struct {
	User, Project string
	At            time.Time
	PeriodDays    int
	Limit         int64 // the settings' budget, in units
}

// Period is the budget period holding at: periodDays whole UTC days counted from 1970-01-01.
func Period(at time.Time, periodDays int) (start, end time.Time) {
	floor := func(a, b int64) int64 { // rounds towards minus infinity
		q := a / b
		if a%b != 0 && a < 0 {
			q--
		}
		return q
	}
	first := floor(floor(at.Unix(), 86400), int64(periodDays)) * int64(periodDays)
	start = time.Unix(first*86400, 0).UTC()
	return start, start.AddDate(0, 0, periodDays)
}

// Release is one count an answer tells: its key (the question, the data's version and what
// is counted), what it costs when new to the user, and what it shows (opaque to the account:
// stored with the release, and given back by Spend when the user was told it before).
type Release struct {
	Key   string
	Cost  int64
	Shown string
}

// State is a user's account in a period, as they may be told it.
type State struct {
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Spent       float64   `json:"spent"`   // ρ spent this period
	Budget      float64   `json:"budget"`  // ρ of the period: the settings' budget plus grants
	Granted     float64   `json:"granted"` // of which granted by administrators
	Cost        float64   `json:"cost"`    // what this answer spent (0: nothing new)
	CountsLeft  int64     `json:"counts_left"`

	spent, granted, limit int64
	told                  map[string]string // release key → what was shown before (Spend)
}

// Told is what a release of this answer showed when the user was told it before: the
// answer must show it again, not a recomputation (the count may have drifted since).
func (s State) Told(key string) (string, bool) {
	v, ok := s.told[key]
	return v, ok
}

func (s *State) fill(a Account, countCost int64) {
	s.PeriodStart, s.PeriodEnd = Period(a.At, a.PeriodDays)
	s.limit = a.Limit + s.granted
	s.Spent, s.Budget, s.Granted = Rho(s.spent), Rho(s.limit), Rho(s.granted)
	if countCost > 0 && s.limit > s.spent {
		s.CountsLeft = (s.limit - s.spent) / countCost
	}
}

// ErrSpent is a refusal for want of budget (it wraps derrors.TooMany).
var ErrSpent = errors.New("privacy budget spent")

// Spend charges the releases new to the user to their budget, in tx (the transaction that
// stores the answer). It returns the account after, or an error wrapping ErrSpent and
// derrors.TooMany (the caller rolls tx back) when they would spend more than the period's
// budget. countCost is the cost of one count, for the state's CountsLeft.
func Spend(ctx context.Context, db *store.DB, tx *sql.Tx, a Account, rs []Release, countCost int64) (State, error) {
	start, end := Period(a.At, a.PeriodDays)
	ps, now := store.FormatTime(start), store.FormatTime(a.At)
	var cost int64
	told := map[string]string{}
	for _, r := range rs {
		st, err := db.TxStmt(ctx, tx, `INSERT INTO obfsc_releases (user_name, project, release_key, cost, shown, period_start, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_name, project, release_key) DO NOTHING`)
		if err != nil {
			return State{}, err
		}
		res, err := st.ExecContext(ctx, a.User, a.Project, r.Key, r.Cost, r.Shown, ps, now)
		if err != nil {
			return State{}, fmt.Errorf("obfsc_releases: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return State{}, err
		}
		if n == 1 {
			cost += r.Cost
			continue
		}
		st, err = db.TxStmt(ctx, tx, `SELECT shown FROM obfsc_releases WHERE user_name = $1 AND project = $2 AND release_key = $3`)
		if err != nil {
			return State{}, err
		}
		var shown string
		if err := st.QueryRowContext(ctx, a.User, a.Project, r.Key).Scan(&shown); err != nil {
			return State{}, fmt.Errorf("obfsc_releases: %w", err)
		}
		told[r.Key] = shown
	}
	if cost > 0 {
		if err := ensure(ctx, db, tx, a.User, a.Project, ps); err != nil {
			return State{}, err
		}
		st, err := db.TxStmt(ctx, tx, `UPDATE obfsc_budgets SET spent = spent + $4
			WHERE user_name = $1 AND project = $2 AND period_start = $3 AND spent + $4 <= granted + $5`)
		if err != nil {
			return State{}, err
		}
		res, err := st.ExecContext(ctx, a.User, a.Project, ps, cost, a.Limit)
		if err != nil {
			return State{}, fmt.Errorf("obfsc_budgets: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return State{}, err
		} else if n == 0 {
			s, err := read(ctx, db, tx, a, countCost)
			if err != nil {
				return State{}, err
			}
			return s, fmt.Errorf("%w: %w: %s has spent %.4g of the %.4g ρ of project %s until %s; this answer needs %.4g more "+
				"(new counts cost budget, repeated ones do not); the budget renews then, or an administrator can grant more",
				derrors.TooMany, ErrSpent, a.User, s.Spent, s.Budget, a.Project, end.Format(time.RFC3339), Rho(cost))
		}
	}
	s, err := read(ctx, db, tx, a, countCost)
	s.Cost, s.told = Rho(cost), told
	return s, err
}

func ensure(ctx context.Context, db *store.DB, tx *sql.Tx, user, project, ps string) error {
	st, err := db.TxStmt(ctx, tx, `INSERT INTO obfsc_budgets (user_name, project, period_start, spent, granted) VALUES ($1, $2, $3, 0, 0)
		ON CONFLICT (user_name, project, period_start) DO NOTHING`)
	if err == nil {
		_, err = st.ExecContext(ctx, user, project, ps)
	}
	if err != nil {
		return fmt.Errorf("obfsc_budgets: %w", err)
	}
	return nil
}

// querier is a transaction or the store.
type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func read(ctx context.Context, db *store.DB, tx *sql.Tx, a Account, countCost int64) (State, error) {
	start, _ := Period(a.At, a.PeriodDays)
	var s State
	var q querier = db
	if tx != nil {
		q = tx
	}
	err := q.QueryRowContext(ctx, `SELECT spent, granted FROM obfsc_budgets WHERE user_name = $1 AND project = $2 AND period_start = $3`,
		a.User, a.Project, store.FormatTime(start)).Scan(&s.spent, &s.granted)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return State{}, fmt.Errorf("obfsc_budgets: %w", err)
	}
	s.fill(a, countCost)
	return s, nil
}

// Read is the user's account in the period holding a.At.
func Read(ctx context.Context, db *store.DB, a Account, countCost int64) (State, error) {
	return read(ctx, db, nil, a, countCost)
}

// Grant adds units to the user's budget for the period holding a.At, in tx (the caller audits).
func Grant(ctx context.Context, db *store.DB, tx *sql.Tx, a Account, units int64, countCost int64) (State, error) {
	start, _ := Period(a.At, a.PeriodDays)
	ps := store.FormatTime(start)
	if err := ensure(ctx, db, tx, a.User, a.Project, ps); err != nil {
		return State{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE obfsc_budgets SET granted = granted + $4 WHERE user_name = $1 AND project = $2 AND period_start = $3`,
		a.User, a.Project, ps, units); err != nil {
		return State{}, fmt.Errorf("obfsc_budgets: %w", err)
	}
	return read(ctx, db, tx, a, countCost)
}

// Entry is one user's account in a project, for administrators.
type Entry struct {
	User    string `json:"user"`
	Project string `json:"project"`
	State
}

// List is every account of the period holding a.At (a.User and a.Project empty) or of one
// project, for administrators; only accounts that spent or were granted something appear.
func List(ctx context.Context, db *store.DB, a Account, countCost int64) ([]Entry, error) {
	start, _ := Period(a.At, a.PeriodDays)
	rows, err := db.QueryContext(ctx, `SELECT user_name, project, spent, granted FROM obfsc_budgets
		WHERE period_start = $1 AND ($2 = '' OR project = $2) AND ($3 = '' OR user_name = $3) ORDER BY project, user_name`,
		store.FormatTime(start), a.Project, a.User)
	if err != nil {
		return nil, fmt.Errorf("obfsc_budgets: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.User, &e.Project, &e.spent, &e.granted); err != nil {
			return nil, err
		}
		e.fill(a, countCost)
		out = append(out, e)
	}
	return out, rows.Err()
}
