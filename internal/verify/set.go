package verify

// digestSet is a set of 64-bit digests with a small payload each (which column a value came
// from), kept in flat arrays: 10 bytes a slot, no pointers for the garbage collector to scan,
// so that tens of millions of values fit in a few hundred megabytes.
type digestSet struct {
	keys []uint64 // 0 marks an empty slot; a digest of 0 is stored as 1
	vals []uint16
	n    int
}

func newDigestSet(expect int) *digestSet {
	size := 1024
	for size < expect*2 {
		size <<= 1
	}
	return &digestSet{keys: make([]uint64, size), vals: make([]uint16, size)}
}

// add stores d with payload v unless d is there already; it reports whether d was new.
func (s *digestSet) add(d uint64, v uint16) bool {
	if d == 0 {
		d = 1
	}
	if (s.n+1)*2 > len(s.keys) {
		s.grow()
	}
	mask := uint64(len(s.keys) - 1)
	for i := d & mask; ; i = (i + 1) & mask {
		switch s.keys[i] {
		case 0:
			s.keys[i], s.vals[i] = d, v
			s.n++
			return true
		case d:
			return false
		}
	}
}

// get returns d's payload.
func (s *digestSet) get(d uint64) (uint16, bool) {
	if d == 0 {
		d = 1
	}
	mask := uint64(len(s.keys) - 1)
	for i := d & mask; ; i = (i + 1) & mask {
		switch s.keys[i] {
		case 0:
			return 0, false
		case d:
			return s.vals[i], true
		}
	}
}

func (s *digestSet) grow() {
	old, oldVals := s.keys, s.vals
	s.keys, s.vals, s.n = make([]uint64, 2*len(old)), make([]uint16, 2*len(old)), 0
	for i, k := range old {
		if k != 0 {
			s.add(k, oldVals[i])
		}
	}
}
