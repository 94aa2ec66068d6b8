package journeys

import (
	"container/heap"
	"encoding/binary"
)

// timer is a heap entry. Entries are never removed early: a timer that is
// re-armed or cancelled leaves a stale entry, recognised when it surfaces
// by its generation, and the heap is rebuilt when stale entries dominate.
type timer struct {
	due  int64
	cust string // the customer's id (shared with the customer, not copied)
	inst InstanceID
	ci   int32
	gen  uint32
}

// timerHeap orders timers by (due, customer id, instance id), so timers
// due together fire in the same order in a replay and after a restore.
type timerHeap []timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	a, b := &h[i], &h[j]
	if a.due != b.due {
		return a.due < b.due
	}
	if a.cust != b.cust {
		return a.cust < b.cust
	}
	return a.inst < b.inst
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

// push adds t without the any boxing of heap.Push (which allocates).
func (h *timerHeap) push(t timer) {
	*h = append(*h, t)
	h.up(len(*h) - 1)
}

func (h timerHeap) up(j int) {
	for {
		i := (j - 1) / 2
		if i == j || !h.Less(j, i) {
			break
		}
		h.Swap(i, j)
		j = i
	}
}

// pop removes the earliest timer without boxing.
func (h *timerHeap) pop() timer {
	old := *h
	n := len(old) - 1
	old.Swap(0, n)
	old[:n].down(0)
	t := old[n]
	*h = old[:n]
	return t
}

func (h timerHeap) down(i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n || l < 0 {
			return
		}
		j := l
		if r := l + 1; r < n && h.Less(r, l) {
			j = r
		}
		if !h.Less(j, i) {
			return
		}
		h.Swap(i, j)
		i = j
	}
}

// arm sets instance ii's timer to due, superseding any earlier one.
func (s *State) arm(ci int32, ii int, due int64) {
	c := &s.custs[ci]
	in := &c.insts[ii]
	in.armed, in.due = true, due
	in.gen++
	s.timers.push(timer{due: due, cust: c.id, inst: in.id, ci: ci, gen: in.gen})
}

// live returns the instance a heap entry still stands for, or -1.
func (s *State) live(t *timer) int {
	if t.ci < 0 || int(t.ci) >= len(s.custs) {
		return -1
	}
	c := &s.custs[t.ci]
	if !c.live || c.id != t.cust {
		return -1
	}
	for ii := range c.insts {
		in := &c.insts[ii]
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
		t := s.timers.pop()
		ii := s.live(&t)
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
	in := &c.insts[ii]
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
// over the customers costs O(1) per timer armed.
func (s *State) rebuildTimers() {
	defer func() { s.rebuildAt = 2*len(s.timers) + minRebuild }()
	s.timers = s.timers[:0]
	for ci := range s.custs {
		c := &s.custs[ci]
		if !c.live {
			continue
		}
		for ii := range c.insts {
			if in := &c.insts[ii]; in.armed && !in.dead {
				s.timers = append(s.timers, timer{due: in.due, cust: c.id, inst: in.id, ci: int32(ci), gen: in.gen})
			}
		}
	}
	heap.Init(&s.timers)
}

// minRebuild is the heap size below which stale entries are left alone.
const minRebuild = 4096

func appendID(dst []byte, id string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(id))), id...)
}
