package journeys

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"slices"
)

// The customers' records are laid out like decide.Contacts' ledgers, so
// that a new customer does not allocate once the state has warmed up: the
// records are values in a slab (State.custs) indexed by int32, with a free
// list of released ones; the customer ids live in a byte arena (State.ids);
// an open-addressing table over maphash (State.slots) finds them. A record
// holds its first inlineInsts instances and inlineHist history entries
// inline; a customer with more spills them to a spill cut from a block
// shared by spillBlock customers and handed on when the record is released.
//
// The timer heap refers to customers by slot index and orders its entries
// by the customer's id in the arena. So that a stale entry's key never
// changes, a released record whose slot some heap entries still refer to
// (refs) is held back from the free list until the last of them is popped
// or the heap is rebuilt; its id bytes stay as they were until then.

const (
	inlineInsts  = 3 // the default max_active
	inlineHist   = 2
	spilled      = 0xff
	spillInsts   = 8
	spillHist    = 8
	spillBlock   = 64
	minSlots     = 64
	minCompactAt = 1 << 16
)

type customer struct {
	hash   uint64
	off    int    // id offset in State.ids
	size   uint32 // id length
	cap    uint32 // id bytes reserved at off
	refs   uint32 // timer heap entries referring to the record
	ni, nh uint8  // inline instances and history entries, or spilled
	live   bool
	held   bool // released, waiting for refs to reach 0 to be freed
	dirty  bool
	inList bool // the record's index is in the dirty list
	insts  [inlineInsts]instance
	hist   [inlineHist]hist
	more   *spill // nil unless the customer had more than fit inline
}

// spill holds the instances (when ni is spilled) and the history (when nh
// is) of a customer with more than fit inline.
type spill struct {
	insts []instance
	hist  []hist
}

// list returns the instances, aliasing the record: valid until the next
// record is created.
func (c *customer) list() []instance {
	if c.ni == spilled {
		return c.more.insts
	}
	return c.insts[:c.ni]
}

// hists returns the re-entry history, aliasing the record.
func (c *customer) hists() []hist {
	if c.nh == spilled {
		return c.more.hist
	}
	return c.hist[:c.nh]
}

// addInst appends an empty instance (reusing a decision buffer left beyond
// the end) and returns its index.
func (s *State) addInst(c *customer) int {
	switch {
	case c.ni < inlineInsts:
		ii := int(c.ni)
		c.insts[ii] = instance{decision: c.insts[ii].decision[:0]}
		c.ni++
		return ii
	case c.ni != spilled:
		m := s.spillOf(c)
		if cap(m.insts) == 0 {
			m.insts = carve(&s.instBlock, spillInsts)
		}
		m.insts = m.insts[:0]
		for i := range c.insts {
			m.insts = append(m.insts, c.insts[i])
			c.insts[i] = instance{} // the spill owns the decision buffers now
		}
		c.ni = spilled
	}
	m := c.more
	m.insts = append(m.insts, instance{decision: spare(m.insts)})
	return len(m.insts) - 1
}

// truncInsts keeps the first k instances, keeping the decision buffers of
// the others for reuse.
func (c *customer) truncInsts(k int) {
	l := c.list()
	for i := k; i < len(l); i++ {
		l[i] = instance{decision: l[i].decision[:0]}
	}
	if c.ni == spilled {
		c.more.insts = l[:k]
	} else {
		c.ni = uint8(k)
	}
}

// addHist appends a history entry.
func (s *State) addHist(c *customer, h hist) {
	switch {
	case c.nh < inlineHist:
		c.hist[c.nh] = h
		c.nh++
		return
	case c.nh != spilled:
		m := s.spillOf(c)
		if cap(m.hist) == 0 {
			m.hist = carve(&s.histBlock, spillHist)
		}
		m.hist, c.nh = append(m.hist[:0], c.hist[:]...), spilled
	}
	c.more.hist = append(c.more.hist, h)
}

// spillOf returns the record's spill, giving it one first: a released
// record's, else one cut from a block.
func (s *State) spillOf(c *customer) *spill {
	if c.more != nil {
		return c.more
	}
	if n := len(s.spills); n > 0 {
		c.more, s.spills = s.spills[n-1], s.spills[:n-1]
		return c.more
	}
	if len(s.spillBlock) == 0 {
		s.spillBlock = make([]spill, spillBlock)
	}
	c.more, s.spillBlock = &s.spillBlock[0], s.spillBlock[1:]
	return c.more
}

// carve returns an empty slice with room for n, cut from *block, which it
// refills with room for spillBlock such slices.
func carve[T any](block *[]T, n int) []T {
	if len(*block) < n {
		*block = make([]T, spillBlock*n)
	}
	b := (*block)[:0:n]
	*block = (*block)[n:]
	return b
}

// idOf returns a record's id, aliasing the arena.
func (s *State) idOf(c *customer) []byte { return s.ids[c.off : c.off+int(c.size)] }

func (s *State) lookup(id []byte) int32 {
	slot, found := s.find(id, maphash.Bytes(s.seed, id))
	if !found {
		return -1
	}
	return s.slots[slot] - 1
}

// find returns the slot holding id, or the empty slot where it would go.
func (s *State) find(id []byte, h uint64) (slot int, found bool) {
	mask := len(s.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		x := s.slots[i]
		if x == 0 {
			return i, false
		}
		c := &s.custs[x-1]
		if c.hash == h && bytes.Equal(s.idOf(c), id) {
			return i, true
		}
	}
}

// create adds an empty record for id, which must not have one.
func (s *State) create(id []byte) int32 {
	h := maphash.Bytes(s.seed, id)
	slot, _ := s.find(id, h)
	var ci int32
	if n := len(s.free); n > 0 {
		ci, s.free = s.free[n-1], s.free[:n-1]
	} else {
		s.custs = append(s.custs, customer{})
		ci = int32(len(s.custs) - 1)
	}
	c := &s.custs[ci]
	c.hash, c.live = h, true
	s.placeID(c, id)
	s.insertSlot(slot, ci)
	s.n++
	return ci
}

// placeID writes the id of a new record over the bytes its slot reserved
// when it fits, else at the end of the arena, rounded up to 8 bytes; the
// bytes that did not fit are garbage.
func (s *State) placeID(c *customer, id []byte) {
	if len(id) > int(c.cap) {
		s.garbage += int(c.cap)
		capacity := (len(id) + 7) &^ 7
		c.off, c.cap = len(s.ids), uint32(capacity)
		s.ids = slices.Grow(s.ids, capacity)[:c.off+capacity]
	}
	copy(s.ids[c.off:], id)
	c.size = uint32(len(id))
}

// insertSlot records ci in the empty slot found for it, growing the table
// when it gets half full.
func (s *State) insertSlot(slot int, ci int32) {
	s.slots[slot] = ci + 1
	if (s.n+1)*2 <= len(s.slots) {
		return
	}
	old := s.slots
	s.slots = make([]int32, 2*len(old))
	mask := len(s.slots) - 1
	for _, x := range old {
		if x == 0 {
			continue
		}
		i := int(s.custs[x-1].hash) & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = x
	}
}

// deleteSlot empties slot i, shifting later entries of its probe run back
// so that lookups need no tombstones.
func (s *State) deleteSlot(i int) {
	slots := s.slots
	mask := len(slots) - 1
	for j := (i + 1) & mask; slots[j] != 0; j = (j + 1) & mask {
		home := int(s.custs[slots[j]-1].hash) & mask
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			slots[i] = slots[j]
			i = j
		}
	}
	slots[i] = 0
}

// removeCustomer drops customer ci, remembering its id for Dirty.
func (s *State) removeCustomer(ci int32) {
	c := &s.custs[ci]
	if !c.live {
		return
	}
	id := s.idOf(c)
	s.gone = append(binary.AppendUvarint(s.gone, uint64(len(id))), id...)
	slot, _ := s.find(id, c.hash)
	s.deleteSlot(slot)
	s.n--
	c.truncInsts(0)
	c.nh = 0
	if m := c.more; m != nil {
		c.more = nil
		m.hist = m.hist[:0]
		c.ni = 0 // inline decision buffers went to the spill with the instances
		s.spills = append(s.spills, m)
	}
	c.live, c.dirty = false, false
	if c.refs > 0 {
		c.held = true // its id orders heap entries until they are gone
		return
	}
	s.release(ci)
}

// release puts a removed record on the free list.
func (s *State) release(ci int32) {
	s.custs[ci].held = false
	s.free = append(s.free, ci)
	if s.garbage > len(s.ids)/2 && len(s.ids) > minCompactAt {
		s.compactIDs()
	}
}

// unref drops a heap entry's reference to ci.
func (s *State) unref(ci int32) {
	c := &s.custs[ci]
	c.refs--
	if c.refs == 0 && c.held {
		s.release(ci)
	}
}

// compactIDs copies the bytes reserved by the records, live and released,
// to a new arena sized to them.
func (s *State) compactIDs() {
	live := len(s.ids) - s.garbage
	ids := make([]byte, 0, live+live/8)
	for i := range s.custs {
		c := &s.custs[i]
		off := len(ids)
		ids = append(ids, s.ids[c.off:c.off+int(c.cap)]...)
		c.off = off
	}
	s.ids, s.garbage = ids, 0
}
