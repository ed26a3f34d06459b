package s3

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stewardhealth/steward/internal/transfer"
)

// FileCheck is one granted object compared with the digest the grant recorded from the
// manifest.
type FileCheck struct {
	Name    string
	Key     string
	Size    int64  // the object's size, -1 when missing
	Want    int64  // the manifest's
	SHA256  string // the object's digest, when its size was right
	Problem string // empty when the object matches
}

// Check streams every object of g through SHA-256 and compares it with the size and digest
// the grant recorded from the bundle's manifest (the owner's record, not a manifest read
// from the bucket). progress, when not nil, follows the bytes read.
func (b Bucket) Check(ctx context.Context, g Grant, progress transfer.Progress) ([]FileCheck, error) {
	if progress == nil {
		progress = transfer.NoProgress{}
	}
	api := b.api()
	var out []FileCheck
	for _, u := range g.Uploads {
		fc := FileCheck{Name: u.Name, Key: u.Key, Size: -1, Want: u.Size}
		head, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.Name, Key: aws.String(u.Key)})
		switch {
		case isCode(err, "NotFound", "NoSuchKey"):
			fc.Problem = "missing (the upload was not completed)"
		case err != nil:
			return nil, fmt.Errorf("%s: %w", u.Key, brief(err))
		case aws.ToInt64(head.ContentLength) != u.Size:
			fc.Size = aws.ToInt64(head.ContentLength)
			fc.Problem = fmt.Sprintf("size %d, want %d", fc.Size, u.Size)
		default:
			fc.Size = u.Size
			obj, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.Name, Key: aws.String(u.Key)})
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", u.Key, brief(err))
			}
			h := sha256.New()
			fp := progress.File(u.Name, u.Size, 0)
			_, err = io.Copy(io.MultiWriter(h, progressWriter{fp}), obj.Body)
			obj.Body.Close()
			fp.Done(err)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", u.Key, err)
			}
			if fc.SHA256 = hex.EncodeToString(h.Sum(nil)); fc.SHA256 != u.SHA256 {
				fc.Problem = "SHA-256 differs from the manifest's"
			}
		}
		out = append(out, fc)
	}
	return out, nil
}

type progressWriter struct{ fp transfer.FileProgress }

func (w progressWriter) Write(p []byte) (int, error) { w.fp.Add(int64(len(p))); return len(p), nil }

// Killer aborts g's uploads that are still open and proves every upload id dead.
func (b Bucket) Killer(g Grant) transfer.Killer { return killer{b, g} }

type killer struct {
	b Bucket
	g Grant
}

// Kill aborts every upload of the grant the service still knows; a completed upload answers
// NoSuchUpload and is already closed to its part URLs.
func (k killer) Kill(ctx context.Context) (bool, error) {
	api := k.b.api()
	aborted := false
	for _, u := range k.g.Uploads {
		_, err := api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &k.b.Name, Key: aws.String(u.Key), UploadId: aws.String(u.UploadID)})
		switch {
		case err == nil:
			aborted = true
		case isCode(err, "NoSuchUpload"):
		case isCode(err, "MethodNotAllowed", "NotImplemented"):
			return false, fmt.Errorf("this S3 server does not implement AbortMultipartUpload (%v): the part URLs cannot be revoked and stay usable until they expire at %s", brief(err), k.g.Expiry.UTC().Format(time.RFC3339))
		default:
			return false, fmt.Errorf("abort the upload of %s: %w", u.Key, brief(err))
		}
	}
	return aborted, nil
}

// ProveDead asks the service for the parts of every upload id and expects NoSuchUpload.
func (k killer) ProveDead(ctx context.Context, wait time.Duration) (string, error) {
	api := k.b.api()
	deadline := time.Now().Add(wait)
	for {
		var open []string
		for _, u := range k.g.Uploads {
			_, err := api.ListParts(ctx, &s3.ListPartsInput{Bucket: &k.b.Name, Key: aws.String(u.Key), UploadId: aws.String(u.UploadID)})
			switch {
			case isCode(err, "NoSuchUpload"):
			case err == nil:
				open = append(open, u.Key)
			case isCode(err, "MethodNotAllowed", "NotImplemented"):
				return "", fmt.Errorf("this S3 server does not implement ListParts (%v), so the uploads cannot be shown closed; the part URLs expire at %s", brief(err), k.g.Expiry.UTC().Format(time.RFC3339))
			default:
				return "", fmt.Errorf("list the parts of %s: %w", u.Key, brief(err))
			}
		}
		if len(open) == 0 {
			return fmt.Sprintf("every upload id (%d) is unknown to the service (NoSuchUpload): no part URL can add to it", len(k.g.Uploads)), nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("uploads still open after %s: %s", wait, strings.Join(open, ", "))
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	return err != nil && errors.As(err, &ae) && slices.Contains(codes, ae.ErrorCode())
}
