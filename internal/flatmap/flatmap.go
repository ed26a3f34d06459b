// Package flatmap is a hash table from 64-bit digests to small values, kept in two flat
// arrays with open addressing: no pointers for the garbage collector to scan, one cache line
// touched by most lookups, and 8 + sizeof(V) bytes a slot at most half full. Steward
// keeps millions of digests of identifiers in these (the scrub dictionary, verify's lookups),
// where Go's map costs twice the memory and several cache misses a lookup.
//
// Tags is the same for 16-bit values kept in their key's cache line, six keys to a line, for
// the largest table (the scrub dictionary): one cache miss a lookup instead of two.
//
// The keys are digests already (hash/maphash with a random seed), so they are used as they
// are; the key 0 is stored as 1.
package flatmap

import (
	"iter"

	"github.com/stewardhealth/steward/internal/filemem"
)

// Map maps digests to values of V. The zero Map is empty and ready to use, on the heap; NewIn
// puts its arrays in files (package filemem). It is not safe for concurrent writes; concurrent
// reads of a Map no longer written to are safe.
type Map[V any] struct {
	keys []uint64 // 0: empty slot
	vals []V
	n    int
	mem  *filemem.Dir
	free func() // frees keys and vals
}

// New returns a map sized for about n entries, kept at most half full.
func New[V any](n int) *Map[V] { return NewIn[V](nil, n) }

// NewIn returns a map sized for about n entries whose arrays, once large, are kept in files
// under d (nil: on the heap); V must hold no pointers then. Free gives the files back.
func NewIn[V any](d *filemem.Dir, n int) *Map[V] {
	m := &Map[V]{mem: d}
	m.alloc(n)
	return m
}

// Free empties the map and gives back its memory.
func (m *Map[V]) Free() {
	if m.free != nil {
		m.free()
	}
	m.keys, m.vals, m.n, m.free = nil, nil, 0, nil
}

// All yields every key and its value, in no particular order.
func (m *Map[V]) All() iter.Seq2[uint64, V] {
	return func(yield func(uint64, V) bool) {
		for i, k := range m.keys {
			if k != 0 && !yield(k, m.vals[i]) {
				return
			}
		}
	}
}

func full(n, slots int) bool { return n*2 > slots }

func (m *Map[V]) alloc(n int) {
	size := 1024
	for full(n, size) {
		size <<= 1
	}
	keys, freeKeys := filemem.Make[uint64](m.mem, size)
	vals, freeVals := filemem.Make[V](m.mem, size)
	m.keys, m.vals, m.n = keys, vals, 0
	m.free = func() { freeKeys(); freeVals() }
}

// Len is the number of entries.
func (m *Map[V]) Len() int { return m.n }

// Put stores v for key k unless k is there already; it reports whether k was new.
func (m *Map[V]) Put(k uint64, v V) bool {
	p, isNew := m.Ref(k)
	if isNew {
		*p = v
	}
	return isNew
}

// Ref returns where the value of k is kept, adding k with the zero value when it is new (and
// reporting so). The pointer is valid until the next Put or Ref.
func (m *Map[V]) Ref(k uint64) (v *V, isNew bool) {
	if k == 0 {
		k = 1
	}
	if len(m.keys) == 0 || full(m.n+1, len(m.keys)) {
		m.grow()
	}
	mask := uint64(len(m.keys) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		switch m.keys[i] {
		case 0:
			m.keys[i] = k
			m.n++
			return &m.vals[i], true
		case k:
			return &m.vals[i], false
		}
	}
}

// Get returns the value stored for k.
func (m *Map[V]) Get(k uint64) (V, bool) {
	if k == 0 {
		k = 1
	}
	if len(m.keys) > 0 {
		mask := uint64(len(m.keys) - 1)
		for i := k & mask; ; i = (i + 1) & mask {
			switch m.keys[i] {
			case 0:
				var zero V
				return zero, false
			case k:
				return m.vals[i], true
			}
		}
	}
	var zero V
	return zero, false
}

func (m *Map[V]) grow() {
	keys, vals, free := m.keys, m.vals, m.free
	if free != nil {
		defer free()
	}
	m.alloc(max(m.n+1, len(keys))) // twice the slots, or the first 1024
	for i, k := range keys {
		if k != 0 {
			m.Put(k, vals[i])
		}
	}
}
