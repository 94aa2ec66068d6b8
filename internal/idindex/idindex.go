// Package idindex maps byte-string ids to dense int32 slots without
// allocating in steady state.
//
// An Index hands out slots 0, 1, 2, ... for the ids added to it, reusing
// the slots of removed ids (last released, first reused), so that a caller
// can keep per-id values in a slice parallel to the slots. The ids live in
// one byte arena: each slot reserves its id's length rounded up to 8
// bytes, and keeps the reservation when released, so that the next id of
// the slot that fits is written over it; an id that does not fit goes to
// the end of the arena, and the bytes it leaves behind are garbage until
// MaybeCompact copies the arena. An open-addressing table with linear
// probing over maphash finds the ids, kept at most half full, and deletes
// by shifting entries back instead of leaving tombstones.
//
// Once the slots, the arena and the table have grown to what a workload
// needs, adding, finding and removing ids allocates nothing.
//
// An Index is not safe for concurrent use.
package idindex

import (
	"bytes"
	"hash/maphash"
	"slices"
)

// minTable is the table size an Index starts with.
const minTable = 64

// minCompact is the arena size below which MaybeCompact leaves it alone.
const minCompact = 1 << 16

// The states of a slot.
const (
	free uint8 = iota // released: reused by the next Add
	live              // holds an id that Find finds
	held              // removed by Hold: its id stays readable until Release
)

// entry is one slot.
type entry struct {
	hash  uint64
	off   int    // id offset in the arena
	size  uint32 // id length
	cap   uint32 // bytes reserved at off
	state uint8
}

// Index maps ids to slots. The zero value is an empty index ready to use.
type Index struct {
	seed  maphash.Seed
	table []int32 // slot+1 (0 = empty), at most half full; nil until the first Add
	ents  []entry
	free  []int32 // released slots, the last one reused first
	n     int     // live ids
	arena []byte
	// garbage is the arena bytes no slot, live, held or free, reserves.
	garbage int
}

// New returns an empty index.
func New() *Index { return &Index{} }

// Find returns the slot of id.
func (x *Index) Find(id []byte) (slot int, ok bool) {
	if x.table == nil {
		return -1, false
	}
	i, found := x.probe(id, maphash.Bytes(x.seed, id))
	if !found {
		return -1, false
	}
	return int(x.table[i]) - 1, true
}

// Add returns the slot of id, giving it one when it has none (added):
// the slot released last, with the id written over the bytes the slot
// reserved when it fits, else a new slot, Cap()-1 after the call.
func (x *Index) Add(id []byte) (slot int, added bool) {
	if x.table == nil {
		x.seed, x.table = maphash.MakeSeed(), make([]int32, minTable)
	}
	h := maphash.Bytes(x.seed, id)
	i, found := x.probe(id, h)
	if found {
		return int(x.table[i]) - 1, false
	}
	if n := len(x.free); n > 0 {
		slot, x.free = int(x.free[n-1]), x.free[:n-1]
	} else {
		x.ents = append(x.ents, entry{})
		slot = len(x.ents) - 1
	}
	e := &x.ents[slot]
	e.hash, e.state = h, live
	x.place(e, id)
	x.table[i] = int32(slot + 1)
	x.n++
	if x.n*2 > len(x.table) {
		x.grow()
	}
	return slot, true
}

// probe returns the table index holding id, or the empty one where it
// would go.
func (x *Index) probe(id []byte, h uint64) (i int, found bool) {
	mask := len(x.table) - 1
	for i = int(h) & mask; ; i = (i + 1) & mask {
		s := x.table[i]
		if s == 0 {
			return i, false
		}
		e := &x.ents[s-1]
		if e.hash == h && bytes.Equal(x.arena[e.off:e.off+int(e.size)], id) {
			return i, true
		}
	}
}

// place writes the id of slot e over the bytes it reserved when it fits,
// else at the end of the arena, rounded up to 8 bytes so that ids of
// similar lengths fit each other's; the bytes that did not fit are garbage.
func (x *Index) place(e *entry, id []byte) {
	if len(id) > int(e.cap) {
		x.garbage += int(e.cap)
		capacity := (len(id) + 7) &^ 7
		e.off, e.cap = len(x.arena), uint32(capacity)
		x.arena = slices.Grow(x.arena, capacity)[:e.off+capacity]
	}
	copy(x.arena[e.off:], id)
	e.size = uint32(len(id))
}

// grow doubles the table.
func (x *Index) grow() {
	old := x.table
	x.table = make([]int32, 2*len(old))
	mask := len(x.table) - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := int(x.ents[s-1].hash) & mask
		for x.table[i] != 0 {
			i = (i + 1) & mask
		}
		x.table[i] = s
	}
}

// Remove removes the id of a live slot and releases the slot.
func (x *Index) Remove(slot int) {
	x.Hold(slot)
	x.Release(slot)
}

// Hold removes the id of a live slot but keeps the slot: ID still returns
// the id, and the slot is not reused, until Release. It panics if the slot
// is not live.
func (x *Index) Hold(slot int) {
	e := &x.ents[slot]
	if e.state != live {
		panic("idindex: Hold of a slot that is not live")
	}
	mask := len(x.table) - 1
	i := int(e.hash) & mask
	for x.table[i] != int32(slot+1) {
		i = (i + 1) & mask
	}
	x.unlink(i)
	e.state = held
	x.n--
}

// unlink empties table index i, shifting later entries of its probe run
// back so that lookups need no tombstones.
func (x *Index) unlink(i int) {
	t := x.table
	mask := len(t) - 1
	for j := (i + 1) & mask; t[j] != 0; j = (j + 1) & mask {
		home := int(x.ents[t[j]-1].hash) & mask
		// Move t[j] into the hole at i unless its home lies in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t[i] = t[j]
			i = j
		}
	}
	t[i] = 0
}

// Release makes a slot that Hold removed the next one Add reuses, keeping
// the arena bytes it reserved for the next id. It panics if the slot is
// not held.
func (x *Index) Release(slot int) {
	e := &x.ents[slot]
	if e.state != held {
		panic("idindex: Release of a slot that is not held")
	}
	e.state, e.size = free, 0
	x.free = append(x.free, int32(slot))
}

// ID returns the id of a live or held slot (empty for a free one),
// aliasing the arena: valid until the next Add or MaybeCompact.
func (x *Index) ID(slot int) []byte {
	e := &x.ents[slot]
	return x.arena[e.off : e.off+int(e.size)]
}

// Live reports whether slot holds an id that Find finds.
func (x *Index) Live(slot int) bool { return x.ents[slot].state == live }

// Held reports whether slot was removed by Hold and not yet released.
func (x *Index) Held(slot int) bool { return x.ents[slot].state == held }

// Len returns the number of live ids.
func (x *Index) Len() int { return x.n }

// Cap returns the number of slots ever made: slots are 0 to Cap()-1.
func (x *Index) Cap() int { return len(x.ents) }

// ArenaLen returns the size of the id arena in bytes.
func (x *Index) ArenaLen() int { return len(x.arena) }

// MaybeCompact copies the arena to a new one sized to the bytes the slots
// reserve when more than half of it is garbage and it is over 64 KiB. It
// invalidates the slices ID returned.
func (x *Index) MaybeCompact() {
	if x.garbage > len(x.arena)/2 && len(x.arena) > minCompact {
		x.compact()
	}
}

// compact copies the bytes reserved by the slots, live, held and free, to
// a new arena sized to them.
func (x *Index) compact() {
	live := len(x.arena) - x.garbage
	arena := make([]byte, 0, live+live/8)
	for i := range x.ents {
		e := &x.ents[i]
		off := len(arena)
		arena = append(arena, x.arena[e.off:e.off+int(e.cap)]...)
		e.off = off
	}
	x.arena, x.garbage = arena, 0
}
