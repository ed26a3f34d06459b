package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/warehouse/budget"
	"github.com/stewardhealth/steward/internal/warehouse/noise"
)

// The budget's API: a user reads their own account in a project; administrators list the
// period's accounts and grant more (for the current period, with a reason, audited).

// Budget is p's account in the project for the current period (budget mode).
func (w *Warehouse) Budget(ctx context.Context, p access.Principal, projectCode string) (budget.State, error) {
	x, _, err := w.project(ctx, p, projectCode)
	if err != nil {
		return budget.State{}, err
	}
	if err := access.Check(p, access.ObfuscatedCount, x); err != nil {
		return budget.State{}, w.refused(ctx, p, "project/"+x.Code, "budget", err)
	}
	st, err := w.budgetSettings(ctx)
	if err != nil {
		return budget.State{}, err
	}
	return budget.Read(ctx, w.DB, st.account(p, x.Code, time.Now().UTC()), st.countCost())
}

func (w *Warehouse) budgetSettings(ctx context.Context) (Settings, error) {
	st, err := w.CurrentSettings(ctx)
	if err == nil && st.Noise != noise.Budget {
		err = fmt.Errorf("%w: the server runs i2b2's noise, which has no budget", derrors.NotFound)
	}
	return st, err
}

// Budgets lists the current period's accounts that spent or were granted something, of one
// project or of all (""), for administrators and directors (cut to their agency's users).
func (w *Warehouse) Budgets(ctx context.Context, p access.Principal, projectCode string) ([]budget.Entry, error) {
	if err := access.Check(p, access.UnlockAccount, access.Project{}); err != nil {
		return nil, w.refused(ctx, p, "warehouse/budgets", "list budgets", err)
	}
	st, err := w.budgetSettings(ctx)
	if err != nil {
		return nil, err
	}
	a := st.account(access.Principal{}, projectCode, time.Now().UTC())
	es, err := budget.List(ctx, w.DB, a, st.countCost())
	if err != nil || p.Agency == "" {
		return es, err
	}
	out := es[:0]
	for _, e := range es {
		if u, err := w.Access.User(ctx, e.User); err == nil && u.Agency == p.Agency {
			out = append(out, e)
		}
	}
	return out, nil
}

// GrantBudget lets user be told counts more new counts in the project during the current
// period (steward administrators — not directors, who may list budgets — with a reason;
// audited). Each grant weakens the guarantee for that
// user: their ρ for the period is the budget plus what was granted.
func (w *Warehouse) GrantBudget(ctx context.Context, p access.Principal, user, projectCode string, counts int, reason string) (budget.State, error) {
	if err := access.Check(p, access.ManageUsers, access.Project{}); err != nil {
		return budget.State{}, w.refused(ctx, p, "user/"+user, "grant budget", err)
	}
	reason = strings.TrimSpace(reason)
	if len(reason) < 5 || len(reason) > 500 {
		return budget.State{}, fmt.Errorf("%w: give a reason for the grant (5 to 500 characters)", derrors.Invalid)
	}
	if counts < 1 || counts > 10000 {
		return budget.State{}, fmt.Errorf("%w: grant 1 to 10000 counts", derrors.Invalid)
	}
	u, err := w.Access.User(ctx, user)
	if err != nil || (p.Agency != "" && u.Agency != p.Agency) {
		return budget.State{}, fmt.Errorf("%w: user %s", derrors.NotFound, user)
	}
	x, _, err := w.project(ctx, p, projectCode)
	if err != nil {
		return budget.State{}, err
	}
	st, err := w.budgetSettings(ctx)
	if err != nil {
		return budget.State{}, err
	}
	units := int64(counts) * st.countCost()
	a := st.account(access.Principal{User: user}, x.Code, time.Now().UTC())
	var s budget.State
	err = w.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if s, err = budget.Grant(ctx, w.DB, tx, a, units, st.countCost()); err != nil {
			return err
		}
		return w.Access.RecordTx(ctx, tx, p, "warehouse.budget_grant", "user/"+user, map[string]string{"project": x.Code,
			"counts": strconv.Itoa(counts), "rho": strconv.FormatFloat(budget.Rho(units), 'g', 6, 64),
			"period_end": s.PeriodEnd.Format(time.RFC3339), "reason": reason})
	})
	return s, err
}

// refused audits a refusal of what (warehouse.refused) and returns err with any failure to audit it.
func (w *Warehouse) refused(ctx context.Context, p access.Principal, object, what string, err error) error {
	return errors.Join(err, w.Access.Record(ctx, p, "warehouse.refused", object, map[string]string{"asked": what, "reason": err.Error()}))
}
