package sinks

import (
	"github.com/apache/arrow-go/v18/arrow/array"
)

// The *Cols types hold each table's column builders, typed, so appending a
// row makes no interface calls. Their field order is the schema's.

type eventCols struct {
	ts                                             *array.TimestampBuilder
	customer, eventID, typ, source, session, topic *array.StringBuilder
	partition                                      *array.Int32Builder
	offset                                         *array.Int64Builder
	attrs                                          *array.StringBuilder
}

func (c *eventCols) bind(rb *array.RecordBuilder) {
	f := rb.Fields()
	c.ts = f[0].(*array.TimestampBuilder)
	c.customer, c.eventID, c.typ = f[1].(*array.StringBuilder), f[2].(*array.StringBuilder), f[3].(*array.StringBuilder)
	c.source, c.session, c.topic = f[4].(*array.StringBuilder), f[5].(*array.StringBuilder), f[6].(*array.StringBuilder)
	c.partition, c.offset, c.attrs = f[7].(*array.Int32Builder), f[8].(*array.Int64Builder), f[9].(*array.StringBuilder)
}

// AppendEvent records an input event, or nothing when it is not in the
// configured sample.
func (b *Batcher) AppendEvent(r *EventRow) {
	if b.sink == nil || !b.sampled(r.CustomerID, r.EventID) {
		return
	}
	c := &b.ev
	c.ts.Append(ts(r.TS))
	appendBytes(c.customer, r.CustomerID)
	appendBytes(c.eventID, r.EventID)
	appendBytes(c.typ, r.Type)
	appendBytes(c.source, r.Source)
	appendBytes(c.session, r.SessionID)
	appendStr(c.topic, r.Topic)
	c.partition.Append(r.Partition)
	c.offset.Append(r.Offset)
	appendBytes(c.attrs, r.Attrs)
	b.added(Events, 20+len(r.CustomerID)+len(r.EventID)+len(r.Type)+len(r.Source)+
		len(r.SessionID)+len(r.Topic)+len(r.Attrs)+7*4)
}

type decisionCols struct {
	decisionID, customer                                   *array.StringBuilder
	decidedAt                                              *array.TimestampBuilder
	origin, triggerType, triggerID, journey, step, channel *array.StringBuilder
	action, reason                                         *array.StringBuilder
	score, propensity, value, weight, probability          *array.Float64Builder
	experiment, arm, model                                 *array.StringBuilder
	reasons, cAction, cEligible, cProp, cScore, cBlocked   *array.ListBuilder
	reasonsV, cActionV, cBlockedV                          *array.StringBuilder
	cEligibleV                                             *array.BooleanBuilder
	cPropV, cScoreV                                        *array.Float64Builder
	latency                                                *array.Int64Builder
}

func (c *decisionCols) bind(rb *array.RecordBuilder) {
	f := rb.Fields()
	s := func(i int) *array.StringBuilder { return f[i].(*array.StringBuilder) }
	fl := func(i int) *array.Float64Builder { return f[i].(*array.Float64Builder) }
	l := func(i int) *array.ListBuilder { return f[i].(*array.ListBuilder) }
	c.decisionID, c.customer, c.decidedAt = s(0), s(1), f[2].(*array.TimestampBuilder)
	c.origin, c.triggerType, c.triggerID, c.journey, c.step, c.channel = s(3), s(4), s(5), s(6), s(7), s(8)
	c.action, c.reason = s(9), s(10)
	c.score, c.propensity, c.value, c.weight, c.probability = fl(11), fl(12), fl(13), fl(14), fl(15)
	c.experiment, c.arm, c.model = s(16), s(17), s(18)
	c.reasons, c.cAction, c.cEligible, c.cProp, c.cScore, c.cBlocked = l(19), l(20), l(21), l(22), l(23), l(24)
	c.latency = f[25].(*array.Int64Builder)
	c.reasonsV = c.reasons.ValueBuilder().(*array.StringBuilder)
	c.cActionV = c.cAction.ValueBuilder().(*array.StringBuilder)
	c.cEligibleV = c.cEligible.ValueBuilder().(*array.BooleanBuilder)
	c.cPropV = c.cProp.ValueBuilder().(*array.Float64Builder)
	c.cScoreV = c.cScore.ValueBuilder().(*array.Float64Builder)
	c.cBlockedV = c.cBlocked.ValueBuilder().(*array.StringBuilder)
}

// AppendDecision records a decision, also one that chose nothing.
func (b *Batcher) AppendDecision(r *DecisionRow) {
	if b.sink == nil {
		return
	}
	c := &b.de
	appendBytes(c.decisionID, r.DecisionID)
	appendBytes(c.customer, r.CustomerID)
	c.decidedAt.Append(ts(r.DecidedAt))
	appendStr(c.origin, r.Origin)
	appendBytes(c.triggerType, r.TriggerType)
	appendBytes(c.triggerID, r.TriggerEventID)
	appendStr(c.journey, r.Journey)
	appendStr(c.step, r.Step)
	appendStr(c.channel, r.Channel)
	appendStr(c.action, r.ActionID)
	appendStr(c.reason, r.Reason)
	c.score.Append(r.Score)
	c.propensity.Append(r.Propensity)
	c.value.Append(r.Value)
	c.weight.Append(r.Weight)
	c.probability.Append(r.Probability)
	appendStr(c.experiment, r.Experiment)
	appendStr(c.arm, r.Arm)
	appendStr(c.model, r.Model)
	n := len(r.DecisionID) + len(r.CustomerID) + len(r.Origin) + len(r.TriggerType) +
		len(r.TriggerEventID) + len(r.Journey) + len(r.Step) + len(r.Channel) + len(r.ActionID) +
		len(r.Reason) + len(r.Experiment) + len(r.Arm) + len(r.Model) + 16*4 + 5*8 + 16
	c.reasons.Append(true)
	for _, s := range r.Reasons {
		appendStr(c.reasonsV, s)
		n += len(s) + 4
	}
	c.cAction.Append(true)
	c.cEligible.Append(true)
	c.cProp.Append(true)
	c.cScore.Append(true)
	c.cBlocked.Append(true)
	for i := range r.Candidates {
		cd := &r.Candidates[i]
		appendStr(c.cActionV, cd.ActionID)
		c.cEligibleV.Append(cd.Eligible)
		c.cPropV.Append(cd.Propensity)
		c.cScoreV.Append(cd.Score)
		appendStr(c.cBlockedV, cd.Blocked)
		n += len(cd.ActionID) + len(cd.Blocked) + 25
	}
	c.latency.Append(r.LatencyNs)
	b.added(Decisions, n)
}

type actionCols struct {
	decisionID, customer, action, channel *array.StringBuilder
	score, propensity, value, weight      *array.Float64Builder
	journey, step, experiment, arm, model *array.StringBuilder
	decidedAt, expiresAt                  *array.TimestampBuilder
	payload                               *array.StringBuilder
}

func (c *actionCols) bind(rb *array.RecordBuilder) {
	f := rb.Fields()
	s := func(i int) *array.StringBuilder { return f[i].(*array.StringBuilder) }
	fl := func(i int) *array.Float64Builder { return f[i].(*array.Float64Builder) }
	c.decisionID, c.customer, c.action, c.channel = s(0), s(1), s(2), s(3)
	c.score, c.propensity, c.value, c.weight = fl(4), fl(5), fl(6), fl(7)
	c.journey, c.step, c.experiment, c.arm, c.model = s(8), s(9), s(10), s(11), s(12)
	c.decidedAt, c.expiresAt = f[13].(*array.TimestampBuilder), f[14].(*array.TimestampBuilder)
	c.payload = s(15)
}

// AppendAction records an action sent to a channel.
func (b *Batcher) AppendAction(r *ActionRow) {
	if b.sink == nil {
		return
	}
	c := &b.ac
	appendBytes(c.decisionID, r.DecisionID)
	appendBytes(c.customer, r.CustomerID)
	appendStr(c.action, r.ActionID)
	appendStr(c.channel, r.Channel)
	c.score.Append(r.Score)
	c.propensity.Append(r.Propensity)
	c.value.Append(r.Value)
	c.weight.Append(r.Weight)
	appendStr(c.journey, r.Journey)
	appendStr(c.step, r.Step)
	appendStr(c.experiment, r.Experiment)
	appendStr(c.arm, r.Arm)
	appendStr(c.model, r.Model)
	c.decidedAt.Append(ts(r.DecidedAt))
	c.expiresAt.Append(ts(r.ExpiresAt))
	appendBytes(c.payload, r.Payload)
	b.added(Actions, len(r.DecisionID)+len(r.CustomerID)+len(r.ActionID)+len(r.Channel)+
		len(r.Journey)+len(r.Step)+len(r.Experiment)+len(r.Arm)+len(r.Model)+len(r.Payload)+10*4+6*8)
}

type outcomeCols struct {
	ts                                                 *array.TimestampBuilder
	customer, eventID, decisionID, action, channel, oc *array.StringBuilder
	value                                              *array.Float64Builder
}

func (c *outcomeCols) bind(rb *array.RecordBuilder) {
	f := rb.Fields()
	s := func(i int) *array.StringBuilder { return f[i].(*array.StringBuilder) }
	c.ts = f[0].(*array.TimestampBuilder)
	c.customer, c.eventID, c.decisionID, c.action, c.channel, c.oc = s(1), s(2), s(3), s(4), s(5), s(6)
	c.value = f[7].(*array.Float64Builder)
}

// AppendOutcome records an outcome reported by a channel.
func (b *Batcher) AppendOutcome(r *OutcomeRow) {
	if b.sink == nil {
		return
	}
	c := &b.oc
	c.ts.Append(ts(r.TS))
	appendBytes(c.customer, r.CustomerID)
	appendBytes(c.eventID, r.EventID)
	appendBytes(c.decisionID, r.DecisionID)
	appendBytes(c.action, r.ActionID)
	appendBytes(c.channel, r.Channel)
	appendStr(c.oc, r.Outcome)
	c.value.Append(r.Value)
	b.added(Outcomes, len(r.CustomerID)+len(r.EventID)+len(r.DecisionID)+len(r.ActionID)+
		len(r.Channel)+len(r.Outcome)+6*4+16)
}

type transitionCols struct {
	ts                                                                *array.TimestampBuilder
	customer, journey, instance, from, to, cause, causeID, decisionID *array.StringBuilder
}

func (c *transitionCols) bind(rb *array.RecordBuilder) {
	f := rb.Fields()
	s := func(i int) *array.StringBuilder { return f[i].(*array.StringBuilder) }
	c.ts = f[0].(*array.TimestampBuilder)
	c.customer, c.journey, c.instance, c.from, c.to = s(1), s(2), s(3), s(4), s(5)
	c.cause, c.causeID, c.decisionID = s(6), s(7), s(8)
}

// AppendTransition records one step of a journey instance.
func (b *Batcher) AppendTransition(r *TransitionRow) {
	if b.sink == nil {
		return
	}
	c := &b.tr
	c.ts.Append(ts(r.TS))
	appendBytes(c.customer, r.CustomerID)
	appendStr(c.journey, r.Journey)
	appendStr(c.instance, r.Instance)
	appendStr(c.from, r.From)
	appendStr(c.to, r.To)
	appendStr(c.cause, r.Cause)
	appendBytes(c.causeID, r.CauseID)
	appendBytes(c.decisionID, r.DecisionID)
	b.added(Transitions, len(r.CustomerID)+len(r.Journey)+len(r.Instance)+len(r.From)+
		len(r.To)+len(r.Cause)+len(r.CauseID)+len(r.DecisionID)+8*4+8)
}

type deadLetterCols struct {
	at        *array.TimestampBuilder
	topic     *array.StringBuilder
	partition *array.Int32Builder
	offset    *array.Int64Builder
	key       *array.BinaryBuilder
	err       *array.StringBuilder
	value     *array.BinaryBuilder
}

func (c *deadLetterCols) bind(rb *array.RecordBuilder) {
	f := rb.Fields()
	c.at, c.topic = f[0].(*array.TimestampBuilder), f[1].(*array.StringBuilder)
	c.partition, c.offset = f[2].(*array.Int32Builder), f[3].(*array.Int64Builder)
	c.key, c.err, c.value = f[4].(*array.BinaryBuilder), f[5].(*array.StringBuilder), f[6].(*array.BinaryBuilder)
}

// maxDeadLetterValue is how much of a dead letter's value is kept.
const maxDeadLetterValue = 4 << 10

// AppendDeadLetter records an input record that could not be processed;
// its value is cut to the first 4 KiB.
func (b *Batcher) AppendDeadLetter(r *DeadLetterRow) {
	if b.sink == nil {
		return
	}
	c := &b.dl
	v := r.Value
	if len(v) > maxDeadLetterValue {
		v = v[:maxDeadLetterValue]
	}
	c.at.Append(ts(r.At))
	appendStr(c.topic, r.Topic)
	c.partition.Append(r.Partition)
	c.offset.Append(r.Offset)
	c.key.Append(r.Key)
	appendStr(c.err, r.Error)
	c.value.Append(v)
	b.added(DeadLetters, len(r.Topic)+len(r.Key)+len(r.Error)+len(v)+4*4+20)
}
