package flatmap

import (
	"math/rand/v2"
	"testing"

	"github.com/stewardhealth/steward/internal/filemem"
)

// The map agrees with Go's map over a million random digests, through several growths,
// including the digest 0 and keys that probe past the end of the table, on the heap and in
// files.
func TestAgreesWithMap(t *testing.T) {
	agreesWithMap(t, &Map[uint32]{})
	files, err := filemem.New(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	m := NewIn[uint32](files, 0)
	defer m.Free()
	agreesWithMap(t, m)
	if err := files.Err(); err != nil {
		t.Fatal(err)
	}
}

func agreesWithMap(t *testing.T, m *Map[uint32]) {
	want := map[uint64]uint32{}
	r := rand.New(rand.NewPCG(1, 2))
	keys := []uint64{0, 1, ^uint64(0)}
	for range 1_000_000 {
		keys = append(keys, r.Uint64()&0xffff_ffff_ffff) // shared low bits: long probe runs
	}
	for i, k := range keys {
		_, had := want[max(k, 1)]
		if isNew := m.Put(k, uint32(i)); isNew == had {
			t.Fatalf("Put(%d): new = %v, but Go's map had it = %v", k, isNew, had)
		}
		if !had {
			want[max(k, 1)] = uint32(i)
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
	all := map[uint64]uint32{}
	for k, v := range m.All() {
		if _, twice := all[k]; twice {
			t.Fatalf("All yielded %d twice", k)
		}
		all[k] = v
	}
	if len(all) != len(want) {
		t.Fatalf("All yielded %d keys, want %d", len(all), len(want))
	}
	for k, v := range want {
		if all[k] != v {
			t.Fatalf("All yielded %d for %d, want %d", all[k], k, v)
		}
	}
	for range 1000 {
		k := r.Uint64() | 1<<63
		if _, ok := m.Get(k); ok != (want[k] != 0) {
			t.Fatalf("Get of an absent key %d: found", k)
		}
	}
	// Ref changes a value where it is kept.
	for k, v := range want {
		p, isNew := m.Ref(k)
		if isNew || *p != v {
			t.Fatalf("Ref(%d): got %d, new %v; want %d, not new", k, *p, isNew, v)
		}
		*p = v + 1
		if got, _ := m.Get(k); got != v+1 {
			t.Fatalf("Get(%d) after a change through Ref: got %d, want %d", k, got, v+1)
		}
		break
	}
}

func BenchmarkGet(b *testing.B) {
	m := New[uint32](4_000_000)
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([]uint64, 4_000_000)
	for i := range keys {
		keys[i] = r.Uint64()
		m.Put(keys[i], uint32(i))
	}
	gm := make(map[uint64]uint32, len(keys))
	for i, k := range keys {
		gm[k] = uint32(i)
	}
	b.Run("flatmap", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			m.Get(keys[i%len(keys)])
		}
	})
	b.Run("go-map", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_ = gm[keys[i%len(keys)]]
		}
	})
}
