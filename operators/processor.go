package operators

import "github.com/meridian/meridian/event"

// Processor runs the per-event steps on one record: decode, decide, encode.
// One Processor belongs to one task goroutine (the Rules it decides with
// are shared); it reuses every buffer, so
// an event costs no allocation once the buffers have grown.
type Processor struct {
	dec     Decoder
	ev      event.Event
	decider *Decider
	act     Action
	out     []byte
}

// NewProcessor returns a Processor deciding with rules.
func NewProcessor(rules *Rules) *Processor { return &Processor{decider: rules.NewDecider()} }

// Process decodes one record and decides on it. It returns the encoded
// action, or nil when the event chose none; the bytes are valid until the
// next call. A record that breaks the events contract returns a
// *DecodeError, which belongs in the dead-letter topic.
func (p *Processor) Process(key, value []byte) (action []byte, err error) {
	if err := p.dec.Decode(key, value, &p.ev); err != nil {
		return nil, err
	}
	if !p.decider.Decide(&p.ev, &p.act) {
		return nil, nil
	}
	p.out = AppendAction(p.out[:0], &p.act)
	return p.out, nil
}

// Event is the event decoded by the last successful Process call.
func (p *Processor) Event() *event.Event { return &p.ev }
