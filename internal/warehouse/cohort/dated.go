package cohort

import (
	"context"
	"errors"

	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// datedFacts will keep dated facts of concepts in memory.
type datedFacts struct{}

func (s *Scope) datedOnly(p *querydef.Panel, it *querydef.Item, t int) bool { return false }

func (s *Scope) datedSet(ctx context.Context, codes []string, p *querydef.Panel, it *querydef.Item) (*set, error) {
	return nil, errors.New("not yet")
}
