package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Journey is one declarative customer journey: a trigger starts an
// instance for a customer, which walks the steps on event time until it
// runs off the end, reaches an exit event, or is displaced.
type Journey struct {
	// ID names the journey in transitions, actions and the customer view;
	// unique among journeys.
	ID string `yaml:"id"`
	// Priority orders journeys that trigger on the same event, and decides
	// which instance gives way when a customer is at journey_limits.max_active
	// (higher wins). Default 0.
	Priority int            `yaml:"priority"`
	Trigger  JourneyTrigger `yaml:"trigger"`
	Reentry  Reentry        `yaml:"reentry"`
	// ExitOn are event types that end an active instance at once.
	ExitOn []string    `yaml:"exit_on"`
	Goal   JourneyGoal `yaml:"goal"`
	// Steps run in order unless a step names another with next, then, else
	// or timeout_then. The step id "end" is reserved: it ends the journey.
	Steps []JourneyStep `yaml:"steps"`
}

// JourneyTrigger starts an instance on an event of type Event for which
// When (optional) holds.
type JourneyTrigger struct {
	Event string `yaml:"event"`
	// When is a condition over the event (attrs.NAME, type, ...), the
	// customer's features (features.NAME) and profile (profile.NAME).
	When string `yaml:"when"`
}

// Re-entry policies.
const (
	ReentryNever         = "never"
	ReentryAfterCooldown = "after_cooldown"
	ReentryAlways        = "always"
)

// Reentry says whether a customer who has been through the journey may
// start it again. A customer is never in two instances of one journey.
type Reentry struct {
	// Policy is never (the default), after_cooldown or always.
	Policy string `yaml:"policy"`
	// Cooldown is, for after_cooldown, how long after the previous
	// instance ended a trigger may start a new one.
	Cooldown time.Duration `yaml:"cooldown"`
}

// JourneyGoal is the conversion the journey works towards: an event of type
// Event within Within of the customer entering the journey is credited to
// the journey and its last action, even after the instance has ended.
type JourneyGoal struct {
	Event  string        `yaml:"event"`
	Within time.Duration `yaml:"within"`
}

// JourneyStep is one step; exactly one of Wait, Branch, Decide and Send is
// set.
type JourneyStep struct {
	// ID names the step; unique within the journey, not "end".
	ID     string     `yaml:"id"`
	Wait   StepWait   `yaml:"wait"`
	Branch StepBranch `yaml:"branch"`
	Decide StepDecide `yaml:"decide"`
	Send   string     `yaml:"send"`
	// Next is the step after this one (a wait that ends normally, a decide
	// or a send); default the following step, or "end" after the last.
	Next string `yaml:"next"`
	// MaxVisits, when set, bounds how often an instance enters this step:
	// entering it once more ends the journey instead (a reminder loop's
	// maximum count).
	MaxVisits int `yaml:"max_visits"`
}

// StepWait pauses an instance: for a duration (For), or until an event of
// type Event arrives, at most Timeout.
type StepWait struct {
	For     time.Duration `yaml:"for"`
	Event   string        `yaml:"event"`
	Timeout time.Duration `yaml:"timeout"`
	// Then is the step after the awaited event; default Next.
	Then string `yaml:"then"`
	// TimeoutThen is the step after the timeout; default Next.
	TimeoutThen string `yaml:"timeout_then"`
}

func (w StepWait) set() bool {
	return w.For != 0 || w.Event != "" || w.Timeout != 0 || w.Then != "" || w.TimeoutThen != ""
}

// StepBranch moves to Then when the condition When holds, else to Else
// (default Next).
type StepBranch struct {
	When string `yaml:"when"`
	Then string `yaml:"then"`
	Else string `yaml:"else"`
}

func (b StepBranch) set() bool { return b.When != "" || b.Then != "" || b.Else != "" }

// StepDecide asks the decisioning engine for the next best action among
// Actions (ids of the action catalogue), optionally only on Channel.
type StepDecide struct {
	Actions []string `yaml:"actions"`
	Channel string   `yaml:"channel"`
}

func (d StepDecide) set() bool { return len(d.Actions) > 0 || d.Channel != "" }

// JourneyLimits bound journeys per customer.
type JourneyLimits struct {
	// MaxActive is how many journeys a customer may be in at once (>= 1).
	// A trigger beyond it starts only when its journey has a higher
	// priority than the lowest of the active ones, which then ends.
	// Default 3.
	MaxActive int `yaml:"max_active"`
}

// EndStep is the reserved step id that ends a journey.
const EndStep = "end"

// maxJourneySteps bounds a journey's steps (step indexes are small ints in
// the durable state).
const maxJourneySteps = 256

func (k *checker) journeys() {
	if k.c.JourneyLimits.MaxActive < 1 {
		k.fail("journey_limits.max_active", "journey_limits.max_active must be at least 1, got %d; write e.g. max_active: 3", k.c.JourneyLimits.MaxActive)
	}
	ids := map[string]int{}
	for i := range k.c.Journeys {
		j := &k.c.Journeys[i]
		at := fmt.Sprintf("journeys[%d]", i)
		if !nameRE.MatchString(j.ID) {
			k.fail(at+".id", "%s.id: %q is not a journey id (a lower-case letter, then up to 63 of a-z, 0-9 and _); write e.g. id: cart_abandonment", at, j.ID)
		} else if p, dup := ids[j.ID]; dup {
			k.fail(at+".id", "%s.id: %q is already the id of journeys[%d]; journey ids must be unique", at, j.ID, p)
		} else {
			ids[j.ID] = i
		}
		k.journey(at, j)
	}
}

func (k *checker) journey(at string, j *Journey) {
	k.eventType(at+".trigger.event", j.Trigger.Event, "trigger: {event: add_to_cart}")
	switch j.Reentry.Policy {
	case "":
		j.Reentry.Policy = ReentryNever
		fallthrough
	case ReentryNever, ReentryAlways:
		if j.Reentry.Cooldown != 0 {
			k.fail(at+".reentry.cooldown", "%s.reentry.cooldown: only policy after_cooldown takes a cooldown; remove it", at)
		}
	case ReentryAfterCooldown:
		k.positive(at+".reentry.cooldown", j.Reentry.Cooldown)
	default:
		k.fail(at+".reentry.policy", "%s.reentry.policy: %q is not a re-entry policy; write never, after_cooldown or always", at, j.Reentry.Policy)
	}
	for n, e := range j.ExitOn {
		k.eventType(fmt.Sprintf("%s.exit_on[%d]", at, n), e, "exit_on: [purchase]")
	}
	if j.Goal.Event != "" || j.Goal.Within != 0 {
		k.eventType(at+".goal.event", j.Goal.Event, "goal: {event: purchase, within: 72h}")
		k.positive(at+".goal.within", j.Goal.Within)
	}
	if len(j.Steps) == 0 || len(j.Steps) > maxJourneySteps {
		k.fail(at+".steps", "%s.steps: a journey needs 1 to %d steps, got %d; write e.g. steps: [{id: wait_30m, wait: {for: 30m}}]", at, maxJourneySteps, len(j.Steps))
		return
	}
	steps := map[string]int{}
	for n := range j.Steps {
		s := &j.Steps[n]
		sat := fmt.Sprintf("%s.steps[%d]", at, n)
		switch p, dup := steps[s.ID]; {
		case !nameRE.MatchString(s.ID) || s.ID == EndStep:
			k.fail(sat+".id", "%s.id: %q is not a step id (a lower-case letter, then a-z, 0-9 and _; \"end\" is reserved); write e.g. id: wait_30m", sat, s.ID)
		case dup:
			k.fail(sat+".id", "%s.id: %q is already the id of steps[%d]; step ids must be unique in a journey", sat, s.ID, p)
		default:
			steps[s.ID] = n
		}
	}
	for n := range j.Steps {
		k.step(fmt.Sprintf("%s.steps[%d]", at, n), &j.Steps[n], steps)
	}
}

func (k *checker) eventType(path, t, example string) {
	if !eventTypeRE.MatchString(t) {
		k.fail(path, "%s: %q is not an event type (a lower-case letter, then up to 63 of a-z, 0-9, _ and .); write e.g. %s", path, t, example)
	}
}

func (k *checker) step(at string, s *JourneyStep, steps map[string]int) {
	kinds := []string{}
	for _, c := range []struct {
		name string
		set  bool
	}{{"wait", s.Wait.set()}, {"branch", s.Branch.set()}, {"decide", s.Decide.set()}, {"send", s.Send != ""}} {
		if c.set {
			kinds = append(kinds, c.name)
		}
	}
	if len(kinds) != 1 {
		k.fail(at, "%s: a step is exactly one of wait, branch, decide and send, got %d (%s); write e.g. {id: reminder, send: cart_reminder_email}", at, len(kinds), strings.Join(kinds, ", "))
	}
	k.target(at+".next", s.Next, steps)
	if s.MaxVisits < 0 || s.MaxVisits > 255 {
		k.fail(at+".max_visits", "%s.max_visits must be between 0 (no limit) and 255, got %d", at, s.MaxVisits)
	}
	switch {
	case s.Wait.set():
		k.wait(at+".wait", &s.Wait, steps)
	case s.Branch.set():
		if strings.TrimSpace(s.Branch.When) == "" {
			k.fail(at+".branch.when", "%s.branch.when: a branch needs a condition; write e.g. when: 'features.cart_value_1h > 50'", at)
		}
		k.target(at+".branch.then", s.Branch.Then, steps)
		k.target(at+".branch.else", s.Branch.Else, steps)
		if s.Branch.Then == "" {
			k.fail(at+".branch.then", "%s.branch.then: name the step to go to when the condition holds, or end", at)
		}
	case s.Decide.set():
		if len(s.Decide.Actions) == 0 {
			k.fail(at+".decide.actions", "%s.decide.actions: list the actions to choose from; write e.g. actions: [cart_reminder_email, cart_reminder_push]", at)
		}
		for n, a := range s.Decide.Actions {
			k.nonEmpty(fmt.Sprintf("%s.decide.actions[%d]", at, n), a)
		}
		if s.Decide.Channel != "" && !slices.Contains(channels, s.Decide.Channel) {
			k.fail(at+".decide.channel", "%s.decide.channel: %q is not a channel; write one of %s", at, s.Decide.Channel, strings.Join(channels, ", "))
		}
	}
}

func (k *checker) wait(at string, w *StepWait, steps map[string]int) {
	switch {
	case w.For < 0 || w.Timeout < 0:
		k.fail(at, "%s: durations must be positive", at)
	case w.For != 0 && w.Event != "":
		k.fail(at+".for", "%s: a wait is either for a duration (for) or until an event (event, timeout), not both", at)
	case w.For != 0 && (w.Timeout != 0 || w.Then != "" || w.TimeoutThen != ""):
		k.fail(at+".for", "%s: a wait for a duration takes no timeout, then or timeout_then (use next); remove them", at)
	case w.For == 0 && w.Event == "":
		k.fail(at, "%s: a wait needs a duration or an event; write e.g. wait: {for: 30m} or wait: {event: payment_succeeded, timeout: 48h}", at)
	case w.Event != "":
		k.eventType(at+".event", w.Event, "event: payment_succeeded")
		if w.Timeout <= 0 {
			k.fail(at+".timeout", "%s.timeout: a wait for an event needs a positive timeout; write e.g. timeout: 48h", at)
		}
	}
	k.target(at+".then", w.Then, steps)
	k.target(at+".timeout_then", w.TimeoutThen, steps)
}

// target checks a step reference: empty (the default), end, or a step id.
func (k *checker) target(path, id string, steps map[string]int) {
	if id == "" || id == EndStep {
		return
	}
	if _, ok := steps[id]; !ok {
		known := make([]string, 0, len(steps))
		for s := range steps {
			known = append(known, s)
		}
		slices.Sort(known)
		msg := fmt.Sprintf("%s: %q is not a step of this journey; ", path, id)
		if s := closest(id, known); s != "" {
			msg += fmt.Sprintf("did you mean %q? ", s)
		}
		k.fail(path, "%swrite one of %s or end", msg, strings.Join(known, ", "))
	}
}
