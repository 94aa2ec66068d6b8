package bench

import (
	"hash/fnv"
	"strconv"
	"testing"
	"time"

	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/features"
	"github.com/meridian/meridian/journeys"
	"github.com/meridian/meridian/operators"
)

// benchActor stands in for the decisioning engine: the first candidate,
// with a decision id hashed from the trigger id.
type benchActor struct{ id []byte }

func (a *benchActor) Act(r *journeys.Request) journeys.Result {
	h := fnv.New64a()
	h.Write(r.TriggerID)
	a.id = strconv.AppendUint(append(a.id[:0], "d-"...), h.Sum64(), 16)
	return journeys.Result{ActionID: r.Actions[0], DecisionID: a.id}
}

// w1Events decodes n W1 records and re-times them step apart from the
// generator's start, so that the run spans hours of event time and the
// journeys' 30-minute and 24-hour timers fire.
func w1Events(tb testing.TB, n int, step time.Duration) []event.Event {
	tb.Helper()
	app := exampleApp(tb)
	recs := generate(app, n)
	var d operators.Decoder
	var ev event.Event
	out := make([]event.Event, 0, n)
	t0 := recs[0].TS.UnixNano()
	for i := range recs {
		if err := d.Decode(recs[i].Key, recs[i].Value, &ev); err != nil {
			tb.Fatalf("record %d: %v", i, err)
		}
		c := event.Event{EventID: clone(ev.EventID), Type: clone(ev.Type), CustomerID: clone(ev.CustomerID),
			TS: t0 + int64(i)*int64(step) + (ev.TS - recs[i].TS.UnixNano())}
		for _, a := range ev.Attrs {
			c.Attrs = append(c.Attrs, event.Attr{Key: clone(a.Key), Kind: a.Kind, Num: a.Num, Str: clone(a.Str), Bool: a.Bool})
		}
		out = append(out, c)
	}
	return out
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// BenchmarkJourneys is the journeys' cost per W1 event with the three
// reference journeys active: OnEvent for every event (most are of types no
// journey reads) and Advance with the watermark after each, timers firing.
// Events are 100 ms of event time apart, so 1M events span 28 hours.
func BenchmarkJourneys(b *testing.B) {
	const n = 300_000
	evs := w1Events(b, n, 100*time.Millisecond)
	app := exampleApp(b)
	set, err := features.NewSet(app)
	if err != nil {
		b.Fatal(err)
	}
	e, err := journeys.New(app, set)
	if err != nil {
		b.Fatal(err)
	}
	st := e.NewState()
	act := &benchActor{}
	var out journeys.Output
	span := evs[n-1].TS - evs[0].TS + int64(time.Second)
	noFacts := func([]byte) journeys.Facts { return nil }
	var wm int64
	transitions := 0
	run := func(i int) {
		ev := &evs[i%n]
		shift := int64(i/n) * span
		ev.TS += shift
		st.OnEvent(ev, nil, act, &out)
		transitions += len(out.Transitions)
		wm = max(wm, ev.TS-int64(2*time.Second))
		ev.TS -= shift
		st.Advance(wm, noFacts, act, &out)
		transitions += len(out.Transitions)
	}
	for i := range n / 2 { // warm up: customers arrive, buffers grow
		run(i)
	}
	transitions = 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		run(n/2 + i)
	}
	b.StopTimer()
	s := st.Stats()
	b.ReportMetric(float64(transitions)/float64(b.N), "transitions/event")
	b.ReportMetric(float64(s.Active), "active")
	b.ReportMetric(float64(s.Fired), "fired")
}
