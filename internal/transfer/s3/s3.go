// Package s3 hands a bundle over through an Amazon S3 bucket (or an S3-compatible store)
// without giving the uploader any credentials.
//
// The bucket's owner grants an upload (Bucket.Grant): for every file of the bundle's
// manifest, and the manifest itself, it starts a multipart upload with its own credentials
// and presigns one UploadPart URL per part (each bound to its object, upload, part number and
// exact length) and one CompleteMultipartUpload URL, all expiring together after a short,
// stated time (default 2 hours, at most S3's 7 days). S3 refuses a single PUT over 5 GiB;
// multipart uploads take 1 to 10,000 parts of 5 MiB to 5 GiB (the last may be smaller), so
// any file up to 5 TiB goes, in parts of 16 MiB or more. The plan (the URLs: bearer
// credentials) goes to the uploader in a file; the grant's record keeps only the upload ids,
// sizes and digests.
//
// The uploader pushes (Push): each part is read, its MD5 sent as Content-MD5 (S3 refuses a
// part whose bytes differ) and compared with the ETag S3 answers; every finished part is
// written to a journal beside the plan before the next is counted, so after an interruption,
// kill -9 included, the same command sends only the parts the journal lacks. Then the upload
// is completed with its parts' ETags, the manifest last.
//
// The owner confirms (Bucket.Check): every object is streamed through SHA-256 and compared
// with the digests the grant recorded from the manifest. Revocation aborts the uploads that
// are still open (Bucket.Killer): an aborted or completed upload id accepts no more parts, so
// the part URLs die with it; ListParts answering NoSuchUpload proves it. A presigned URL
// cannot be revoked otherwise: it dies at its expiry, or with the credentials that signed it.
//
// Presigned URLs carry no IP restriction; Policy writes the bucket-policy statements that do:
// plain HTTP is denied for the whole bucket (aws:SecureTransport), and presigned requests
// (s3:authType REST-QUERY-STRING) writing under the prefix from outside the client's
// addresses (aws:SourceIp) are denied, while the owner's own header-signed requests are not.
package s3

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stewardhealth/steward/internal/transfer"
)

// S3's limits (Amazon S3 User Guide, "Amazon S3 multipart upload limits").
const (
	MaxExpiry       = 7 * 24 * time.Hour // a presigned URL's longest life
	MaxSinglePut    = 5 << 30            // the largest object one PUT may write
	MinPartSize     = 5 << 20            // every part but the last
	MaxPartSize     = 5 << 30
	MaxParts        = 10000
	MaxObjectSize   = 5 << 40
	DefaultPartSize = 16 << 20
	DefaultExpiry   = 2 * time.Hour
)

// PartSize is the part size for a file of size bytes: want (DefaultPartSize when 0), or more
// — in whole MiB — so that the file fits in MaxParts parts.
func PartSize(size, want int64) (int64, error) {
	if want == 0 {
		want = DefaultPartSize
	}
	if want < MinPartSize || want > MaxPartSize {
		return 0, fmt.Errorf("part size %d: S3 takes parts of %d to %d bytes", want, int64(MinPartSize), int64(MaxPartSize))
	}
	if size > MaxObjectSize {
		return 0, fmt.Errorf("%d bytes: S3 objects hold at most 5 TiB; split the bundle", size)
	}
	if need := (size + MaxParts - 1) / MaxParts; need > want {
		want = (need + 1<<20 - 1) >> 20 << 20
	}
	return want, nil
}

// parts cuts size bytes into parts of partSize (one empty part for an empty file).
func parts(size, partSize int64) []int64 {
	if size == 0 {
		return []int64{0}
	}
	var ps []int64
	for off := int64(0); off < size; off += partSize {
		ps = append(ps, min(partSize, size-off))
	}
	return ps
}

// EnvCredentials reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
func EnvCredentials() (aws.CredentialsProvider, error) {
	c := aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return nil, errors.New("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for a role's temporary credentials)")
	}
	return credentials{c}, nil
}

type credentials struct{ c aws.Credentials }

func (c credentials) Retrieve(context.Context) (aws.Credentials, error) { return c.c, nil }

// StaticCredentials are fixed credentials (tests, s3rver).
func StaticCredentials(id, secret string) aws.CredentialsProvider {
	return credentials{aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}}
}

// Bucket is the owner's side: a bucket and the credentials that may write to it.
type Bucket struct {
	Name, Region string
	Endpoint     string // an S3-compatible endpoint (path-style URLs), https only; "" for AWS
	Credentials  aws.CredentialsProvider
	Client       *http.Client     // nil: the SDK's default
	Now          func() time.Time // the signing time; nil for the clock
}

func (b Bucket) now() time.Time {
	if b.Now != nil {
		return b.Now().UTC()
	}
	return time.Now().UTC()
}

func (b Bucket) check() error {
	if b.Name == "" || b.Region == "" {
		return errors.New("a bucket and its region are required")
	}
	if b.Endpoint != "" {
		u, err := url.Parse(b.Endpoint)
		if err != nil || u.Host == "" {
			return fmt.Errorf("endpoint %q: give https://HOST[:PORT]", b.Endpoint)
		}
		if u.Scheme != "https" {
			return fmt.Errorf("endpoint %s: HTTPS only — the bucket policy denies plain HTTP, and presigned URLs over HTTP travel in clear", b.Endpoint)
		}
	}
	return nil
}

func (b Bucket) api() *s3.Client {
	o := s3.Options{Region: b.Region, Credentials: b.Credentials, UsePathStyle: b.Endpoint != "",
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired}
	if b.Endpoint != "" {
		o.BaseEndpoint = aws.String(b.Endpoint)
	}
	if b.Client != nil {
		o.HTTPClient = b.Client
	}
	return s3.New(o)
}

// GrantRequest describes an upload grant.
type GrantRequest struct {
	Prefix   string
	ClientIP string        // the client's address, CIDR block or range, for the record
	Expires  time.Duration // default DefaultExpiry
	PartSize int64         // default DefaultPartSize
	Taken    func(id string) bool
}

// Grant is the record of an S3 upload grant: where, until when, which uploads — never a URL.
type Grant struct {
	transfer.Record
	Bucket   string         `json:"bucket"`
	Region   string         `json:"region"`
	Endpoint string         `json:"endpoint,omitempty"`
	Prefix   string         `json:"prefix"`
	ClientIP string         `json:"client_ip,omitempty"`
	Uploads  []UploadRecord `json:"uploads"`
}

// UploadRecord is one object of a grant.
type UploadRecord struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	UploadID string `json:"upload_id"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	PartSize int64  `json:"part_size"`
	Parts    int    `json:"parts"`
}

// Plan is what the uploader gets (written owner-only; its URLs are bearer credentials).
type Plan struct {
	Version int        `json:"version"` // 2
	Grant   string     `json:"grant"`
	Bucket  string     `json:"bucket"`
	Prefix  string     `json:"prefix"`
	Expires time.Time  `json:"expires"`
	Files   []FilePlan `json:"files"` // the manifest last
}

// FilePlan is the upload of one file.
type FilePlan struct {
	Name     string    `json:"name"`
	Size     int64     `json:"size"`
	SHA256   string    `json:"sha256"`
	UploadID string    `json:"upload_id"`
	PartSize int64     `json:"part_size"`
	Parts    []PartURL `json:"parts"`
	Complete string    `json:"complete"` // POST, with the parts' ETags
}

// PartURL is the presigned UploadPart of one part.
type PartURL struct {
	Number int    `json:"number"`
	Size   int64  `json:"size"`
	URL    string `json:"url"`
}

func newID() string {
	var b [8]byte
	if _, err := randRead(b[:]); err != nil {
		panic(err)
	}
	return "s3-" + fmt.Sprintf("%x", b)
}

// Grant starts a multipart upload for every file of the manifest and for the manifest itself
// (mf, its own entry, last) and presigns their parts and completions. On failure it aborts
// the uploads it started.
func (b Bucket) Grant(ctx context.Context, req GrantRequest, m *transfer.Manifest, mf transfer.File) (Grant, Plan, error) {
	if err := b.check(); err != nil {
		return Grant{}, Plan{}, err
	}
	if req.Expires == 0 {
		req.Expires = DefaultExpiry
	}
	if req.Expires < time.Minute || req.Expires > MaxExpiry {
		return Grant{}, Plan{}, fmt.Errorf("expiry %s: S3 allows presigned URLs of up to 7 days; keep it to the upload's expected duration plus a margin", req.Expires)
	}
	id := newID()
	for req.Taken != nil && req.Taken(id) {
		id = newID()
	}
	now := b.now().Truncate(time.Second)
	g := Grant{Record: transfer.Record{ID: id, Kind: transfer.KindS3, Created: now, Expiry: now.Add(req.Expires)},
		Bucket: b.Name, Region: b.Region, Endpoint: b.Endpoint, Prefix: req.Prefix, ClientIP: req.ClientIP}
	p := Plan{Version: 2, Grant: id, Bucket: b.Name, Prefix: req.Prefix, Expires: g.Expiry}
	api := b.api()
	pc := s3.NewPresignClient(api, func(o *s3.PresignOptions) {
		o.Expires = req.Expires
		o.Presigner = fixedTime{v4.NewSigner(), now}
	})
	creds, err := b.Credentials.Retrieve(ctx)
	if err != nil {
		return Grant{}, Plan{}, fmt.Errorf("credentials: %w", err)
	}
	abort := func() {
		for _, u := range g.Uploads {
			api.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: &b.Name, Key: aws.String(u.Key), UploadId: aws.String(u.UploadID)})
		}
	}
	for _, f := range append(append([]transfer.File(nil), m.Files...), mf) {
		ps, err := PartSize(f.Size, req.PartSize)
		if err != nil {
			abort()
			return Grant{}, Plan{}, fmt.Errorf("%s: %w", f.Name, err)
		}
		key := path.Join(req.Prefix, f.Name)
		out, err := api.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b.Name, Key: &key})
		if err != nil {
			abort()
			return Grant{}, Plan{}, fmt.Errorf("start the upload of %s: %w", f.Name, brief(err))
		}
		sizes := parts(f.Size, ps)
		g.Uploads = append(g.Uploads, UploadRecord{Name: f.Name, Key: key, UploadID: *out.UploadId, Size: f.Size, SHA256: f.SHA256, PartSize: ps, Parts: len(sizes)})
		fp := FilePlan{Name: f.Name, Size: f.Size, SHA256: f.SHA256, UploadID: *out.UploadId, PartSize: ps}
		for i, size := range sizes {
			r, err := pc.PresignUploadPart(ctx, &s3.UploadPartInput{Bucket: &b.Name, Key: &key, UploadId: out.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), ContentLength: aws.Int64(size)})
			if err != nil {
				abort()
				return Grant{}, Plan{}, fmt.Errorf("presign part %d of %s: %w", i+1, f.Name, err)
			}
			fp.Parts = append(fp.Parts, PartURL{Number: i + 1, Size: size, URL: r.URL})
		}
		if fp.Complete, err = presignComplete(ctx, creds, fp.Parts[0].URL, *out.UploadId, b.Region, now, req.Expires); err != nil {
			abort()
			return Grant{}, Plan{}, fmt.Errorf("presign the completion of %s: %w", f.Name, err)
		}
		p.Files = append(p.Files, fp)
	}
	return g, p, nil
}

// presignComplete signs POST OBJECT?uploadId=ID (CompleteMultipartUpload), which the SDK's
// presign client does not offer, with the same signer, time and expiry; the payload (the
// list of parts) is unsigned, as in every presigned request.
func presignComplete(ctx context.Context, creds aws.Credentials, partURL, uploadID, region string, now time.Time, expires time.Duration) (string, error) {
	u, err := url.Parse(partURL)
	if err != nil {
		return "", err
	}
	q := url.Values{}
	q.Set("uploadId", uploadID)
	q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return "", err
	}
	signed, _, err := v4.NewSigner().PresignHTTP(ctx, creds, req, "UNSIGNED-PAYLOAD", "s3", region, now)
	return signed, err
}

// fixedTime signs at the grant's clock.
type fixedTime struct {
	s   *v4.Signer
	now time.Time
}

func (f fixedTime) PresignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, opts ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return f.s.PresignHTTP(ctx, c, r, payloadHash, service, region, f.now, opts...)
}

// ReadPlan reads an uploader's plan file.
func ReadPlan(file string) (Plan, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return Plan{}, err
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return Plan{}, fmt.Errorf("%s: not an S3 upload plan: %w", file, err)
	}
	if p.Version != 2 || p.Grant == "" {
		return Plan{}, fmt.Errorf("%s: upload plan version %d, want 2 (made by `steward transfer s3-presign`)", file, p.Version)
	}
	return p, nil
}

// CIDRs turns an address, a CIDR block or an inclusive IPv4 range a.b.c.d-e.f.g.h (the form
// Azure's sip takes) into the fewest CIDR blocks that cover exactly that range.
func CIDRs(spec string) ([]string, error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(spec), "-")
	if !isRange {
		if p, err := netip.ParsePrefix(lo); err == nil {
			return []string{p.Masked().String()}, nil
		}
		a, err := netip.ParseAddr(lo)
		if err != nil {
			return nil, fmt.Errorf("client IP %q: give an address, a CIDR block or a range a.b.c.d-e.f.g.h", spec)
		}
		return []string{netip.PrefixFrom(a, a.BitLen()).String()}, nil
	}
	a, err1 := netip.ParseAddr(strings.TrimSpace(lo))
	b, err2 := netip.ParseAddr(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || !a.Is4() || !b.Is4() || b.Less(a) {
		return nil, fmt.Errorf("client IP range %q: give two IPv4 addresses, the lower first", spec)
	}
	start, end := uint64(binary.BigEndian.Uint32(a.AsSlice())), uint64(binary.BigEndian.Uint32(b.AsSlice()))
	var out []string
	for start <= end {
		bits := 32
		for bits > 0 && start&(1<<(33-bits)-1) == 0 && start+1<<(33-bits)-1 <= end {
			bits--
		}
		var ip [4]byte
		binary.BigEndian.PutUint32(ip[:], uint32(start))
		out = append(out, netip.PrefixFrom(netip.AddrFrom4(ip), bits).String())
		start += 1 << (32 - bits)
	}
	return out, nil
}

// Statement is an S3 bucket-policy statement.
type Statement struct {
	Sid       string                    `json:"Sid"`
	Effect    string                    `json:"Effect"`
	Principal string                    `json:"Principal"`
	Action    []string                  `json:"Action"`
	Resource  any                       `json:"Resource"`
	Condition map[string]map[string]any `json:"Condition"`
}

// Policy is the two bucket-policy statements to add before the URLs are sent:
//
//   - plain HTTP is denied for every request to the bucket (aws:SecureTransport false);
//   - presigned requests (s3:authType REST-QUERY-STRING, "Amazon S3 Signature Version 4
//     Authentication Specific Policy Keys") that write under the prefix — s3:PutObject covers
//     UploadPart and CompleteMultipartUpload — from outside cidrs (aws:SourceIp) are denied.
//     The owner's header-signed requests (starting, aborting, listing, reading uploads) are
//     not affected, wherever the owner is.
//
// They deny rather than allow, so they bind even requests signed with the owner's own
// credentials, which presigned URLs are.
func Policy(bucket, prefix string, cidrs []string) ([]byte, error) {
	sts := []Statement{
		{
			Sid: "StewardHandOverHTTPSOnly", Effect: "Deny", Principal: "*", Action: []string{"s3:*"},
			Resource:  []string{"arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"},
			Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}},
		},
		{
			Sid: "StewardHandOverOnlyFromClient", Effect: "Deny", Principal: "*",
			Action:   []string{"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
			Resource: "arn:aws:s3:::" + bucket + "/" + path.Join(prefix, "*"),
			Condition: map[string]map[string]any{
				"NotIpAddress": {"aws:SourceIp": cidrs},
				"StringEquals": {"s3:authType": "REST-QUERY-STRING"},
			},
		},
	}
	return json.MarshalIndent(sts, "", "  ")
}
