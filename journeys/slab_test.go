package journeys

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/meridian/meridian/event"
)

// TestNewCustomersDoNotAllocate: batches of 10,000 customers never seen
// before start a journey, have their timers fire and end, and are removed;
// after a warm-up a batch allocates nothing: the records, their ids and the
// timers reuse the slab, the arena and the heap.
func TestNewCustomersDoNotAllocate(t *testing.T) {
	e := exampleEngine(t, "")
	st := e.NewState()
	act := quietActor{}
	var out Output
	const perBatch, runs = 10_000, 4
	batches := runs + 3 // the warm-up, AllocsPerRun's own warm-up call, the runs
	ids := make([][]byte, batches*perBatch)
	for i := range ids {
		ids[i] = strconv.AppendInt([]byte("new-customer-"), int64(i), 10)
	}
	failed, succeeded := []byte("payment_failed"), []byte("payment_succeeded")
	evID := make([]byte, 0, 32)
	noFacts := func([]byte) Facts { return nil }
	var ev event.Event
	batch, ts := 0, t0
	seen := 0
	step := func() {
		first := batch * perBatch
		batch++
		for i := range perBatch {
			ev.Type, ev.CustomerID, ev.TS = failed, ids[first+i], ts+int64(i)
			ev.EventID = strconv.AppendInt(evID[:0], int64(first+i), 10)
			st.OnEvent(&ev, nil, act, &out)
			seen += len(out.Transitions)
		}
		for i := 0; i < perBatch; i += 2 { // half pay: exit and goal
			ev.Type, ev.CustomerID, ev.TS = succeeded, ids[first+i], ts+int64(time.Hour)+int64(i)
			ev.EventID = strconv.AppendInt(evID[:0], int64(first+i)+1<<40, 10)
			st.OnEvent(&ev, nil, act, &out)
			seen += len(out.Transitions)
		}
		st.Advance(ts+int64(49*time.Hour), noFacts, act, &out) // the others' callbacks
		seen += len(out.Transitions)
		st.Advance(ts+int64(8*24*time.Hour), noFacts, act, &out) // goal windows close
		st.Dirty(func([]byte) {})
		st.ClearDirty()
		ts += int64(9 * 24 * time.Hour)
	}
	step()
	if n := testing.AllocsPerRun(runs, step); n != 0 {
		t.Errorf("%v allocations per batch of %d new customers, want 0", n, perBatch)
	}
	s := st.Stats()
	if s.Customers != 0 || s.Active != 0 || s.PendingTimers != 0 {
		t.Errorf("state left after the batches: %+v", s)
	}
	if want := uint64(batches-1) * perBatch; s.Started != want || s.Fired < want/2 {
		t.Errorf("started %d instances and fired %d timers, want %d and at least %d", s.Started, s.Fired, want, want/2)
	}
	if seen == 0 {
		t.Error("no transitions")
	}
}

// churnJourneys are two more journeys triggered by page_view, so that a
// customer can have five instances and four journeys' re-entry history,
// more than a record holds inline.
const churnJourneys = `  - id: browse_a
    priority: 7
    trigger: {event: page_view}
    reentry: {policy: never}
    goal: {event: purchase, within: 48h}
    steps:
      - {id: wait_1h, wait: {for: 1h}}
      - {id: nudge, send: cart_offer_sms}
  - id: browse_b
    priority: 3
    trigger: {event: page_view}
    reentry: {policy: after_cooldown, cooldown: 6h}
    exit_on: [purchase]
    goal: {event: kyc_verified, within: 24h}
    steps:
      - {id: wait_2h, wait: {for: 2h}}
      - {id: nudge, send: payment_callback}
      - {id: wait_buy, wait: {event: purchase, timeout: 5h, then: end}}
journey_limits:
  max_active: 5
`

// TestChurnMatchesPlain is a randomized model test of the record slab. A
// plain state and one whose customers are, at random, encoded, deleted and
// restored (releasing their records while heap entries still refer to them
// and moving them to other records) see the same events and erasures; they
// must do the same transitions in the same order and end in the same
// state. Thousands of customers grow the lookup table and the arena; five
// journeys spill instances and history out of the records.
func TestChurnMatchesPlain(t *testing.T) {
	e := exampleEngine(t, churnJourneys)
	rng := rand.New(rand.NewPCG(3, 5))
	a, b := newRun(t, e), newRun(t, e)
	types := []string{"add_to_cart", "purchase", "payment_failed", "payment_succeeded",
		"account_opened", "kyc_verified", "page_view", "page_view"}
	const customers = 3000
	id := func(i int) string { return fmt.Sprintf("cust-%d%s", i, "xxxxxxxxxxxxxxxx"[:i%17]) }
	ts, churned, deleted := t0, 0, 0
	var buf []byte
	for n := range 40_000 {
		ts += int64(rng.IntN(3)) * int64(time.Minute) // timers of different customers fall due together
		c := id(rng.IntN(customers))
		switch r := rng.IntN(100); {
		case r < 3: // erasure, in both
			da, db := a.st.Delete([]byte(c)), b.st.Delete([]byte(c))
			if da != db {
				t.Fatalf("Delete(%s): %v and %v", c, da, db)
			}
			if da {
				deleted++
			}
		case r < 10: // move the customer to another record, in b only
			var ok bool
			buf, ok = b.st.AppendCustomer(buf[:0], []byte(c))
			if !ok {
				break
			}
			b.st.Delete([]byte(c))
			if err := b.st.RestoreCustomer([]byte(c), buf); err != nil {
				t.Fatal(err)
			}
			churned++
		case r < 12:
			a.st.ClearDirty()
			b.st.ClearDirty()
		default:
			typ, eid := types[rng.IntN(len(types))], fmt.Sprintf("e%d", n)
			price := []string{"price=" + strconv.Itoa(rng.IntN(3))}
			a.event(typ, c, ts-t0, eid, price)
			b.event(typ, c, ts-t0, eid, price)
		}
		if rng.IntN(4) == 0 {
			a.advance(ts - int64(time.Second))
			b.advance(ts - int64(time.Second))
		}
		if len(a.lines) != len(b.lines) || (len(a.lines) > 0 && a.lines[len(a.lines)-1] != b.lines[len(b.lines)-1]) {
			t.Fatalf("step %d: the churned state did otherwise:\n%v\nwant\n%v", n, tail(b.lines), tail(a.lines))
		}
	}
	a.advance(ts + int64(40*24*time.Hour))
	b.advance(ts + int64(40*24*time.Hour))
	if !reflect.DeepEqual(a.lines, b.lines) {
		t.Fatal("the churned state did otherwise")
	}
	for i := range customers {
		c := []byte(id(i))
		da, _ := a.st.AppendCustomer(nil, c)
		db, _ := b.st.AppendCustomer(nil, c)
		if string(da) != string(db) {
			t.Fatalf("customer %s: state %x, want %x", c, db, da)
		}
		if va, vb := a.st.View(c), b.st.View(c); !reflect.DeepEqual(va, vb) {
			t.Fatalf("customer %s: view %v, want %v", c, vb, va)
		}
	}
	sa, sb := a.st.Stats(), b.st.Stats()
	if sa.Customers != sb.Customers || sa.Active != sb.Active || sa.AwaitingGoal != sb.AwaitingGoal || sa.PendingTimers != sb.PendingTimers {
		t.Fatalf("stats %+v, want those of %+v", sb, sa)
	}
	var spilled bool
	for ci := range a.st.custs {
		spilled = spilled || a.st.custs[ci].more != nil
	}
	if !spilled || churned == 0 || deleted == 0 || sa.Fired == 0 {
		t.Fatalf("the test misses a case: spilled %v, churned %d, deleted %d, fired %d", spilled, churned, deleted, sa.Fired)
	}
	h := fnv.New64a()
	for _, l := range a.lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	t.Logf("%d lines, hash %x; %d customers left, %d churned, %d deleted", len(a.lines), h.Sum64(), sa.Customers, churned, deleted)
}

func tail(lines []string) []string { return lines[max(0, len(lines)-5):] }
