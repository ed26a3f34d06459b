package airlock

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
)

// Link is a download link as stored: never its token, only the token's SHA-256.
type Link struct {
	ID        string    `json:"id"`
	Request   string    `json:"request"`
	Recipient string    `json:"recipient"`
	IPRange   string    `json:"ip_range,omitempty"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
	Revoked   time.Time `json:"revoked,omitzero"`
	Uses      int       `json:"uses"`
}

// ErrLinkDead is a link that expired, was revoked or whose export was recalled.
var ErrLinkDead = fmt.Errorf("%w: the download link expired or was revoked", derrors.NotFound)

func linkHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// createLink stores a new link in tx and returns it with its token (shown once, in the email).
func (s *Service) createLink(ctx context.Context, tx *sql.Tx, p access.Principal, request, recipient, ipRange string, ttl time.Duration) (newLink, audit.Entry, error) {
	if ipRange != "" {
		if _, err := netip.ParsePrefix(ipRange); err != nil {
			return newLink{}, audit.Entry{}, fmt.Errorf("%w: address range %q: want a CIDR prefix such as 203.0.113.0/24", derrors.Invalid, ipRange)
		}
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	l := newLink{Link: Link{ID: randomID("lnk-", 8), Request: request, Recipient: recipient, IPRange: ipRange,
		Created: now, Expires: now.Add(ttl)}, token: randomToken()}
	_, err := tx.ExecContext(ctx, `INSERT INTO download_links (id, hash, request_id, recipient, ip_range, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, l.ID, linkHash(l.token), request, recipient, ipRange, store.FormatTime(now), store.FormatTime(l.Expires))
	return l, event(p, "export.link", "link/"+l.ID, map[string]string{"export": request, "recipient": recipient,
		"ip_range": ipRange, "expires": store.FormatTime(l.Expires)}), err
}

// resolve checks a link's token for principal p coming from addr: known, sent to p, not
// revoked or recalled, not expired, from inside its address range. A refusal is audited.
func (s *Service) resolve(ctx context.Context, p access.Principal, token, file string, addr netip.Addr) (Link, *Request, error) {
	var l Link
	var expires string
	var revoked store.NullTime
	var status Status
	err := s.DB.QueryRowContext(ctx, `SELECT l.id, l.request_id, l.recipient, l.ip_range, l.expires_at, l.revoked_at, r.status
		FROM download_links l JOIN export_requests r ON r.id = l.request_id WHERE l.hash = $1`, linkHash(token)).
		Scan(&l.ID, &l.Request, &l.Recipient, &l.IPRange, &expires, &revoked, &status)
	refuse := func(why string, err error) (Link, *Request, error) {
		s.Audit.Append(ctx, event(p, "export.download.refused", "link/"+l.ID, map[string]string{"why": why, "file": file}))
		return l, nil, err
	}
	if errors.Is(err, sql.ErrNoRows) {
		l.ID = "unknown"
		return refuse("unknown link", ErrLinkDead)
	}
	if err != nil {
		return l, nil, err
	}
	l.Expires, _ = store.ParseTime(expires)
	switch {
	case p.User != l.Recipient:
		return refuse("not the recipient", fmt.Errorf("%w: this link was sent to someone else", derrors.Forbidden))
	case !revoked.IsZero() || status != Released:
		return refuse("revoked", ErrLinkDead)
	case !s.Now().Before(l.Expires):
		return refuse("expired", ErrLinkDead)
	case l.IPRange != "" && !netip.MustParsePrefix(l.IPRange).Contains(addr.Unmap()):
		return refuse("outside the address range", fmt.Errorf("%w: this link works only from %s", derrors.Forbidden, l.IPRange))
	}
	r, err := s.getUnchecked(ctx, l.Request)
	return l, r, err
}

// LinkFiles returns the request whose files a link gives p (the download page).
func (s *Service) LinkFiles(ctx context.Context, p access.Principal, token string, addr netip.Addr) (*Request, error) {
	_, r, err := s.resolve(ctx, p, token, "", addr)
	return r, err
}

// Download checks a link's token for principal p coming from addr and opens one file of
// its export. Every use and every refusal is audited.
func (s *Service) Download(ctx context.Context, p access.Principal, token, file string, addr netip.Addr) (io.ReadCloser, error) {
	l, r, err := s.resolve(ctx, p, token, file, addr)
	if err != nil {
		return nil, err
	}
	rc, err := s.open(r, file)
	if err != nil {
		return nil, err
	}
	err = s.change(ctx, func(tx *sql.Tx) ([]audit.Entry, error) {
		_, err := tx.ExecContext(ctx, `UPDATE download_links SET uses = uses + 1 WHERE id = $1`, l.ID)
		return []audit.Entry{event(p, "export.download", "link/"+l.ID, map[string]string{"export": l.Request, "file": file})}, err
	})
	if err != nil {
		rc.Close()
		return nil, err
	}
	return rc, nil
}

// RevokeLink kills a link (the officer of its project, or its recipient).
func (s *Service) RevokeLink(ctx context.Context, p access.Principal, id string) error {
	var request, recipient string
	err := s.DB.QueryRowContext(ctx, `SELECT request_id, recipient FROM download_links WHERE id = $1`, id).Scan(&request, &recipient)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: link %s", derrors.NotFound, id)
	}
	if err != nil {
		return err
	}
	if recipient != p.User {
		r, err := s.Get(ctx, p, request)
		if err != nil {
			return err
		}
		if _, err := s.project(ctx, p, r.Project, access.ReviewExport); err != nil {
			return err
		}
	}
	return s.change(ctx, func(tx *sql.Tx) ([]audit.Entry, error) {
		_, err := tx.ExecContext(ctx, `UPDATE download_links SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, store.FormatTime(s.Now()), id)
		return []audit.Entry{event(p, "export.link.revoke", "link/"+id, nil)}, err
	})
}

// Inbox lists the links sent to p (the analyst's downloads, the data publisher's inbox).
func (s *Service) Inbox(ctx context.Context, p access.Principal) ([]Link, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, request_id, recipient, ip_range, created_at, expires_at, revoked_at, uses
		FROM download_links WHERE recipient = $1 ORDER BY created_at DESC`, p.User)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Link{}
	for rows.Next() {
		var l Link
		var c, e string
		var rv store.NullTime
		if err := rows.Scan(&l.ID, &l.Request, &l.Recipient, &l.IPRange, &c, &e, &rv, &l.Uses); err != nil {
			return nil, err
		}
		l.Created, _ = store.ParseTime(c)
		l.Expires, _ = store.ParseTime(e)
		l.Revoked = rv.Time
		out = append(out, l)
	}
	return out, rows.Err()
}

// entitled checks that recipient may receive a link to export r: in a bunker project only
// its data publishers; otherwise the author, or a member on the project's export list who
// still may request exports there. Anyone else — another agency's user, a user that does
// not exist — is refused with one message, so the answer tells nothing of who exists.
func (s *Service) entitled(ctx context.Context, p access.Principal, r *Request, st Settings, recipient string) error {
	x, err := s.Access.Project(ctx, p, r.Project)
	if err != nil {
		return err
	}
	refuse := func(who string) error {
		return fmt.Errorf("%w: %s may not receive export %s: links go only to %s", derrors.Invalid, recipient, r.ID, who)
	}
	u, err := s.Access.Principal(ctx, recipient, "")
	if err != nil && !errors.Is(err, derrors.NotFound) {
		return err
	}
	if st.Bunker {
		if err != nil || !access.Allowed(u, access.ReceiveExport, x) {
			return refuse("the project's data publishers (a bunker project)")
		}
		return nil
	}
	const who = "its author or members of the project who may request exports"
	if err != nil || !access.Allowed(u, access.RequestExport, x) {
		return refuse(who)
	}
	if recipient == r.Author {
		return nil
	}
	ok, err := s.onList(ctx, x.Code, recipient)
	if err != nil {
		return err
	}
	if !ok {
		return refuse(who)
	}
	return nil
}

// randomToken is 32 random bytes, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Issue makes a further link to a released export for a recipient, optionally bound to an
// address range (the officer of its project). It returns the token, shown only here.
func (s *Service) Issue(ctx context.Context, p access.Principal, request, recipient, ipRange string) (string, Link, error) {
	r, err := s.Get(ctx, p, request)
	if err != nil {
		return "", Link{}, err
	}
	if _, err := s.project(ctx, p, r.Project, access.ReviewExport); err != nil {
		return "", Link{}, err
	}
	if r.Status != Released {
		return "", Link{}, fmt.Errorf("%w: export %s is %s, not released", derrors.Conflict, request, r.Status)
	}
	st, err := s.Settings(ctx, r.Project)
	if err != nil {
		return "", Link{}, err
	}
	if err := s.entitled(ctx, p, r, st, recipient); err != nil {
		return "", Link{}, err
	}
	var l newLink
	err = s.change(ctx, func(tx *sql.Tx) ([]audit.Entry, error) {
		var e audit.Entry
		l, e, err = s.createLink(ctx, tx, p, request, recipient, ipRange, time.Duration(st.LinkDays)*24*time.Hour)
		return []audit.Entry{e}, err
	})
	return l.token, l.Link, err
}
