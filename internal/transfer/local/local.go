// Package local is the simplest transfer destination: a folder, for a removable disk or a
// share the vendor collects from. Each file is written under a temporary name, synced and
// renamed, so the folder never shows a file that is only partly copied.
package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Folder is a destination directory, created (owner-only) when missing.
type Folder struct{ Dir string }

// Put copies r into Dir/name atomically: a failure leaves no file of that name and no
// temporary file behind.
func (f Folder) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	if name != filepath.Base(name) || name == "." || name == ".." {
		return fmt.Errorf("%q is not a plain file name", name)
	}
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(f.Dir, "."+name+".partial-*")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, readerCtx{ctx, r}); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(f.Dir, name)); err != nil {
		return err
	}
	done = true
	return nil
}

// readerCtx stops a copy when the context ends.
type readerCtx struct {
	ctx context.Context
	r   io.Reader
}

func (r readerCtx) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
