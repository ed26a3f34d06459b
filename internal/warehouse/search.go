package warehouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/stewardhealth/steward/internal/access"
)

// SearchLimit is the most concepts Search returns.
const SearchLimit = 50

// Search finds the concepts that the project's queries can see whose name or code holds
// text (any case), the shortest paths first, at most SearchLimit. Leaf is not set: a result is
// a concept to pick, wherever it sits in the tree.
func (w *Warehouse) Search(ctx context.Context, p access.Principal, projectCode, text string) ([]Concept, error) {
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
		ORDER BY LENGTH(concept_path), concept_path LIMIT %d`, SearchLimit), like, agency)
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
