package pipeline

import (
	"context"
	"errors"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/meridian/meridian/decide"
	"github.com/meridian/meridian/features"
	"github.com/meridian/meridian/journeys"
	"github.com/meridian/meridian/operators"
)

// ErrNoTasks means this instance owns no partitions yet (or any more), so
// it cannot answer for a customer.
var ErrNoTasks = errors.New("no partitions assigned to this instance")

// CustomerJSON answers GET /v1/customers/{id} with the customer view of the
// features contract, as of the owning task's now. The owning task computes
// it on its own goroutine, through its mailbox, so reads never lock the
// per-event path. Every local task is asked: ownership follows the
// producers' partitioner, which Meridian does not assume. found is false
// for a customer no task holds.
func (p *Pipeline) CustomerJSON(ctx context.Context, id string) (body []byte, found bool, err error) {
	tasks := p.taskList()
	if len(tasks) == 0 {
		return nil, false, nil // not here: the caller may forward to the owner
	}
	answers := make(chan []byte, len(tasks))
	asked := 0
	for _, t := range tasks {
		if t.ask(ctx, func() { answers <- t.customerJSON(id) }) {
			asked++
		}
	}
	for ; asked > 0; asked-- {
		select {
		case b := <-answers:
			if b != nil {
				return b, true, nil
			}
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	return nil, false, nil
}

// customerJSON runs on the task goroutine; nil means not held here.
func (t *task) customerJSON(id string) []byte {
	// as of a whole millisecond, so the view agrees with the as_of it prints
	now := t.clock() / int64(time.Millisecond) * int64(time.Millisecond)
	v, ok := t.proc.Store().View([]byte(id), now)
	if !ok {
		return nil
	}
	var js []journeys.InstanceView
	if st := t.proc.Journeys(); st != nil {
		js = st.View([]byte(id))
	}
	var sends []decide.Send
	if e := t.p.env.Engine(); e != nil {
		cv, _ := t.proc.Contacts().View(e, []byte(id))
		sends = cv.Sends
	}
	return appendView(nil, id, now, &v, js, sends)
}

// appendView writes the contract's customer view: features, profile, the
// customer's journeys (current step, and the ended ones kept while their
// goal window is open) and recent sends, latest first.
func appendView(b []byte, id string, now int64, v *features.View, js []journeys.InstanceView, sends []decide.Send) []byte {
	b = append(b, `{"customer_id":`...)
	b = operators.AppendJSONString(b, []byte(id))
	b = append(b, `,"as_of":`...)
	b = operators.AppendTimestamp(b, now)
	b = append(b, `,"features":{`...)
	for i, f := range v.Features {
		if i > 0 {
			b = append(b, ',')
		}
		b = operators.AppendJSONString(b, []byte(f.Name))
		b = append(b, ':')
		if f.Value == nil || math.IsNaN(*f.Value) {
			b = append(b, "null"...)
		} else {
			b = operators.AppendJSONFloat(b, *f.Value)
		}
	}
	b = append(b, `},"profile":{`...)
	for _, k := range slices.Sorted(maps.Keys(v.Profile)) {
		b = operators.AppendJSONString(b, []byte(k))
		b = append(b, ':')
		b = appendScalar(b, v.Profile[k])
		b = append(b, ',')
	}
	b = append(b, `"consent":{`...)
	for i, ch := range slices.Sorted(maps.Keys(v.Consent)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = operators.AppendJSONString(b, []byte(ch))
		b = append(b, ':')
		b = appendScalar(b, v.Consent[ch])
	}
	b = append(b, `}},"journeys":[`...)
	for i, j := range js {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = operators.AppendJSONString(b, []byte(j.Journey))
		b = append(b, `,"instance":`...)
		b = operators.AppendJSONString(b, []byte(j.Instance))
		b = append(b, `,"step":`...)
		b = operators.AppendJSONString(b, []byte(j.Step))
		b = append(b, `,"active":`...)
		b = appendScalar(b, j.Active)
		b = append(b, `,"entered_at":`...)
		b = operators.AppendTimestamp(b, j.EnteredAt)
		b = append(b, `,"step_entered_at":`...)
		b = operators.AppendTimestamp(b, j.StepEnteredAt)
		b = append(b, `,"next_timer":`...)
		if j.NextTimer == 0 {
			b = append(b, "null"...)
		} else {
			b = operators.AppendTimestamp(b, j.NextTimer)
		}
		b = append(b, `,"last_action":`...)
		if j.LastAction == "" {
			b = append(b, "null"...)
		} else {
			b = operators.AppendJSONString(b, []byte(j.LastAction))
		}
		b = append(b, '}')
	}
	b = append(b, `],"recent_decisions":[`...)
	for i := range sends {
		s := sends[len(sends)-1-i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"action_id":`...)
		b = operators.AppendJSONString(b, []byte(s.Action))
		b = append(b, `,"channel":`...)
		b = operators.AppendJSONString(b, []byte(s.Channel))
		b = append(b, `,"decided_at":`...)
		b = operators.AppendTimestamp(b, s.At)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

func appendScalar(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return operators.AppendJSONString(b, []byte(x))
	case float64:
		return operators.AppendJSONFloat(b, x)
	case bool:
		if x {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	}
	return append(b, "null"...)
}
