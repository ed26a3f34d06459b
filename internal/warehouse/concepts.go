package warehouse

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stewardhealth/steward/internal/access"
)

// Concept is a node of the concept tree.
type Concept struct {
	Path string `json:"path"`
	Code string `json:"code"`
	Name string `json:"name"`
	Leaf bool   `json:"leaf"`
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
