package journeys

import (
	"fmt"
	"slices"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/features"
)

// Engine is the compiled journeys of a configuration. It is immutable and
// shared by every task; each task drives its own State.
type Engine struct {
	journeys  []journey
	triggers  map[string][]int32 // event type -> journeys it triggers, by priority
	interest  map[string]bool    // event types any journey reads (trigger, exit, goal, wait)
	maxActive int
}

type journey struct {
	id        string
	priority  int
	trigger   string
	when      *cond
	policy    string
	cooldown  int64
	exits     []string
	goal      string
	goalFor   int64
	steps     []step
	stepIndex map[string]int
}

type stepKind uint8

const (
	kWaitFor stepKind = iota
	kWaitEvent
	kBranch
	kDecide
	kSend
)

// endIdx is the step index of the reserved "end".
const endIdx = -1

// maxVisitSlots is how many steps of one journey may have max_visits.
const maxVisitSlots = 4

type step struct {
	id        string
	kind      stepKind
	dur       int64 // wait for, or wait event timeout (ns)
	event     string
	next      int // after a wait for, decide or send; default for then/else/timeout_then
	then      int // wait event arrived, or branch condition held
	otherwise int // wait event timed out, or branch condition failed
	when      *cond
	actions   []string
	channel   string
	maxVisits int
	slot      int // index into instance.visits, -1 without max_visits
}

// New compiles the journeys of cfg; set resolves features.NAME and
// profile.NAME in conditions (it may be nil when no condition uses them).
// Errors carry the config file position of the offending value.
func New(cfg *config.Config, set *features.Set) (*Engine, error) {
	e := &Engine{triggers: map[string][]int32{}, interest: map[string]bool{},
		maxActive: max(cfg.JourneyLimits.MaxActive, 1)}
	for i := range cfg.Journeys {
		j, err := compileJourney(cfg, i, set)
		if err != nil {
			return nil, err
		}
		e.journeys = append(e.journeys, j)
		e.triggers[j.trigger] = append(e.triggers[j.trigger], int32(i))
		for _, t := range append([]string{j.trigger, j.goal}, j.exits...) {
			e.interest[t] = true
		}
		for _, s := range j.steps {
			if s.kind == kWaitEvent {
				e.interest[s.event] = true
			}
		}
	}
	delete(e.interest, "")
	for _, js := range e.triggers {
		slices.SortStableFunc(js, func(a, b int32) int { return e.journeys[b].priority - e.journeys[a].priority })
	}
	return e, nil
}

func compileJourney(cfg *config.Config, i int, set *features.Set) (journey, error) {
	c := &cfg.Journeys[i]
	at := fmt.Sprintf("journeys[%d]", i)
	j := journey{id: c.ID, priority: c.Priority, trigger: c.Trigger.Event, policy: c.Reentry.Policy,
		cooldown: int64(c.Reentry.Cooldown), exits: c.ExitOn, goal: c.Goal.Event,
		goalFor: int64(c.Goal.Within), stepIndex: map[string]int{}}
	if j.policy == "" {
		j.policy = config.ReentryNever
	}
	var err error
	if j.when, err = compileCond(c.Trigger.When, set); err != nil {
		return j, cfg.ErrorAt(at+".trigger.when", "%s.trigger.when: %v", at, err)
	}
	for n, s := range c.Steps {
		j.stepIndex[s.ID] = n
	}
	slots := 0
	for n := range c.Steps {
		s, err := compileStep(cfg, fmt.Sprintf("%s.steps[%d]", at, n), &c.Steps[n], n, len(c.Steps), j.stepIndex, set)
		if err != nil {
			return j, err
		}
		if s.maxVisits > 0 {
			if slots == maxVisitSlots {
				return j, cfg.ErrorAt(fmt.Sprintf("%s.steps[%d].max_visits", at, n), "%s: at most %d steps of a journey may have max_visits", at, maxVisitSlots)
			}
			s.slot, slots = slots, slots+1
		}
		j.steps = append(j.steps, s)
	}
	return j, nil
}

func compileStep(cfg *config.Config, at string, c *config.JourneyStep, n, count int, index map[string]int, set *features.Set) (step, error) {
	ref := func(path, id string, def int) (int, error) {
		switch id {
		case "":
			return def, nil
		case config.EndStep:
			return endIdx, nil
		}
		if k, ok := index[id]; ok {
			return k, nil
		}
		return 0, cfg.ErrorAt(path, "%s: %q is not a step of this journey", path, id)
	}
	s := step{id: c.ID, maxVisits: c.MaxVisits, slot: -1, next: n + 1}
	if n+1 == count {
		s.next = endIdx
	}
	var err error
	if s.next, err = ref(at+".next", c.Next, s.next); err != nil {
		return s, err
	}
	s.then, s.otherwise = s.next, s.next
	switch {
	case c.Wait.For > 0:
		s.kind, s.dur = kWaitFor, int64(c.Wait.For)
	case c.Wait.Event != "":
		s.kind, s.dur, s.event = kWaitEvent, int64(c.Wait.Timeout), c.Wait.Event
		if s.then, err = ref(at+".wait.then", c.Wait.Then, s.next); err == nil {
			s.otherwise, err = ref(at+".wait.timeout_then", c.Wait.TimeoutThen, s.next)
		}
	case c.Branch.When != "":
		s.kind = kBranch
		if s.when, err = compileCond(c.Branch.When, set); err != nil {
			return s, cfg.ErrorAt(at+".branch.when", "%s.branch.when: %v", at, err)
		}
		if s.then, err = ref(at+".branch.then", c.Branch.Then, s.next); err == nil {
			s.otherwise, err = ref(at+".branch.else", c.Branch.Else, s.next)
		}
	case len(c.Decide.Actions) > 0:
		s.kind, s.actions, s.channel = kDecide, c.Decide.Actions, c.Decide.Channel
	case c.Send != "":
		s.kind, s.actions = kSend, []string{c.Send}
	default:
		return s, cfg.ErrorAt(at, "%s: a step is exactly one of wait, branch, decide and send", at)
	}
	if s.kind <= kWaitEvent && s.dur <= 0 {
		return s, cfg.ErrorAt(at+".wait", "%s.wait: a wait needs a positive duration or timeout", at)
	}
	return s, err
}

// Reads reports whether any journey reads events of this type (as a
// trigger, exit, goal or awaited event); the caller may skip OnEvent for
// the others.
func (e *Engine) Reads(eventType []byte) bool { return e.interest[string(eventType)] }

// Journeys returns the journey ids in configuration order.
func (e *Engine) Journeys() []string {
	ids := make([]string, len(e.journeys))
	for i := range e.journeys {
		ids[i] = e.journeys[i].id
	}
	return ids
}

// Actions returns the action ids journey id names in its decide and send
// steps, for the integrator's cross-check against the action catalogue.
func (e *Engine) Actions(id string) []string {
	var out []string
	for i := range e.journeys {
		if e.journeys[i].id != id {
			continue
		}
		for _, s := range e.journeys[i].steps {
			for _, a := range s.actions {
				if !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
	}
	return out
}

func (e *Engine) journeyIndex(id []byte) int {
	for i := range e.journeys {
		if e.journeys[i].id == string(id) {
			return i
		}
	}
	return -1
}

// exitOn returns the configured exit event equal to t, or "".
func (j *journey) exitOn(t []byte) string {
	for _, x := range j.exits {
		if x == string(t) {
			return x
		}
	}
	return ""
}
