package flatmap

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stewardhealth/steward/internal/filemem"
)

// Tags agrees with Go's map over a million random digests, through several growths, with
// digests that crowd the first lines (shared high bits) and the digest 0, on the heap and in
// files; Ref changes a tag where it is kept.
func TestTagsAgreesWithMap(t *testing.T) {
	files, err := filemem.New(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Tags{{}, NewTags(0), NewTags(3_000_000), NewTagsIn(files, 0), NewTagsIn(files, 3_000_000)} {
		defer m.Free()
		want := map[uint64]uint16{}
		r := rand.New(rand.NewPCG(1, 2))
		keys := []uint64{0, 1, ^uint64(0)}
		for i := range 1_000_000 {
			k := r.Uint64()
			if i%3 == 0 {
				k &= 0xff << 56
			}
			keys = append(keys, k)
		}
		for i, k := range keys {
			_, had := want[max(k, 1)]
			p, isNew := m.Ref(k)
			if isNew == had {
				t.Fatalf("Ref(%d): new = %v, but Go's map had it = %v", k, isNew, had)
			}
			if isNew {
				*p = uint16(i)
				want[max(k, 1)] = uint16(i)
			}
		}
		if m.Len() != len(want) {
			t.Fatalf("Len: got %d, want %d", m.Len(), len(want))
		}
		for k, v := range want {
			if got, ok := m.Get(k); !ok || got != v {
				t.Fatalf("Get(%d): got %d %v, want %d", k, got, ok, v)
			}
		}
		for range 1000 {
			k := r.Uint64() | 1
			_, had := want[k]
			if _, ok := m.Get(k); ok != had {
				t.Fatalf("Get(%d): found = %v, want %v", k, ok, had)
			}
		}
		if err := files.Err(); err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			p, isNew := m.Ref(k)
			if isNew || *p != v {
				t.Fatalf("Ref(%d): got %d, new %v; want %d, not new", k, *p, isNew, v)
			}
			*p = v + 1
			if got, _ := m.Get(k); got != v+1 {
				t.Fatalf("Get(%d) after a change through Ref: got %d, want %d", k, got, v+1)
			}
		}
	}
}

// A line is one cache line, and a table reserved for n keys takes at most 15 bytes a key.
func TestTagsSize(t *testing.T) {
	if s := unsafe.Sizeof(tagLine{}); s != 64 {
		t.Fatalf("a line takes %d bytes, want 64", s)
	}
	m := &Tags{}
	m.Reserve(6_000_000)
	if b := len(m.lines) * 64; b > 6_000_000*15 {
		t.Errorf("6,000,000 keys reserved: %d bytes, want at most 15 a key", b)
	}
}
