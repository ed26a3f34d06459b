package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
)

// Lock kinds: failures are counted per account name and per source address; refused
// requests per signed-in user.
const (
	LockAccount     = "account"         // the account from everywhere: refused access (counted sign-in failures never lock it)
	LockAddress     = "address"         // every sign-in from a source address
	LockFromAddress = "account-address" // one account from one source address: key NAME@ADDRESS
	countRefused    = "refused"         // a count of a user's refused requests, never a lock itself
)

// Causes of a lock.
const (
	CauseSignIn  = "failed sign-ins"
	CauseRefused = "refused access" // suspected unauthorized access: only a director reinstates
)

// ErrSignIn is the one answer to a wrong user name or a wrong password, so that neither the
// message nor the time taken tells whether the user exists.
var ErrSignIn = fmt.Errorf("%w: wrong user name or password", derrors.Unauthenticated)

// ErrLocked is the answer while the account or the address is locked.
var ErrLocked = fmt.Errorf("%w: sign-in refused for this account or address until an administrator reinstates it", derrors.Locked)

// DelayError refuses a sign-in attempt that comes too soon after failed ones from the same
// address on the same account: the password is not tried.
type DelayError struct{ Wait time.Duration }

func (e *DelayError) Error() string {
	return fmt.Sprintf("%v: after failed sign-ins, wait %s before trying again", derrors.TooMany, e.Wait.Round(time.Second))
}

// Is makes a delay a derrors.TooMany.
func (e *DelayError) Is(target error) bool { return target == derrors.TooMany }

// SignIn checks a user name and password coming from source. Every attempt is audited with
// the source address.
//
// A lockout must not be a way to lock the site's own people out, so failures count three
// ways. Per account and source address (whether or not the account exists): after two,
// each further attempt waits a delay that doubles (Config.SignInDelay, 1 s, 2 s, 4 s…; an
// attempt within it is refused unseen), and at Config.AccountLockAfter that account is
// locked from that address only. Per address, across accounts: at AddressLockAfter the
// address is locked (guessing many names from one place). Per account, across addresses:
// never a lock — whoever knows a name could otherwise lock its owner out from anywhere —
// but at AccountAlertAfter the directors are told. Locks are audited and mailed to the
// directors and hold until an administrator or a director lifts them with a reason.
func (s *Service) SignIn(ctx context.Context, name, password, source string) (Principal, error) {
	var hash string
	err := s.DB.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE name = $1`, name).Scan(&hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Principal{}, err
	}
	known := err == nil
	actor := Principal{User: name, Source: source}
	if !known {
		// What was typed as a user name may be a password typed in the wrong field: it is
		// audited, counted and locked under a digest, never as typed.
		actor.User = unknownUser(name)
	}
	locked, err := s.locked(ctx, actor.User, source)
	if err != nil {
		return Principal{}, err
	}
	if locked != "" {
		err := s.record(ctx, event(actor, "login.refused", "user/"+actor.User, map[string]string{"locked": locked}))
		return Principal{}, errors.Join(ErrLocked, err)
	}
	if wait, err := s.delay(ctx, actor.User, source); err != nil || wait > 0 {
		if err == nil {
			err = &DelayError{Wait: wait}
		}
		return Principal{}, err
	}
	if !known {
		hash = dummyHash()
	}
	if !CheckPassword(hash, password) || !known {
		return Principal{}, errors.Join(ErrSignIn, s.fail(ctx, actor))
	}
	err = s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		_, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE locked_at IS NULL AND (kind = $1 AND key = $2 OR kind = $3 AND key = $4)`,
			LockFromAddress, name+"@"+source, LockAccount, name)
		return event(actor, "login", "user/"+name, nil), err
	})
	if err != nil {
		return Principal{}, err
	}
	return s.Principal(ctx, name, source)
}

// Record appends an audit entry of p's doing: later capabilities record every data access
// here (counts and identifiers, never values).
func (s *Service) Record(ctx context.Context, p Principal, action, object string, detail map[string]string) error {
	return s.record(ctx, event(p, action, object, detail))
}

// RecordTx appends an audit entry within tx, so that a change made in tx and its entry
// commit together (and cost one commit).
func (s *Service) RecordTx(ctx context.Context, tx *sql.Tx, p Principal, action, object string, detail map[string]string) error {
	_, err := s.Audit.AppendTx(ctx, tx, event(p, action, object, detail))
	return err
}

// SignOut records the end of a page session.
func (s *Service) SignOut(ctx context.Context, p Principal) error {
	return s.record(ctx, event(p, "logout", "user/"+p.User, nil))
}

func (s *Service) record(ctx context.Context, e audit.Entry) error {
	_, err := s.Audit.Append(ctx, e)
	return err
}

// unknownSalt keys the digests of unknown user names; drawn per process, so a digest cannot
// be tested against guesses offline.
var unknownSalt = func() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}()

// unknownUser stands for a user name that does not exist, in the audit log and the lockout
// counters: the same name gives the same stand-in while the server runs.
func unknownUser(name string) string {
	h := sha256.New()
	h.Write(unknownSalt)
	h.Write([]byte(name))
	return "unknown-" + hex.EncodeToString(h.Sum(nil)[:6])
}

// locked names what is locked of the account and the address ("account", "address"), or "".
func (s *Service) locked(ctx context.Context, name, source string) (string, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT kind FROM login_failures WHERE locked_at IS NOT NULL
		AND ((kind = $1 AND key = $2) OR (kind = $3 AND key = $4) OR (kind = $5 AND key = $6)) ORDER BY kind`,
		LockAccount, name, LockAddress, source, LockFromAddress, name+"@"+source)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var kinds []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return "", err
		}
		kinds = append(kinds, k)
	}
	return strings.Join(kinds, " "), rows.Err()
}

// fail counts a failed sign-in against the account name and the address, locks what passed
// its threshold and tells the directors.
func (s *Service) fail(ctx context.Context, actor Principal) error {
	now := time.Now()
	var newly []string
	var alert bool
	err := s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		n, err := countFailure(ctx, tx, LockAccount, actor.User, now, s.Config.Window)
		if err != nil {
			return audit.Entry{}, fmt.Errorf("count failed sign-in: %w", err)
		}
		alert = n == s.Config.AccountAlertAfter
		for _, k := range []struct {
			kind, key string
			limit     int
		}{{LockFromAddress, actor.User + "@" + actor.Source, s.Config.AccountLockAfter}, {LockAddress, actor.Source, s.Config.AddressLockAfter}} {
			count, err := countFailure(ctx, tx, k.kind, k.key, now, s.Config.Window)
			if err != nil {
				return audit.Entry{}, fmt.Errorf("count failed sign-in: %w", err)
			}
			if count < k.limit {
				continue
			}
			locked, err := s.lockTx(ctx, tx, actor, k.kind, k.key, CauseSignIn, actor.Source, now, map[string]string{"failures": fmt.Sprint(count)})
			if err != nil {
				return audit.Entry{}, err
			}
			if locked {
				newly = append(newly, k.kind)
			}
		}
		return event(actor, "login.failed", "user/"+actor.User, nil), nil
	})
	if err != nil {
		return err
	}
	for _, kind := range newly {
		s.tellDirectors(ctx, actor, kind, now)
	}
	if alert {
		s.NotifyDirectors(ctx, actor.Source, "alert/account/"+actor.User, "alert/account/"+actor.User,
			fmt.Sprintf("Steward: %d failed sign-ins on the account %q", s.Config.AccountAlertAfter, actor.User),
			fmt.Sprintf("The account %q had %d failed sign-ins within %s, the last from %s (%s).\n\n"+
				"The account itself is not locked, so that its owner is not locked out by whoever knows the name;\n"+
				"each address is locked on it after %d failures, and any address after %d. The audit log has every\n"+
				"attempt (action login.failed).\n", actor.User, s.Config.AccountAlertAfter, s.Config.Window, actor.Source,
				now.UTC().Format(time.RFC3339), s.Config.AccountLockAfter, s.Config.AddressLockAfter))
	}
	return nil
}

// delay is how long an attempt on the account from the address must still wait after the
// failures from there (0: none).
func (s *Service) delay(ctx context.Context, name, source string) (time.Duration, error) {
	if s.Config.SignInDelay < 0 {
		return 0, nil
	}
	var count int
	var last string
	err := s.DB.QueryRowContext(ctx, `SELECT count, last_at FROM login_failures WHERE kind = $1 AND key = $2 AND locked_at IS NULL AND first_at >= $3`,
		LockFromAddress, name+"@"+source, store.FormatTime(time.Now().Add(-s.Config.Window))).Scan(&count, &last)
	if errors.Is(err, sql.ErrNoRows) || err == nil && count < 2 {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	at, err := store.ParseTime(last)
	if err != nil {
		return 0, err
	}
	d := s.Config.SignInDelay << min(count-2, 12)
	return time.Until(at.Add(min(d, 5*time.Minute))), nil
}

// countFailure adds one to the count of (kind, key) within the window and returns it. A
// count older than the window starts again, unless it is a lock.
func countFailure(ctx context.Context, tx *sql.Tx, kind, key string, now time.Time, window time.Duration) (int, error) {
	var count int
	err := tx.QueryRowContext(ctx, `INSERT INTO login_failures (kind, key, count, first_at, last_at) VALUES ($1, $2, 1, $3, $3)
		ON CONFLICT (kind, key) DO UPDATE SET
		  count = CASE WHEN login_failures.first_at < $4 AND login_failures.locked_at IS NULL THEN 1 ELSE login_failures.count + 1 END,
		  first_at = CASE WHEN login_failures.first_at < $4 AND login_failures.locked_at IS NULL THEN $3 ELSE login_failures.first_at END,
		  last_at = $3
		RETURNING count`, kind, key, store.FormatTime(now), store.FormatTime(now.Add(-window))).Scan(&count)
	return count, err
}

// lockTx locks (kind, key) for cause, recording the address that caused it, and audits the
// lock; it reports false when it was locked already.
func (s *Service) lockTx(ctx context.Context, tx *sql.Tx, actor Principal, kind, key, cause, address string, now time.Time, detail map[string]string) (bool, error) {
	t := store.FormatTime(now)
	res, err := tx.ExecContext(ctx, `INSERT INTO login_failures (kind, key, count, first_at, last_at, locked_at, cause, address)
		VALUES ($1, $2, 1, $3, $3, $3, $4, $5)
		ON CONFLICT (kind, key) DO UPDATE SET locked_at = $3, cause = $4, address = $5, last_at = $3
		WHERE login_failures.locked_at IS NULL`, kind, key, t, cause, address)
	if err != nil {
		return false, fmt.Errorf("lock %s %s: %w", kind, key, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	d := map[string]string{"cause": cause, "address": address}
	for k, v := range detail {
		d[k] = v
	}
	s.blocked.forget()
	_, err = s.Audit.AppendTx(ctx, tx, event(actor, "lock", kind+"/"+key, d))
	return err == nil, err
}

// tellDirectors emails every director with an address about a new lock. A failure to send is
// logged and audited, never returned to the one signing in.
func (s *Service) tellDirectors(ctx context.Context, actor Principal, kind string, at time.Time) {
	what := fmt.Sprintf("the account %q from the address %s", actor.User, actor.Source)
	if kind == LockAddress {
		what = fmt.Sprintf("the source address %s", actor.Source)
	}
	subject := "Steward: sign-in locked for " + what
	body := fmt.Sprintf("Steward locked %s at %s after repeated failed sign-ins\n"+
		"(account %q, from address %s).\n\nSign-in stays refused until an administrator unlocks it, giving a reason:\n"+
		"  steward admin unlock --%s %s --reason '…'\nor on the Locked page of the web interface.\n",
		what, at.UTC().Format(time.RFC3339), actor.User, actor.Source, map[string]string{LockFromAddress: "account", LockAddress: "address"}[kind],
		map[string]string{LockFromAddress: actor.User + " --from " + actor.Source, LockAddress: actor.Source}[kind])
	s.NotifyDirectors(ctx, actor.Source, kind, kind+"/"+actor.User, subject, body)
}

// NotifyDirectors emails every director with an address (through the server's notifier, as
// sign-in locks do). The send is audited as notify on object, or notify.failed on
// failedObject; a failure is logged, never returned. Without a notifier nothing is sent.
func (s *Service) NotifyDirectors(ctx context.Context, source, object, failedObject, subject, body string) {
	if s.Notify == nil {
		return
	}
	to, err := list(ctx, s.DB, func(r interface{ Scan(...any) error }) (string, error) {
		var e string
		return e, r.Scan(&e)
	}, `SELECT email FROM users WHERE director AND email <> '' ORDER BY name`)
	if err != nil || len(to) == 0 {
		return
	}
	if err := s.Notify.Notify(ctx, to, subject, body); err != nil {
		s.Log.Error("notice to directors not sent", "err", err)
		s.record(ctx, event(Principal{User: "steward", Source: source}, "notify.failed", failedObject, map[string]string{"error": err.Error()}))
		return
	}
	s.record(ctx, event(Principal{User: "steward", Source: source}, "notify", object, map[string]string{"recipients": fmt.Sprint(len(to))}))
}

// Sweep forgets failure counts that are no longer locks and older than the window, and
// expired page sessions, so that spraying made-up names does not grow the tables forever.
func (s *Service) Sweep(ctx context.Context) error {
	_, err := s.DB.ExecContext(ctx, `DELETE FROM login_failures WHERE locked_at IS NULL AND last_at < $1`,
		store.FormatTime(time.Now().Add(-s.Config.Window)))
	return errors.Join(err, SessionStore{DB: s.DB}.Cleanup(ctx))
}

// Token is an API token as listed: never the secret, which is shown once at creation.
type Token struct {
	ID      string    `json:"id"`
	User    string    `json:"user"`
	Label   string    `json:"label,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Revoked bool      `json:"revoked"`
	Scopes  []Scope   `json:"scopes"`
}

// TokenPrefix starts every API token, so that leaked tokens are easy to find.
const TokenPrefix = "stw_"

// CreateToken makes a random API token for p, valid for ttl (the configured default when 0,
// at most 90 days), with the scopes given (none: every scope p has). Only its SHA-256 is
// stored; the secret is returned once. A token mints a token only when it carries the admin
// scope, and never one with a scope it lacks.
func (s *Service) CreateToken(ctx context.Context, p Principal, label string, ttl time.Duration, scopes ...Scope) (string, Token, error) {
	if p.User == "" {
		return "", Token{}, derrors.Unauthenticated
	}
	if err := Check(p, MintToken, Project{}); err != nil {
		return "", Token{}, fmt.Errorf("%w (this token lacks the admin scope: mint tokens with a sign-in token)", err)
	}
	if len(scopes) == 0 {
		scopes = Scopes
		if p.Scopes != nil {
			scopes = p.Scopes
		}
	}
	for _, sc := range scopes {
		if !slices.Contains(Scopes, sc) {
			return "", Token{}, fmt.Errorf("%w: unknown scope %q", derrors.Invalid, sc)
		}
		if !p.HasScope(sc) {
			return "", Token{}, fmt.Errorf("%w: a token cannot mint a token with the %s scope it lacks", derrors.Forbidden, sc)
		}
	}
	if err := checkText("label", label, false); err != nil {
		return "", Token{}, err
	}
	if ttl == 0 {
		ttl = s.Config.TokenTTL
	}
	if ttl < time.Minute || ttl > 90*24*time.Hour {
		return "", Token{}, fmt.Errorf("%w: a token lives from 1 minute to 90 days", derrors.Invalid)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	id := make([]byte, 8)
	rand.Read(id)
	now := time.Now().UTC().Truncate(time.Microsecond)
	t := Token{ID: hex.EncodeToString(id), User: p.User, Label: label, Created: now, Expires: now.Add(ttl), Scopes: scopes}
	err := s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, hash, user_name, label, created_at, expires_at, scopes) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			t.ID, tokenHash(secret), t.User, t.Label, store.FormatTime(t.Created), store.FormatTime(t.Expires), joinScopes(scopes))
		return event(p, "token.create", "token/"+t.ID, map[string]string{"expires": store.FormatTime(t.Expires), "scopes": joinScopes(scopes)}), err
	})
	return secret, t, err
}

func tokenHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the principal of a live API token and the token's id. The token is
// looked up by its SHA-256: a 256-bit random secret cannot be guessed from lookup timing.
func (s *Service) Authenticate(ctx context.Context, secret, source string) (Principal, string, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) != len(TokenPrefix)+43 {
		return Principal{}, "", fmt.Errorf("%w: malformed token", derrors.Unauthenticated)
	}
	var id, expires, scopes string
	var revoked NullString
	var p Principal
	var locked bool
	err := s.DB.QueryRowContext(ctx, `SELECT t.id, t.expires_at, t.revoked_at, t.scopes, `+activeColumns+`
		FROM api_tokens t JOIN users u ON u.name = t.user_name WHERE t.hash = $2`, LockAccount, tokenHash(secret)).
		Scan(&id, &expires, &revoked, &scopes, &p.User, &p.Agency, &p.Admin, &p.Director, &locked)
	if errors.Is(err, sql.ErrNoRows) || err == nil && (revoked.Valid || expires <= store.FormatTime(time.Now())) {
		return Principal{}, "", fmt.Errorf("%w: unknown, expired or revoked token", derrors.Unauthenticated)
	}
	if err == nil && locked {
		err = ErrLocked
	}
	if err != nil {
		return Principal{}, "", err
	}
	p.Source, p.Scopes = source, splitScopes(scopes)
	return p, id, s.loadGrants(ctx, &p)
}

// activeColumns are the user's principal and whether the account is locked ($1: LockAccount).
const activeColumns = `u.name, COALESCE(u.agency, ''), u.admin, u.director,
	EXISTS (SELECT 1 FROM login_failures f WHERE f.kind = $1 AND f.key = u.name AND f.locked_at IS NOT NULL)`

// Active is Principal for a session or token already signed in: it refuses a locked account.
func (s *Service) Active(ctx context.Context, name, source string) (Principal, error) {
	p := Principal{Source: source}
	var locked bool
	err := s.DB.QueryRowContext(ctx, `SELECT `+activeColumns+` FROM users u WHERE u.name = $2`, LockAccount, name).
		Scan(&p.User, &p.Agency, &p.Admin, &p.Director, &locked)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Principal{}, fmt.Errorf("%w: user %s", derrors.NotFound, name)
	case err == nil && locked:
		err = ErrLocked
	}
	if err != nil {
		return Principal{}, err
	}
	return p, s.loadGrants(ctx, &p)
}

// NullString is sql.NullString, named here for brevity.
type NullString = sql.NullString

// RevokeToken revokes one of p's tokens (an administrator may revoke any they manage).
func (s *Service) RevokeToken(ctx context.Context, p Principal, id string) error {
	return s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT user_name FROM api_tokens WHERE id = $1 AND revoked_at IS NULL`, id).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) || err == nil && owner != p.User && !Allowed(p, ManageUsers, Project{}) {
			return audit.Entry{}, fmt.Errorf("%w: token %s", derrors.NotFound, id)
		}
		if err != nil {
			return audit.Entry{}, err
		}
		_, err = tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2`, store.FormatTime(time.Now()), id)
		return event(p, "token.revoke", "token/"+id, map[string]string{"owner": owner}), err
	})
}

// Tokens lists p's own tokens, newest first.
func (s *Service) Tokens(ctx context.Context, p Principal) ([]Token, error) {
	return list(ctx, s.DB, func(r interface{ Scan(...any) error }) (Token, error) {
		var t Token
		var c, e, sc string
		var rev NullString
		err := r.Scan(&t.ID, &t.User, &t.Label, &c, &e, &rev, &sc)
		t.Scopes = splitScopes(sc)
		t.Created, _ = store.ParseTime(c)
		t.Expires, _ = store.ParseTime(e)
		t.Revoked = rev.Valid
		return t, err
	}, `SELECT id, user_name, label, created_at, expires_at, revoked_at, scopes FROM api_tokens WHERE user_name = $1 ORDER BY created_at DESC`, p.User)
}

// AuditLog returns audit entries matching f for those who may read the log; an agency's
// reader sees the entries of their agency's users only.
func (s *Service) AuditLog(ctx context.Context, p Principal, f store.Filter) ([]audit.Entry, error) {
	if err := Check(p, ReadAudit, Project{}); err != nil {
		return nil, err
	}
	if p.Agency != "" {
		f.Agency = p.Agency
	}
	return s.Audit.Find(ctx, f)
}
