package journeys

// The customers' records are laid out like decide.Contacts' ledgers, so
// that a new customer does not allocate once the state has warmed up: an
// idindex.Index (State.ids) gives each customer a slot, reusing released
// ones and their id bytes, and the records are values in a slab
// (State.custs) parallel to the slots. A record
// holds its first inlineInsts instances and inlineHist history entries
// inline; a customer with more spills them to a spill cut from a block
// shared by spillBlock customers and handed on when the record is released.
//
// The timer heap refers to customers by slot and orders its entries by
// the customer's id in the index. So that a stale entry's key never
// changes, a removed record whose slot some heap entries still refer to
// (refs) is held (idindex.Index.Hold), not released, until the last of
// them is popped or the heap is rebuilt; its id stays as it was until then.

const (
	inlineInsts = 3 // the default max_active
	inlineHist  = 2
	spilled     = 0xff
	spillInsts  = 8
	spillHist   = 8
	spillBlock  = 64
)

type customer struct {
	refs   uint32 // timer heap entries referring to the record
	ni, nh uint8  // inline instances and history entries, or spilled
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

// idOf returns a record's id, aliasing the index's arena.
func (s *State) idOf(ci int32) []byte { return s.ids.ID(int(ci)) }

func (s *State) lookup(id []byte) int32 {
	ci, ok := s.ids.Find(id)
	if !ok {
		return -1
	}
	return int32(ci)
}

// create adds an empty record for id, which must not have one.
func (s *State) create(id []byte) int32 {
	ci, _ := s.ids.Add(id)
	if ci == len(s.custs) {
		s.custs = append(s.custs, customer{})
	}
	return int32(ci)
}

// removeCustomer drops customer ci, remembering its id for Dirty.
func (s *State) removeCustomer(ci int32) {
	if !s.ids.Live(int(ci)) {
		return
	}
	s.gone.Append(s.idOf(ci))
	s.drop(ci)
}

// drop drops live customer ci without a tombstone.
func (s *State) drop(ci int32) {
	c := &s.custs[ci]
	s.ids.Hold(int(ci))
	c.truncInsts(0)
	c.nh = 0
	if m := c.more; m != nil {
		c.more = nil
		m.hist = m.hist[:0]
		c.ni = 0 // inline decision buffers went to the spill with the instances
		s.spills = append(s.spills, m)
	}
	c.dirty = false
	if c.refs > 0 {
		return // held: its id orders heap entries until they are gone
	}
	s.release(ci)
}

// release frees a held record for reuse.
func (s *State) release(ci int32) {
	s.ids.Release(int(ci))
	s.ids.MaybeCompact()
}

// unref drops a heap entry's reference to ci.
func (s *State) unref(ci int32) {
	c := &s.custs[ci]
	c.refs--
	if c.refs == 0 && s.ids.Held(int(ci)) {
		s.release(ci)
	}
}
