package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
)

// Seed 002, Part C: "Unauthorized access and hacking will be monitored each business day.
// The Executive Director of the CORI will be notified of all unauthorized accesses. The IP
// address of persons who attempt unauthorized access will be documented and once
// identified, they will be immediately locked … the user must contact the Director of the
// CORI to reinstate the user's access … appropriate reasons … must be given."
//
// Every request refused to a signed-in user (401, 403, 404 on a protected resource) is an
// audit entry naming the user, the source address, the route and the resource. Past
// Config.RefusalLockAfter refusals within Config.RefusalWindow the account is locked (cause
// CauseRefused) with the address recorded, and every director with an e-mail address is
// told at once. Such a lock is lifted by a director, with a reason; an administrator's
// unlock of it is a request the directors are mailed about and a director approves (the
// seed names the director, and an administrator may be the one who probed). A lock for
// failed sign-ins is lifted by an administrator or a director, with a reason; the directors
// are told when an administrator does it.

// Refused records a request refused to the signed-in principal p: the route pattern, the
// resource (the request's path, secrets masked) and the status. It counts the refusal and
// locks the account at the threshold.
func (s *Service) Refused(ctx context.Context, p Principal, route, resource string, status int) error {
	if p.User == "" || strings.HasPrefix(p.User, "cli:") {
		return nil
	}
	now := time.Now()
	var locked bool
	var count int
	err := s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		var err error
		count, err = countFailure(ctx, tx, countRefused, p.User, now, s.Config.RefusalWindow)
		if err != nil {
			return audit.Entry{}, fmt.Errorf("count refused request: %w", err)
		}
		e := event(p, "access.refused", resource, map[string]string{"route": route, "status": fmt.Sprint(status)})
		if count >= s.Config.RefusalLockAfter {
			if _, err := s.Audit.AppendTx(ctx, tx, e); err != nil {
				return audit.Entry{}, err
			}
			locked, err = s.lockTx(ctx, tx, p, LockAccount, p.User, CauseRefused, p.Source, now,
				map[string]string{"refusals": fmt.Sprint(count), "window": s.Config.RefusalWindow.String()})
			if err != nil {
				return audit.Entry{}, err
			}
			_, err = tx.ExecContext(ctx, `DELETE FROM login_failures WHERE kind = $1 AND key = $2`, countRefused, p.User)
			return event(p, "access.watch", "user/"+p.User, map[string]string{"refusals": fmt.Sprint(count), "locked": fmt.Sprint(locked)}), err
		}
		return e, nil
	})
	if err != nil || !locked {
		return err
	}
	subject := fmt.Sprintf("Steward: %s locked after %d refused requests", p.User, count)
	body := fmt.Sprintf("Steward locked the account %q at %s: %d requests were refused to it within %s\n"+
		"(suspected unauthorized access), from the address %s. The last was %s (%d).\n\n"+
		"The address is recorded with the lock. Only a director reinstates the account, giving the\n"+
		"reasons for the refused requests: the Locked page of the web interface, or\n"+
		"  POST /api/v1/locks/unlock {\"kind\":\"account\",\"key\":%q,\"reason\":\"…\"}\n"+
		"Every refused request is in the audit log (action access.refused, actor %s).\n",
		p.User, now.UTC().Format(time.RFC3339), count, s.Config.RefusalWindow, p.Source, route, status, p.User, p.User)
	s.NotifyDirectors(ctx, p.Source, "lock/account/"+p.User, "lock/account/"+p.User, subject, body)
	return nil
}

// Lock is a counted or locked account name or source address.
type Lock struct {
	Kind     string    `json:"kind"`
	Key      string    `json:"key"`
	Failures int       `json:"failures"`
	Last     time.Time `json:"last_failure"`
	LockedAt time.Time `json:"locked_at"`
	Cause    string    `json:"cause"`
	Address  string    `json:"address,omitempty"` // the source address that caused the lock
	// An administrator's request that a director reinstate the account.
	RequestedBy string `json:"unlock_requested_by,omitempty"`
	Request     string `json:"unlock_request_reason,omitempty"`
}

// Locks lists what is locked, for administrators and directors.
func (s *Service) Locks(ctx context.Context, p Principal) ([]Lock, error) {
	if err := Check(p, UnlockAccount, Project{}); err != nil {
		return nil, err
	}
	return list(ctx, s.DB, func(r interface{ Scan(...any) error }) (Lock, error) {
		var l Lock
		var last, at string
		err := r.Scan(&l.Kind, &l.Key, &l.Failures, &last, &at, &l.Cause, &l.Address, &l.RequestedBy, &l.Request)
		if err == nil {
			l.Last, _ = store.ParseTime(last)
			l.LockedAt, err = store.ParseTime(at)
		}
		return l, err
	}, `SELECT kind, key, count, last_at, locked_at, cause, address, unlock_requested_by, unlock_reason FROM login_failures
		WHERE locked_at IS NOT NULL AND kind IN ($3, $2, $4)
		AND ($1 = '' OR kind = $2 OR key IN (SELECT name FROM users WHERE agency = $1)
		  OR kind = $4 AND substr(key, 1, length(key) - length(address) - 1) IN (SELECT name FROM users WHERE agency = $1))
		ORDER BY locked_at`, p.Agency, LockAddress, LockAccount, LockFromAddress)
}

// UnlockResult says what an unlock did.
type UnlockResult string

const (
	Unlocked         UnlockResult = "unlocked"
	AwaitingDirector UnlockResult = "awaiting_director" // an administrator's request, for a director to approve
)

// Unlock reinstates a locked account name or address; the reason is required and audited.
// An account locked for refused access is reinstated by a director only: an administrator's
// unlock records a request, mails the directors and returns AwaitingDirector. Nobody lifts a
// lock on their own account.
func (s *Service) Unlock(ctx context.Context, p Principal, kind, key, reason string) (UnlockResult, error) {
	if err := Check(p, UnlockAccount, Project{}); err != nil {
		return "", err
	}
	if kind != LockAccount && kind != LockAddress && kind != LockFromAddress {
		return "", fmt.Errorf("%w: kind must be %q (every lock of the account), %q or %q (NAME@ADDRESS)", derrors.Invalid, LockAccount, LockAddress, LockFromAddress)
	}
	user := key
	if kind == LockFromAddress {
		i := strings.LastIndexByte(key, '@')
		if i <= 0 {
			return "", fmt.Errorf("%w: an %s lock is named NAME@ADDRESS", derrors.Invalid, LockFromAddress)
		}
		user = key[:i]
	}
	reason = strings.TrimSpace(reason)
	if len(reason) < 5 {
		return "", fmt.Errorf("%w: give a reason for the reinstatement (at least 5 characters)", derrors.Invalid)
	}
	if err := checkText("reason", reason, true); err != nil {
		return "", err
	}
	noLock := fmt.Errorf("%w: no lock on %s %s", derrors.NotFound, kind, key)
	if kind != LockAddress && p.Agency != "" {
		if u, err := s.User(ctx, user); err != nil || u.Agency != p.Agency {
			return "", noLock
		}
	}
	if kind != LockAddress && user == p.User {
		return "", fmt.Errorf("%w: nobody reinstates their own account; ask a director", derrors.Forbidden)
	}
	var result UnlockResult
	var cause, address string
	err := s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		var requestedBy, request string
		err := tx.QueryRowContext(ctx, `SELECT cause, address, unlock_requested_by, unlock_reason FROM login_failures
			WHERE kind = $1 AND key = $2 AND locked_at IS NOT NULL`, kind, key).Scan(&cause, &address, &requestedBy, &request)
		if errors.Is(err, sql.ErrNoRows) && kind == LockAccount {
			err = nil // no lock of the account from everywhere: its locks from single addresses
		}
		if errors.Is(err, sql.ErrNoRows) {
			return audit.Entry{}, noLock
		}
		if err != nil {
			return audit.Entry{}, err
		}
		if kind == LockAccount && cause == CauseRefused && !Allowed(p, ReinstateAccount, Project{}) {
			result = AwaitingDirector
			_, err := tx.ExecContext(ctx, `UPDATE login_failures SET unlock_requested_by = $1, unlock_reason = $2 WHERE kind = $3 AND key = $4`,
				p.User, reason, kind, key)
			return event(p, "unlock.requested", kind+"/"+key, map[string]string{"reason": reason, "cause": cause}), err
		}
		result = Unlocked
		res, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE locked_at IS NOT NULL AND (kind = $1 AND key = $2
			OR $1 = $3 AND kind = $4 AND substr(key, 1, length($2) + 1) = $2 || '@')`, kind, key, LockAccount, LockFromAddress)
		if err != nil {
			return audit.Entry{}, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return audit.Entry{}, noLock
		}
		d := map[string]string{"reason": reason, "cause": cause}
		if requestedBy != "" {
			d["requested_by"], d["request_reason"] = requestedBy, request
		}
		return event(p, "unlock", kind+"/"+key, d), nil
	})
	if err != nil {
		return "", err
	}
	s.blocked.forget()
	switch {
	case result == AwaitingDirector:
		s.NotifyDirectors(ctx, p.Source, "unlock.requested/"+kind+"/"+key, "unlock.requested/"+kind+"/"+key,
			fmt.Sprintf("Steward: %s asks a director to reinstate %s", p.User, key),
			fmt.Sprintf("The administrator %s asks that the account %q, locked for %s (address %s), be reinstated.\n"+
				"Their reason: %s\n\nOnly a director reinstates it, giving the reasons: the Locked page, or\n"+
				"  POST /api/v1/locks/unlock {\"kind\":\"account\",\"key\":%q,\"reason\":\"…\"}\n", p.User, key, cause, address, reason, key))
	case !p.Director:
		s.NotifyDirectors(ctx, p.Source, "unlock/"+kind+"/"+key, "unlock/"+kind+"/"+key,
			fmt.Sprintf("Steward: %s unlocked %s %s", p.User, kind, key),
			fmt.Sprintf("The administrator %s lifted the lock on the %s %q (locked for %s).\nTheir reason: %s\n", p.User, kind, key, cause, reason))
	}
	return result, nil
}

// blockCache remembers the locked addresses for a few seconds, so that every request can be
// checked against them without a query; locks made or lifted by this process clear it at
// once, those of another process (the command line) are seen within blockTTL.
type blockCache struct {
	mu    sync.Mutex
	until time.Time
	set   map[string]bool
}

const blockTTL = 5 * time.Second

func (c *blockCache) forget() {
	c.mu.Lock()
	c.until = time.Time{}
	c.mu.Unlock()
}

// AddressBlocked reports whether the source address is locked (by failed sign-ins or refused
// tokens from it, or blocked by a director or administrator).
func (s *Service) AddressBlocked(ctx context.Context, address string) (bool, error) {
	c := &s.blocked
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Now().After(c.until) {
		addrs, err := store.Strings(ctx, s.DB, `SELECT key FROM login_failures WHERE kind = $1 AND locked_at IS NOT NULL`, LockAddress)
		if err != nil {
			return false, err
		}
		c.set = make(map[string]bool, len(addrs))
		for _, a := range addrs {
			c.set[a] = true
		}
		c.until = time.Now().Add(blockTTL)
	}
	return c.set[address], nil
}

// TokenRefused records an API token refused at route from source (unknown, expired,
// revoked, malformed, or of a locked account) and counts it against the address like a
// failed sign-in: guessing tokens from one address locks the address. The token is never
// recorded.
func (s *Service) TokenRefused(ctx context.Context, source, route string, reason error) error {
	why := "unknown, expired or revoked"
	if errors.Is(reason, derrors.Locked) {
		why = "account locked"
	}
	actor := Principal{User: "token", Source: source}
	now := time.Now()
	var locked bool
	err := s.change(ctx, func(tx *sql.Tx) (audit.Entry, error) {
		count, err := countFailure(ctx, tx, LockAddress, source, now, s.Config.Window)
		if err != nil {
			return audit.Entry{}, err
		}
		if count >= s.Config.AddressLockAfter {
			if locked, err = s.lockTx(ctx, tx, actor, LockAddress, source, "refused tokens", source, now, map[string]string{"failures": fmt.Sprint(count)}); err != nil {
				return audit.Entry{}, err
			}
		}
		return event(actor, "token.refused", "route/"+route, map[string]string{"route": route, "reason": why}), nil
	})
	if err == nil && locked {
		s.tellDirectors(ctx, actor, LockAddress, now)
	}
	return err
}

// Block locks a source address by hand (a director or an administrator, with a reason): every
// request from it is refused until one of them releases it (Unlock).
func (s *Service) Block(ctx context.Context, p Principal, address, reason string) error {
	if err := Check(p, UnlockAccount, Project{}); err != nil {
		return err
	}
	a, err := netip.ParseAddr(address)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address", derrors.Invalid, address)
	}
	address = a.Unmap().String()
	if address == p.Source {
		return fmt.Errorf("%w: that is the address you are using", derrors.Invalid)
	}
	reason = strings.TrimSpace(reason)
	if len(reason) < 5 {
		return fmt.Errorf("%w: give a reason for the block (at least 5 characters)", derrors.Invalid)
	}
	if err := checkText("reason", reason, true); err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := s.lockTx(ctx, tx, p, LockAddress, address, "blocked by "+p.User, address, time.Now(), map[string]string{"reason": reason})
		if err == nil && !ok {
			err = fmt.Errorf("%w: address %s is locked already", derrors.Conflict, address)
		}
		return err
	})
}
