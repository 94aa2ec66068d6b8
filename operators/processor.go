package operators

import (
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/features"
)

// Processor runs the per-event steps on one record: decode, featurize,
// decide, encode. One Processor belongs to one task goroutine, with the
// task's feature store (the compiled Rules are shared); it reuses every
// buffer, so an event costs no allocation once the buffers have grown.
type Processor struct {
	dec     Decoder
	ev      event.Event
	store   *features.Store
	decider *Decider
	act     Action
	// sections are the durable states, features first.
	sections []Section
}

// NewProcessor returns a Processor deciding with rules and keeping features
// in store (nil: no features).
func NewProcessor(rules *Rules, store *features.Store) *Processor {
	p := &Processor{decider: rules.NewDecider(), store: store}
	if store != nil {
		p.sections = append(p.sections, Section{State: store})
	}
	return p
}

// Process decodes one record, updates the customer's state and decides on
// it, adding the actions it chose to out. watermark is the partition's
// event-time watermark before this record (Unix ns): an event further
// behind it than the allowed lateness leaves features unchanged (the store
// counts it). A record that breaks the events contract returns a
// *DecodeError, which belongs in the dead-letter topic.
func (p *Processor) Process(key, value []byte, watermark int64, out *Output) error {
	if err := p.dec.Decode(key, value, &p.ev); err != nil {
		return err
	}
	if p.store != nil {
		p.store.Update(&p.ev, watermark)
	}
	if p.decider.Decide(&p.ev, &p.act) {
		out.AddAction(&p.act)
	}
	return nil
}

// Advance fires what the watermark passing makes due (journey timers),
// adding the actions they chose to out.
func (p *Processor) Advance(watermark int64, out *Output) {}

// DeadLetter records, for analytics, a record that went to the dead-letter
// topic.
func (p *Processor) DeadLetter(topic string, partition int32, offset int64, key, value []byte, reason string) {
}

// Evict drops the customers idle beyond the features' horizon from every
// state section and returns how many.
func (p *Processor) Evict(now int64) int {
	if p.store == nil {
		return 0
	}
	return p.store.Evict(now)
}

// Event is the event decoded by the last successful Process call.
func (p *Processor) Event() *event.Event { return &p.ev }

// Store is the Processor's feature store (nil when it keeps none).
func (p *Processor) Store() *features.Store { return p.store }

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
func (p *Processor) AppendTally(dst []byte) ([]byte, bool) { return dst, false }

// RestoreTally restores the tally a previous owner of the task's partition
// published.
func (p *Processor) RestoreTally(data []byte) error { return nil }
