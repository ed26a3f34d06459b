package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// FileStore keeps the log as one JSON object per line in a file, appended under an
// exclusive lock so that several steward processes can write to it.
type FileStore struct{ Path string }

// Append implements Store.
func (f FileStore) Append(ctx context.Context, e Entry) (Entry, error) {
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return Entry{}, fmt.Errorf("audit log: %w", err)
	}
	file, err := os.OpenFile(f.Path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return Entry{}, fmt.Errorf("audit log: %w", err)
	}
	defer file.Close()
	if err := lockFile(file); err != nil {
		return Entry{}, fmt.Errorf("audit log %s: lock: %w", f.Path, err)
	}
	last, err := lastLine(file)
	if err != nil {
		return Entry{}, fmt.Errorf("audit log %s: %w", f.Path, err)
	}
	var prev *Entry
	if last != nil {
		prev = new(Entry)
		if err := json.Unmarshal(last, prev); err != nil {
			return Entry{}, fmt.Errorf("audit log %s: the last line is not an entry: %w", f.Path, err)
		}
	}
	e = Chain(prev, e)
	b, _ := json.Marshal(e)
	if _, err := file.Write(append(b, '\n')); err != nil {
		return Entry{}, fmt.Errorf("audit log %s: %w", f.Path, err)
	}
	if err := file.Sync(); err != nil {
		return Entry{}, fmt.Errorf("audit log %s: %w", f.Path, err)
	}
	return e, nil
}

// lastLine returns the file's last non-empty line, reading backwards from the end.
func lastLine(f *os.File) ([]byte, error) {
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	var tail []byte
	for pos := end; pos > 0; {
		n := min(pos, 64<<10)
		pos -= n
		chunk := make([]byte, n)
		if _, err := f.ReadAt(chunk, pos); err != nil {
			return nil, err
		}
		tail = append(chunk, tail...)
		trimmed := bytes.TrimRight(tail, "\n")
		if i := bytes.LastIndexByte(trimmed, '\n'); i >= 0 {
			return trimmed[i+1:], nil
		}
		if pos == 0 && len(trimmed) > 0 {
			return trimmed, nil
		}
	}
	return nil, nil
}

// Walk implements Store. A missing file is an empty log.
func (f FileStore) Walk(ctx context.Context, fn func(Entry) error) error {
	file, err := os.Open(f.Path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("audit log %s:%d: not an entry: %w", f.Path, line, err)
		}
		if err := fn(e); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("audit log %s: %w", f.Path, err)
	}
	return nil
}
