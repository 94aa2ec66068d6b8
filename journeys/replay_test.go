package journeys

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/meridian/meridian/event"
)

// randomLog is a deterministic log of journey-relevant events over a few
// customers, with up to 2 s of disorder, spanning weeks of event time.
func randomLog(n int) []event.Event {
	rng := rand.New(rand.NewPCG(7, 11))
	types := []string{"add_to_cart", "purchase", "payment_failed", "payment_succeeded",
		"account_opened", "kyc_verified", "page_view"}
	evs := make([]event.Event, n)
	ts := t0
	for i := range evs {
		ts += int64(rng.IntN(int(2 * time.Hour)))
		e := &evs[i]
		e.Type = []byte(types[rng.IntN(len(types))])
		e.CustomerID = fmt.Appendf(nil, "c%d", rng.IntN(40))
		e.EventID = fmt.Appendf(nil, "e%d", i)
		e.TS = ts - int64(rng.IntN(2000))*int64(time.Millisecond)
		e.Attrs = []event.Attr{{Key: []byte("price"), Kind: event.AttrNumber, Num: float64(rng.IntN(3))}}
	}
	return evs
}

// replay feeds evs to st, advancing the watermark (event time minus 2 s)
// after each, and returns the rendered transitions and goal credits.
// restoreAt, when > 0, moves the state through AppendCustomer and
// RestoreCustomer into a fresh State after that many events.
func replay(t *testing.T, e *Engine, evs []event.Event, restoreAt int) []string {
	r := newRun(t, e)
	var hi int64
	for i := range evs {
		if i == restoreAt && restoreAt > 0 {
			r.st = roundTrip(t, e, r.st)
		}
		ev := &evs[i]
		r.st.OnEvent(ev, nil, r.act, &r.out)
		r.render()
		hi = max(hi, ev.TS)
		r.st.Advance(hi-int64(2*time.Second), func([]byte) Facts { return nil }, r.act, &r.out)
		r.render()
	}
	return append(r.lines, r.act.log...)
}

// roundTrip encodes every customer of st and restores them into a new State.
func roundTrip(t *testing.T, e *Engine, st *State) *State {
	t.Helper()
	fresh := e.NewState()
	var ids [][]byte
	st.Dirty(func(id []byte) { ids = append(ids, append([]byte(nil), id...)) })
	for _, id := range ids {
		data, ok := st.AppendCustomer(nil, id)
		if !ok {
			continue
		}
		if err := fresh.RestoreCustomer(id, data); err != nil {
			t.Fatal(err)
		}
	}
	a, b := st.Stats(), fresh.Stats()
	if a.Active != b.Active || a.AwaitingGoal != b.AwaitingGoal || a.PendingTimers != b.PendingTimers || a.Customers != b.Customers {
		t.Fatalf("restored stats %+v, want those of %+v", b, a)
	}
	return fresh
}

func TestReplayIdentical(t *testing.T) {
	e := exampleEngine(t, "")
	evs := randomLog(3000)
	a, b := replay(t, e, evs, 0), replay(t, e, evs, 0)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same log replayed gave different transitions")
	}
	text := strings.Join(a, "\n")
	for _, want := range []string{"-> reminder", "-> offer", "-> exit", "-> callback", "-> kyc_reminder", "GOAL", "-> max_visits", "by timer"} {
		if !strings.Contains(text, want) {
			t.Errorf("the random log never produced %q; it does not exercise the journeys", want)
		}
	}
}

// TestRestoreMidJourney: encoding and restoring every customer halfway
// changes nothing that follows: no timer lost, none fired twice.
func TestRestoreMidJourney(t *testing.T) {
	e := exampleEngine(t, "")
	evs := randomLog(3000)
	want := replay(t, e, evs, 0)
	for _, at := range []int{1, 500, 1501, 2999} {
		if got := replay(t, e, evs, at); !reflect.DeepEqual(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("restore after %d events: line %d is\n%s\nwant\n%s", at, i, got[i], want[i])
				}
			}
			t.Fatalf("restore after %d events: %d lines, want %d", at, len(got), len(want))
		}
	}
}

func TestRestoreDropsUnknown(t *testing.T) {
	e := exampleEngine(t, "")
	r := newRun(t, e)
	r.script("ev add_to_cart c1 +0s price=5\nev account_opened c1 +1s")
	data, ok := r.st.AppendCustomer(nil, []byte("c1"))
	if !ok {
		t.Fatal("no state for c1")
	}
	// The same state under a config without cart_abandonment.
	other := exampleEngine(t, "")
	other.journeys[0].id = "renamed"
	st := other.NewState()
	if err := st.RestoreCustomer([]byte("c1"), data); err != nil {
		t.Fatal(err)
	}
	if s := st.Stats(); s.Dropped != 1 || s.Active != 1 {
		t.Errorf("stats %+v, want 1 dropped (cart) and 1 active (onboarding)", s)
	}
	for i := range data {
		if err := e.NewState().RestoreCustomer([]byte("c1"), data[:i]); err == nil {
			t.Errorf("truncated state (%d of %d bytes) restored without error", i, len(data))
		}
	}
}

func TestDirtyAndDelete(t *testing.T) {
	e := exampleEngine(t, "")
	r := newRun(t, e)
	r.script("ev add_to_cart c1 +0s price=5\nev payment_failed c2 +0s")
	var got []string
	r.st.Dirty(func(id []byte) { got = append(got, string(id)) })
	if strings.Join(got, ",") != "c1,c2" {
		t.Errorf("dirty %v, want c1,c2", got)
	}
	r.st.ClearDirty()
	if !r.st.Delete([]byte("c1")) || r.st.Delete([]byte("c1")) {
		t.Error("Delete: want true once, then false")
	}
	got = got[:0]
	r.st.Dirty(func(id []byte) { got = append(got, string(id)) })
	if strings.Join(got, ",") != "c1" {
		t.Errorf("dirty after delete %v, want c1 (a tombstone)", got)
	}
	if _, ok := r.st.AppendCustomer(nil, []byte("c1")); ok {
		t.Error("deleted customer still has state")
	}
	v := r.st.View([]byte("c2"))
	if len(v) != 1 || v[0].Journey != "payment_recovery" || v[0].Step != "wait_48h" || v[0].NextTimer != t0+int64(48*time.Hour) || v[0].LastAction != "payment_selfservice_sms" {
		t.Errorf("view %+v", v)
	}
}

// TestNoAllocSteadyState: events and timers for customers already known
// allocate nothing.
func TestNoAllocSteadyState(t *testing.T) {
	e := exampleEngine(t, "")
	st := e.NewState()
	act := quietActor{}
	var out Output
	types := [][]byte{[]byte("add_to_cart"), []byte("page_view"), []byte("purchase"), []byte("payment_failed"), []byte("payment_succeeded")}
	c1, c2, e1 := []byte("c1"), []byte("c2"), []byte("e1")
	var ev event.Event
	ev.Attrs = []event.Attr{{Key: []byte("price"), Kind: event.AttrNumber, Num: 9}}
	ts := t0
	step := func() {
		for _, typ := range types {
			ev.Type, ev.CustomerID, ev.EventID, ev.TS = typ, c1, e1, ts
			st.OnEvent(&ev, nil, act, &out)
			ts += int64(time.Minute)
		}
		ev.Type, ev.TS, ev.CustomerID = types[0], ts, c2
		st.OnEvent(&ev, nil, act, &out)
		ts += int64(25 * time.Hour)
		st.Advance(ts, nil, act, &out)
	}
	for range 50 {
		step()
	}
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Errorf("%v allocations per round, want 0", n)
	}
	if st.Stats().Fired == 0 {
		t.Error("no timer fired; the test does not cover Advance")
	}
}

// quietActor chooses the first action with a fixed decision id.
type quietActor struct{}

var quietID = []byte("d-1")

func (quietActor) Act(r *Request) Result { return Result{ActionID: r.Actions[0], DecisionID: quietID} }
