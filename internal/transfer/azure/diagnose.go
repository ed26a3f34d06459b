package azure

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// A token file, as grant writes it, holds the token (the container's SAS URL) on its first line
// and a comment line the push reads: the grant's id, the policy's expiry (which the token itself
// does not carry, so that deleting the policy kills it) and a checksum of the token line, so that
// a token altered or cut short on its way is told apart before the service is asked.

// TokenFile is a parsed token file.
type TokenFile struct {
	Token  string
	Grant  string    // "" when the file has no comment line (a bare token)
	Expiry time.Time // the policy's expiry, when the file says
	Sum    string    // the first 16 hex digits of the token line's SHA-256, when the file says
}

func tokenSum(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:8])
}

// FormatTokenFile is the token file of grant g's token.
func FormatTokenFile(g Grant, token string) string {
	return token + "\n# steward grant " + g.ID + ": expires " + g.Expiry.UTC().Format(time.RFC3339) + ", token sha256 " + tokenSum(token) + "\n"
}

// ParseTokenFile reads a token file: the first line that is not empty or a # comment is the token.
func ParseTokenFile(b []byte) TokenFile {
	var f TokenFile
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case tokenNoteRE.MatchString(line):
			m := tokenNoteRE.FindStringSubmatch(line)
			f.Grant, f.Sum = m[1], m[3]
			f.Expiry, _ = time.Parse(time.RFC3339, m[2])
		case strings.HasPrefix(line, "#"):
		case f.Token == "":
			f.Token = line
		}
	}
	return f
}

var tokenNoteRE = regexp.MustCompile(`^# steward grant (\S+): expires (\S+), token sha256 ([0-9a-f]{16})$`)

// Altered reports whether the token differs from the one its file's checksum was made of.
func (f TokenFile) Altered() bool { return f.Sum != "" && tokenSum(f.Token) != f.Sum }

// Finding is one thing Diagnose found wrong with a grant's token.
type Finding struct {
	Class  string // expired, revoked, signature, https, permission, container
	Reason string
}

func (f Finding) String() string { return f.Class + ": " + f.Reason }

// Diagnose tells, with the account key, why the service refuses token (the grant's, as the DBA
// holds it; "" for the token the record mints): it computes rather than reads the service's
// answer, which Azurite gives alike for every one of these (AuthorizationFailure):
//
//	container  the token is for another account or container than the grant
//	https      the grant's endpoint or the token's address is not HTTPS
//	signature  a signed field differs from the grant's (altered), or the fields are the grant's
//	           and the signature is not what the account key gives them (another key)
//	revoked    the container has no stored access policy with the grant's id
//	expired    the policy's expiry is past
//	permission the policy grants fewer permissions than the grant recorded
//
// No finding means the token is what the account key and the policy accept.
func (a Account) Diagnose(ctx context.Context, g Grant, token string) ([]Finding, error) {
	want, err := a.Token(g)
	if err != nil {
		return nil, err
	}
	if token == "" {
		token = want
	}
	var fs []Finding
	add := func(class, format string, args ...any) { fs = append(fs, Finding{class, fmt.Sprintf(format, args...)}) }
	tu, err := url.Parse(strings.TrimSpace(token))
	if err != nil || tu.Host == "" {
		return []Finding{{"signature", "the token is not a URL: altered or cut short"}}, nil
	}
	wu, _ := url.Parse(want)
	if !strings.EqualFold(tu.Host, wu.Host) || strings.Trim(tu.Path, "/") != strings.Trim(wu.Path, "/") {
		add("container", "the token is for %s%s, the grant for %s%s", tu.Host, tu.Path, wu.Host, wu.Path)
	}
	if tu.Scheme != "https" || wu.Scheme != "https" {
		add("https", "HTTPS only: the token allows HTTPS alone (spr=https), and %s is not an HTTPS address", tu.Scheme+"://"+tu.Host)
	}
	tq, wq := tu.Query(), wu.Query()
	var altered []string
	for k := range union(tq, wq) {
		if k != "sig" && tq.Get(k) != wq.Get(k) {
			altered = append(altered, k)
		}
	}
	switch {
	case len(altered) > 0:
		slices.Sort(altered)
		add("signature", "signature does not match (altered): signed field(s) %s differ from the grant's", strings.Join(altered, ", "))
	case tq.Get("sig") != wq.Get("sig"):
		add("signature", "signature does not match (wrong account key): the fields are the grant's, but the account key signs them otherwise — the token was signed with another key (the key was rotated, or another account's was used)")
	}
	c, _, err := a.container(g.Container)
	if err != nil {
		return nil, err
	}
	acl, err := c.GetAccessPolicy(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("read the access policies of container %s: %w", g.Container, brief(err))
	}
	found := false
	for _, si := range acl.SignedIdentifiers {
		if si.ID == nil || *si.ID != g.ID {
			continue
		}
		found = true
		if p := si.AccessPolicy; p != nil {
			if p.Expiry != nil && !time.Now().Before(*p.Expiry) {
				add("expired", "expired: the policy's expiry passed at %s", p.Expiry.UTC().Format(time.RFC3339))
			}
			have := ""
			if p.Permission != nil {
				have = *p.Permission
			}
			var missing []string
			for _, l := range g.Permissions {
				if !strings.ContainsRune(have, l) {
					missing = append(missing, string(l))
				}
			}
			if len(missing) > 0 {
				add("permission", "permission missing: the policy grants %q, the grant recorded %q (missing %s)", have, g.Permissions, strings.Join(missing, ""))
			}
		}
	}
	if !found {
		add("revoked", "revoked (no such policy): container %s has no stored access policy %s", g.Container, g.ID)
	}
	return fs, nil
}

func union(a, b url.Values) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}
