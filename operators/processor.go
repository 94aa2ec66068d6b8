package operators

import (
	"sync/atomic"

	"github.com/meridian/meridian/decide"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/features"
	"github.com/meridian/meridian/journeys"
	"github.com/meridian/meridian/models"
)

// Env is what every task's Processor shares: compiled, immutable
// definitions, and the decisioning engine behind an atomic pointer that a
// reload swaps.
type Env struct {
	// Features compiles the feature definitions; nil keeps no features.
	Features *features.Set
	// Decide is the decisioning engine; nil (or a nil pointer inside)
	// decides nothing.
	Decide *atomic.Pointer[decide.Engine]
	// Journeys runs the configured journeys; nil runs none.
	Journeys *journeys.Engine
}

// Prefixes of the changelog keys of the state sections beside the
// features (customer ids cannot hold control characters).
const (
	contactsPrefix = "\x01contacts\x00"
	journeysPrefix = "\x01journeys\x00"
)

// Processor runs the per-event steps on one record: decode, featurize,
// journeys, decide, encode. One Processor belongs to one task goroutine,
// with the task's state (features, contact ledger, journey instances); it
// reuses every buffer, so an event costs no allocation once the buffers
// have grown.
type Processor struct {
	env   *Env
	dec   Decoder
	ev    event.Event
	store *features.Store
	act   Action
	// sections are the durable states, features first.
	sections []Section

	// Decisioning: the task's Decider (remade when a reload swaps the
	// engine), its contact ledger, and its partition's outcome tally.
	decider  *decide.Decider
	contacts *decide.Contacts
	tally    *models.Tally
	in       decide.Input
	dn       decide.Decision
	facts    facts

	// Journeys: the task's instances and the last call's transitions.
	jstate *journeys.State
	jout   journeys.Output
	// out is the Output of the Process or Advance call in progress, for
	// Act, which journeys call back.
	out *Output
	// advancing is the watermark of the Advance call in progress;
	// factsFn is p.factsOf, made once (a method value allocates).
	advancing int64
	factsFn   func([]byte) journeys.Facts
	rec       recorder
}

// NewProcessor returns a Processor for one task, recording analytics rows
// to rec (nil records nothing).
func NewProcessor(env *Env, rec Recorder) *Processor {
	p := &Processor{env: env, tally: models.NewTally()}
	if env.Features != nil {
		p.store = features.NewStore(env.Features)
		p.sections = append(p.sections, Section{State: p.store})
	}
	p.facts.p = p
	p.factsFn = p.factsOf
	p.contacts = decide.NewContacts(0)
	p.sections = append(p.sections, Section{Prefix: contactsPrefix, State: p.contacts})
	if env.Journeys != nil {
		p.jstate = env.Journeys.NewState()
		p.sections = append(p.sections, Section{Prefix: journeysPrefix, State: p.jstate})
	}
	p.rec.r = rec
	p.engine()
	return p
}

// engine returns the current decisioning engine, remaking the Decider
// when a reload replaced it; nil when there is none.
func (p *Processor) engine() *decide.Engine {
	if p.env.Decide == nil {
		return nil
	}
	e := p.env.Decide.Load()
	if e == nil {
		return nil
	}
	if p.decider == nil || p.decider.Engine() != e {
		p.decider = e.NewDecider()
		p.contacts.SetKeep(e.Horizon())
	}
	return e
}

// SetInput says where the next record comes from, for its analytics row.
func (p *Processor) SetInput(topic string, partition int32, offset int64) {
	p.rec.topic, p.rec.partition, p.rec.offset = topic, partition, offset
}

// Process decodes one record, updates the customer's state and decides on
// it, adding the actions it chose to out. watermark is the partition's
// event-time watermark before this record (Unix ns): an event further
// behind it than the allowed lateness is counted and changes nothing (no
// features, no journey step, no decision), so replays agree. A record that
// breaks the events contract returns a *DecodeError, which belongs in the
// dead-letter topic.
func (p *Processor) Process(key, value []byte, watermark int64, out *Output) error {
	if err := p.dec.Decode(key, value, &p.ev); err != nil {
		return err
	}
	ev := &p.ev
	// Timers the watermark passed fire before the event, so that what a
	// task does depends on its input order only, never on how the input
	// was cut into batches.
	p.Advance(watermark, out)
	p.rec.event(ev)
	if p.store != nil && p.store.Update(ev, watermark) == features.Late {
		return nil
	}
	p.out = out
	p.facts.reset(ev.CustomerID, ev.TS)
	e := p.engine()
	if e != nil && e.Outcome(ev.Type) {
		prof, _ := p.profile(ev.CustomerID)
		p.decider.Observe(ev, prof, p.contacts, p.tally)
	}
	if isOutcome(ev.Type) {
		p.rec.outcome(ev)
	}
	if p.jstate != nil && p.env.Journeys.Reads(ev.Type) {
		p.jstate.OnEvent(ev, &p.facts, p, &p.jout)
		p.rec.journeys(&p.jout)
	}
	if e != nil && e.Opens(ev.Type) {
		p.in.Context = nil
		if p.decideFor(ev, DecisionID(ev.CustomerID, ev.EventID, "decide"), "", "", nil, "") {
			out.AddAction(&p.act)
		}
	}
	return nil
}

// Advance fires the journey timers the watermark passed, adding the
// actions they chose to out.
func (p *Processor) Advance(watermark int64, out *Output) {
	if p.jstate == nil {
		return
	}
	p.out = out
	p.engine()
	p.advancing = watermark
	p.jstate.Advance(watermark, p.factsFn, p, &p.jout)
	p.rec.journeys(&p.jout)
}

// factsOf is the journeys' view of a customer's features and profile as
// of the watermark that fires the timer.
func (p *Processor) factsOf(customerID []byte) journeys.Facts {
	p.facts.reset(customerID, p.advancing)
	return &p.facts
}

// Act runs a journey's decide or send step through the decisioning engine
// (a send decides among one action, so eligibility and the contact policy
// still apply).
func (p *Processor) Act(r *journeys.Request) journeys.Result {
	if p.engine() == nil {
		return journeys.Result{Reason: "no decisioning configured"}
	}
	if string(p.facts.id) != string(r.CustomerID) || p.facts.now != r.TS {
		p.facts.reset(r.CustomerID, r.TS)
	}
	id := DecisionID(r.CustomerID, r.TriggerID, "journey")
	p.in.Context = nil
	res := journeys.Result{}
	if p.decideFor(r.Event, id, r.Journey, r.Step, r.Actions, r.Channel) {
		p.out.AddAction(&p.act)
		res.ActionID = p.dn.ActionID
		res.DecisionID = p.dn.DecisionID[:]
	}
	res.Reason = p.dn.Reason
	return res
}

// DecideAPI decides for a synchronous request (POST /v1/decide) at now
// (Unix ns) and appends the answer to dst: the action record, or the
// decision that chose nothing with its reason. The chosen action's contact
// is reserved, so caps count it, but it is not written to the actions
// topic: the caller acts on the answer. requestID makes the decision id
// (it must not repeat).
func (p *Processor) DecideAPI(dst, customerID []byte, channel string, context map[string]string, now int64, requestID []byte) []byte {
	if p.engine() == nil {
		return AppendNoAction(dst, DecisionID(customerID, requestID, "api"), "no decisioning configured")
	}
	p.facts.reset(customerID, now)
	p.in.Context = context
	id := DecisionID(customerID, requestID, "api")
	chosen := p.decideFor(nil, id, "", "", nil, channel)
	p.in.Context = nil
	if !chosen {
		return AppendNoAction(dst, id, p.dn.Reason)
	}
	return AppendAction(dst, &p.act)
}

// decideFor decides for the customer in p.facts, triggered by ev (nil for
// a timer or a request), with p.in.Context, and records the decision; it
// reports whether an action was chosen, which is then in p.act.
func (p *Processor) decideFor(ev *event.Event, id [DecisionIDLen]byte, journey, step string, actions []string, channel string) bool {
	p.rec.begin()
	features := p.facts.vector()
	prof, _ := p.profile(p.facts.id)
	p.in = decide.Input{DecisionID: id, CustomerID: p.facts.id, Trigger: ev, Now: p.facts.now,
		Channel: channel, Actions: actions, Features: features, Profile: prof,
		Contacts: p.contacts, Send: true, Context: p.in.Context, Inbound: ev == nil && journey == ""}
	p.decider.Decide(&p.in, &p.dn)
	origin := "event"
	switch {
	case journey != "":
		origin = "journey"
	case ev == nil:
		origin = "api"
	}
	p.rec.decision(&p.dn, ev, origin, journey, step, channel)
	if !p.dn.Chosen {
		return false
	}
	fromDecision(&p.act, &p.dn, ev, journey, step)
	p.rec.action(&p.act)
	return true
}

// fromDecision fills a with the action record of a decision that chose.
func fromDecision(a *Action, d *decide.Decision, ev *event.Event, journey, step string) {
	*a = Action{DecisionID: d.DecisionID, CustomerID: d.CustomerID, ActionID: d.ActionID,
		Channel: d.Channel, Score: d.Score, Propensity: d.Propensity, Value: d.Value, Weight: d.Weight,
		Model: d.Model, Journey: journey, JourneyStep: step, Experiment: d.Experiment, Arm: d.Arm,
		Reasons: d.Reasons, DecidedAt: d.DecidedAt, ExpiresAt: d.ExpiresAt,
		Payload: a.Payload[:0]}
	if ev != nil {
		a.TriggerEventID, a.TriggerType, a.TriggerTS = ev.EventID, ev.Type, ev.TS
	}
	for _, f := range d.Payload {
		a.Payload = append(a.Payload, PayloadField{Key: f.Key, Raw: f.Raw})
	}
}

// profile reads a customer's profile; the zero Profile when unknown.
func (p *Processor) profile(customerID []byte) (features.Profile, bool) {
	if p.store == nil {
		return features.Profile{}, false
	}
	return p.store.Profile(customerID)
}

// DeadLetter records, for analytics, a record that went to the dead-letter
// topic.
func (p *Processor) DeadLetter(topic string, partition int32, offset int64, key, value []byte, reason string) {
	p.rec.deadLetter(topic, partition, offset, key, value, reason)
}

// Evict drops the customers idle beyond the features' horizon, and sends
// older than every cap's window, and returns how many customers went.
func (p *Processor) Evict(now int64) int {
	n := 0
	if p.store != nil {
		n = p.store.Evict(now)
	}
	p.contacts.Evict(now)
	return n
}

// State is one part of a customer's durable state, kept by one task and
// written to the changelog at checkpoints. features.Store is one.
type State interface {
	// AppendCustomer appends the customer's encoded state; false when it
	// holds none.
	AppendCustomer(dst, customerID []byte) ([]byte, bool)
	// RestoreCustomer replaces the customer's state with an encoded one.
	RestoreCustomer(customerID, data []byte) error
	// Delete forgets the customer.
	Delete(customerID []byte) bool
	// Dirty calls fn for every customer changed since ClearDirty.
	Dirty(fn func(customerID []byte))
	ClearDirty()
}

// Section is a State with the changelog key prefix its records carry
// before the customer id ("" for the features, which came first).
type Section struct {
	Prefix string
	State  State
}

// Sections are the task's durable states.
func (p *Processor) Sections() []Section { return p.sections }

// AppendTally appends the task's cumulative tally of what its adaptive
// models learned from outcomes, and reports whether it changed since the
// last call; the pipeline publishes it at checkpoints.
func (p *Processor) AppendTally(dst []byte) ([]byte, bool) {
	if !p.tally.Changed() {
		return dst, false
	}
	out, err := p.tally.AppendBinary(dst)
	if err != nil {
		return dst, false
	}
	p.tally.ClearChanged()
	return out, true
}

// RestoreTally restores the tally a previous owner of the task's partition
// published.
func (p *Processor) RestoreTally(data []byte) error {
	t, err := models.DecodeTally(data)
	if err != nil {
		return err
	}
	p.tally = t
	return nil
}

// Event is the event decoded by the last successful Process call.
func (p *Processor) Event() *event.Event { return &p.ev }

// Store is the Processor's feature store (nil when it keeps none).
func (p *Processor) Store() *features.Store { return p.store }

// Contacts is the task's contact ledger.
func (p *Processor) Contacts() *decide.Contacts { return p.contacts }

// Journeys is the task's journey state (nil when no journeys run).
func (p *Processor) Journeys() *journeys.State { return p.jstate }

// isOutcome reports whether t is a channel outcome (action_*).
func isOutcome(t []byte) bool { return len(t) > 7 && string(t[:7]) == "action_" }

// facts reads one customer's features and profile as of now, loading the
// feature vector on first use: the journeys' Facts, and the decisions'
// inputs.
type facts struct {
	p      *Processor
	id     []byte
	now    int64
	vec    []float64
	loaded bool
	prof   features.Profile
	hasP   bool
}

func (f *facts) reset(id []byte, now int64) {
	f.id = append(f.id[:0], id...)
	f.now, f.loaded, f.hasP = now, false, false
}

func (f *facts) vector() []float64 {
	if !f.loaded {
		f.loaded = true
		f.vec = f.vec[:0]
		if st := f.p.store; st != nil {
			var ok bool
			if f.vec, ok = st.Vector(f.id, f.now, f.vec); !ok {
				f.vec = f.vec[:0]
				for range f.p.env.Features.Names() {
					f.vec = append(f.vec, nan)
				}
			}
		}
	}
	return f.vec
}

// Feature is feature i (Set.Names order); NaN when missing.
func (f *facts) Feature(i int) float64 {
	v := f.vector()
	if i < 0 || i >= len(v) {
		return nan
	}
	return v[i]
}

func (f *facts) profile() features.Profile {
	if !f.hasP {
		f.hasP = true
		f.prof, _ = f.p.profile(f.id)
	}
	return f.prof
}

// ProfileNum is profile attribute i as a number.
func (f *facts) ProfileNum(i int) (float64, bool) { return f.profile().Num(i) }

// ProfileStr is profile attribute i as a string.
func (f *facts) ProfileStr(i int) ([]byte, bool) { return f.profile().Str(i) }
