package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/trustelem/zxcvbn"

	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
)

// Service keeps users, organisations, projects, grants, tokens and lockouts in the
// application database, checking Allowed before every change and writing each change and its
// audit entry in one transaction.
type Service struct {
	DB     *store.DB
	Audit  store.Audit
	Config Config
	Notify Notifier // who hears of lockouts; nil: nobody is emailed (the lock is still audited)
	Log    *slog.Logger

	blocked blockCache
}

// Config holds the lockout and token settings.
type Config struct {
	AccountLockAfter  int           // failed sign-ins on one account from one address within Window that lock the account from there (default 5)
	AddressLockAfter  int           // failed sign-ins from one source address within Window that lock it (default 20)
	AccountAlertAfter int           // failed sign-ins on one account from anywhere within Window that alert the directors, never a lock (default 50)
	SignInDelay       time.Duration // the first delay after 2 failures from one address on one account, doubling (default 1 s; negative: none)
	Window            time.Duration // failures older than this no longer count (default 15 minutes)
	TokenTTL          time.Duration // lifetime of the token a sign-in returns (default 12 hours)
	// Refused requests of one signed-in user within RefusalWindow that lock the account
	// (seed 002: unauthorized access is locked at once; defaults 10 within 10 minutes).
	RefusalLockAfter int
	RefusalWindow    time.Duration
}

// Notifier sends a message to people (email in the server).
type Notifier interface {
	Notify(ctx context.Context, to []string, subject, body string) error
}

// New returns a service over db with cfg's zero fields set to their defaults.
func New(db *store.DB, cfg Config, n Notifier) *Service {
	if cfg.AccountLockAfter <= 0 {
		cfg.AccountLockAfter = 5
	}
	if cfg.AddressLockAfter <= 0 {
		cfg.AddressLockAfter = 20
	}
	if cfg.AccountAlertAfter <= 0 {
		cfg.AccountAlertAfter = 50
	}
	if cfg.SignInDelay == 0 {
		cfg.SignInDelay = time.Second
	}
	if cfg.Window <= 0 {
		cfg.Window = 15 * time.Minute
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 12 * time.Hour
	}
	if cfg.RefusalLockAfter <= 0 {
		cfg.RefusalLockAfter = 10
	}
	if cfg.RefusalWindow <= 0 {
		cfg.RefusalWindow = 10 * time.Minute
	}
	return &Service{DB: db, Audit: store.Audit{DB: db}, Config: cfg, Notify: n, Log: slog.Default()}
}

// User is a person who signs in.
type User struct {
	Name     string    `json:"name"`
	FullName string    `json:"full_name,omitempty"`
	Email    string    `json:"email,omitempty"`
	Agency   string    `json:"agency,omitempty"`
	Admin    bool      `json:"admin"`
	Director bool      `json:"director"`
	Level    Level     `json:"level,omitempty"` // CORI's access level ("" when creating: the default of the affiliation)
	Created  time.Time `json:"created"`
}

// Region groups agencies.
type Region struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Agency is an organisation whose users see only their own records.
type Agency struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Region   string `json:"region"`
	Regional bool   `json:"regional,omitempty"` // an associate regional agency: its personnel may hold district level
}

// Grant is one role a user holds in a project.
type Grant struct {
	User    string    `json:"user"`
	Project string    `json:"project"`
	Role    Role      `json:"role"`
	By      string    `json:"granted_by"`
	At      time.Time `json:"granted_at"`
}

var codeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// checkCode validates an identifier (user name, agency, region or project code).
func checkCode(field, v string) error {
	if !codeRE.MatchString(v) {
		return fmt.Errorf("%w: %s must be 1 to 63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", derrors.Invalid, field)
	}
	return nil
}

func checkText(field, v string, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return fmt.Errorf("%w: %s is required", derrors.Invalid, field)
	case len(v) > 200:
		return fmt.Errorf("%w: %s is longer than 200 characters", derrors.Invalid, field)
	case strings.ContainsFunc(v, func(r rune) bool { return r < ' ' }):
		return fmt.Errorf("%w: %s contains control characters", derrors.Invalid, field)
	}
	return nil
}

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 12

// MinPasswordScore is the least zxcvbn score (0–4) a password must have: at 3, about 10⁸
// guesses, beyond what the lockout lets anyone try online.
const MinPasswordScore = 3

// checkPassword refuses passwords too short, too long, or easy to guess: zxcvbn's estimate
// (github.com/trustelem/zxcvbn, which bundles lists of common and leaked passwords, names
// and words, and finds repeats, sequences, keyboard rows and dates) must reach
// MinPasswordScore, the user's own name, full name and e-mail address counting as known.
func checkPassword(pw string, known ...string) error {
	if len(pw) < MinPasswordLen || len(pw) > 1024 {
		return fmt.Errorf("%w: a password must be %d to 1024 bytes long", derrors.Invalid, MinPasswordLen)
	}
	inputs := []string{"steward", "cori", "homes"}
	for _, k := range known {
		if k != "" {
			inputs = append(inputs, k)
			if local, _, ok := strings.Cut(k, "@"); ok {
				inputs = append(inputs, local)
			}
		}
	}
	if r := zxcvbn.PasswordStrength(pw, inputs); r.Score < MinPasswordScore {
		return fmt.Errorf("%w: the password is easy to guess (a common or leaked password, a name, or a pattern such as repeats, sequences or keyboard rows; about %.0g guesses): use several unrelated words", derrors.Invalid, r.Guesses)
	}
	return nil
}

// event is an audit entry written by principal p.
func event(p Principal, action, object string, detail map[string]string) audit.Entry {
	return audit.Entry{Actor: p.User, Source: p.Source, Action: action, Object: object, Detail: detail}
}

// change runs fn and appends the audit entry it returns, in one transaction.
func (s *Service) change(ctx context.Context, fn func(tx *sql.Tx) (audit.Entry, error)) error {
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		e, err := fn(tx)
		if err != nil {
			return err
		}
		_, err = s.Audit.AppendTx(ctx, tx, e)
		return err
	})
}

// isUnique reports whether err is a unique-key violation on either database.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	m := err.Error()
	return strings.Contains(m, "UNIQUE constraint") || strings.Contains(m, "SQLSTATE 23505") || strings.Contains(m, "PRIMARY KEY constraint")
}

// isForeignKey reports whether err is a foreign-key violation on either database.
func isForeignKey(err error) bool {
	if err == nil {
		return false
	}
	m := err.Error()
	return strings.Contains(m, "FOREIGN KEY constraint") || strings.Contains(m, "SQLSTATE 23503")
}

// CLI is the principal of the offline `steward admin` commands: a site administrator.
func CLI(osUser string) Principal {
	return Principal{User: "cli:" + osUser, Source: "cli", Admin: true}
}

// Bootstrap creates the first steward administrator. It refuses once any administrator exists.
func (s *Service) Bootstrap(ctx context.Context, by Principal, u User, password string) error {
	var n int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE admin`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w: an administrator exists already; create more with 'steward admin user-add --admin'", derrors.Conflict)
	}
	u.Admin = true
	return s.CreateUser(ctx, by, u, password)
}

// CreateUser adds a user with a password. An agency's administrator adds users of their agency only.
func (s *Service) CreateUser(ctx context.Context, p Principal, u User, password string) error {
	if err := Check(p, ManageUsers, Project{}); err != nil {
		return err
	}
	if p.Agency != "" && u.Agency != p.Agency {
		return fmt.Errorf("%w: an administrator of agency %s adds users of that agency only", derrors.Forbidden, p.Agency)
	}
	if err := checkCode("user name", u.Name); err != nil {
		return err
	}
	if u.Agency != "" {
		if err := checkCode("agency", u.Agency); err != nil {
			return err
		}
	}
	if err := checkText("full name", u.FullName, false); err != nil {
		return err
	}
	if u.Email != "" {
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
			return fmt.Errorf("%w: email is not an address (want name@example.org)", derrors.Invalid)
		}
	}
	if err := checkPassword(password, u.Name, u.FullName, u.Email); err != nil {
		return err
	}
	level, err := s.checkLevel(ctx, u)
	if err != nil {
		return err
	}
	hash := HashPassword(password)
	return s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (name, full_name, email, agency, password_hash, admin, director, created_at, level)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			u.Name, u.FullName, u.Email, nullable(u.Agency), hash, u.Admin, u.Director, store.FormatTime(time.Now()), string(level))
		switch {
		case isUnique(err):
			return audit.Entry{}, fmt.Errorf("%w: user %s exists already", derrors.Conflict, u.Name)
		case isForeignKey(err):
			return audit.Entry{}, fmt.Errorf("%w: agency %s does not exist", derrors.Invalid, u.Agency)
		case err != nil:
			return audit.Entry{}, fmt.Errorf("create user %s: %w", u.Name, err)
		}
		return event(p, "user.create", "user/"+u.Name, map[string]string{
			"agency": u.Agency, "admin": fmt.Sprint(u.Admin), "director": fmt.Sprint(u.Director), "level": string(level)}), nil
	})
}

// SetPassword changes a user's password: their own, or any an administrator manages.
func (s *Service) SetPassword(ctx context.Context, p Principal, name, password string) error {
	if p.User != name {
		if err := s.manages(ctx, p, name); err != nil {
			return err
		}
	}
	u, err := s.User(ctx, name)
	if err != nil {
		return err
	}
	if err := checkPassword(password, u.Name, u.FullName, u.Email); err != nil {
		return err
	}
	hash := HashPassword(password)
	return s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE name = $2`, hash, name)
		if err != nil {
			return audit.Entry{}, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return audit.Entry{}, fmt.Errorf("%w: user %s", derrors.NotFound, name)
		}
		return event(p, "user.password", "user/"+name, nil), nil
	})
}

// manages checks that p administers the user: an administrator who sees the user's agency.
func (s *Service) manages(ctx context.Context, p Principal, name string) error {
	if err := Check(p, ManageUsers, Project{}); err != nil {
		return err
	}
	u, err := s.User(ctx, name)
	if err != nil {
		return err
	}
	if !p.Sees(u.Agency) {
		return fmt.Errorf("%w: user %s", derrors.NotFound, name)
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const userColumns = `name, full_name, email, COALESCE(agency, ''), admin, director, created_at, level`

func scanUser(r interface{ Scan(...any) error }) (User, error) {
	var u User
	var created string
	err := r.Scan(&u.Name, &u.FullName, &u.Email, &u.Agency, &u.Admin, &u.Director, &created, &u.Level)
	if err == nil {
		u.Created, err = store.ParseTime(created)
	}
	return u, err
}

// User returns one user.
func (s *Service) User(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.DB.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("%w: user %s", derrors.NotFound, name)
	}
	return u, err
}

// Users lists the users p administers, by name.
func (s *Service) Users(ctx context.Context, p Principal) ([]User, error) {
	if err := Check(p, ManageUsers, Project{}); err != nil {
		return nil, err
	}
	return list(ctx, s.DB, scanUser, `SELECT `+userColumns+` FROM users WHERE ($1 = '' OR agency = $1) ORDER BY name`, p.Agency)
}

// list runs a query and scans every row.
func list[T any](ctx context.Context, db *store.DB, scan func(interface{ Scan(...any) error }) (T, error), q string, args ...any) ([]T, error) {
	return store.List(ctx, db, func(r store.Scanner) (T, error) { return scan(r) }, q, args...)
}

// CreateRegion adds a region.
func (s *Service) CreateRegion(ctx context.Context, p Principal, r Region) error {
	if err := s.siteAdmin(p); err != nil {
		return err
	}
	if err := firstErr(checkCode("region code", r.Code), checkText("region name", r.Name, true)); err != nil {
		return err
	}
	return s.insert(ctx, p, "region.create", "region/"+r.Code, "region "+r.Code, "",
		`INSERT INTO regions (code, name) VALUES ($1, $2)`, r.Code, r.Name)
}

// CreateAgency adds an agency to a region.
func (s *Service) CreateAgency(ctx context.Context, p Principal, a Agency) error {
	if err := s.siteAdmin(p); err != nil {
		return err
	}
	if err := firstErr(checkCode("agency code", a.Code), checkText("agency name", a.Name, true), checkCode("region", a.Region)); err != nil {
		return err
	}
	return s.insert(ctx, p, "agency.create", "agency/"+a.Code, "agency "+a.Code, "region "+a.Region,
		`INSERT INTO agencies (code, name, region, regional) VALUES ($1, $2, $3, $4)`, a.Code, a.Name, a.Region, a.Regional)
}

// CreateProject adds a project, of an agency or of the whole site.
func (s *Service) CreateProject(ctx context.Context, p Principal, x Project) error {
	if err := Check(p, ManageUsers, Project{}); err != nil {
		return err
	}
	if p.Agency != "" && x.Agency != p.Agency {
		return fmt.Errorf("%w: an administrator of agency %s adds projects of that agency only", derrors.Forbidden, p.Agency)
	}
	if err := firstErr(checkCode("project code", x.Code), checkText("project name", x.Name, true)); err != nil {
		return err
	}
	if x.Agency != "" {
		if err := checkCode("agency", x.Agency); err != nil {
			return err
		}
	}
	return s.insert(ctx, p, "project.create", "project/"+x.Code, "project "+x.Code, "agency "+x.Agency,
		`INSERT INTO projects (code, name, agency, created_at) VALUES ($1, $2, $3, $4)`,
		x.Code, x.Name, nullable(x.Agency), store.FormatTime(time.Now()))
}

// siteAdmin checks that p is an administrator of the whole site (no agency).
func (s *Service) siteAdmin(p Principal) error {
	if err := Check(p, ManageUsers, Project{}); err != nil {
		return err
	}
	if p.Agency != "" {
		return fmt.Errorf("%w: only the site's administrators manage regions and agencies", derrors.Forbidden)
	}
	return nil
}

// insert runs one INSERT with its audit entry, naming what exists or what it refers to.
func (s *Service) insert(ctx context.Context, p Principal, action, object, what, ref, q string, args ...any) error {
	return s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		_, err := tx.ExecContext(ctx, q, args...)
		switch {
		case isUnique(err):
			return audit.Entry{}, fmt.Errorf("%w: %s exists already", derrors.Conflict, what)
		case isForeignKey(err):
			return audit.Entry{}, fmt.Errorf("%w: %s does not exist", derrors.Invalid, ref)
		case err != nil:
			return audit.Entry{}, fmt.Errorf("create %s: %w", what, err)
		}
		return event(p, action, object, nil), nil
	})
}

func firstErr(errs ...error) error { return errors.Join(errs...) }

// Regions lists every region.
func (s *Service) Regions(ctx context.Context) ([]Region, error) {
	return list(ctx, s.DB, func(r interface{ Scan(...any) error }) (Region, error) {
		var v Region
		return v, r.Scan(&v.Code, &v.Name)
	}, `SELECT code, name FROM regions ORDER BY code`)
}

// Agencies lists the agencies p sees: all for site staff, their own for an agency's users.
func (s *Service) Agencies(ctx context.Context, p Principal) ([]Agency, error) {
	return list(ctx, s.DB, func(r interface{ Scan(...any) error }) (Agency, error) {
		var v Agency
		return v, r.Scan(&v.Code, &v.Name, &v.Region, &v.Regional)
	}, `SELECT code, name, region, regional FROM agencies WHERE ($1 = '' OR code = $1) ORDER BY code`, p.Agency)
}

func scanProject(r interface{ Scan(...any) error }) (Project, error) {
	var x Project
	return x, r.Scan(&x.Code, &x.Name, &x.Agency)
}

// Project returns one project if p may see it, else NotFound (so its existence is not told).
func (s *Service) Project(ctx context.Context, p Principal, code string) (Project, error) {
	x, err := scanProject(s.DB.QueryRowContext(ctx, `SELECT code, name, COALESCE(agency, '') FROM projects WHERE code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) || err == nil && !Allowed(p, ViewProject, x) {
		return Project{}, fmt.Errorf("%w: project %s", derrors.NotFound, code)
	}
	return x, err
}

// Projects lists the projects p may view.
func (s *Service) Projects(ctx context.Context, p Principal) ([]Project, error) {
	all, err := list(ctx, s.DB, scanProject, `SELECT code, name, COALESCE(agency, '') FROM projects ORDER BY code`)
	out := []Project{}
	for _, x := range all {
		if Allowed(p, ViewProject, x) {
			out = append(out, x)
		}
	}
	return out, err
}
