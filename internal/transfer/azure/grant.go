package azure

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/transfer"
)

// SQLServerBackupPermissions are the permissions of a token SQL Server's BACKUP TO URL uses
// through a SAS credential: read, write, delete and list. The fact comes from Microsoft's
// "SQL Server Backup to URL" article (sql-docs, docs/relational-databases/backup-restore/
// sql-server-backup-to-url.md), whose example makes the stored access policy of a backup
// container with -Permission "rwld", and from the RESTORE article's examples, whose backup
// containers' stored access policies have "read, write, delete, and list" rights. The
// container is dedicated to the hand-over, so delete and list reach only its own blobs.
const SQLServerBackupPermissions = "rwdl"

// MaxPolicies is how many stored access policies a container may hold.
const MaxPolicies = 5

// Account is a storage account the vendor holds the key of.
type Account struct {
	Name     string
	Key      string       // base64, as the portal shows it
	Endpoint string       // e.g. https://127.0.0.1:10000/devstoreaccount1; default https://NAME.blob.core.windows.net
	Client   *http.Client // nil: the SDK's default
}

func (a Account) endpoint() string {
	if a.Endpoint != "" {
		return strings.TrimRight(a.Endpoint, "/")
	}
	return "https://" + a.Name + ".blob.core.windows.net"
}

// checkEndpoint refuses an endpoint that is not HTTPS: the token allows HTTPS only (spr=https),
// so a grant against a plain-HTTP endpoint would mint a token that can never be used there, and
// the policy change would travel in clear.
func (a Account) checkEndpoint() error {
	u, err := url.Parse(a.endpoint())
	if err != nil || u.Host == "" {
		return fmt.Errorf("endpoint %q: give https://HOST[:PORT][/ACCOUNT]", a.Endpoint)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("endpoint %s: HTTPS only — the token allows HTTPS alone (spr=https), so a token for a plain-HTTP endpoint could never be used; give the https:// address", a.Endpoint)
	}
	return nil
}

func (a Account) container(name string) (*container.Client, *sas.SharedKeyCredential, error) {
	cred, err := container.NewSharedKeyCredential(a.Name, a.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("account key: %w", err)
	}
	c, err := container.NewClientWithSharedKeyCredential(a.endpoint()+"/"+name, cred, clientOptions(a.Client))
	return c, cred, err
}

// Grant is the record of one token: everything needed to revoke it and to mint the very
// same token again, never the key or the token itself.
//
// Its ID is also the stored access policy's identifier, and its Expiry the policy's.
type Grant struct {
	transfer.Record
	Account     string `json:"account"`
	Container   string `json:"container"`
	Endpoint    string `json:"endpoint"`
	IPRange     string `json:"ip_range"`
	Protocol    string `json:"protocol"`
	Permissions string `json:"permissions"` // in the policy
	Version     string `json:"version"`     // the SAS's sv
}

// GrantRequest describes the token to mint.
type GrantRequest struct {
	Container   string
	IPRange     string               // one IPv4 address or an inclusive range a-b
	Duration    time.Duration        // how long the backup is expected to take
	Margin      time.Duration        // added to Duration
	Permissions string               // default "rcw"; "cw" gives up resume
	Taken       func(id string) bool // ids used before (e.g. local records), never reused
}

// ParseIPRange checks an address or an inclusive range a-b (IPv4, as SAS allows).
func ParseIPRange(s string) (sas.IPRange, error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "-")
	parse := func(v string) (net.IP, error) {
		ip := net.ParseIP(strings.TrimSpace(v)).To4()
		if ip == nil {
			return nil, fmt.Errorf("client IP %q: want an IPv4 address like 203.0.113.7 or a range like 203.0.113.0-203.0.113.255", s)
		}
		return ip, nil
	}
	start, err := parse(lo)
	if err != nil {
		return sas.IPRange{}, err
	}
	r := sas.IPRange{Start: start}
	if isRange {
		if r.End, err = parse(hi); err != nil {
			return sas.IPRange{}, err
		}
		if bytes.Compare(r.End, r.Start) < 0 {
			return sas.IPRange{}, fmt.Errorf("client IP range %q: the end is below the start", s)
		}
		if r.End.Equal(r.Start) {
			r.End = nil
		}
	}
	return r, nil
}

var containerRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// permissions checks a permission string (letters of "racwdl"; default rcw) and puts it in
// the service's order.
func permissions(p string) (string, error) {
	if p == "" {
		return "rcw", nil
	}
	var out []byte
	for _, c := range []byte("racwdl") {
		if strings.IndexByte(p, c) >= 0 {
			out = append(out, c)
		}
	}
	if strings.Trim(p, "racwdl") != "" || len(out) == 0 {
		return "", fmt.Errorf("permissions %q: use letters of racwdl (r read, a add, c create, w write, d delete, l list), e.g. rcw", p)
	}
	return string(out), nil
}

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "sg-" + hex.EncodeToString(b)
}

// Grant creates the container if missing, adds a stored access policy with a fresh id next
// to the container's existing ones, and returns the grant and the token (the container's
// SAS URL).
func (a Account) Grant(ctx context.Context, req GrantRequest) (Grant, string, error) {
	if err := a.checkEndpoint(); err != nil {
		return Grant{}, "", err
	}
	return a.grant(ctx, req)
}

// grant is Grant without the HTTPS check (tests mint tokens on a plain-HTTP emulator to see
// the service refuse them).
func (a Account) grant(ctx context.Context, req GrantRequest) (Grant, string, error) {
	ipr, err := ParseIPRange(req.IPRange)
	if err != nil {
		return Grant{}, "", invalid{err}
	}
	if !containerRE.MatchString(req.Container) || strings.Contains(req.Container, "--") {
		return Grant{}, "", invalid{fmt.Errorf("container name %q: 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit", req.Container)}
	}
	if req.Duration <= 0 || req.Margin < 0 {
		return Grant{}, "", invalid{errors.New("the duration must be positive and the margin not negative")}
	}
	if req.Permissions, err = permissions(req.Permissions); err != nil {
		return Grant{}, "", invalid{err}
	}
	c, _, err := a.container(req.Container)
	if err != nil {
		return Grant{}, "", err
	}
	if _, err := c.Create(ctx, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return Grant{}, "", fmt.Errorf("create container %s: %w", req.Container, brief(err))
	}
	acl, err := c.GetAccessPolicy(ctx, nil)
	if err != nil {
		return Grant{}, "", fmt.Errorf("read the access policies of container %s: %w", req.Container, brief(err))
	}
	if acl.BlobPublicAccess != nil && *acl.BlobPublicAccess != "" {
		return Grant{}, "", fmt.Errorf("container %s allows public read access (%s): a hand-over container must be private", req.Container, *acl.BlobPublicAccess)
	}
	var ids []string
	for _, si := range acl.SignedIdentifiers {
		ids = append(ids, *si.ID)
	}
	if len(ids) >= MaxPolicies {
		return Grant{}, "", fmt.Errorf("container %s already holds %d stored access policies (%s), the most a container may have: revoke one (steward transfer revoke --grant ID) or use another container",
			req.Container, len(ids), strings.Join(ids, ", "))
	}
	id := newID()
	for slices.Contains(ids, id) || (req.Taken != nil && req.Taken(id)) {
		id = newID()
	}
	now := time.Now().UTC().Truncate(time.Second)
	g := Grant{Record: transfer.Record{ID: id, Kind: transfer.KindAzure, Created: now, Expiry: now.Add(req.Duration + req.Margin)},
		Account: a.Name, Container: req.Container, Endpoint: a.endpoint(), IPRange: ipr.String(),
		Protocol: string(sas.ProtocolHTTPS), Permissions: req.Permissions, Version: sas.Version}
	acl.SignedIdentifiers = append(acl.SignedIdentifiers, &container.SignedIdentifier{
		ID:           to.Ptr(id),
		AccessPolicy: &container.AccessPolicy{Expiry: to.Ptr(g.Expiry), Permission: to.Ptr(g.Permissions)},
	})
	_, err = c.SetAccessPolicy(ctx, &container.SetAccessPolicyOptions{
		ContainerACL: acl.SignedIdentifiers,
		// Set Container ACL replaces the whole list: refuse if someone changed it meanwhile.
		AccessConditions: &container.AccessConditions{ModifiedAccessConditions: &container.ModifiedAccessConditions{IfUnmodifiedSince: acl.LastModified}},
	})
	if err != nil {
		return Grant{}, "", fmt.Errorf("add access policy %s to container %s: %w", id, req.Container, brief(err))
	}
	tok, err := a.Token(g)
	return g, tok, err
}

// Token mints g's token again: the same fields signed with the same key give the same token.
func (a Account) Token(g Grant) (string, error) {
	ipr, err := ParseIPRange(g.IPRange)
	if err != nil {
		return "", err
	}
	c, cred, err := a.container(g.Container)
	if err != nil {
		return "", err
	}
	qp, err := sas.BlobSignatureValues{Version: g.Version, Protocol: sas.Protocol(g.Protocol), Identifier: g.ID,
		IPRange: ipr, ContainerName: g.Container,
	}.SignWithSharedKey(cred)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return c.URL() + "?" + qp.Encode(), nil
}

// Policies lists the identifiers of the container's stored access policies.
func (a Account) Policies(ctx context.Context, containerName string) ([]string, error) {
	c, _, err := a.container(containerName)
	if err != nil {
		return nil, err
	}
	acl, err := c.GetAccessPolicy(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("read the access policies of container %s: %w", containerName, brief(err))
	}
	var ids []string
	for _, si := range acl.SignedIdentifiers {
		ids = append(ids, *si.ID)
	}
	return ids, nil
}

// Revoke deletes g's stored access policy, keeping the container's others. It reports
// whether the policy was still there.
func (a Account) Revoke(ctx context.Context, g Grant) (bool, error) {
	c, _, err := a.container(g.Container)
	if err != nil {
		return false, err
	}
	acl, err := c.GetAccessPolicy(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("read the access policies of container %s: %w", g.Container, brief(err))
	}
	keep := slices.DeleteFunc(slices.Clone(acl.SignedIdentifiers), func(si *container.SignedIdentifier) bool { return *si.ID == g.ID })
	if len(keep) == len(acl.SignedIdentifiers) {
		return false, nil
	}
	_, err = c.SetAccessPolicy(ctx, &container.SetAccessPolicyOptions{ContainerACL: keep, Access: acl.BlobPublicAccess,
		AccessConditions: &container.AccessConditions{ModifiedAccessConditions: &container.ModifiedAccessConditions{IfUnmodifiedSince: acl.LastModified}}})
	if err != nil {
		return false, fmt.Errorf("delete access policy %s of container %s: %w", g.ID, g.Container, brief(err))
	}
	return true, nil
}

// Killer is what kills g's token and proves it dead: deleting its stored access policy, then
// uploading with it until the service refuses.
func (a Account) Killer(g Grant) transfer.Killer { return killer{a, g} }

type killer struct {
	a Account
	g Grant
}

func (k killer) Kill(ctx context.Context) (bool, error) { return k.a.Revoke(ctx, k.g) }

func (k killer) ProveDead(ctx context.Context, wait time.Duration) (string, error) {
	r, err := k.a.ProveDead(ctx, k.g, wait)
	if err != nil {
		return "", err
	}
	return "an upload with the token was refused (" + r.Code + ": " + r.Reason + ")", nil
}

// probeBlob is what ProveDead tries to upload.
const probeBlob = ".steward-revocation-probe"

// ProveDead tries to upload a small blob with g's token until the service refuses it (a
// policy change can take up to 30 seconds to apply on Azure), at most for wait. It returns
// the refusal. If an upload got through, it deletes the probe blob with the account key.
func (a Account) ProveDead(ctx context.Context, g Grant, wait time.Duration) (*Refusal, error) {
	tok, err := a.Token(g)
	if err != nil {
		return nil, err
	}
	tc, err := container.NewClientWithNoCredential(tok, clientOptions(a.Client))
	if err != nil {
		return nil, fmt.Errorf("token: %s", Redact(err.Error()))
	}
	kc, _, err := a.container(g.Container)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		_, err := tc.NewBlockBlobClient(probeBlob).Upload(ctx, streaming.NopCloser(strings.NewReader("revoked?")), nil)
		var r *Refusal
		if errors.As(Explain(err, g.Expiry), &r) {
			return r, nil
		}
		if err != nil {
			return nil, fmt.Errorf("upload probe: %w", brief(err))
		}
		kc.NewBlobClient(probeBlob).Delete(ctx, nil)
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the token still works %s after its policy was deleted", wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(3 * time.Second):
		}
	}
}

// invalid marks a request that cannot be granted as asked, before anything is sent: it is
// derrors.Invalid (the command line exits 2) with its own message.
type invalid struct{ error }

func (e invalid) Unwrap() error        { return e.error }
func (e invalid) Is(target error) bool { return target == derrors.Invalid }
