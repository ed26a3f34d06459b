package warehouse

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
)

// Match strategies of Search, as i2b2's get_name_info names them.
const (
	MatchContains = "contains"
	MatchExact    = "exact"
	MatchLeft     = "left"  // the name starts with the text
	MatchRight    = "right" // the name ends with the text
)

// Search lists the concepts under the path whose name matches text (case-insensitively) by
// the strategy, at most max of them (0: 200), in path order — the concepts the project's
// queries can see, as Children lists them (issue 20: i2b2's getNameInfo).
func (w *Warehouse) Search(ctx context.Context, p access.Principal, projectCode, under, text, strategy string, max int) ([]Concept, error) {
	x, agency, err := w.project(ctx, p, projectCode)
	if err != nil {
		return nil, err
	}
	if err := access.Check(p, access.ObfuscatedCount, x); err != nil {
		return nil, err
	}
	text = strings.ToLower(strings.TrimSpace(text))
	if text == "" || len(text) > 200 {
		return nil, fmt.Errorf("%w: the search text is 1 to 200 characters", derrors.Invalid)
	}
	match := map[string]func(string) bool{
		MatchContains: func(s string) bool { return strings.Contains(s, text) },
		MatchExact:    func(s string) bool { return s == text },
		MatchLeft:     func(s string) bool { return strings.HasPrefix(s, text) },
		MatchRight:    func(s string) bool { return strings.HasSuffix(s, text) },
	}[strings.ToLower(strategy)]
	if match == nil {
		return nil, fmt.Errorf("%w: search strategy %q (want contains, exact, left or right)", derrors.Invalid, strategy)
	}
	if max <= 0 || max > 200 {
		max = 200
	}
	if !strings.HasSuffix(under, `\`) {
		under += `\`
	}
	rows, err := w.DB.QueryContext(ctx, `SELECT DISTINCT concept_path, concept_cd, name_char FROM concept_dimension
		WHERE substr(concept_path, 1, $1) = $2 AND (agency = '' OR $3 = '' OR agency = $3)`, len(under), under, agency)
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
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b Concept) int { return strings.Compare(a.Path, b.Path) })
	all = slices.CompactFunc(all, func(a, b Concept) bool { return a.Path == b.Path })
	out := []Concept{}
	for i, c := range all {
		// In path order, a concept is a folder when the next path lies under it.
		c.Leaf = i+1 == len(all) || !strings.HasPrefix(all[i+1].Path, c.Path)
		if match(strings.ToLower(c.Name)) {
			out = append(out, c)
			if len(out) == max {
				break
			}
		}
	}
	return out, nil
}

// FindLimit is the most concepts FindConcepts returns.
const FindLimit = 50

// FindConcepts finds the concepts that the project's queries can see whose name or code holds
// text (any case), the shortest paths first, at most FindLimit. Leaf is not set: a result is
// a concept to pick, wherever it sits in the tree.
func (w *Warehouse) FindConcepts(ctx context.Context, p access.Principal, projectCode, text string) ([]Concept, error) {
	x, agency, err := w.project(ctx, p, projectCode)
	if err != nil {
		return nil, err
	}
	if err := access.Check(p, access.ObfuscatedCount, x); err != nil {
		return nil, err
	}
	text = strings.TrimSpace(text)
	out := []Concept{}
	if text == "" {
		return out, nil
	}
	like := "%" + strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(strings.ToLower(text)) + "%"
	// The shortest paths first: a chapter before its codes.
	rows, err := w.DB.QueryContext(ctx, fmt.Sprintf(`SELECT DISTINCT concept_path, concept_cd, name_char, LENGTH(concept_path) FROM concept_dimension
		WHERE (LOWER(name_char) LIKE $1 ESCAPE '!' OR LOWER(concept_cd) LIKE $1 ESCAPE '!') AND (agency = '' OR $2 = '' OR agency = $2)
		ORDER BY LENGTH(concept_path), concept_path LIMIT %d`, FindLimit), like, agency)
	if err != nil {
		return nil, fmt.Errorf("concept_dimension: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Concept
		var n int
		if err := rows.Scan(&c.Path, &c.Code, &c.Name, &n); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
