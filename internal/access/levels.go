package access

import (
	"context"
	"fmt"
	"slices"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
)

// Level is a user's CORI access level (seed 002, Part C, "Access to CORI Servers"):
//
//   - evaluation group: the user's own agency's data (the most an associate agency's
//     personnel may have);
//   - district: the data of every agency of the user's region, in aggregates only (the most
//     an associate regional agency's personnel may have); patient-level data only of their
//     own agency, in its own projects;
//   - database administrator: the highest level, every agency's data, for CORI's own staff —
//     its database administrators, its executive director, its trainers (users of no agency).
//
// The level bounds what the roles a user holds in a project can reach; it grants nothing
// by itself. Allowed applies it with the roles; the warehouse reads the agencies
// Principal.DataScope names.
type Level string

const (
	LevelEvaluationGroup       Level = "evaluation_group"
	LevelDistrict              Level = "district"
	LevelDatabaseAdministrator Level = "database_administrator"
)

// Levels is every level, least first.
var Levels = []Level{LevelEvaluationGroup, LevelDistrict, LevelDatabaseAdministrator}

// ParseLevel checks a level's name ("" is the default of the user's affiliation).
func ParseLevel(s string) (Level, error) {
	if s == "" || slices.Contains(Levels, Level(s)) {
		return Level(s), nil
	}
	return "", fmt.Errorf("%w: unknown access level %q (want one of %v)", derrors.Invalid, s, Levels)
}

// levelCap is the highest level a user of the agency may hold, and the level a user holds
// when none is given: the seed's caps.
func levelCap(agency string, regional bool) (highest, def Level) {
	switch {
	case agency == "":
		return LevelDatabaseAdministrator, LevelDatabaseAdministrator
	case regional:
		return LevelDistrict, LevelEvaluationGroup
	}
	return LevelEvaluationGroup, LevelEvaluationGroup
}

// checkLevel refuses a level above the cap of the user's affiliation and returns the level
// the user holds.
func (s *Service) checkLevel(ctx context.Context, u User) (Level, error) {
	l, err := ParseLevel(string(u.Level))
	if err != nil {
		return "", err
	}
	var regional bool
	if u.Agency != "" {
		if err := s.DB.QueryRowContext(ctx, `SELECT regional FROM agencies WHERE code = $1`, u.Agency).Scan(&regional); err != nil {
			return "", fmt.Errorf("%w: agency %s does not exist", derrors.Invalid, u.Agency)
		}
	}
	highest, def := levelCap(u.Agency, regional)
	if l == "" {
		return def, nil
	}
	if slices.Index(Levels, l) > slices.Index(Levels, highest) {
		what := "an associate agency's personnel have at most evaluation group level"
		if regional {
			what = "an associate regional agency's personnel have at most district level"
		}
		return "", fmt.Errorf("%w: %s: %s cannot hold %s", derrors.Invalid, what, u.Name, l)
	}
	if u.Agency == "" && l != LevelDatabaseAdministrator {
		return "", fmt.Errorf("%w: a user of no agency is CORI's own staff, at database administrator level; give %s an agency for a lower level", derrors.Invalid, u.Name)
	}
	return l, nil
}

// loadLevel fills in p's level and, at district level, the agencies of its region.
func (s *Service) loadLevel(ctx context.Context, p *Principal) error {
	var level, region string
	var regional bool
	err := s.DB.QueryRowContext(ctx, `SELECT u.level, COALESCE(a.regional, FALSE), COALESCE(a.region, '')
		FROM users u LEFT JOIN agencies a ON a.code = u.agency WHERE u.name = $1`, p.User).Scan(&level, &regional, &region)
	if err != nil {
		return fmt.Errorf("level of %s: %w", p.User, err)
	}
	highest, def := levelCap(p.Agency, regional)
	p.AccessLevel = Level(level)
	if p.AccessLevel == "" || slices.Index(Levels, p.AccessLevel) > slices.Index(Levels, highest) {
		p.AccessLevel = def // a level above the cap (the agency lost its regional standing) falls back
	}
	p.District = nil
	if p.AccessLevel == LevelDistrict {
		p.District, err = store.Strings(ctx, s.DB, `SELECT code FROM agencies WHERE region = $1 ORDER BY code`, region)
	}
	return err
}

// DataScope is whose rows p's reads in a project of the whole site cover: one agency (the
// user's own, at evaluation group level), the agencies of a district (agencies, with
// agency ""), or every agency ("" and nil).
func (p Principal) DataScope() (agency string, district []string) {
	switch p.level() {
	case LevelEvaluationGroup:
		return p.Agency, nil
	case LevelDistrict:
		return "", p.District
	}
	return "", nil
}

// level is the principal's access level; a principal built by hand without one has its
// affiliation's default (the command line is site staff).
func (p Principal) level() Level {
	if p.AccessLevel != "" {
		return p.AccessLevel
	}
	if p.Agency != "" {
		return LevelEvaluationGroup
	}
	return LevelDatabaseAdministrator
}

// aggregate is what a district may do across its agencies: counts and export requests.
var aggregate = map[Action]bool{ObfuscatedCount: true, ExactCount: true, RequestExport: true, ViewProject: true,
	SubmitEthics: true, ManageGrants: true, ReviewExport: true, ApproveEthics: true, ManageExporters: true, RecordConsent: true}
