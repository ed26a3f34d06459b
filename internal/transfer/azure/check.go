package azure

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/stewardhealth/steward/internal/transfer"
)

// FileCheck is one manifest file compared with its blob.
type FileCheck struct {
	transfer.File        // what the manifest says
	Size          int64  // the blob's size, -1 when missing
	SHA256        string // the blob's digest, when its size was right
	Problem       string // empty when the blob matches
}

// CheckResult is a container compared with the manifest uploaded into it.
type CheckResult struct {
	Manifest *transfer.Manifest
	Files    []FileCheck
	Extra    []string // blobs the manifest does not list
}

// OK reports whether every file matched.
func (r *CheckResult) OK() bool {
	return !slices.ContainsFunc(r.Files, func(f FileCheck) bool { return f.Problem != "" })
}

// Check downloads the container's manifest.json and compares every file it lists with its
// blob: present, same size, same SHA-256 (the blob is streamed through the hash).
func (a Account) Check(ctx context.Context, containerName string, progress transfer.Progress) (*CheckResult, error) {
	if progress == nil {
		progress = transfer.NoProgress{}
	}
	c, _, err := a.container(containerName)
	if err != nil {
		return nil, err
	}
	sizes := map[string]int64{}
	pager := c.NewListBlobsFlatPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list container %s: %w", containerName, brief(err))
		}
		for _, b := range page.Segment.BlobItems {
			sizes[*b.Name] = *b.Properties.ContentLength
		}
	}
	body, err := download(ctx, c, transfer.ManifestName, io.Discard, 16<<20)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return nil, fmt.Errorf("container %s has no %s: the upload has not finished (push uploads it last), or SQL Server's BACKUP TO URL wrote it, which writes no manifest: check that one with the RESTORE VERIFYONLY statement `steward transfer script` wrote, then run `steward transfer revoke`", containerName, transfer.ManifestName)
	}
	if err != nil {
		return nil, err
	}
	m, err := transfer.ParseManifest("blob "+transfer.ManifestName, body)
	if err != nil {
		return nil, err
	}
	r := &CheckResult{Manifest: m}
	listed := map[string]bool{transfer.ManifestName: true}
	for _, f := range m.Files {
		listed[f.Name] = true
		fc := FileCheck{File: f, Size: -1}
		size, ok := sizes[f.Name]
		switch {
		case !ok:
			fc.Problem = "missing"
		case size != f.Size:
			fc.Size, fc.Problem = size, fmt.Sprintf("size %d, want %d", size, f.Size)
		default:
			fc.Size = size
			h := sha256.New()
			fp := progress.File(f.Name, f.Size, 0)
			_, err := download(ctx, c, f.Name, io.MultiWriter(h, progressWriter{fp}), 0)
			fp.Done(err)
			if err != nil {
				return nil, err
			}
			if fc.SHA256 = hex.EncodeToString(h.Sum(nil)); fc.SHA256 != f.SHA256 {
				fc.Problem = "SHA-256 differs from the manifest's"
			}
		}
		r.Files = append(r.Files, fc)
	}
	for name := range sizes {
		if !listed[name] {
			r.Extra = append(r.Extra, name)
		}
	}
	slices.Sort(r.Extra)
	return r, nil
}

// download streams blob name into w; with keep > 0 it also returns up to keep bytes of it.
func download(ctx context.Context, c *container.Client, name string, w io.Writer, keep int64) ([]byte, error) {
	resp, err := c.NewBlobClient(name).DownloadStream(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", name, brief(err))
	}
	body := resp.NewRetryReader(ctx, nil)
	defer body.Close()
	if keep > 0 {
		b, err := io.ReadAll(io.LimitReader(body, keep))
		if err != nil {
			return nil, fmt.Errorf("download %s: %w", name, err)
		}
		return b, nil
	}
	if _, err := io.Copy(w, body); err != nil {
		return nil, fmt.Errorf("download %s: %w", name, err)
	}
	return nil, nil
}

type progressWriter struct{ fp transfer.FileProgress }

func (w progressWriter) Write(p []byte) (int, error) { w.fp.Add(int64(len(p))); return len(p), nil }
