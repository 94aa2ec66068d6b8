package journeys

import (
	"math"
	"strconv"

	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/internal/idindex"
)

// instance is one customer's run through one journey.
type instance struct {
	id      InstanceID
	journey int32
	step    int32  // current step; -1 before the first
	ended   string // the pseudo-step it ended with; "" while active
	dead    bool   // to be removed at the end of the call
	armed   bool   // a timer is pending at due
	gen     uint32 // timer generation: heap entries of older ones are stale
	entered int64
	stepAt  int64
	due     int64
	// lastAction and decision are the instance's last action, for goal credit.
	lastAction string
	decision   []byte
	visits     [maxVisitSlots]uint8
	goalDone   bool
}

// hist remembers when a customer's last instance of a journey ended, for
// the re-entry policy.
type hist struct {
	journey int32
	ended   int64
}

// Stats are a State's counts.
type Stats struct {
	Customers     int    // customers with journey state
	Active        int    // instances in a step
	AwaitingGoal  int    // ended instances kept until their goal window closes
	PendingTimers int    // armed timers
	Started       uint64 // instances started
	Fired         uint64 // timers fired
	Refused       uint64 // triggers refused by max_active
	Preempted     uint64 // instances that gave way to a higher priority
	Dropped       uint64 // restored instances or history of unknown journeys or steps
}

// State holds the journey instances of one task's customers and their
// timers. It is not safe for concurrent use: the task that owns the
// customers owns it, like features.Store. Its layout (slab.go) is
// decide.Contacts': a new customer does not allocate once the state has
// warmed up.
type State struct {
	e     *Engine
	ids   idindex.Index // the customers: custs[slot] is a customer's record
	custs []customer
	// spills are released records' spills, for reuse; spillBlock,
	// instBlock and histBlock are what is left of the last blocks new
	// spills and their room were cut from.
	spills     []*spill
	spillBlock []spill
	instBlock  []instance
	histBlock  []hist
	timers     timerHeap
	// rebuildAt is the heap size that triggers dropping stale entries.
	rebuildAt int
	dirty     []int32
	gone      idindex.List // ids removed since ClearDirty
	stats     Stats

	// per call
	out     *Output
	act     Actor
	facts   Facts
	factsFn func([]byte) Facts
	haveF   bool
	req     Request
	trig    []byte
	cust    []byte
	cause   []byte
	fid     []byte
}

// NewState returns an empty state for one task.
func (e *Engine) NewState() *State {
	return &State{e: e, rebuildAt: minRebuild}
}

func (s *State) markDirty(ci int32) {
	c := &s.custs[ci]
	c.dirty = true
	if !c.inList {
		c.inList = true
		s.dirty = append(s.dirty, ci)
	}
}

func (s *State) begin(out *Output, act Actor, facts Facts, fn func([]byte) Facts) {
	out.reset()
	s.out, s.act, s.facts, s.factsFn, s.haveF = out, act, facts, fn, fn == nil
}

func (s *State) end() {
	s.out.seal()
	s.out, s.act, s.facts, s.factsFn = nil, nil, nil, nil
}

// getFacts returns the customer's facts, asking the caller once per timer.
func (s *State) getFacts(ci int32) Facts {
	if !s.haveF {
		s.fid = append(s.fid[:0], s.idOf(ci)...) // a conversion would allocate
		s.facts, s.haveF = s.factsFn(s.fid), true
	}
	return s.facts
}

// OnEvent applies ev to its customer's journeys: exits first, then goals,
// then instances waiting for the event, then triggers (by priority,
// within max_active and the re-entry policies). It does not allocate in
// steady state, for new customers either: only the slab, the id arena, the
// lookup table and the spill blocks growing do.
func (s *State) OnEvent(ev *event.Event, facts Facts, act Actor, out *Output) {
	s.begin(out, act, facts, nil)
	defer s.end()
	if !s.e.Reads(ev.Type) {
		return
	}
	ci := s.lookup(ev.CustomerID)
	if ci >= 0 {
		s.exits(ci, ev)
		s.goals(ci, ev)
		s.waits(ci, ev)
	}
	for _, ji := range s.e.triggers[string(ev.Type)] {
		ci = s.trigger(ci, ji, ev)
	}
	if ci >= 0 {
		s.compact(ci)
	}
}

func (s *State) exits(ci int32, ev *event.Event) {
	for ii := range s.custs[ci].list() {
		in := &s.custs[ci].list()[ii]
		if in.ended != "" || in.dead {
			continue
		}
		if x := s.e.journeys[in.journey].exitOn(ev.Type); x != "" {
			s.finish(ci, ii, ToExit, ev.TS, x, ev.EventID)
		}
	}
}

func (s *State) goals(ci int32, ev *event.Event) {
	c := &s.custs[ci]
	for ii := range c.list() {
		in := &c.list()[ii]
		j := &s.e.journeys[in.journey]
		if in.dead || in.goalDone || j.goal != string(ev.Type) || ev.TS < in.entered || ev.TS > satAdd(in.entered, j.goalFor) {
			continue
		}
		in.goalDone = true
		o := s.out
		o.Goals = append(o.Goals, GoalCredit{TS: ev.TS, Journey: j.id, Instance: in.id,
			ActionID: in.lastAction, Event: j.goal, cust: o.keep(ev.CustomerID),
			dec: o.keep(in.decision), ev: o.keep(ev.EventID)})
		s.emit(ci, in, s.stepName(in), ToGoal, ev.TS, j.goal, ev.EventID, "", nil)
		if in.ended != "" {
			in.dead = true
		}
		s.markDirty(ci)
	}
}

func (s *State) waits(ci int32, ev *event.Event) {
	for ii := range s.custs[ci].list() {
		in := &s.custs[ci].list()[ii]
		if in.ended != "" || in.dead || in.step < 0 {
			continue
		}
		st := &s.e.journeys[in.journey].steps[in.step]
		if st.kind == kWaitEvent && st.event == string(ev.Type) {
			in.armed = false
			s.run(ci, ii, st.then, ev.TS, st.event, ev.EventID, ev)
		}
	}
}

// trigger starts journey ji for the event's customer if it may; ci is the
// customer (-1: none yet) and the result the customer after.
func (s *State) trigger(ci, ji int32, ev *event.Event) int32 {
	j := &s.e.journeys[ji]
	if ci >= 0 && !s.mayEnter(ci, ji, ev.TS) {
		return ci
	}
	if !j.when.test(ev, s.facts) {
		return ci
	}
	if ci < 0 {
		ci = s.create(ev.CustomerID)
	}
	if !s.makeRoom(ci, j.priority, j.trigger, ev) {
		s.stats.Refused++
		return ci
	}
	c := &s.custs[ci]
	for ii := range c.list() { // the new instance replaces one awaiting its goal
		if in := &c.list()[ii]; in.journey == ji {
			in.dead, in.armed = true, false
		}
	}
	ii := s.addInst(c)
	in := &c.list()[ii]
	in.id = newInstanceID(ev.CustomerID, j.id, ev.EventID)
	in.journey, in.step, in.entered = ji, -1, ev.TS
	s.stats.Started++
	s.run(ci, ii, 0, ev.TS, j.trigger, ev.EventID, ev)
	return ci
}

// spare reuses the decision buffer of a removed instance beyond len.
func spare(insts []instance) []byte {
	if len(insts) < cap(insts) {
		return insts[: len(insts)+1 : cap(insts)][len(insts)].decision[:0]
	}
	return nil
}

// mayEnter applies the one-instance rule and the re-entry policy.
func (s *State) mayEnter(ci, ji int32, ts int64) bool {
	c := &s.custs[ci]
	j := &s.e.journeys[ji]
	for ii := range c.list() {
		if in := &c.list()[ii]; in.journey == ji && in.ended == "" && !in.dead {
			return false
		}
	}
	for _, h := range c.hists() {
		if h.journey != ji {
			continue
		}
		switch j.policy {
		case "never":
			return false
		case "after_cooldown":
			if ts < satAdd(h.ended, j.cooldown) {
				return false
			}
		}
	}
	return true
}

// makeRoom ends the lowest-priority active instance when the customer is
// at max_active and it ranks below priority; false when there is no room.
func (s *State) makeRoom(ci int32, priority int, cause string, ev *event.Event) bool {
	c := &s.custs[ci]
	active, victim := 0, -1
	insts := c.list()
	for ii := range insts {
		in := &insts[ii]
		if in.ended != "" || in.dead {
			continue
		}
		active++
		if victim < 0 || s.ranksBelow(in, &insts[victim]) {
			victim = ii
		}
	}
	if active < s.e.maxActive {
		return true
	}
	if s.e.journeys[insts[victim].journey].priority >= priority {
		return false
	}
	s.stats.Preempted++
	s.finish(ci, victim, ToPreempted, ev.TS, cause, ev.EventID)
	return true
}

// ranksBelow orders victims: lower priority, then entered later, then id.
func (s *State) ranksBelow(a, b *instance) bool {
	pa, pb := s.e.journeys[a.journey].priority, s.e.journeys[b.journey].priority
	if pa != pb {
		return pa < pb
	}
	if a.entered != b.entered {
		return a.entered > b.entered
	}
	return a.id > b.id
}

// run moves instance ii into step target at ts and on through steps that
// do not wait.
func (s *State) run(ci int32, ii int, target int, ts int64, cause string, causeID []byte, ev *event.Event) {
	c := &s.custs[ci]
	in := &c.list()[ii]
	j := &s.e.journeys[in.journey]
	s.markDirty(ci)
	for n := 0; ; n++ {
		if target == endIdx {
			s.finish(ci, ii, ToEnd, ts, cause, causeID)
			return
		}
		if n > len(j.steps) {
			s.finish(ci, ii, ToLoop, ts, cause, causeID)
			return
		}
		st := &j.steps[target]
		if st.slot >= 0 {
			if int(in.visits[st.slot]) >= st.maxVisits {
				s.finish(ci, ii, ToMaxVisits, ts, cause, causeID)
				return
			}
			in.visits[st.slot]++
		}
		from := s.stepName(in)
		in.step, in.stepAt = int32(target), ts
		var res Result
		if st.kind == kDecide || st.kind == kSend {
			res = s.doAct(ci, in, j, st, ts, cause, causeID, ev)
		}
		s.emit(ci, in, from, st.id, ts, cause, causeID, res.ActionID, res.DecisionID)
		switch st.kind {
		case kWaitFor, kWaitEvent:
			s.arm(ci, ii, satAdd(ts, st.dur))
			return
		case kBranch:
			var f Facts
			if st.when != nil {
				f = s.getFacts(ci)
			}
			if st.when.test(ev, f) {
				target = st.then
			} else {
				target = st.otherwise
			}
		default:
			target = st.next
		}
	}
}

func (s *State) doAct(ci int32, in *instance, j *journey, st *step, ts int64, cause string, causeID []byte, ev *event.Event) Result {
	r := &s.req
	s.trig = appendTrigger(s.trig[:0], in.id, st.id, ts)
	kind := Send
	if st.kind == kDecide {
		kind = Decide
	}
	s.cust = append(s.cust[:0], s.idOf(ci)...)
	*r = Request{CustomerID: s.cust, Journey: j.id, Instance: in.id,
		Step: st.id, Kind: kind, Actions: st.actions, Channel: st.channel, Cause: cause,
		CauseID: causeID, Event: ev, TS: ts, TriggerID: s.trig}
	if kind == Decide {
		r.Facts = s.getFacts(ci)
	}
	var res Result
	if s.act != nil {
		res = s.act.Act(r)
	}
	if res.ActionID != "" {
		in.lastAction = internAction(st.actions, res.ActionID)
		in.decision = append(in.decision[:0], res.DecisionID...)
	}
	return res
}

// internAction returns the configured string equal to id, so an instance
// keeps no string the Actor owns (and none is allocated).
func internAction(actions []string, id string) string {
	for _, a := range actions {
		if a == id {
			return a
		}
	}
	return id
}

// finish ends instance ii with the pseudo-step to, keeping it until its
// goal window closes when the goal is still open.
func (s *State) finish(ci int32, ii int, to string, ts int64, cause string, causeID []byte) {
	c := &s.custs[ci]
	in := &c.list()[ii]
	j := &s.e.journeys[in.journey]
	s.emit(ci, in, s.stepName(in), to, ts, cause, causeID, "", nil)
	in.ended, in.armed = to, false
	s.markDirty(ci)
	if j.policy != "always" {
		s.remember(c, in.journey, ts)
	}
	if until := satAdd(in.entered, j.goalFor); j.goal != "" && !in.goalDone && until > ts {
		s.arm(ci, ii, until)
		return
	}
	in.dead = true
}

func (s *State) remember(c *customer, ji int32, ts int64) {
	hs := c.hists()
	for i := range hs {
		if hs[i].journey == ji {
			hs[i].ended = ts
			return
		}
	}
	s.addHist(c, hist{journey: ji, ended: ts})
}

func (s *State) stepName(in *instance) string {
	switch {
	case in.ended != "":
		return in.ended
	case in.step < 0:
		return ""
	}
	return s.e.journeys[in.journey].steps[in.step].id
}

func (s *State) emit(ci int32, in *instance, from, to string, ts int64, cause string, causeID []byte, action string, decision []byte) {
	o := s.out
	o.Transitions = append(o.Transitions, Transition{TS: ts, Journey: s.e.journeys[in.journey].id,
		Instance: in.id, From: from, To: to, Cause: cause, ActionID: action,
		cust: o.keep(s.idOf(ci)), cause: o.keep(causeID), dec: o.keep(decision)})
}

// compact removes dead instances, expired history, and the customer when
// nothing is left.
func (s *State) compact(ci int32) {
	c := &s.custs[ci]
	insts := c.list()
	k := 0
	for i := range insts {
		if !insts[i].dead {
			insts[i], insts[k] = insts[k], insts[i]
			k++
		}
	}
	if k != len(insts) {
		c.truncInsts(k)
		s.markDirty(ci)
	}
	if k == 0 && len(c.hists()) == 0 {
		s.removeCustomer(ci)
	}
}

// newInstanceID hashes (FNV-1a) the customer, journey and event ids.
func newInstanceID(customer []byte, journey string, eventID []byte) InstanceID {
	h := uint64(14695981039346656037)
	mix := func(b byte) { h = (h ^ uint64(b)) * 1099511628211 }
	for _, b := range customer {
		mix(b)
	}
	mix(0xff)
	for i := 0; i < len(journey); i++ {
		mix(journey[i])
	}
	mix(0xff)
	for _, b := range eventID {
		mix(b)
	}
	return InstanceID(h)
}

// appendTrigger appends INSTANCE/STEP/TS, the deterministic id of a step's
// action or a timer.
func appendTrigger(dst []byte, id InstanceID, step string, ts int64) []byte {
	dst = id.AppendText(dst)
	dst = append(append(append(dst, '/'), step...), '/')
	return strconv.AppendInt(dst, ts, 10)
}

// satAdd is a+b saturating at the int64 range.
func satAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	if b < 0 && a < math.MinInt64-b {
		return math.MinInt64
	}
	return a + b
}
