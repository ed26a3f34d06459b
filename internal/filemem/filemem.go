// Package filemem gives Steward's large pointer-free tables — the scrub dictionary's index,
// the collision counters' digest sets — memory that a temporary file backs, instead of the Go
// heap, so that a run's memory does not grow with the number of rows it reads.
//
// Those tables hold one entry per distinct identifier: about 20 bytes a value, hundreds of
// megabytes for tables of tens of millions of rows, and twice that on the heap, where the
// collector lets the heap grow to twice what is live. In a file mapped into memory
// (MAP_SHARED) the same bytes are pages of the kernel's file cache: they stay in memory while
// there is room, are read and written as fast as heap memory, and, when memory runs short,
// the kernel writes them to the file and reads them back when touched, so a table larger
// than memory makes a run slower instead of killing it. The process's own (anonymous)
// memory stays flat.
//
// The file is removed as soon as it is created: nothing is left behind when the run ends or
// is killed, and no other process can open it by name. Its space is reserved up front
// (fallocate), so a full disk is an error when the table is made, never a fault while it is
// written. What the files hold is digests, never values: a 64-bit digest under a seed that
// lives only in the process's memory, or the first bits of the keyed hash that the copy
// holds anyway.
//
// Linux only; elsewhere, and for tables smaller than the Dir's threshold, tables live on the
// heap as before.
package filemem

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
	"syscall"
	"unsafe"
)

// Dir is where tables' files go. A nil *Dir keeps every table on the heap.
type Dir struct {
	path     string
	minBytes int

	mu  sync.Mutex
	err error // the first failure to map a file; the table went on the heap
}

// DefaultMinBytes is the size from which a table goes into a file: smaller ones stay on the
// heap, where they cost less than a file and a mapping.
const DefaultMinBytes = 1 << 20

// New returns a Dir in path (created if missing); tables of at least minBytes go into files
// there. An empty path is DefaultPath().
func New(path string, minBytes int) (*Dir, error) {
	if path == "" {
		path = DefaultPath()
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	f, err := os.CreateTemp(path, "steward-*.probe")
	if err != nil {
		return nil, fmt.Errorf("work directory %s is not writable: %w", path, err)
	}
	f.Close()
	os.Remove(f.Name())
	return &Dir{path: path, minBytes: minBytes}, nil
}

// Path is the directory; empty for a nil Dir.
func (d *Dir) Path() string {
	if d == nil {
		return ""
	}
	return d.path
}

// Err is the first failure to put a table into a file (the table then went on the heap), or
// nil.
func (d *Dir) Err() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// DefaultPath is $TMPDIR (or /tmp), unless that is a file system in memory (tmpfs, as /tmp
// is on many systems), where a file would take memory as surely as the heap: then /var/tmp.
func DefaultPath() string {
	dir := os.TempDir()
	if inMemory(dir) {
		if fi, err := os.Stat("/var/tmp"); err == nil && fi.IsDir() && !inMemory("/var/tmp") {
			return "/var/tmp"
		}
	}
	return dir
}

// Make returns a zeroed slice of n T's, in a file under d when d is not nil and the slice
// takes at least d's threshold, and the function that frees it. The slice must not be used
// after free. T must hold no pointers (the collector does not look into files); Make panics
// otherwise.
func Make[T any](d *Dir, n int) (s []T, free func()) {
	var zero T
	size := int(unsafe.Sizeof(zero)) * n
	if d == nil || size < d.minBytes || size == 0 {
		return make([]T, n), func() {}
	}
	if !pointerFree(reflect.TypeFor[T]()) {
		panic(fmt.Sprintf("filemem: %T holds pointers", zero))
	}
	b, err := mapFile(d.path, size)
	if err != nil {
		d.mu.Lock()
		if d.err == nil {
			d.err = err
		}
		d.mu.Unlock()
		return make([]T, n), func() {}
	}
	var once sync.Once
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n), func() { once.Do(func() { unmap(b) }) }
}

// pointerFree reports whether values of t hold no pointers.
func pointerFree(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return t.Len() == 0 || pointerFree(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !pointerFree(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

// mapped is a syscall-level failure, named for the user.
func mapped(op, dir string, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("work directory %s: %s: the disk is full (give --work-dir on a disk with room)", dir, op)
	}
	return fmt.Errorf("work directory %s: %s: %w", dir, op, err)
}
