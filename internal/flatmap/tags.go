package flatmap

import (
	"math/bits"

	"github.com/stewardhealth/steward/internal/filemem"
)

// Tags maps digests to 16-bit tags, like a Map[uint16], but keeps each tag in the same
// 64-byte line as its key: six keys and their six tags to a line. Finding a key that is there
// reads one line of memory, where Map reads the key's slot and then the value's: one cache
// miss instead of two in a table of tens of megabytes. A key goes in the first free slot of
// its line or of the lines after it, and lines fill to at most three quarters, so a lookup
// stops at the first line that holds the key or a free slot. A key's line is its digest
// scaled to the number of lines, which need not be a power of two: the table takes about
// 64 / 6 / 0.75 ≈ 14 bytes a key.
//
// The zero Tags is empty and ready to use, on the heap; NewTagsIn puts its lines in a file
// (package filemem). It is not safe for concurrent writes; concurrent reads of a Tags no
// longer written to are safe. The key 0 is stored as 1.
type Tags struct {
	lines []tagLine
	n     int
	mem   *filemem.Dir
	free  func() // frees lines

	touched uint64 // what Touch read, so that the reads are not left out
}

const lineSlots = 6

// tagLine is one 64-byte line. The Go allocator aligns large slices to pages, so each line of
// a large table is one cache line.
type tagLine struct {
	keys [lineSlots]uint64 // 0: free
	tags [lineSlots]uint16
	_    [4]byte
}

// NewTags returns a table sized for about n keys.
func NewTags(n int) *Tags { return NewTagsIn(nil, n) }

// NewTagsIn returns a table sized for about n keys whose lines, once large, are kept in a
// file under d (nil: on the heap). Free gives the file back.
func NewTagsIn(d *filemem.Dir, n int) *Tags {
	t := &Tags{mem: d}
	t.alloc(n)
	return t
}

// Free empties the table and gives back its memory.
func (t *Tags) Free() {
	if t.free != nil {
		t.free()
	}
	t.lines, t.n, t.free = nil, 0, nil
}

func tagsFull(n, lines int) bool { return n*4 > lines*lineSlots*3 }

func (t *Tags) alloc(n int) {
	lines := 128
	if need := (n*4 + lineSlots*3 - 1) / (lineSlots * 3); need > lines {
		lines = need
	}
	t.lines, t.free = filemem.Make[tagLine](t.mem, lines)
	t.n = 0
}

// Len is the number of keys.
func (t *Tags) Len() int { return t.n }

func (t *Tags) line(k uint64) uint64 {
	hi, _ := bits.Mul64(k, uint64(len(t.lines)))
	return hi
}

// Ref returns where the tag of k is kept, adding k with the tag 0 when it is new (and
// reporting so). The pointer is valid until the next Ref.
func (t *Tags) Ref(k uint64) (tag *uint16, isNew bool) {
	if k == 0 {
		k = 1
	}
	if len(t.lines) == 0 || tagsFull(t.n+1, len(t.lines)) {
		t.grow(1)
	}
	for i := t.line(k); ; {
		l := &t.lines[i]
		for j := range lineSlots {
			switch l.keys[j] {
			case 0:
				l.keys[j] = k
				t.n++
				return &l.tags[j], true
			case k:
				return &l.tags[j], false
			}
		}
		if i++; i == uint64(len(t.lines)) {
			i = 0
		}
	}
}

// Get returns the tag stored for k.
func (t *Tags) Get(k uint64) (uint16, bool) {
	if k == 0 {
		k = 1
	}
	if len(t.lines) == 0 {
		return 0, false
	}
	for i := t.line(k); ; {
		l := &t.lines[i]
		for j := range lineSlots {
			switch l.keys[j] {
			case 0:
				return 0, false
			case k:
				return l.tags[j], true
			}
		}
		if i++; i == uint64(len(t.lines)) {
			i = 0
		}
	}
}

// Reserve makes room for n more keys, so that the next n Refs do not grow the table (and so
// move its keys).
func (t *Tags) Reserve(n int) {
	if len(t.lines) == 0 || tagsFull(t.n+n, len(t.lines)) {
		t.grow(n)
	}
}

// Touch reads the lines where keys would go, so that the processor fetches them together
// before a batch of Refs (Prefetch for writers).
func (t *Tags) Touch(keys []uint64) { t.touched = t.Prefetch(keys) }

// Prefetch reads the lines where keys are, one after the other, so that the processor fetches
// them together before they are looked up one at a time; it returns what it read, for the
// caller to keep where the compiler cannot leave the reads out. Unlike Touch it writes
// nothing, so concurrent readers may call it.
func (t *Tags) Prefetch(keys []uint64) uint64 {
	if len(t.lines) == 0 {
		return 0
	}
	var x uint64
	for _, k := range keys {
		x += t.lines[t.line(max(k, 1))].keys[0]
	}
	return x
}

// grow makes room for more keys: twice the lines, or as many as more keys need.
func (t *Tags) grow(more int) {
	old, free := t.lines, t.free
	if free != nil {
		defer free()
	}
	t.alloc(max(t.n+more, 2*len(old)*lineSlots*3/4))
	for i := range old {
		for j, k := range old[i].keys {
			if k != 0 {
				p, _ := t.Ref(k)
				*p = old[i].tags[j]
			}
		}
	}
}
