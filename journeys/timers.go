package journeys

import (
	"bytes"
	"encoding/binary"
)

// timer is a heap entry. Entries are never removed early: a timer that is
// re-armed or cancelled leaves a stale entry, recognised when it surfaces
// by its generation, and the heap is rebuilt when stale entries dominate.
// An entry refers to its customer's record by index; the record is not
// reused while entries refer to it (customer.refs), so its id, which
// orders the entries, does not change under them.
type timer struct {
	due  int64
	pre  uint64 // the customer id's first 8 bytes, big-endian, zero-padded
	inst InstanceID
	ci   int32
	gen  uint32
}

// timerHeap orders timers by (due, customer id, instance id), so timers
// due together fire in the same order in a replay and after a restore.
// Its methods are State's, which holds the ids.
type timerHeap []timer

// idPrefix returns the first 8 bytes of id as a big-endian number, padded
// with zeros: comparing prefixes orders ids as bytes.Compare does, but for
// ties.
func idPrefix(id []byte) uint64 {
	if len(id) >= 8 {
		return binary.BigEndian.Uint64(id)
	}
	var b [8]byte
	copy(b[:], id)
	return binary.BigEndian.Uint64(b[:])
}

func (s *State) timerLess(a, b *timer) bool {
	if a.due != b.due {
		return a.due < b.due
	}
	if a.pre != b.pre {
		return a.pre < b.pre
	}
	if a.ci != b.ci {
		if c := bytes.Compare(s.idOf(a.ci), s.idOf(b.ci)); c != 0 {
			return c < 0
		}
	}
	return a.inst < b.inst
}

// push adds t.
func (s *State) push(t timer) {
	s.timers = append(s.timers, t)
	s.up(len(s.timers) - 1)
}

func (s *State) up(j int) {
	h := s.timers
	for {
		i := (j - 1) / 2
		if i == j || !s.timerLess(&h[j], &h[i]) {
			break
		}
		h[i], h[j] = h[j], h[i]
		j = i
	}
}

// pop removes the earliest timer.
func (s *State) pop() timer {
	h := s.timers
	n := len(h) - 1
	h[0], h[n] = h[n], h[0]
	s.timers = h[:n]
	s.down(0)
	return h[n]
}

func (s *State) down(i int) {
	h := s.timers
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n || l < 0 {
			return
		}
		j := l
		if r := l + 1; r < n && s.timerLess(&h[r], &h[l]) {
			j = r
		}
		if !s.timerLess(&h[j], &h[i]) {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

// arm sets instance ii's timer to due, superseding any earlier one.
func (s *State) arm(ci int32, ii int, due int64) {
	c := &s.custs[ci]
	in := &c.list()[ii]
	in.armed, in.due = true, due
	in.gen++
	c.refs++
	s.push(timer{due: due, pre: idPrefix(s.idOf(ci)), inst: in.id, ci: ci, gen: in.gen})
}

// live returns the instance a heap entry still stands for, or -1.
func (s *State) live(t *timer) int {
	if t.ci < 0 || int(t.ci) >= len(s.custs) {
		return -1
	}
	if !s.ids.Live(int(t.ci)) {
		return -1
	}
	c := &s.custs[t.ci]
	for ii, insts := 0, c.list(); ii < len(insts); ii++ {
		in := &insts[ii]
		if in.id == t.inst && in.armed && !in.dead && in.gen == t.gen && in.due == t.due {
			return ii
		}
	}
	return -1
}

// Advance fires every timer due at or before watermark, in (due, customer,
// instance) order, each at its due time: a wait for a duration moves on, a
// wait for an event times out, and an ended instance whose goal window
// closed is dropped. facts is called for a customer only when a branch or
// a decision needs its features. It does not allocate in steady state.
func (s *State) Advance(watermark int64, facts func(customerID []byte) Facts, act Actor, out *Output) {
	s.begin(out, act, nil, facts)
	defer s.end()
	for len(s.timers) > 0 && s.timers[0].due <= watermark {
		t := s.pop()
		ii := s.live(&t)
		s.unref(t.ci)
		if ii < 0 {
			continue
		}
		s.fire(t.ci, ii, t.due)
		s.compact(t.ci)
	}
	if len(s.timers) > s.rebuildAt {
		s.rebuildTimers()
	}
}

func (s *State) fire(ci int32, ii int, due int64) {
	c := &s.custs[ci]
	in := &c.list()[ii]
	in.armed = false
	s.stats.Fired++
	s.haveF = s.factsFn == nil
	s.facts = nil
	if in.ended != "" { // the goal window closed
		in.dead = true
		s.markDirty(ci)
		return
	}
	st := &s.e.journeys[in.journey].steps[in.step]
	s.trig = appendTrigger(s.trig[:0], in.id, st.id, due)
	s.cause = append(s.cause[:0], s.trig...)
	target := st.next
	if st.kind == kWaitEvent {
		target = st.otherwise
	}
	s.run(ci, ii, target, due, CauseTimer, s.cause, nil)
}

// rebuildTimers drops stale heap entries: one entry per armed instance.
// It runs when the heap has doubled since the last rebuild, so its walk
// over the customers costs O(1) per timer armed. Records held back for
// stale entries are released.
func (s *State) rebuildTimers() {
	defer func() { s.rebuildAt = 2*len(s.timers) + minRebuild }()
	s.timers = s.timers[:0]
	for ci := range s.custs {
		c := &s.custs[ci]
		c.refs = 0
		if !s.ids.Live(ci) {
			if s.ids.Held(ci) {
				s.release(int32(ci))
			}
			continue
		}
		for ii, insts := 0, c.list(); ii < len(insts); ii++ {
			if in := &insts[ii]; in.armed && !in.dead {
				c.refs++
				s.timers = append(s.timers, timer{due: in.due, pre: idPrefix(s.idOf(int32(ci))), inst: in.id, ci: int32(ci), gen: in.gen})
			}
		}
	}
	for i := len(s.timers)/2 - 1; i >= 0; i-- {
		s.down(i)
	}
}

// minRebuild is the heap size below which stale entries are left alone.
const minRebuild = 4096

func appendID(dst []byte, id string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(id))), id...)
}
