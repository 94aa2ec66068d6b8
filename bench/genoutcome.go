package bench

import "time"

// outcome is a queued channel outcome event.
type outcome struct {
	kind       evKind
	valueCents int64
	customer   string
	decision   string
	action     string
	channel    string
}

// outcomeQueue is a FIFO ring that drops its oldest entry when full.
type outcomeQueue struct {
	buf     []outcome
	head, n int
	max     int
	dropped uint64
}

func (q *outcomeQueue) push(o outcome) {
	if q.n == q.max {
		q.pop()
		q.dropped++
	}
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)%len(q.buf)] = o
	q.n++
}

func (q *outcomeQueue) grow() {
	nb := make([]outcome, min(max(64, 2*len(q.buf)), q.max))
	for i := range q.n {
		nb[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = nb, 0
}

func (q *outcomeQueue) pop() outcome {
	o := q.buf[q.head]
	q.buf[q.head] = outcome{} // release the strings
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return o
}

// ObserveAction tells the generator that an action was sent to a customer.
// For 95% of actions it queues an action_delivered event and, of those
// delivered, action_opened for 40%, action_clicked for 15% and
// action_converted (with a value) for 3% (nested: a click implies an open).
// Next emits queued outcomes in order, interleaved with normal traffic. The
// queue holds at most 100,000 events; beyond that the oldest are dropped and
// counted by Dropped. Record sizes stay within 150-350 bytes as long as the
// ids are at most about 40 bytes each.
func (g *Generator) ObserveAction(customerID, decisionID, actionID, channel string) {
	if g.rng.IntN(100) >= 95 {
		return
	}
	o := outcome{kind: kDelivered, customer: customerID, decision: decisionID,
		action: actionID, channel: channel}
	g.out.push(o)
	u := g.rng.IntN(10000)
	for _, step := range [...]struct {
		kind evKind
		per  int
	}{{kOpened, 4000}, {kClicked, 1500}, {kConverted, 300}} {
		if u >= step.per {
			return
		}
		o.kind = step.kind
		if o.kind == kConverted {
			o.valueCents = 500 + g.rng.Int64N(30000)
		}
		g.out.push(o)
	}
}

// nextOutcome fills r with the oldest queued outcome.
func (g *Generator) nextOutcome(nowMs int64, r *Record) {
	o := g.out.pop()
	evtMs := g.eventTime(nowMs)
	r.TS = time.UnixMilli(evtMs).UTC()
	r.Topic = g.cfg.Topics.Outcomes
	r.Key = append(r.Key[:0], o.customer...)
	j := &g.j
	j.b = r.Value[:0]
	g.writeHead(o.kind, r.Key, evtMs, "channel")
	j.open()
	j.str("decision_id", o.decision)
	j.str("action_id", o.action)
	j.str("channel", o.channel)
	if o.kind == kConverted {
		j.money("value", o.valueCents)
	}
	g.finish("ref", refPad)
	r.Value = j.b
}
