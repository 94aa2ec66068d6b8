package features

import (
	"encoding/binary"
	"math"
	"slices"
)

// reader decodes state bytes. A malformed input sets bad instead of
// panicking; every read after that returns zero values.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) fail() { r.bad, r.b = true, nil }

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) f64() float64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// bytes returns the next n bytes, aliasing the input.
func (r *reader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// count reads a number of items each at least minSize bytes long, failing
// when the input cannot hold that many (so corrupt counts cannot make a
// decoder allocate or loop for long).
func (r *reader) count(minSize int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/minSize) {
		r.fail()
		return 0
	}
	return int(n)
}

// scratch holds the decoded state of the feature being updated or read,
// reused from call to call so that steady-state work does not allocate.
type scratch struct {
	groups []group
	hashes []uint32 // pool of distinct sets; a set is a sorted run
	tmp    []byte
	runs   []run // distinctCount's sets being merged
}

// run is a set in the pool: hashes[off : off+n].
type run struct{ off, n int32 }

func (sc *scratch) reset() {
	sc.groups = sc.groups[:0]
	sc.hashes = sc.hashes[:0]
}

func (sc *scratch) set(off, n int32) []uint32 { return sc.hashes[off : off+n] }

func (sc *scratch) newSet(h uint32) (int32, int32) {
	off := int32(len(sc.hashes))
	sc.hashes = append(sc.hashes, h)
	return off, 1
}

// insert adds h to a set, copying it to the end of the pool when it grows.
func (sc *scratch) insert(off, n int32, h uint32) (int32, int32) {
	i, found := slices.BinarySearch(sc.set(off, n), h)
	if found {
		return off, n
	}
	start := int32(len(sc.hashes))
	sc.hashes = append(sc.hashes, sc.hashes[off:off+int32(i)]...)
	sc.hashes = append(sc.hashes, h)
	sc.hashes = append(sc.hashes, sc.hashes[off+int32(i):off+n]...)
	return start, n + 1
}

// union appends the union of two sets to the pool.
func (sc *scratch) union(ao, an, bo, bn int32) (int32, int32) {
	start := int32(len(sc.hashes))
	i, j := ao, bo
	for i < ao+an || j < bo+bn {
		switch {
		case j >= bo+bn || (i < ao+an && sc.hashes[i] < sc.hashes[j]):
			sc.hashes = append(sc.hashes, sc.hashes[i])
			i++
		case i >= ao+an || sc.hashes[j] < sc.hashes[i]:
			sc.hashes = append(sc.hashes, sc.hashes[j])
			j++
		default:
			sc.hashes = append(sc.hashes, sc.hashes[i])
			i++
			j++
		}
	}
	return start, int32(len(sc.hashes)) - start
}

// readSet decodes a set: a count and strictly ascending 32-bit hashes.
func (sc *scratch) readSet(r *reader) (int32, int32) {
	n := r.count(4)
	if n == 0 {
		r.fail()
		return 0, 0
	}
	start := int32(len(sc.hashes))
	prev := uint32(0)
	for i := 0; i < n; i++ {
		h := binary.LittleEndian.Uint32(r.b[4*i:])
		if i > 0 && h <= prev {
			r.fail()
			return 0, 0
		}
		sc.hashes = append(sc.hashes, h)
		prev = h
	}
	r.b = r.b[4*n:]
	return start, int32(n)
}

// distinctCount counts the distinct hashes of the given groups' sets.
func (sc *scratch) distinctCount(gs []group) int {
	if len(gs) == 1 {
		return int(gs[0].c.hLen)
	}
	// Every set is a sorted run: merge them pairwise, round by round,
	// which costs the total size times log2 of the number of sets (a sort
	// of their concatenation cost several times more on busy customers).
	start := len(sc.hashes)
	runs := sc.runs[:0]
	for i := range gs {
		runs = append(runs, run{gs[i].c.hOff, gs[i].c.hLen})
	}
	for len(runs) > 1 {
		half := 0
		for j := 0; j < len(runs); j += 2 {
			if j+1 == len(runs) {
				runs[half] = runs[j]
			} else {
				off, n := sc.union(runs[j].off, runs[j].n, runs[j+1].off, runs[j+1].n)
				runs[half] = run{off, n}
			}
			half++
		}
		runs = runs[:half]
	}
	n := int(runs[0].n)
	sc.runs = runs[:0]
	sc.hashes = sc.hashes[:start]
	return n
}

// hash32 is FNV-1a (64-bit) folded to 32 bits. It is part of the state
// format: sets written by one process are read by another, so it must not
// be seeded per process.
func hash32(tag byte, b []byte) uint32 {
	h := uint64(14695981039346656037)
	h = (h ^ uint64(tag)) * 1099511628211
	for _, c := range b {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return uint32(h ^ h>>32)
}
