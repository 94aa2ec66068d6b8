package features_test

import (
	"math"
	"testing"
	"time"

	"github.com/meridian/meridian/bench"
	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/examples"
	"github.com/meridian/meridian/features"
	"github.com/meridian/meridian/operators"
)

// w1 generates and decodes W1 events for the standard feature set, a
// record every 50µs of event time (20,000 events/s, as bench.RunCore).
type w1 struct {
	gen   *bench.Generator
	dec   operators.Decoder
	rec   bench.Record
	ev    event.Event
	start time.Time
	i     int
}

func newW1(customers int) *w1 {
	return &w1{gen: bench.NewGenerator(bench.GenConfig{Seed: 1, Customers: customers}),
		start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// next returns the next valid event; it is reused by the following call.
func (w *w1) next() *event.Event {
	for {
		w.gen.Next(w.start.Add(time.Duration(w.i)*50*time.Microsecond), &w.rec)
		w.i++
		if w.dec.Decode(w.rec.Key, w.rec.Value, &w.ev) == nil {
			return &w.ev
		}
	}
}

func cloneEvent(e *event.Event) *event.Event {
	c := &event.Event{EventID: clone(e.EventID), Type: clone(e.Type), CustomerID: clone(e.CustomerID),
		TS: e.TS, Source: clone(e.Source), SessionID: clone(e.SessionID)}
	for _, a := range e.Attrs {
		a.Key, a.Str = clone(a.Key), clone(a.Str)
		c.Attrs = append(c.Attrs, a)
	}
	return c
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func standardSet(b testing.TB) (*config.Config, *features.Set) {
	cfg, err := config.Parse(examples.ConfigName, examples.Config)
	if err != nil {
		b.Fatal(err)
	}
	set, err := features.NewSet(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return cfg, set
}

// watermark is the task's: the highest event time seen minus the allowed
// disorder.
type watermark struct {
	maxTS, disorder int64
}

func (w *watermark) current() int64 {
	if w.maxTS == math.MinInt64 {
		return math.MinInt64
	}
	return w.maxTS - w.disorder
}

func (w *watermark) observe(ts int64) { w.maxTS = max(w.maxTS, ts) }

// BenchmarkUpdate measures Store.Update on decoded W1 events (1M customers,
// Zipf) for the standard feature set, after a warm-up pass over the same
// events. Each later pass shifts the events' times by the span of the log,
// so that they are new events rather than late ones.
func BenchmarkUpdate(b *testing.B) {
	cfg, set := standardSet(b)
	const n = 200_000
	w := newW1(bench.DefaultCustomers)
	evs := make([]*event.Event, n)
	for i := range evs {
		evs[i] = cloneEvent(w.next())
	}
	span := int64(n * 50 * time.Microsecond)
	st := features.NewStore(set)
	wm := watermark{maxTS: math.MinInt64, disorder: int64(cfg.EventTime.AllowedDisorder)}
	for _, e := range evs {
		st.Update(e, wm.current())
		wm.observe(e.TS)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := evs[i%n]
		if i%n == 0 {
			for _, e := range evs {
				e.TS += span
			}
		}
		st.Update(e, wm.current())
		wm.observe(e.TS)
	}
	b.StopTimer()
	b.ReportMetric(float64(st.Stats().Customers), "customers")
}

// BenchmarkVector measures reading a customer's feature vector.
func BenchmarkVector(b *testing.B) {
	cfg, set := standardSet(b)
	w := newW1(bench.DefaultCustomers)
	st := features.NewStore(set)
	wm := watermark{maxTS: math.MinInt64, disorder: int64(cfg.EventTime.AllowedDisorder)}
	var ids [][]byte
	for range 200_000 {
		e := w.next()
		st.Update(e, wm.current())
		wm.observe(e.TS)
		if len(ids) < 1000 {
			ids = append(ids, clone(e.CustomerID))
		}
	}
	dst := make([]float64, 0, len(set.Names()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst, _ = st.Vector(ids[i%len(ids)], wm.current(), dst)
	}
}

// BenchmarkStateBytes reports the live heap a Store holds per customer for
// 1,000,000 W1 customers (100,000 with -short), filled as bench.RunStateBytes
// describes. Run with -benchtime=1x; the fill does not depend on b.N.
func BenchmarkStateBytes(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	cfg, _ := standardSet(b)
	for i := 0; i < b.N; i++ {
		perCustomer, customers, err := bench.RunStateBytes(cfg, n)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(perCustomer, "bytes/customer")
		b.ReportMetric(float64(customers), "customers")
	}
}
