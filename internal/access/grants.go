package access

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
)

// Grant gives user the role in the project; on the track every lower role comes with it.
func (s *Service) Grant(ctx context.Context, p Principal, user, project string, r Role) error {
	x, u, err := s.grantTarget(ctx, p, user, project, r)
	if err != nil {
		return err
	}
	add, _ := cascade(r)
	now := store.FormatTime(time.Now())
	return s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		if r == DataPublisher { // issue 8: at most MaxPublishers per project
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM grants WHERE project = $1 AND role = $2 AND user_name <> $3`,
				x.Code, string(r), u.Name).Scan(&n); err != nil {
				return audit.Entry{}, err
			}
			if n >= MaxPublishers {
				return audit.Entry{}, fmt.Errorf("%w: project %s already has %d data publishers", derrors.Invalid, x.Code, n)
			}
		}
		var added []string
		for _, role := range add {
			res, err := tx.ExecContext(ctx, `INSERT INTO grants (user_name, project, role, granted_by, granted_at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_name, project, role) DO NOTHING`, u.Name, x.Code, string(role), p.User, now)
			if err != nil {
				return audit.Entry{}, fmt.Errorf("grant %s to %s in %s: %w", role, u.Name, x.Code, err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				added = append(added, string(role))
			}
		}
		return event(p, "grant", "project/"+x.Code+"/user/"+u.Name, map[string]string{
			"role": string(r), "added": strings.Join(added, " ")}), nil
	})
}

// Revoke takes the role from user in the project; on the track every higher role goes with it.
func (s *Service) Revoke(ctx context.Context, p Principal, user, project string, r Role) error {
	x, u, err := s.grantTarget(ctx, p, user, project, r)
	if err != nil {
		return err
	}
	_, remove := cascade(r)
	return s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		var removed []string
		for _, role := range remove {
			res, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE user_name = $1 AND project = $2 AND role = $3`, u.Name, x.Code, string(role))
			if err != nil {
				return audit.Entry{}, fmt.Errorf("revoke %s from %s in %s: %w", role, u.Name, x.Code, err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				removed = append(removed, string(role))
			}
		}
		return event(p, "revoke", "project/"+x.Code+"/user/"+u.Name, map[string]string{
			"role": string(r), "removed": strings.Join(removed, " ")}), nil
	})
}

// grantTarget checks that p manages grants in the project and that the user may hold roles
// there (a user of one agency never holds roles in another agency's project).
func (s *Service) grantTarget(ctx context.Context, p Principal, user, project string, r Role) (Project, User, error) {
	if _, err := ParseRole(string(r)); err != nil {
		return Project{}, User{}, err
	}
	x, err := scanProject(s.DB.QueryRowContext(ctx, `SELECT code, name, COALESCE(agency, '') FROM projects WHERE code = $1`, project))
	if err == sql.ErrNoRows || err == nil && !Allowed(p, ViewProject, x) && !Allowed(p, ManageGrants, x) {
		return x, User{}, fmt.Errorf("%w: project %s", derrors.NotFound, project)
	}
	if err != nil {
		return x, User{}, err
	}
	if err := Check(p, ManageGrants, x); err != nil {
		return x, User{}, err
	}
	u, err := s.User(ctx, user)
	if err != nil {
		return x, u, err
	}
	if !p.Sees(u.Agency) {
		return x, u, fmt.Errorf("%w: user %s", derrors.NotFound, user)
	}
	if x.Agency != "" && u.Agency != "" && u.Agency != x.Agency {
		return x, u, fmt.Errorf("%w: user %s of agency %s cannot hold roles in project %s of agency %s",
			derrors.Invalid, u.Name, u.Agency, x.Code, x.Agency)
	}
	return x, u, nil
}

// Grants lists the roles held in a project, for those who manage its grants.
func (s *Service) Grants(ctx context.Context, p Principal, project string) ([]Grant, error) {
	x, err := s.Project(ctx, p, project)
	if err != nil {
		return nil, err
	}
	if err := Check(p, ManageGrants, x); err != nil {
		return nil, err
	}
	gs, err := list(ctx, s.DB, func(r interface{ Scan(...any) error }) (Grant, error) {
		var g Grant
		var at string
		err := r.Scan(&g.User, &g.Project, &g.Role, &g.By, &at)
		if err == nil {
			g.At, err = store.ParseTime(at)
		}
		return g, err
	}, `SELECT user_name, project, role, granted_by, granted_at FROM grants WHERE project = $1 ORDER BY user_name`, x.Code)
	// By user, then in the order of Roles (the track least first).
	slices.SortStableFunc(gs, func(a, b Grant) int {
		return cmp.Or(cmp.Compare(a.User, b.User), cmp.Compare(slices.Index(Roles, a.Role), slices.Index(Roles, b.Role)))
	})
	return gs, err
}

// Principal loads what a user holds. source is the address the request came from.
func (s *Service) Principal(ctx context.Context, name, source string) (Principal, error) {
	u, err := s.User(ctx, name)
	if err != nil {
		return Principal{}, err
	}
	p := Principal{User: u.Name, Agency: u.Agency, Admin: u.Admin, Director: u.Director, Source: source}
	return p, s.loadGrants(ctx, &p)
}

// loadGrants fills in the roles p.User holds, and their access level.
func (s *Service) loadGrants(ctx context.Context, p *Principal) error {
	if err := s.loadLevel(ctx, p); err != nil {
		return err
	}
	p.Projects = map[string][]Role{}
	rows, err := s.DB.QueryContext(ctx, `SELECT project, role FROM grants WHERE user_name = $1`, p.User)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var project, role string
		if err := rows.Scan(&project, &role); err != nil {
			return err
		}
		p.Projects[project] = append(p.Projects[project], Role(role))
	}
	return rows.Err()
}
