package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// Destination receives a bundle's files: a local folder, an S3 bucket through presigned
// URLs, an Azure container through a shared-access token.
type Destination interface {
	// Put stores the size bytes r yields as name. When r fails — as it does at its end if
	// the bytes differ from the manifest — Put must not leave name complete at the
	// destination.
	Put(ctx context.Context, name string, r io.Reader, size int64) error
}

// Push sends the files of the bundle in dir to d, then the manifest last, so that a complete
// manifest at the destination means every file before it arrived. Each file is read through
// Verified: a file changed since the manifest was written is refused, naming it.
func Push(ctx context.Context, dir string, d Destination) (*Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	for _, f := range m.Files {
		if err := putFile(ctx, d, filepath.Join(dir, f.Name), f); err != nil {
			return nil, err
		}
	}
	mf, err := HashFile(filepath.Join(dir, ManifestName), ManifestName)
	if err != nil {
		return nil, err
	}
	return m, putFile(ctx, d, filepath.Join(dir, ManifestName), mf)
}

func putFile(ctx context.Context, d Destination, path string, f File) error {
	in, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("bundle file %s: %w", f.Name, err)
	}
	defer in.Close()
	if err := d.Put(ctx, f.Name, Verified(in, f), f.Size); err != nil {
		return fmt.Errorf("send %s: %w", f.Name, err)
	}
	return nil
}

// Verified reads r, failing instead of ending if what it read is not f's size and SHA-256.
func Verified(r io.Reader, f File) io.Reader {
	return &verifier{r: r, f: f, h: sha256.New()}
}

type verifier struct {
	r io.Reader
	f File
	h hash.Hash
	n int64
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.n > v.f.Size {
		return n, fmt.Errorf("%s is longer than the manifest's %d bytes", v.f.Name, v.f.Size)
	}
	if err == io.EOF {
		if v.n != v.f.Size {
			return n, fmt.Errorf("%s has %d bytes, the manifest says %d", v.f.Name, v.n, v.f.Size)
		}
		if sum := hex.EncodeToString(v.h.Sum(nil)); sum != v.f.SHA256 {
			return n, fmt.Errorf("%s changed since the manifest was written: sha256 %s…, the manifest says %s…", v.f.Name, sum[:12], v.f.SHA256[:12])
		}
	}
	return n, err
}

// Progress follows an upload, file by file (push to Azure, push to S3, confirm).
type Progress interface {
	// File starts a file of size bytes, of which done are already at the destination.
	File(name string, size, done int64) FileProgress
}

// FileProgress follows one file.
type FileProgress interface {
	Add(n int64) // n more bytes were sent (or checked)
	Done(err error)
}

// NoProgress follows nothing.
type NoProgress struct{}

// File returns a FileProgress that ignores everything.
func (NoProgress) File(string, int64, int64) FileProgress { return noFile{} }

type noFile struct{}

func (noFile) Add(int64)  {}
func (noFile) Done(error) {}
