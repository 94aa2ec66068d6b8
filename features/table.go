package features

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"slices"
)

// customer is the fixed-size entry of one customer. It holds no Go
// pointers, so the garbage collector never scans the customers: the id and
// the state live in the store's arena as one record, [len(id) uvarint][id]
// [sections].
type customer struct {
	hash   uint64
	last   int64  // latest accepted event time, for eviction
	off    int    // record offset in the arena; -1 when the entry is free
	size   uint32 // record length
	cap    uint32 // bytes reserved for the record in the arena
	inList bool   // the entry's index is in the dirty list
	dirty  bool
}

// table maps customer ids to entries: open addressing with linear probing
// over entry index+1 (0 = empty), at most half full.
type table struct {
	seed  maphash.Seed
	slots []uint32
	n     int
}

func newTable() table {
	return table{seed: maphash.MakeSeed(), slots: make([]uint32, 64)}
}

func (t *table) hash(id []byte) uint64 { return maphash.Bytes(t.seed, id) }

// find returns the slot holding id, or the empty slot where it would go.
func (st *Store) find(id []byte, h uint64) (slot int, found bool) {
	mask := len(st.tab.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := st.tab.slots[i]
		if s == 0 {
			return i, false
		}
		c := &st.custs[s-1]
		if c.hash == h && bytes.Equal(st.idOf(c), id) {
			return i, true
		}
	}
}

// idOf returns the customer id of a live entry, aliasing the arena.
func (st *Store) idOf(c *customer) []byte {
	rec := st.arena[c.off : c.off+int(c.size)]
	n, k := binary.Uvarint(rec)
	if k <= 0 || n > uint64(len(rec)-k) {
		return nil // BUG: records are written by this package
	}
	return rec[k : k+int(n)]
}

// insertSlot records entry idx in the empty slot found for it, growing the
// table when it gets half full.
func (st *Store) insertSlot(slot int, idx int) {
	st.tab.slots[slot] = uint32(idx + 1)
	st.tab.n++
	if st.tab.n*2 <= len(st.tab.slots) {
		return
	}
	old := st.tab.slots
	st.tab.slots = make([]uint32, 2*len(old))
	mask := len(st.tab.slots) - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := int(st.custs[s-1].hash) & mask
		for st.tab.slots[i] != 0 {
			i = (i + 1) & mask
		}
		st.tab.slots[i] = s
	}
}

// deleteSlot empties slot i, shifting later entries of its probe run back
// so that lookups need no tombstones.
func (st *Store) deleteSlot(i int) {
	slots := st.tab.slots
	mask := len(slots) - 1
	for j := (i + 1) & mask; slots[j] != 0; j = (j + 1) & mask {
		home := int(st.custs[slots[j]-1].hash) & mask
		// Move slots[j] into the hole at i unless its home lies in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			slots[i] = slots[j]
			i = j
		}
	}
	slots[i] = 0
	st.tab.n--
}

// newEntry returns a free entry index, reusing evicted ones.
func (st *Store) newEntry() int {
	if n := len(st.free); n > 0 {
		idx := int(st.free[n-1])
		st.free = st.free[:n-1]
		return idx
	}
	st.custs = append(st.custs, customer{off: -1})
	return len(st.custs) - 1
}

// place writes rec as the record of entry c: in place when it fits, else at
// the end of the arena with some room to grow. The arena is compacted when
// more than half of it is garbage.
func (st *Store) place(c *customer, rec []byte) {
	if c.off >= 0 && len(rec) <= int(c.cap) {
		copy(st.arena[c.off:], rec)
		c.size = uint32(len(rec))
		return
	}
	if c.off >= 0 {
		st.garbage += int(c.cap)
	}
	capacity := len(rec) + len(rec)/8 + 4
	c.off = len(st.arena)
	st.arena = slices.Grow(st.arena, capacity)[:c.off+capacity]
	copy(st.arena[c.off:], rec)
	c.size, c.cap = uint32(len(rec)), uint32(capacity)
	if st.garbage > len(st.arena)/2 && len(st.arena) > 1<<16 {
		st.compact()
	}
}

// compact copies the live records to a new arena sized to them.
func (st *Store) compact() {
	live := len(st.arena) - st.garbage
	arena := make([]byte, 0, live+live/8)
	for i := range st.custs {
		c := &st.custs[i]
		if c.off < 0 {
			continue
		}
		off := len(arena)
		arena = append(arena, st.arena[c.off:c.off+int(c.cap)]...)
		c.off = off
	}
	st.arena, st.garbage = arena, 0
}

// release frees entry idx and its slot.
func (st *Store) release(slot, idx int) {
	c := &st.custs[idx]
	st.garbage += int(c.cap)
	st.deleteSlot(slot)
	*c = customer{off: -1, inList: c.inList}
	st.free = append(st.free, uint32(idx))
}
