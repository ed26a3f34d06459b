// Package flatmap is a hash table from 64-bit digests to small values, kept in two flat
// arrays with open addressing: no pointers for the garbage collector to scan, one cache line
// touched by most lookups, and 8 + sizeof(V) bytes a slot, at most half full (New) or three
// quarters full (NewDense: a quarter less memory, longer probes for absent keys). Steward
// keeps millions of digests of identifiers in these (the scrub dictionary, verify's lookups),
// where Go's map costs twice the memory and several cache misses a lookup.
//
// Tags is the same for 16-bit values kept in their key's cache line, six keys to a line, for
// the largest table (the scrub dictionary): one cache miss a lookup instead of two.
//
// The keys are digests already (hash/maphash with a random seed), so they are used as they
// are; the key 0 is stored as 1.
package flatmap

// Map maps digests to values of V. The zero Map is empty and ready to use. It is not safe for
// concurrent writes; concurrent reads of a Map no longer written to are safe.
type Map[V any] struct {
	keys  []uint64 // 0: empty slot
	vals  []V
	n     int
	dense bool // grow at 3/4 full instead of 1/2

	touched uint64 // what Touch read, so that the reads are not left out
}

// New returns a map sized for about n entries, kept at most half full.
func New[V any](n int) *Map[V] {
	m := &Map[V]{}
	m.alloc(n)
	return m
}

// NewDense returns a map sized for about n entries, kept at most three quarters full.
func NewDense[V any](n int) *Map[V] {
	m := &Map[V]{dense: true}
	m.alloc(n)
	return m
}

func (m *Map[V]) full(n, slots int) bool {
	if m.dense {
		return n*4 > slots*3
	}
	return n*2 > slots
}

func (m *Map[V]) alloc(n int) {
	size := 1024
	for m.full(n, size) {
		size <<= 1
	}
	m.keys, m.vals, m.n = make([]uint64, size), make([]V, size), 0
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
	if len(m.keys) == 0 || m.full(m.n+1, len(m.keys)) {
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

// Reserve makes room for n more entries, so that the next n Puts and Refs do not grow the
// table (and so move its slots).
func (m *Map[V]) Reserve(n int) {
	for len(m.keys) == 0 || m.full(m.n+n, len(m.keys)) {
		m.grow()
	}
}

// Touch reads the slots where keys would go, one after the other, so that the processor
// fetches them all at once rather than each when its Put or Get comes: call it, then Put or
// Get those keys, for a batch of keys too many to stay in the cache.
func (m *Map[V]) Touch(keys []uint64) {
	if len(m.keys) == 0 {
		return
	}
	mask := uint64(len(m.keys) - 1)
	var x uint64
	for _, k := range keys {
		x += m.keys[k&mask]
	}
	m.touched = x
}

func (m *Map[V]) grow() {
	keys, vals := m.keys, m.vals
	m.alloc(max(m.n+1, len(keys))) // twice the slots, or the first 1024
	for i, k := range keys {
		if k != 0 {
			m.Put(k, vals[i])
		}
	}
}
