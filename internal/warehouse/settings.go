package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse/budget"
	"github.com/stewardhealth/steward/internal/warehouse/noise"
)

// Settings are the obfuscation, budget and lockout settings (i2b2's crc.properties names in
// brackets). Administrators change them through the settings API or serve's flags; the stored
// ones apply, and Warehouse.Settings only until settings are first saved.
type Settings struct {
	Noise noise.Mode `json:"noise"` // budget (default) or i2b2
	// Sigma is the noise of a count: 10 in budget mode; [obfuscation.count.sigma] 1.323 in i2b2's.
	Sigma float64 `json:"sigma"`
	// BreakdownSigma is the noise of a breakdown cell: 10; [breakdowncount.sigma] 1.6.
	BreakdownSigma float64 `json:"breakdown_sigma"`
	// Minimum [obfuscation.minimum.value] 3: a total of this many patients or fewer is never shown.
	Minimum int `json:"minimum"`
	// Threshold (budget mode): a noisy count under it is shown as "< Threshold" (60).
	Threshold int `json:"threshold"`
	// Breakdowns (budget mode): "noised" — given when asked for, noised and thresholded cell
	// by cell under the budget — or "withheld" from obfuscated users.
	Breakdowns string `json:"breakdowns"`
	// Budget (budget mode) is ρ (zCDP) per user, project and period: 0.1.
	Budget float64 `json:"budget"`
	// PeriodDays (budget mode) is the budget's period, in days: 30.
	PeriodDays int `json:"period_days"`
	// LockoutCount [lockout.setfinderquery.count] 7: the answers that lock a user out of
	// queries — in budget mode, runs of the same query; in i2b2's, results with the same real
	// count. 0 turns the lockout off.
	LockoutCount int `json:"lockout_count"`
	// LockoutDays [lockout.setfinderquery.day] 30: the lockout's window.
	LockoutDays int `json:"lockout_days"`
	// LockoutZeros [lockout.setfinderquery.zero.count]: i2b2's mode counts zero results too.
	LockoutZeros bool `json:"lockout_zeros"`
	// Epoch (budget mode) is the noise key's epoch: raising it gives every question fresh
	// noise (and a fresh cost) — after a suspected leak of answers, for example.
	Epoch int `json:"epoch"`
	// TableExtremes lets computed tables give the minimum and maximum of a numeric value
	// (each one person's value): refused unless set, as ACRO does.
	TableExtremes bool `json:"table_extremes"`
}

// Breakdown settings.
const (
	BreakdownsNoised   = "noised"
	BreakdownsWithheld = "withheld"
)

// DefaultSettings are the budget mode's: σ 10, threshold 60, ρ 0.1 per 30 days, breakdowns
// noised on request, and i2b2's minimum and lockout (7 runs of the same query in 30 days).
func DefaultSettings() Settings {
	return Settings{Noise: noise.Budget, Sigma: 10, BreakdownSigma: 10, Minimum: 3, Threshold: 60, Breakdowns: BreakdownsNoised,
		Budget: 0.1, PeriodDays: 30, LockoutCount: 7, LockoutDays: 30, Epoch: 1}
}

// I2B2Settings are i2b2's own (crc.properties): fresh noise σ 1.323, breakdowns σ 1.6,
// minimum 3, lockout after 7 results with the same real count in 30 days; no budget.
func I2B2Settings() Settings {
	s := DefaultSettings()
	s.Noise, s.Sigma, s.BreakdownSigma, s.Threshold = noise.I2B2, 1.323, 1.6, 4
	return s
}

// Validate checks the settings, naming the field that is wrong.
func (s Settings) Validate() error {
	bad := func(field, want string) error {
		return fmt.Errorf("%w: obfuscation setting %s: want %s", derrors.Invalid, field, want)
	}
	switch {
	case s.Noise != noise.Budget && s.Noise != noise.I2B2:
		return bad("noise", "budget or i2b2")
	case !(s.Sigma >= 0.5 && s.Sigma <= 1000):
		return bad("sigma", "0.5 to 1000")
	case !(s.BreakdownSigma >= 0.5 && s.BreakdownSigma <= 1000):
		return bad("breakdown_sigma", "0.5 to 1000")
	case s.Minimum < 0 || s.Minimum > 1000:
		return bad("minimum", "0 to 1000")
	case s.Noise == noise.Budget && (s.Threshold <= s.Minimum || s.Threshold > 100000):
		return bad("threshold", "more than the minimum, at most 100000")
	case s.Breakdowns != BreakdownsNoised && s.Breakdowns != BreakdownsWithheld:
		return bad("breakdowns", "noised or withheld")
	case s.Noise == noise.Budget && !(s.Budget > 0 && s.Budget <= 100):
		return bad("budget", "more than 0, at most 100 (ρ of zCDP)")
	case s.Noise == noise.Budget && budget.Units(s.Budget) < budget.Units(budget.CountRho(s.Sigma)):
		return bad("budget", fmt.Sprintf("at least one count's cost, %.4g at sigma %g", budget.CountRho(s.Sigma), s.Sigma))
	case s.PeriodDays < 1 || s.PeriodDays > 366:
		return bad("period_days", "1 to 366")
	case s.LockoutCount < 0 || s.LockoutCount > 10000:
		return bad("lockout_count", "0 (off) to 10000")
	case s.LockoutDays < 1 || s.LockoutDays > 366:
		return bad("lockout_days", "1 to 366")
	case s.Epoch < 1:
		return bad("epoch", "1 or more")
	}
	return nil
}

// Guarantee is what the settings promise (budget mode); i2b2's mode promises nothing.
func (s Settings) Guarantee() *budget.Guarantee {
	if s.Noise != noise.Budget {
		return nil
	}
	g := s.params().State()
	return &g
}

func (s Settings) params() budget.Params {
	return budget.Params{Sigma: s.Sigma, BreakdownSigma: s.BreakdownSigma, Minimum: s.Minimum, Threshold: s.Threshold,
		Rho: s.Budget, PeriodDays: s.PeriodDays}
}

// countCost and dimensionCost are the account units of a new count and a new breakdown dimension.
func (s Settings) countCost() int64     { return budget.Units(budget.CountRho(s.Sigma)) }
func (s Settings) dimensionCost() int64 { return budget.Units(budget.CountRho(s.BreakdownSigma)) }

// account is p's budget in project at.
func (s Settings) account(p access.Principal, project string, at time.Time) budget.Account {
	return budget.Account{User: p.User, Project: project, At: at, PeriodDays: s.PeriodDays, Limit: budget.Units(s.Budget)}
}

// SettingsView is the settings with what they promise, as the settings API shows them.
type SettingsView struct {
	Settings
	Guarantee *budget.Guarantee `json:"guarantee,omitempty"`
	Weaker    string            `json:"weaker,omitempty"` // i2b2's mode: what it does not protect
	UpdatedAt time.Time         `json:"updated_at,omitzero"`
	UpdatedBy string            `json:"updated_by,omitempty"`
}

// i2b2Weaker says what i2b2's mode leaves open, from the attack harness's figures.
const i2b2Weaker = "i2b2's mode draws fresh noise on every run and has no budget: averaging repeats, rewordings or " +
	"partitions (X AND A with X AND NOT A) recovers exact counts (the attack harness: 84–100 % of cohorts within 80 answers), " +
	"and the lockout, counting results with the same real count, is itself a signal. Use it only where i2b2's exact behaviour is required."

// CurrentSettings are the settings in force: the stored ones, else w.Settings.
func (w *Warehouse) CurrentSettings(ctx context.Context) (Settings, error) {
	v, err := w.settingsView(ctx)
	return v.Settings, err
}

func (w *Warehouse) settingsView(ctx context.Context) (SettingsView, error) {
	v := SettingsView{Settings: w.Settings}
	var text, by string
	var at store.NullTime
	st, err := w.DB.Prepared(ctx, `SELECT settings, updated_at, updated_by FROM obfsc_settings WHERE id = 1`)
	if err == nil {
		err = st.QueryRowContext(ctx).Scan(&text, &at, &by)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return v, fmt.Errorf("obfsc_settings: %w", err)
	default:
		var s Settings
		if err := json.Unmarshal([]byte(text), &s); err != nil {
			return v, fmt.Errorf("obfsc_settings: %w", err)
		}
		if err := s.Validate(); err != nil {
			return v, fmt.Errorf("obfsc_settings: %w", err)
		}
		v.Settings, v.UpdatedAt, v.UpdatedBy = s, at.Time, by
	}
	v.Guarantee = v.Settings.Guarantee()
	if v.Noise == noise.I2B2 {
		v.Weaker = i2b2Weaker
	}
	return v, nil
}

// ShowSettings returns the settings in force and their guarantee to any signed-in user: how
// the noise is made is no secret (the key is).
func (w *Warehouse) ShowSettings(ctx context.Context, p access.Principal) (SettingsView, error) {
	if p.User == "" {
		return SettingsView{}, derrors.Unauthenticated
	}
	return w.settingsView(ctx)
}

// SaveSettings stores new settings (administrators of the whole site), audited with every
// field that changed and the reason.
func (w *Warehouse) SaveSettings(ctx context.Context, p access.Principal, s Settings, reason string) (SettingsView, error) {
	if err := access.Check(p, access.ManageUsers, access.Project{}); err != nil || p.Agency != "" {
		return SettingsView{}, errors.Join(fmt.Errorf("%w: only the site's administrators change the obfuscation settings", derrors.Forbidden),
			w.Access.Record(ctx, p, "warehouse.settings_refused", "warehouse/settings", map[string]string{"reason": "not a site administrator"}))
	}
	if err := s.Validate(); err != nil {
		return SettingsView{}, err
	}
	reason = strings.TrimSpace(reason)
	if len(reason) < 5 || len(reason) > 500 {
		return SettingsView{}, fmt.Errorf("%w: give a reason for the change (5 to 500 characters)", derrors.Invalid)
	}
	old, err := w.CurrentSettings(ctx)
	if err != nil {
		return SettingsView{}, err
	}
	b, _ := json.Marshal(s)
	now := time.Now().UTC()
	detail := changes(old, s)
	detail["reason"] = reason
	err = w.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO obfsc_settings (id, settings, updated_at, updated_by) VALUES (1, $1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			string(b), store.FormatTime(now), p.User)
		if err != nil {
			return fmt.Errorf("obfsc_settings: %w", err)
		}
		return w.Access.RecordTx(ctx, tx, p, "warehouse.settings", "warehouse/settings", detail)
	})
	if err != nil {
		return SettingsView{}, err
	}
	return w.settingsView(ctx)
}

// changes lists the fields that differ, "old → new", by their JSON names.
func changes(a, b Settings) map[string]string {
	var ma, mb map[string]any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	json.Unmarshal(ja, &ma)
	json.Unmarshal(jb, &mb)
	out := map[string]string{}
	for k, v := range mb {
		if fmt.Sprint(ma[k]) != fmt.Sprint(v) {
			out[k] = fmt.Sprint(ma[k]) + " → " + fmt.Sprint(v)
		}
	}
	if len(out) == 0 {
		out["unchanged"] = "true"
	}
	return out
}
