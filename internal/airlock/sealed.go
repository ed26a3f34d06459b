package airlock

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/transfer/local"
)

// Sealed is Storage for released files at rest (issue 18): a folder beside the application
// store whose files are encrypted with AES-256-GCM under a key derived from the server's key,
// which never lies beside them in the store. A file is a header (magic and a random file id)
// and chunks of 64 KiB, each sealed with a nonce of the file id and the chunk's number and
// bound to the file's name and to whether it is the last, so that a chunk cannot be
// changed, dropped, reordered or moved to another file, nor the file cut short, unseen.
// Files are written under a temporary name and renamed (transfer/local). Sweep removes
// files past their retention.
type Sealed struct {
	Dir string
	Key []byte // 32 bytes
}

const (
	sealMagic = "STWX1"
	sealChunk = 64 << 10
)

func (s Sealed) aead() (cipher.AEAD, error) {
	if len(s.Key) != 32 {
		return nil, errors.New("sealed exports: the key must be 32 bytes")
	}
	b, err := aes.NewCipher(s.Key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Put implements transfer.Destination.
func (s Sealed) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	a, err := s.aead()
	if err != nil {
		return err
	}
	id := make([]byte, 8)
	rand.Read(id)
	enc := &sealer{aead: a, id: id, name: name, src: bufio.NewReaderSize(r, sealChunk), out: bytes.NewBufferString(sealMagic)}
	enc.out.Write(id)
	return local.Folder{Dir: s.Dir}.Put(ctx, name, enc, -1)
}

// Open implements Storage: it decrypts as it reads and fails on any change to the file.
func (s Sealed) Open(name string) (io.ReadCloser, error) {
	a, err := s.aead()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(s.Dir, filepath.Base(name)))
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, sealChunk+a.Overhead()+1)
	head := make([]byte, len(sealMagic)+8)
	if _, err := io.ReadFull(br, head); err != nil || string(head[:len(sealMagic)]) != sealMagic {
		f.Close()
		return nil, fmt.Errorf("sealed export %s: not a sealed file", filepath.Base(name))
	}
	return &opener{aead: a, id: head[len(sealMagic):], name: filepath.Base(name), src: br, f: f}, nil
}

func sealNonce(id []byte, n uint32) []byte {
	nonce := make([]byte, 12)
	copy(nonce, id)
	binary.BigEndian.PutUint32(nonce[8:], n)
	return nonce
}

func sealAAD(name string, last bool) []byte {
	flag := byte(0)
	if last {
		flag = 1
	}
	return append([]byte(name+"\x00"), flag)
}

// sealer encrypts its source chunk by chunk as it is read.
type sealer struct {
	aead cipher.AEAD
	id   []byte
	name string
	src  *bufio.Reader
	out  *bytes.Buffer
	n    uint32
	done bool
}

func (e *sealer) Read(p []byte) (int, error) {
	for e.out.Len() == 0 {
		if e.done {
			return 0, io.EOF
		}
		buf := make([]byte, sealChunk)
		k, err := io.ReadFull(e.src, buf)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return 0, err
		}
		last := err != nil
		if !last {
			if _, perr := e.src.Peek(1); perr == io.EOF {
				last = true
			} else if perr != nil {
				return 0, perr
			}
		}
		e.out.Write(e.aead.Seal(nil, sealNonce(e.id, e.n), buf[:k], sealAAD(e.name, last)))
		e.n++
		e.done = last
	}
	return e.out.Read(p)
}

// opener decrypts a sealed file chunk by chunk.
type opener struct {
	aead cipher.AEAD
	id   []byte
	name string
	src  *bufio.Reader
	f    *os.File
	buf  []byte
	n    uint32
	done bool
}

func (o *opener) Read(p []byte) (int, error) {
	for len(o.buf) == 0 {
		if o.done {
			return 0, io.EOF
		}
		c := make([]byte, sealChunk+o.aead.Overhead())
		k, err := io.ReadFull(o.src, c)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return 0, err
		}
		last := err != nil
		if !last {
			if _, perr := o.src.Peek(1); perr == io.EOF {
				last = true
			}
		}
		plain, oerr := o.aead.Open(nil, sealNonce(o.id, o.n), c[:k], sealAAD(o.name, last))
		if oerr != nil {
			return 0, fmt.Errorf("sealed export %s: chunk %d does not open: the file was changed, cut or moved", o.name, o.n)
		}
		o.buf, o.n, o.done = plain, o.n+1, last
	}
	n := copy(p, o.buf)
	o.buf = o.buf[n:]
	return n, nil
}

func (o *opener) Close() error { return o.f.Close() }

// Sweep removes the sealed files last written before cutoff (their retention is over) and
// returns their names.
func (s Sealed) Sweep(cutoff time.Time) ([]string, error) {
	ents, err := os.ReadDir(s.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || strings.HasPrefix(e.Name(), ".") && !strings.Contains(e.Name(), ".partial-") {
			continue
		}
		if info.ModTime().Before(cutoff) {
			if err := os.Remove(filepath.Join(s.Dir, e.Name())); err != nil {
				return gone, err
			}
			gone = append(gone, e.Name())
		}
	}
	return gone, nil
}
