package operators

import (
	"math"
	"time"
	"unsafe"

	"github.com/meridian/meridian/decide"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/journeys"
	"github.com/meridian/meridian/sinks"
)

var nan = math.NaN()

// Recorder receives the analytics rows of one task; sinks.Batcher is one.
// Rows are valid only during the call.
type Recorder interface {
	AppendEvent(*sinks.EventRow)
	AppendDecision(*sinks.DecisionRow)
	AppendAction(*sinks.ActionRow)
	AppendOutcome(*sinks.OutcomeRow)
	AppendTransition(*sinks.TransitionRow)
	AppendDeadLetter(*sinks.DeadLetterRow)
}

// recorder turns the Processor's steps into analytics rows, reusing one
// row of each kind and its buffers.
type recorder struct {
	r Recorder
	// where the current input record came from
	topic     string
	partition int32
	offset    int64
	started   time.Time

	ev    sinks.EventRow
	dn    sinks.DecisionRow
	act   sinks.ActionRow
	oc    sinks.OutcomeRow
	tr    sinks.TransitionRow
	dl    sinks.DeadLetterRow
	attrs []byte
	inst  []byte
	pay   []byte
}

func (r *recorder) event(ev *event.Event) {
	if r.r == nil {
		return
	}
	r.attrs = appendAttrs(r.attrs[:0], ev.Attrs)
	r.ev = sinks.EventRow{TS: ev.TS, CustomerID: ev.CustomerID, EventID: ev.EventID, Type: ev.Type,
		Source: ev.Source, SessionID: ev.SessionID, Topic: r.topic, Partition: r.partition,
		Offset: r.offset, Attrs: r.attrs}
	r.r.AppendEvent(&r.ev)
}

// outcome records a channel's report (action_delivered, ...).
func (r *recorder) outcome(ev *event.Event) {
	if r.r == nil {
		return
	}
	value, _ := ev.Num("value")
	decisionID, _ := ev.Str("decision_id")
	actionID, _ := ev.Str("action_id")
	channel, _ := ev.Str("channel")
	r.oc = sinks.OutcomeRow{TS: ev.TS, CustomerID: ev.CustomerID, EventID: ev.EventID,
		DecisionID: decisionID, ActionID: actionID, Channel: channel,
		Outcome: outcomeName(ev.Type), Value: value}
	r.r.AppendOutcome(&r.oc)
}

// outcomeName is the outcome of an action_* event type, as a constant
// string (no allocation).
func outcomeName(t []byte) string {
	switch string(t) {
	case "action_delivered":
		return "delivered"
	case "action_opened":
		return "opened"
	case "action_clicked":
		return "clicked"
	case "action_converted":
		return "converted"
	case "action_dismissed":
		return "dismissed"
	case "action_failed":
		return "failed"
	}
	return "other"
}

func (r *recorder) journeys(o *journeys.Output) {
	if r.r == nil {
		return
	}
	for i := range o.Transitions {
		t := &o.Transitions[i]
		r.inst = t.Instance.AppendText(r.inst[:0])
		r.tr = sinks.TransitionRow{TS: t.TS, CustomerID: t.CustomerID, Journey: t.Journey,
			Instance: unsafe.String(unsafe.SliceData(r.inst), len(r.inst)), From: t.From, To: t.To,
			Cause: t.Cause, CauseID: t.CauseID, DecisionID: t.DecisionID}
		r.r.AppendTransition(&r.tr)
	}
	for i := range o.Goals {
		g := &o.Goals[i]
		r.inst = g.Instance.AppendText(r.inst[:0])
		r.tr = sinks.TransitionRow{TS: g.TS, CustomerID: g.CustomerID, Journey: g.Journey,
			Instance: unsafe.String(unsafe.SliceData(r.inst), len(r.inst)), From: g.ActionID, To: "goal",
			Cause: g.Event, CauseID: g.EventID, DecisionID: g.DecisionID}
		r.r.AppendTransition(&r.tr)
	}
}

// begin marks the start of a decision, for its latency.
func (r *recorder) begin() {
	if r.r != nil {
		r.started = time.Now()
	}
}

func (r *recorder) decision(d *decide.Decision, ev *event.Event, origin, journey, step, channel string) {
	if r.r == nil {
		return
	}
	cands := r.dn.Candidates[:0]
	for _, c := range d.Candidates {
		cands = append(cands, sinks.Candidate{ActionID: c.ActionID, Eligible: c.Eligible,
			Propensity: c.Propensity, Score: c.Score, Blocked: c.Blocked})
	}
	r.dn = sinks.DecisionRow{DecisionID: d.DecisionID[:], CustomerID: d.CustomerID, DecidedAt: d.DecidedAt,
		Origin: origin, Journey: journey, Step: step, Channel: channel, Reason: d.Reason,
		Score: d.Score, Propensity: d.Propensity, Value: d.Value, Weight: d.Weight,
		Probability: d.Probability, Experiment: d.Experiment, Arm: d.Arm, Model: d.Model,
		Reasons: d.Reasons, Candidates: cands, LatencyNs: int64(time.Since(r.started))}
	// A control-arm decision names the action it would have sent, for
	// uplift; one that chose nothing else names none.
	if d.Chosen || d.Reason == decide.ReasonControlArm {
		r.dn.ActionID = d.ActionID
	}
	if ev != nil {
		r.dn.TriggerType, r.dn.TriggerEventID = ev.Type, ev.EventID
	}
	r.r.AppendDecision(&r.dn)
}

func (r *recorder) action(a *Action) {
	if r.r == nil {
		return
	}
	r.pay = appendPayload(r.pay[:0], a.Payload)
	r.act = sinks.ActionRow{DecisionID: a.DecisionID[:], CustomerID: a.CustomerID, ActionID: a.ActionID,
		Channel: a.Channel, Score: a.Score, Propensity: a.Propensity, Value: a.Value, Weight: a.Weight,
		Journey: a.Journey, Step: a.JourneyStep, Experiment: a.Experiment, Arm: a.Arm, Model: a.Model,
		DecidedAt: a.DecidedAt, ExpiresAt: a.ExpiresAt, Payload: r.pay}
	r.r.AppendAction(&r.act)
}

// deadLetterPrefix bounds the bytes of a dead letter kept in analytics;
// the dead-letter topic has all of them.
const deadLetterPrefix = 4 << 10

func (r *recorder) deadLetter(topic string, partition int32, offset int64, key, value []byte, reason string) {
	if r.r == nil {
		return
	}
	r.dl = sinks.DeadLetterRow{At: time.Now().UnixNano(), Topic: topic, Partition: partition, Offset: offset,
		Key: key, Error: reason, Value: value[:min(len(value), deadLetterPrefix)]}
	r.r.AppendDeadLetter(&r.dl)
}

// appendPayload appends a payload as a JSON object.
func appendPayload(dst []byte, fields []PayloadField) []byte {
	dst = append(dst, '{')
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONStr(dst, f.Key)
		dst = append(dst, ':')
		dst = append(dst, f.Raw...)
	}
	return append(dst, '}')
}

// appendAttrs appends an event's attrs as a JSON object.
func appendAttrs(dst []byte, attrs []event.Attr) []byte {
	if len(attrs) == 0 {
		return dst
	}
	dst = append(dst, '{')
	for i := range attrs {
		a := &attrs[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, a.Key)
		dst = append(dst, ':')
		switch a.Kind {
		case event.AttrString:
			dst = AppendJSONString(dst, a.Str)
		case event.AttrNumber:
			dst = AppendJSONFloat(dst, a.Num)
		case event.AttrBool:
			dst = appendBool(dst, a.Bool)
		case event.AttrArray:
			dst = append(dst, a.Str...)
		default:
			dst = append(dst, "null"...)
		}
	}
	return append(dst, '}')
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}
