package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/warehouse/budget"
	"github.com/stewardhealth/steward/internal/warehouse/noise"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// Concept is a node of the concept tree.
type Concept struct {
	Path string `json:"path"`
	Code string `json:"code"`
	Name string `json:"name"`
	Leaf bool   `json:"leaf"`
	// Totalnum is i2b2's count of the patients with a fact at or under the concept, as the
	// role may see it (ChildrenCounted only; 0 when below the threshold), and how it is written.
	Totalnum      *int64 `json:"totalnum,omitempty"`
	TotalnumShown string `json:"totalnum_shown,omitempty"`
}

// Children lists the concepts directly under parent (`\` lists the roots) that the project's
// queries can see.
func (w *Warehouse) Children(ctx context.Context, p access.Principal, projectCode, parent string) ([]Concept, error) {
	x, agency, err := w.project(ctx, p, projectCode)
	if err != nil {
		return nil, err
	}
	if err := access.Check(p, access.ObfuscatedCount, x); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(parent, `\`) {
		parent += `\`
	}
	rows, err := w.DB.QueryContext(ctx, `SELECT DISTINCT concept_path, concept_cd, name_char FROM concept_dimension
		WHERE substr(concept_path, 1, $1) = $2 AND concept_path <> $2 AND (agency = '' OR $3 = '' OR agency = $3)`, len(parent), parent, agency)
	if err != nil {
		return nil, fmt.Errorf("concept_dimension: %w", err)
	}
	defer rows.Close()
	var all []Concept
	for rows.Next() {
		var c Concept
		if err := rows.Scan(&c.Path, &c.Code, &c.Name); err != nil {
			return nil, err
		}
		all = append(all, c)
	}
	out := []Concept{}
	for _, c := range all {
		rest := strings.TrimSuffix(c.Path[len(parent):], `\`)
		if rest == "" || strings.Contains(rest, `\`) {
			continue
		}
		c.Leaf = !slices.ContainsFunc(all, func(o Concept) bool { return len(o.Path) > len(c.Path) && strings.HasPrefix(o.Path, c.Path) })
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Concept) int { return strings.Compare(a.Path, b.Path) })
	return out, rows.Err()
}

// ChildrenCounted is Children with each concept's totalnum: exact for DATA_AGG and higher
// roles; for DATA_OBFSC obfuscated as the one-item query of the concept would be — the same
// answer, and in budget mode the same release, so that asking for the concept afterwards
// costs nothing more (and the listing costs nothing for concepts already asked). In budget
// mode the listing is refused whole, and audited, when the budget cannot pay for every new
// count; a locked-out user is refused as for queries.
func (w *Warehouse) ChildrenCounted(ctx context.Context, p access.Principal, projectCode, parent string) ([]Concept, error) {
	cs, err := w.Children(ctx, p, projectCode, parent)
	if err != nil || len(cs) == 0 {
		return cs, err
	}
	x, agency, err := w.project(ctx, p, projectCode)
	if err != nil {
		return nil, err
	}
	st, err := w.CurrentSettings(ctx)
	if err != nil {
		return nil, err
	}
	exact := access.Allowed(p, access.ExactCount, x)
	if !exact {
		if err := w.refuseLocked(ctx, p, x); err != nil {
			return nil, err
		}
	}
	counts := make([]int64, len(cs))
	canon := make([]string, len(cs))
	s, err := w.cohorts.Scope(ctx, agency)
	var gen int64
	if err == nil {
		gen = s.Generation()
	}
	var adm admission
	if err == nil {
		adm, err = w.admit(ctx, p, x, s.Generation(), agency, AnalysisCount)
	}
	for i := range cs {
		if err != nil {
			break
		}
		q := querydef.Query{Panels: []querydef.Panel{{Items: []querydef.Item{{Key: cs[i].Path}}}}}
		if err = q.Normalize(); err != nil {
			break
		}
		canon[i] = q.Canonical()
		var b *roaring.Bitmap
		if b, err = s.Patients(ctx, q, w.resolver(p, x)); err == nil {
			counts[i] = int64(adm.apply(b).GetCardinality())
		}
	}
	if err != nil {
		return nil, err
	}
	var releases []budget.Release
	keys := make([]question, len(cs))
	for i := range cs {
		n, shown := counts[i], strconv.FormatInt(counts[i], 10)
		switch {
		case exact:
		case st.Noise == noise.I2B2:
			n = noise.Obfuscate(n, st.Minimum, st.Sigma, noise.RandomZ())
			shown = noise.Shown(n, st.Minimum)
		default:
			keys[i] = w.question(st, x.Code, gen, adm, canon[i])
			n, shown, _ = keys[i].total(st, n, nil, nil, nil)
			releases = append(releases, keys[i].releases(st, nil, Answer{Count: n, Shown: shown})...)
		}
		cs[i].Totalnum, cs[i].TotalnumShown = &n, shown
	}
	detail := map[string]string{"parent": parent, "concepts": strconv.Itoa(len(cs)), "method": "exact"}
	if !exact {
		detail["method"] = "OBTOTAL " + string(st.Noise)
	}
	adm.audit(detail)
	err = w.DB.Tx(ctx, func(tx *sql.Tx) error {
		if !exact {
			if err := w.serialise(ctx, tx, p.User); err != nil {
				return err
			}
			if err := w.lockedIn(ctx, tx, p.User); err != nil {
				return err
			}
		}
		if releases != nil {
			state, err := budget.Spend(ctx, w.DB, tx, st.account(p, x.Code, time.Now().UTC()), releases, st.countCost())
			if err != nil {
				return err
			}
			for i := range cs { // what the user was told before, told again
				a := Answer{Count: *cs[i].Totalnum, Shown: cs[i].TotalnumShown}
				if err := keys[i].replay(&a, state, nil); err != nil {
					return err
				}
				cs[i].Totalnum, cs[i].TotalnumShown = &a.Count, a.Shown
			}
			detail["cost"] = strconv.FormatFloat(state.Cost, 'g', 6, 64)
		}
		return w.Access.RecordTx(ctx, tx, p, "warehouse.totalnum", "project/"+x.Code, detail)
	})
	if le := (errLockedIn{}); errors.As(err, &le) {
		return nil, w.refusedLocked(ctx, p, x, le.at)
	}
	if errors.Is(err, budget.ErrSpent) {
		return nil, errors.Join(fmt.Errorf("totalnums of %d concepts under %s: %w", len(cs), parent, err),
			w.Access.Record(ctx, p, "warehouse.budget_refused", "project/"+x.Code,
				map[string]string{"reason": "privacy budget spent", "totalnums": strconv.Itoa(len(cs)), "parent": parent}))
	}
	if err != nil {
		return nil, fmt.Errorf("totalnum: %w", err)
	}
	return cs, nil
}
