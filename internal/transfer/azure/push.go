package azure

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/stewardhealth/steward/internal/transfer"
	"golang.org/x/sync/errgroup"
)

// DefaultBlockSize is push's block size: 8 MiB blocks reach the 50,000-block limit of a blob
// at 390 GiB, past the size where a backup is striped over several files anyway.
const DefaultBlockSize = 8 << 20

// shaKey is the metadata a committed blob carries: its SHA-256 from the manifest.
const shaKey = "sha256"

// PushOptions tune Push.
type PushOptions struct {
	BlockSize   int64        // default DefaultBlockSize; a rerun must use the same size to resume
	Concurrency int          // blocks in flight; default 4
	Client      *http.Client // nil: the SDK's default
	Progress    Progress     // nil: none
	// Expiry is the token's policy expiry when known (the token file's comment says it), so
	// that a refusal after it is explained as expired.
	Expiry time.Time
}

// Progress follows an upload, file by file.
type Progress = transfer.Progress

// FileProgress follows one file.
type FileProgress = transfer.FileProgress

// PushReport counts what Push did.
type PushReport struct {
	Files, FilesSkipped       int // FilesSkipped were already committed with the right size and SHA-256
	BlocksSent, BlocksSkipped int // BlocksSkipped were already staged by an earlier run
	BytesSent                 int64
	Resumable                 bool // the token may read block lists (false: every block is sent)
}

// TokenExpiry returns the token's expiry (se), zero when it has none.
func TokenExpiry(token string) time.Time {
	u, err := url.Parse(token)
	if err != nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339, u.Query().Get("se"))
	return t
}

// BlockID is the id of block index of a file with the given SHA-256 cut in blocks of
// blockSize: the same for every run, and the same length for every block.
func BlockID(sha string, blockSize int64, index int) string {
	var b [32]byte
	d, _ := hex.DecodeString(sha)
	copy(b[:16], d)
	binary.BigEndian.PutUint64(b[16:], uint64(blockSize))
	binary.BigEndian.PutUint64(b[24:], uint64(index))
	return base64.StdEncoding.EncodeToString(b[:])
}

// Push uploads the bundle in dir with token (a container SAS URL): the files its manifest
// lists, then manifest.json. It skips files already committed and blocks already staged.
func Push(ctx context.Context, token, dir string, o PushOptions) (PushReport, error) {
	m, err := transfer.ReadManifest(dir)
	if err != nil {
		return PushReport{}, fmt.Errorf("bundle %s: %w", dir, err)
	}
	mf, err := transfer.HashFile(filepath.Join(dir, transfer.ManifestName), transfer.ManifestName)
	if err != nil {
		return PushReport{}, err
	}
	if o.BlockSize <= 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.BlockSize > blockblob.MaxStageBlockBytes {
		return PushReport{}, fmt.Errorf("block size %d: at most %d", o.BlockSize, int64(blockblob.MaxStageBlockBytes))
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	u, err := url.Parse(strings.TrimSpace(token))
	if err != nil || u.Scheme == "" || u.Host == "" || !u.Query().Has("sig") {
		return PushReport{}, errors.New("the token is not a container address with a shared access signature (https://ACCOUNT.blob.core.windows.net/CONTAINER?sv=…&sig=…)")
	}
	c, err := container.NewClientWithNoCredential(u.String(), clientOptions(o.Client))
	if err != nil {
		return PushReport{}, fmt.Errorf("token: %s", Redact(err.Error()))
	}
	p := &pusher{c: c, dir: dir, o: o, rep: PushReport{Resumable: true}}
	for _, f := range append(m.Files, mf) {
		if err := p.file(ctx, f); err != nil {
			exp := TokenExpiry(token)
			if exp.IsZero() {
				exp = o.Expiry
			}
			return p.report(), fmt.Errorf("upload %s: %w", f.Name, Explain(err, exp))
		}
	}
	return p.report(), nil
}

type pusher struct {
	c               *container.Client
	dir             string
	o               PushOptions
	rep             PushReport
	sent, bytesSent atomic.Int64
}

func (p *pusher) report() PushReport {
	r := p.rep
	r.BlocksSent, r.BytesSent = int(p.sent.Load()), p.bytesSent.Load()
	return r
}

func (p *pusher) file(ctx context.Context, f transfer.File) (err error) {
	fh, err := os.Open(filepath.Join(p.dir, f.Name))
	if err != nil {
		return err
	}
	defer fh.Close()
	if st, err := fh.Stat(); err != nil {
		return err
	} else if st.Size() != f.Size {
		return fmt.Errorf("%d bytes, but the manifest says %d: the bundle changed after it was made; make it again", st.Size(), f.Size)
	}
	p.rep.Files++
	bb := p.c.NewBlockBlobClient(f.Name)
	bs := p.o.BlockSize
	n := int((f.Size + bs - 1) / bs)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = BlockID(f.SHA256, bs, i)
	}
	have, committed, err := p.onService(ctx, bb, f)
	if err != nil {
		return err
	}
	var done int64
	var todo []int
	if committed {
		done = f.Size
	} else {
		for i, id := range ids {
			if size, ok := have[id]; ok && size == min(bs, f.Size-int64(i)*bs) {
				done += size
				p.rep.BlocksSkipped++
			} else {
				todo = append(todo, i)
			}
		}
	}
	var fp FileProgress = nopFile{}
	if p.o.Progress != nil {
		fp = p.o.Progress.File(f.Name, f.Size, done)
		defer func() { fp.Done(err) }()
	}
	if committed {
		p.rep.FilesSkipped++
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.o.Concurrency)
	bufs := make(chan []byte, p.o.Concurrency)
	for range p.o.Concurrency {
		bufs <- nil
	}
	for _, i := range todo {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			buf := <-bufs
			defer func() { bufs <- buf }()
			if buf == nil {
				buf = make([]byte, bs)
			}
			off := int64(i) * bs
			b := buf[:min(bs, f.Size-off)]
			if _, err := fh.ReadAt(b, off); err != nil {
				return fmt.Errorf("read block %d: %w", i, err)
			}
			if _, err := bb.StageBlock(gctx, ids[i], streaming.NopCloser(bytes.NewReader(b)), nil); err != nil {
				return fmt.Errorf("block %d: %w", i, err)
			}
			p.sent.Add(1)
			p.bytesSent.Add(int64(len(b)))
			fp.Add(int64(len(b)))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err = bb.CommitBlockList(ctx, ids, &blockblob.CommitBlockListOptions{Metadata: map[string]*string{shaKey: &f.SHA256}})
	if err != nil {
		return fmt.Errorf("commit the block list: %w", err)
	}
	return nil
}

// onService returns the blocks of f's blob the service already holds (id → size), and
// whether the blob is already committed whole. A token without read permission gets no
// answer: everything is sent again.
func (p *pusher) onService(ctx context.Context, bb *blockblob.Client, f transfer.File) (map[string]int64, bool, error) {
	if !p.rep.Resumable {
		return nil, false, nil
	}
	props, err := bb.GetProperties(ctx, nil)
	switch {
	case bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch) || isStatus(err, http.StatusForbidden) && !isAuthFailure(err):
		p.rep.Resumable = false
		return nil, false, nil
	case bloberror.HasCode(err, bloberror.BlobNotFound) || isStatus(err, http.StatusNotFound):
		// nothing committed yet
	case err != nil:
		return nil, false, err
	default:
		for k, v := range props.Metadata {
			if strings.EqualFold(k, shaKey) && v != nil && *v == f.SHA256 && props.ContentLength != nil && *props.ContentLength == f.Size {
				return nil, true, nil
			}
		}
	}
	bl, err := bb.GetBlockList(ctx, blockblob.BlockListTypeAll, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get the block list: %w", err)
	}
	have := map[string]int64{}
	for _, b := range append(bl.CommittedBlocks, bl.UncommittedBlocks...) {
		have[*b.Name] = *b.Size
	}
	return have, false, nil
}

func isStatus(err error, code int) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == code
}

// isAuthFailure tells a refused token (signature, time, policy) from a missing permission
// when a HEAD request's answer carries no body.
func isAuthFailure(err error) bool {
	return bloberror.HasCode(err, bloberror.AuthenticationFailed, bloberror.AuthorizationFailure,
		bloberror.AuthorizationProtocolMismatch, bloberror.AuthorizationSourceIPMismatch)
}

type nopFile struct{}

func (nopFile) Add(int64)  {}
func (nopFile) Done(error) {}
