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

// BenchmarkDecide measures one decision on one goroutine:
//   - catalogue: all 25 example actions (the API with no channel): the
//     cart_recovery fixture (or its challenger, by arm), the 3-class
//     channel_choice fixture, 8 adaptive actions;
//   - trigger: an add_to_cart event's 4 actions;
//   - contested: 5 actions where adaptive ones can beat the model-scored
//     one, so the probability takes the 16 extra Thompson draws.
func BenchmarkDecide(b *testing.B) {
	for _, c := range []struct {
		name    string
		actions func(e *decide.Engine) []string
	}{
		{"catalogue", func(e *decide.Engine) []string { return e.Actions() }},
		{"trigger", func(*decide.Engine) []string { return nil }},
		{"contested", func(*decide.Engine) []string {
			return []string{"cart_reminder_push", "cart_discount_web", "usage_upsell_app", "winback_email", "browse_banner_web"}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			e, in := benchInput(b)
			in.Actions = c.actions(e)
			d := e.NewDecider()
			var out decide.Decision
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				in.DecisionID[17] = byte(i)
				d.Decide(in, &out)
			}
		})
	}
}

func TestDecideAllocatesNothing(t *testing.T) {
	e, in := benchInput(t)
	for _, actions := range [][]string{e.Actions(), nil,
		{"cart_reminder_push", "cart_discount_web", "usage_upsell_app", "winback_email", "browse_banner_web"}} {
		in.Actions = actions
		d := e.NewDecider()
		var out decide.Decision
		d.Decide(in, &out)
		if !out.Chosen {
			t.Fatalf("the benchmark decision chose nothing: %s", out.Reason)
		}
		n := testing.AllocsPerRun(200, func() {
			in.DecisionID[17]++
			d.Decide(in, &out)
		})
		if n != 0 {
			t.Fatalf("Decide over %d actions allocates %v times per decision, want 0", len(actions), n)
		}
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
