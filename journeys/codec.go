package journeys

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// stateVersion is the first byte of a serialized customer.
const stateVersion = 1

// errCorrupt is wrapped by RestoreCustomer for data that is not valid state.
var errCorrupt = errors.New("corrupt journey state")

// AppendCustomer appends the serialized journey state of a customer to
// dst: a version byte, then its instances and re-entry history, naming
// journeys and steps by id so that a restore under a changed config can
// drop what no longer exists. ok is false for a customer with no journey
// state (for the changelog: a tombstone).
func (s *State) AppendCustomer(dst, customerID []byte) ([]byte, bool) {
	ci := s.lookup(customerID)
	if ci < 0 {
		return dst, false
	}
	c := &s.custs[ci]
	dst = append(dst, stateVersion)
	insts, hs := c.list(), c.hists()
	n := 0
	for i := range insts {
		if !insts[i].dead {
			n++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	for i := range insts {
		if in := &insts[i]; !in.dead {
			dst = s.appendInstance(dst, in)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(hs)))
	for _, h := range hs {
		dst = appendID(dst, s.e.journeys[h.journey].id)
		dst = binary.AppendVarint(dst, h.ended)
	}
	return dst, true
}

func (s *State) appendInstance(dst []byte, in *instance) []byte {
	j := &s.e.journeys[in.journey]
	dst = appendID(dst, j.id)
	step := ""
	if in.step >= 0 {
		step = j.steps[in.step].id
	}
	dst = appendID(dst, step)
	dst = appendID(dst, in.ended)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(in.id))
	dst = binary.AppendVarint(dst, in.entered)
	dst = binary.AppendVarint(dst, in.stepAt)
	var flags byte
	if in.armed {
		flags |= 1
	}
	if in.goalDone {
		flags |= 2
	}
	dst = append(dst, flags)
	if in.armed {
		dst = binary.AppendVarint(dst, in.due)
	}
	dst = appendID(dst, in.lastAction)
	dst = appendID(dst, string(in.decision))
	return append(dst, in.visits[:]...)
}

// RestoreCustomer replaces the journey state of a customer with data
// written by AppendCustomer and re-arms its timers. Instances or history
// of journeys or steps the configuration no longer has are dropped and
// counted (Stats.Dropped); data that is not valid state is an error and
// changes nothing. It never panics. Like features.Store, a restored
// customer is not dirty.
func (s *State) RestoreCustomer(customerID, data []byte) error {
	r := reader{b: data}
	if r.byte() != stateVersion {
		return fmt.Errorf("cannot restore journeys of customer %q: %w (version)", customerID, errCorrupt)
	}
	var insts []instance
	var hs []hist
	dropped := 0
	n := r.uvarint()
	for i := uint64(0); i < n && !r.bad; i++ {
		in, ok := s.readInstance(&r)
		if ok {
			insts = append(insts, in)
		} else {
			dropped++
		}
	}
	n = r.uvarint()
	for i := uint64(0); i < n && !r.bad; i++ {
		ji := s.e.journeyIndex(r.bytes())
		ended := r.varint()
		if ji < 0 {
			dropped++
			continue
		}
		hs = append(hs, hist{journey: int32(ji), ended: ended})
	}
	if r.bad || len(r.b) != 0 {
		return fmt.Errorf("cannot restore journeys of customer %q: %w", customerID, errCorrupt)
	}
	s.stats.Dropped += uint64(dropped)
	if ci := s.lookup(customerID); ci >= 0 {
		s.drop(ci) // not a removal: no tombstone
	}
	if len(insts) == 0 && len(hs) == 0 {
		return nil
	}
	ci := s.create(customerID)
	c := &s.custs[ci]
	for i := range insts {
		ii := s.addInst(c)
		in := &c.list()[ii]
		dec := append(in.decision[:0], insts[i].decision...)
		*in = insts[i]
		in.decision = dec
	}
	for _, h := range hs {
		s.addHist(c, h)
	}
	for ii, l := 0, c.list(); ii < len(l); ii++ {
		if in := &l[ii]; in.armed {
			s.arm(ci, ii, in.due)
		}
	}
	return nil
}

// readInstance decodes one instance; ok is false when its journey or step
// is unknown (the reader is still advanced past it).
func (s *State) readInstance(r *reader) (instance, bool) {
	ji := s.e.journeyIndex(r.bytes())
	stepID, ended := r.bytes(), r.bytes()
	in := instance{id: InstanceID(r.uint64()), entered: r.varint(), stepAt: r.varint(), step: -1}
	flags := r.byte()
	in.armed, in.goalDone = flags&1 != 0, flags&2 != 0
	if in.armed {
		in.due = r.varint()
	}
	action, dec := r.bytes(), r.bytes()
	copy(in.visits[:], r.take(maxVisitSlots))
	if r.bad || ji < 0 {
		return in, false
	}
	j := &s.e.journeys[ji]
	in.journey = int32(ji)
	if len(stepID) > 0 {
		k, ok := j.stepIndex[string(stepID)]
		if !ok {
			return in, false
		}
		in.step = int32(k)
	}
	if len(ended) > 0 {
		in.ended = pseudo(ended)
		if in.ended == "" {
			return in, false
		}
	} else if in.step < 0 || (j.steps[in.step].kind > kWaitEvent) || !in.armed {
		return in, false // an active instance is always waiting
	}
	if len(action) > 0 {
		in.lastAction = string(action)
	}
	in.decision = append([]byte(nil), dec...)
	return in, true
}

func pseudo(b []byte) string {
	for _, p := range []string{ToEnd, ToExit, ToGoal, ToMaxVisits, ToPreempted, ToLoop} {
		if string(b) == p {
			return p
		}
	}
	return ""
}

// reader decodes without panicking; bad records the first failure.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) take(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.bad = true
		return nil
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

func (r *reader) uvarint() uint64 {
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *reader) varint() int64 {
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *reader) uint64() uint64 {
	b := r.take(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	return r.take(int(n))
}

// Delete drops a customer's journey state (erasure) and reports whether
// there was any.
func (s *State) Delete(customerID []byte) bool {
	ci := s.lookup(customerID)
	if ci < 0 {
		return false
	}
	s.removeCustomer(ci)
	return true
}

// Dirty calls fn with the id of every customer removed since ClearDirty,
// then of every customer changed since then, with the semantics of
// features.Store.Dirty: AppendCustomer says whether a removed id has state
// again; id is valid only during the call and fn must not change the state.
func (s *State) Dirty(fn func(id []byte)) {
	s.gone.Each(fn)
	for _, ci := range s.dirty {
		if s.custs[ci].dirty && s.ids.Live(int(ci)) {
			s.cust = append(s.cust[:0], s.idOf(ci)...)
			fn(s.cust)
		}
	}
}

// ClearDirty forgets the changes Dirty reports, after a checkpoint.
func (s *State) ClearDirty() {
	for _, ci := range s.dirty {
		s.custs[ci].inList, s.custs[ci].dirty = false, false
	}
	s.dirty = s.dirty[:0]
	s.gone.Reset()
}
