// Package s3 hands a bundle over through an Amazon S3 bucket without giving the uploader any
// AWS credentials: the bucket's owner presigns one PUT URL per file of the manifest, each
// valid for a short time and for that object only, and sends them to the uploader.
//
// A presigned URL carries no IP restriction (S3 has no equivalent of Azure's sip); that part
// is a bucket-policy statement denying uploads under the prefix from any other address,
// which Policy prints for the operator to add. A presigned URL cannot be revoked on its own:
// it dies when it expires, or when the signing credentials are revoked. Keep the expiry short
// and sign with a role or user made for the hand-over.
package s3

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stewardhealth/steward/internal/transfer"
)

// MaxExpiry is the longest a presigned URL may live (S3's own limit).
const MaxExpiry = 7 * 24 * time.Hour

// Presigner presigns PUT URLs for a bundle's files.
type Presigner struct {
	Bucket, Prefix, Region string
	Expires                time.Duration
	Credentials            aws.CredentialsProvider
	Endpoint               string           // an S3-compatible endpoint (path-style URLs); "" for AWS
	Now                    func() time.Time // the signing time; nil for the clock
}

// Upload is one presigned upload: send the file's bytes with Method to URL, with Header.
type Upload struct {
	Name    string      `json:"name"`
	Method  string      `json:"method"`
	URL     string      `json:"url"`
	Header  http.Header `json:"header,omitempty"`
	Size    int64       `json:"size"`
	Expires time.Time   `json:"expires"`
}

// EnvCredentials reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
func EnvCredentials() (aws.CredentialsProvider, error) {
	c := aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return nil, errors.New("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for a role's temporary credentials)")
	}
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return c, nil }), nil
}

// Presign returns an upload for every file of the manifest and for the manifest itself
// (mf, its own entry), in that order: the manifest goes last.
func (p Presigner) Presign(ctx context.Context, m *transfer.Manifest, mf transfer.File) ([]Upload, error) {
	if p.Expires <= 0 || p.Expires > MaxExpiry {
		return nil, fmt.Errorf("expiry %s: S3 allows presigned URLs of up to 7 days; keep it to the upload's expected duration plus a margin", p.Expires)
	}
	if p.Bucket == "" || p.Region == "" {
		return nil, errors.New("a bucket and its region are required")
	}
	client := s3.New(s3.Options{Region: p.Region, Credentials: p.Credentials, UsePathStyle: p.Endpoint != "", BaseEndpoint: nilIfEmpty(p.Endpoint)})
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	pc := s3.NewPresignClient(client, func(o *s3.PresignOptions) {
		o.Expires = p.Expires
		o.Presigner = fixedTime{v4.NewSigner(), now}
	})
	var ups []Upload
	for _, f := range append(append([]transfer.File(nil), m.Files...), mf) {
		req, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &p.Bucket, Key: aws.String(path.Join(p.Prefix, f.Name)), ContentLength: aws.Int64(f.Size)})
		if err != nil {
			return nil, fmt.Errorf("presign %s: %w", f.Name, err)
		}
		h := req.SignedHeader.Clone()
		h.Del("Host")
		ups = append(ups, Upload{Name: f.Name, Method: req.Method, URL: req.URL, Header: h, Size: f.Size, Expires: now().UTC().Add(p.Expires).Truncate(time.Second)})
	}
	return ups, nil
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// fixedTime signs at the presigner's clock.
type fixedTime struct {
	s   *v4.Signer
	now func() time.Time
}

func (f fixedTime) PresignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, opts ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return f.s.PresignHTTP(ctx, c, r, payloadHash, service, region, f.now(), opts...)
}

// Uploads is a destination that sends each file to its presigned URL.
type Uploads struct {
	ByName map[string]Upload
	Client *http.Client // nil: http.DefaultClient
}

// Put uploads r to the presigned URL for name.
func (u Uploads) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	up, ok := u.ByName[name]
	if !ok {
		return fmt.Errorf("no presigned URL for %s: ask the sender for URLs made from this bundle's manifest", name)
	}
	if time.Now().After(up.Expires) {
		return fmt.Errorf("the presigned URL for %s expired at %s: ask the sender for new ones", name, up.Expires.Format(time.RFC3339))
	}
	req, err := http.NewRequestWithContext(ctx, up.Method, up.URL, r)
	if err != nil {
		return fmt.Errorf("presigned URL for %s: %w", name, err)
	}
	req.Header = up.Header.Clone()
	req.ContentLength = size
	c := u.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) { // url.Error repeats the URL, signature included
			err = ue.Unwrap()
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return fmt.Errorf("S3 refused the upload: %s %s", resp.Status, s3Code(body))
	}
	return nil
}

// s3Code picks the error code out of S3's XML error body.
func s3Code(body []byte) string {
	_, rest, ok := strings.Cut(string(body), "<Code>")
	code, _, ok2 := strings.Cut(rest, "</Code>")
	if !ok || !ok2 {
		return ""
	}
	return code
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
	Resource  string                    `json:"Resource"`
	Condition map[string]map[string]any `json:"Condition"`
}

// Policy is the bucket-policy statement that refuses writes under the prefix from any
// address outside cidrs. It denies rather than allows, so it binds even requests signed by
// the bucket owner's own credentials, such as presigned URLs.
func Policy(bucket, prefix string, cidrs []string) ([]byte, error) {
	st := Statement{
		Sid:       "StewardHandOverOnlyFromClient",
		Effect:    "Deny",
		Principal: "*",
		Action:    []string{"s3:PutObject", "s3:AbortMultipartUpload"},
		Resource:  "arn:aws:s3:::" + bucket + "/" + path.Join(prefix, "*"),
		Condition: map[string]map[string]any{"NotIpAddress": {"aws:SourceIp": cidrs}},
	}
	return json.MarshalIndent(st, "", "  ")
}
