package decide_test

import (
	"math"
	"testing"

	"github.com/meridian/meridian/decide"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/features"
)

// benchInput is a decision over the whole example catalogue (25 actions:
// the cart_recovery XGBoost fixture and its challenger, the channel_choice
// fixture and 8 adaptive actions), for a customer with a cart.
func benchInput(t testing.TB) (*decide.Engine, *decide.Input) {
	_, set, e := exampleEngine(t)
	st := features.NewStore(set)
	id := []byte("c-1042")
	evs := []*event.Event{
		{Type: []byte("profile_updated"), CustomerID: id, TS: t0 - 1e12, Attrs: []event.Attr{
			attr("segment", "vip"), attr("timezone", "Europe/Berlin"), attr("tenure_days", 412), attr("plan", "basic")}},
		{Type: []byte("add_to_cart"), CustomerID: id, TS: t0 - 1e9, SessionID: []byte("s-1"), Attrs: []event.Attr{
			attr("sku", "SKU-19"), attr("price", 19.99), attr("qty", 2)}},
		{Type: []byte("page_view"), CustomerID: id, TS: t0 - 2e9, SessionID: []byte("s-1")},
	}
	for _, ev := range evs {
		st.Update(ev, math.MinInt64)
	}
	vec, _ := st.Vector(id, t0, nil)
	prof, _ := st.Profile(id)
	in := &decide.Input{CustomerID: id, Now: t0, Features: vec, Profile: prof,
		Context: map[string]string{"reason": "billing"},
		Trigger: &event.Event{Type: []byte("add_to_cart"), CustomerID: id, EventID: []byte("e-9"), TS: t0,
			Attrs: []event.Attr{attr("sku", "SKU-19"), attr("price", 19.99)}},
		Actions: e.Actions(), Contacts: decide.NewContacts(e.Horizon())}
	copy(in.DecisionID[:], "d-3c5e0f9a1b2c4d5e")
	return e, in
}

func BenchmarkDecide(b *testing.B) {
	e, in := benchInput(b)
	d := e.NewDecider()
	var out decide.Decision
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		in.DecisionID[17] = byte(i)
		d.Decide(in, &out)
	}
}

func TestDecideAllocatesNothing(t *testing.T) {
	e, in := benchInput(t)
	d := e.NewDecider()
	var out decide.Decision
	d.Decide(in, &out)
	if !out.Chosen {
		t.Fatalf("the benchmark decision chose nothing: %s", out.Reason)
	}
	t.Logf("%s %s p=%v reasons=%q", out.ActionID, out.Model, out.Probability, out.Reasons)
	n := testing.AllocsPerRun(200, func() {
		in.DecisionID[17]++
		d.Decide(in, &out)
	})
	if n != 0 {
		t.Fatalf("Decide allocates %v times per decision, want 0", n)
	}
}

// TestConcurrentDeciders runs deciders of one engine in parallel (run
// it with -race): the engine is shared and read-only.
func TestConcurrentDeciders(t *testing.T) {
	e, in := benchInput(t)
	var want decide.Decision
	e.NewDecider().Decide(in, &want)
	done := make(chan string, 4)
	for range 4 {
		go func() {
			d, own := e.NewDecider(), *in
			own.Contacts = decide.NewContacts(e.Horizon())
			var out decide.Decision
			for range 200 {
				d.Decide(&own, &out)
				if out.ActionID != want.ActionID || out.Probability != want.Probability {
					done <- out.ActionID
					return
				}
			}
			done <- ""
		}()
	}
	for range 4 {
		if got := <-done; got != "" {
			t.Fatalf("a concurrent decider chose %s, want %s", got, want.ActionID)
		}
	}
}
