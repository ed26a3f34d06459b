package airlock

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/governance"
)

// DefaultAnalysis is the analysis an export names when its submission names none; an
// ethics application covering exports of several agencies' data lists it.
const DefaultAnalysis = "export"

// admit asks issue 9's governance gate whether files aggregating the data of agencies may
// leave project x under analysis. Unnamed agencies are the project's own; a site-wide
// project must name them. Every agency must be admitted: an aggregate cannot be filtered
// after it was made, so an export including an agency that is left out (no consent, or
// consent withdrawn by the agency or its region) is refused with the agencies and reasons,
// and the analyst remakes it from the admitted agencies' data. A refusal is audited.
func (s *Service) admit(ctx context.Context, p access.Principal, x access.Project, agencies []string, analysis string) (governance.Admitted, error) {
	analysis = cmp.Or(analysis, DefaultAnalysis)
	if len(agencies) == 0 {
		if x.Agency == "" {
			return governance.Admitted{}, fmt.Errorf("%w: project %s is site-wide: name the agencies whose data the files aggregate", derrors.Invalid, x.Code)
		}
		agencies = []string{x.Agency}
	}
	a, err := s.Gate.Admit(ctx, x.Code, agencies, analysis)
	if err == nil && len(a.Left) > 0 {
		var left []string
		for _, l := range a.Left {
			left = append(left, l.Agency+" ("+l.Reason+")")
		}
		err = fmt.Errorf("%w: the files aggregate data of %d agencies that may not enter analysis %s: %s; remake them from the data of %s only and name those agencies",
			derrors.Forbidden, len(a.Left), analysis, strings.Join(left, "; "), cmp.Or(strings.Join(a.Agencies, ", "), "no agency"))
	}
	if errors.Is(err, derrors.Forbidden) {
		if rerr := s.Access.Record(ctx, p, "export.gate_refused", "project/"+x.Code,
			map[string]string{"analysis": analysis, "agencies": strings.Join(agencies, " "), "reason": err.Error()}); rerr != nil {
			return a, errors.Join(err, rerr)
		}
	}
	return a, err
}

// basis names what admitted an export: the approved application, or the single agency.
func basis(a governance.Admitted) string {
	if a.Application != "" {
		return a.Application
	}
	return "single-agency:" + a.SingleAgency
}
