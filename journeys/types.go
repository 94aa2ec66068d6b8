package journeys

import (
	"encoding/binary"
	"encoding/hex"

	"github.com/meridian/meridian/event"
)

// InstanceID identifies a journey instance: a hash of the customer, the
// journey and the triggering event id, so a replay gives the same ids.
type InstanceID uint64

// String is the id as 16 hex digits (it allocates; AppendText does not).
func (id InstanceID) String() string { return string(id.AppendText(nil)) }

// AppendText appends the id as 16 hex digits.
func (id InstanceID) AppendText(dst []byte) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(id))
	return hex.AppendEncode(dst, b[:])
}

// Kind says whether a step asks for a decision or sends a fixed action.
type Kind uint8

// The kinds of Request.
const (
	Send Kind = iota
	Decide
)

// Pseudo-steps: the To (or From) of transitions that leave the steps.
const (
	ToEnd       = "end"        // ran past the last step, or went to end
	ToExit      = "exit"       // an exit_on event
	ToGoal      = "goal"       // the goal event, credited
	ToMaxVisits = "max_visits" // a step would be entered more than max_visits times
	ToPreempted = "preempted"  // gave way to a journey of higher priority at max_active
	ToLoop      = "loop"       // more steps in a row than the journey has, without a wait
)

// CauseTimer is the Cause of transitions a timer made.
const CauseTimer = "timer"

// Request asks the Actor to act for a decide or send step.
type Request struct {
	CustomerID []byte
	Journey    string
	Instance   InstanceID
	Step       string
	Kind       Kind
	// Actions are the candidates (one for Send).
	Actions []string
	// Channel restricts a decision to one channel; "" for any.
	Channel string
	// Cause is the event type, or CauseTimer; CauseID the event id or the
	// timer's trigger id.
	Cause   string
	CauseID []byte
	// Event is the event being processed, nil for a timer.
	Event *event.Event
	// TS is the transition time: the event's time, or the timer's due time.
	TS int64
	// TriggerID is deterministic (instance, step, visit, time): derive the
	// decision id from it so a replay decides with the same id.
	TriggerID []byte
	// Facts reads the customer's features and profile; it may be nil.
	Facts Facts
}

// Result is what the Actor did. ActionID is "" when nothing was chosen;
// the journey moves on either way.
type Result struct {
	ActionID   string
	DecisionID []byte
	Reason     string
}

// Actor carries out decide and send steps, with the decisioning engine.
// Its result's byte slices need only stay valid until Act returns.
type Actor interface {
	Act(r *Request) Result
}

// Transition is one analytics record: an instance moved from one step to
// another. Its byte slices stay valid until the next call on the State.
type Transition struct {
	TS         int64
	CustomerID []byte
	Journey    string
	Instance   InstanceID
	// From is "" on entry; From and To may be a pseudo-step (ToExit, ...).
	From, To string
	// Cause is the event type or CauseTimer; CauseID the event id or the
	// timer's trigger id.
	Cause      string
	CauseID    []byte
	DecisionID []byte
	// ActionID is the action a decide or send step chose ("" otherwise).
	ActionID string

	cust, cause, dec span
}

// GoalCredit credits a goal event to a journey instance and its last action.
type GoalCredit struct {
	TS         int64
	CustomerID []byte
	Journey    string
	Instance   InstanceID
	// ActionID and DecisionID are the instance's last action ("" and nil
	// when it had none).
	ActionID   string
	DecisionID []byte
	Event      string
	EventID    []byte

	cust, dec, ev span
}

// span is a range of Output.buf.
type span struct{ off, n int32 }

// Output collects what one call did. Reuse it: its slices are reset at
// the start of each call and valid until the next.
type Output struct {
	Transitions []Transition
	Goals       []GoalCredit
	buf         []byte
}

func (o *Output) reset() {
	o.Transitions, o.Goals, o.buf = o.Transitions[:0], o.Goals[:0], o.buf[:0]
}

func (o *Output) keep(b []byte) span {
	s := span{int32(len(o.buf)), int32(len(b))}
	o.buf = append(o.buf, b...)
	return s
}

func (o *Output) get(s span) []byte {
	if s.n == 0 {
		return nil
	}
	return o.buf[s.off : s.off+s.n : s.off+s.n]
}

// seal points the byte fields into buf once it no longer grows.
func (o *Output) seal() {
	for i := range o.Transitions {
		t := &o.Transitions[i]
		t.CustomerID, t.CauseID, t.DecisionID = o.get(t.cust), o.get(t.cause), o.get(t.dec)
	}
	for i := range o.Goals {
		g := &o.Goals[i]
		g.CustomerID, g.DecisionID, g.EventID = o.get(g.cust), o.get(g.dec), o.get(g.ev)
	}
}
