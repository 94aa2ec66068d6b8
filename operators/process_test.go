package operators_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/examples"
	"github.com/meridian/meridian/operators"
	"github.com/meridian/meridian/pipeline"
)

// exampleEnv is the shared Env of the embedded example config: its
// features, journeys and decisioning engine, with the model files.
func exampleEnv(tb testing.TB) *pipeline.Env {
	tb.Helper()
	cfg, err := config.Parse(examples.ConfigName, examples.Config)
	if err != nil {
		tb.Fatal(err)
	}
	env, err := pipeline.NewEnv(cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(env.Close)
	return env
}

// stream produces records of one event type for a fixed set of customers,
// round robin, with event time advancing by a fixed step, by rewriting one
// record in place: a steady state that costs the test nothing.
type stream struct {
	rec, key     []byte
	cust, id, ts int // offsets of the digits in rec
	customers    int
	t0           time.Time
	step         time.Duration
	n            int
	last         int64
	scratch      [64]byte
}

const tsLayout = "2006-01-02T15:04:05.000Z"

// newStream returns a stream of typ events with the given source and attrs
// JSON over customers customers, each seeing an event every `every` of
// event time.
func newStream(typ, source, attrs string, customers int, every time.Duration) *stream {
	rec := fmt.Sprintf(`{"event_id":"e-00000000","type":%q,"customer_id":"c-0000","ts":"2026-12-04T12:00:00.000Z","source":%q,"session_id":"s-1","attrs":%s}`,
		typ, source, attrs)
	s := &stream{rec: []byte(rec), key: []byte("c-0000"), customers: customers,
		t0: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC), step: every / time.Duration(customers)}
	s.id = bytes.Index(s.rec, []byte("e-0")) + 2
	s.cust = bytes.Index(s.rec, []byte("c-0")) + 2
	s.ts = bytes.Index(s.rec, []byte("2026-"))
	return s
}

// next rewrites the record for the next event and returns it with its key
// and the watermark before it (the previous event's time).
func (s *stream) next() (key, rec []byte, watermark int64) {
	c := s.n % s.customers
	putDigits(s.rec[s.cust:s.cust+4], c, 10)
	putDigits(s.key[2:6], c, 10)
	putDigits(s.rec[s.id:s.id+8], s.n, 16)
	at := s.t0.Add(time.Duration(s.n) * s.step)
	// (AppendFormat writes past the end of what it returns, so not in place.)
	copy(s.rec[s.ts:], at.AppendFormat(s.scratch[:0], tsLayout))
	watermark = s.last
	s.last = at.UnixNano()
	s.n++
	return s.key, s.rec, watermark
}

// putDigits writes v into dst as fixed-width digits in base.
func putDigits(dst []byte, v, base int) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = "0123456789abcdef"[v%base]
		v /= base
	}
}

// streams are the cases of the allocation test and the benchmark: an event
// that decides, two that start journeys (whose timers fire on the next
// event of the customer), and one that only updates features.
var streams = []struct {
	name, typ, source, attrs string
	actions                  bool // whether some of them must produce actions, or none may
}{
	{"decide", "checkout_start", "web", `{"cart_value":59.9,"items":2}`, true},
	{"journey_payment_failed", "payment_failed", "bss", `{"invoice_id":"inv-7","amount":42.5,"reason":"card_declined"}`, true},
	{"journey_add_to_cart", "add_to_cart", "web", `{"sku":"SKU-19","price":19.99,"qty":2,"device":"mobile"}`, true},
	{"plain_page_view", "page_view", "web", `{"url":"/p/19","device":"mobile"}`, false},
}

// every is how much event time passes between two events of one customer:
// more than the longest journey (payment_recovery waits 48h), so that every
// event finds the previous instance's timers due and starts a new one.
const every = 50 * time.Hour

// TestProcessAllocatesNothing: once its buffers have grown, a Processor on
// the example config allocates nothing per event, whether the event opens
// a decision, starts a journey (and fires the previous one's timers) or
// only updates features.
func TestProcessAllocatesNothing(t *testing.T) {
	env := exampleEnv(t)
	for _, c := range streams {
		t.Run(c.name, func(t *testing.T) {
			const customers = 8
			p := operators.NewProcessor(&env.Env, nil)
			s := newStream(c.typ, c.source, c.attrs, customers, every)
			var out operators.Output
			actions := 0
			for range 16 * customers {
				key, rec, wm := s.next()
				out.Reset()
				if err := p.Process(key, rec, wm, &out); err != nil {
					t.Fatal(err)
				}
				actions += out.Len()
			}
			if c.actions && actions == 0 {
				t.Fatalf("%d %s events chose no action", 16*customers, c.typ)
			}
			if !c.actions && actions != 0 {
				t.Fatalf("%d %s events chose %d actions; nothing decides on them", 16*customers, c.typ, actions)
			}
			n := testing.AllocsPerRun(400, func() {
				key, rec, wm := s.next()
				out.Reset()
				_ = p.Process(key, rec, wm, &out)
			})
			if n != 0 {
				t.Errorf("Process allocates %.2f times per %s event", n, c.typ)
			}
		})
	}
}

func BenchmarkProcess(b *testing.B) {
	env := exampleEnv(b)
	for _, c := range streams {
		b.Run(c.name, func(b *testing.B) {
			p := operators.NewProcessor(&env.Env, nil)
			s := newStream(c.typ, c.source, c.attrs, 1000, every)
			var out operators.Output
			for range 4000 {
				key, rec, wm := s.next()
				out.Reset()
				_ = p.Process(key, rec, wm, &out)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(s.rec)))
			for b.Loop() {
				key, rec, wm := s.next()
				out.Reset()
				_ = p.Process(key, rec, wm, &out)
			}
		})
	}
}
