package decide_test

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meridian/meridian/decide"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/features"
	"github.com/meridian/meridian/models"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata/")

// step is one line of the golden scenario: an event applied to the
// features, and a decision for it (outcomes are observed instead).
type step struct {
	cust  string
	at    string // RFC 3339
	typ   string
	attrs map[string]any
	api   map[string]string // a POST /v1/decide context: no trigger
	ch    string
	// step, when set, decides among these actions as a journey step
	// triggered by the event does.
	step []string
}

// TestGoldenExample runs a day of three customers through the example
// configuration: features, profile, decisions with caps reserved,
// outcomes, and the API. testdata/example.golden is the reviewed output;
// regenerate with -rewrite and review the diff.
func TestGoldenExample(t *testing.T) {
	cfg, set, _ := exampleEngine(t)
	l := models.NewLearner()
	e, err := decide.New(cfg, set, decide.Options{BaseDir: filepath.Join("..", "examples"), Learner: l})
	if err != nil {
		t.Fatal(err)
	}
	st := features.NewStore(set)
	d, contacts, tally := e.NewDecider(), decide.NewContacts(e.Horizon()), models.NewTally()
	steps := []step{
		{cust: "c-berlin", at: "2026-03-02T08:00:00Z", typ: "profile_updated", attrs: map[string]any{"segment": "vip", "timezone": "Europe/Berlin", "tenure_days": 412, "plan": "basic"}},
		{cust: "c-kolkata", at: "2026-03-02T08:00:00Z", typ: "profile_updated", attrs: map[string]any{"segment": "retail", "timezone": "Asia/Kolkata", "tenure_days": 40, "plan": "unlimited-5g"}},
		{cust: "c-kolkata", at: "2026-03-02T08:00:00Z", typ: "consent_changed", attrs: map[string]any{"channel": "email", "granted": false}},
		{cust: "c-berlin", at: "2026-03-02T09:00:00Z", typ: "add_to_cart", attrs: map[string]any{"sku": "SKU-19", "price": 19.99, "qty": 2}, step: []string{"cart_reminder_email", "cart_reminder_push", "cart_offer_sms"}},
		{cust: "c-berlin", at: "2026-03-02T09:05:00Z", typ: "add_to_cart", attrs: map[string]any{"sku": "SKU-77", "price": 89.5, "qty": 1}, step: []string{"cart_reminder_email", "cart_reminder_push", "cart_offer_sms"}},
		{cust: "c-berlin", at: "2026-03-02T09:06:00Z", typ: "action_dismissed", attrs: map[string]any{"action_id": "cart_reminder_email", "decision_id": "d-1"}},
		{cust: "c-berlin", at: "2026-03-02T09:10:00Z", typ: "add_to_cart", attrs: map[string]any{"sku": "SKU-80", "price": 5, "qty": 1}, step: []string{"cart_reminder_email", "cart_reminder_push", "cart_offer_sms"}},
		{cust: "c-kolkata", at: "2026-03-02T16:00:00Z", typ: "payment_failed", attrs: map[string]any{"invoice_id": "INV-1", "amount": 42.5, "reason": "card_expired"}, step: []string{"payment_selfservice_sms", "payment_callback"}},
		{cust: "c-kolkata", at: "2026-03-03T02:00:00Z", typ: "payment_failed", attrs: map[string]any{"invoice_id": "INV-1", "amount": 42.5, "reason": "card_expired"}, step: []string{"payment_selfservice_sms", "payment_callback"}},
		{cust: "c-kolkata", at: "2026-03-03T06:00:00Z", typ: "payment_failed", attrs: map[string]any{"invoice_id": "INV-1", "amount": 42.5, "reason": "card_expired"}, step: []string{"payment_selfservice_sms", "payment_callback"}},
		{cust: "c-kolkata", at: "2026-03-03T06:30:00Z", api: map[string]string{"reason": "billing"}, ch: "call_center"},
		{cust: "c-new", at: "2026-03-03T10:00:00Z", api: map[string]string{"reason": "cancel"}, ch: "call_center"},
		{cust: "c-new", at: "2026-03-03T10:01:00Z", typ: "usage_threshold", attrs: map[string]any{"metric": "data", "pct": 90}},
	}
	var b strings.Builder
	for i, s := range steps {
		ts, err := time.Parse(time.RFC3339, s.at)
		if err != nil {
			t.Fatal(err)
		}
		now := ts.UnixNano()
		in := decide.Input{CustomerID: []byte(s.cust), Now: now, Context: s.api, Channel: s.ch, Contacts: contacts, Send: true}
		copy(in.DecisionID[:], fmt.Sprintf("d-%016x", i))
		fmt.Fprintf(&b, "%s %s %s", s.at, s.cust, s.typ)
		if s.api != nil {
			fmt.Fprintf(&b, "POST /v1/decide channel=%s context=%v", s.ch, s.api)
		} else {
			ev := &event.Event{Type: []byte(s.typ), CustomerID: in.CustomerID, EventID: []byte(fmt.Sprintf("e-%d", i)), TS: now, Source: []byte("web")}
			for k, v := range s.attrs {
				ev.Attrs = append(ev.Attrs, attr(k, v))
			}
			sortAttrs(ev)
			st.Update(ev, math.MinInt64)
			in.Trigger = ev
			if e.Outcome(ev.Type) {
				prof, _ := st.Profile(in.CustomerID)
				fmt.Fprintf(&b, " -> observed %v\n", d.Observe(ev, prof, contacts, tally))
				continue
			}
			if s.step != nil {
				in.Actions = s.step
				fmt.Fprintf(&b, " (journey step among %v)", s.step)
			} else if !e.Opens(ev.Type) {
				b.WriteString(" -> no decision\n")
				continue
			}
		}
		in.Features, _ = st.Vector(in.CustomerID, now, nil)
		in.Profile, _ = st.Profile(in.CustomerID)
		var out decide.Decision
		d.Decide(&in, &out)
		writeDecision(&b, &out)
	}
	golden(t, "example.golden", b.String())
}

func sortAttrs(ev *event.Event) {
	a := ev.Attrs
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && string(a[j].Key) < string(a[j-1].Key); j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func writeDecision(b *strings.Builder, d *decide.Decision) {
	fmt.Fprintf(b, " -> %s", d.Reason)
	if d.ActionID != "" {
		fmt.Fprintf(b, " %s/%s score=%.4f propensity=%.4f cw=%g p=%.3f model=%q", d.ActionID, d.Channel, d.Score, d.Propensity, d.ContextWeight, d.Probability, d.Model)
	}
	if d.Arm != "" {
		fmt.Fprintf(b, " experiment=%s/%s", d.Experiment, d.Arm)
	}
	b.WriteByte('\n')
	for _, c := range d.Candidates {
		fmt.Fprintf(b, "    candidate %s eligible=%v propensity=%.4f score=%.4f blocked=%q\n", c.ActionID, c.Eligible, c.Propensity, c.Score, c.Blocked)
	}
	for _, r := range d.Reasons {
		fmt.Fprintf(b, "    reason %s\n", r)
	}
	for _, p := range d.Payload {
		fmt.Fprintf(b, "    payload %s=%s\n", p.Key, p.Raw)
	}
	if d.Chosen {
		fmt.Fprintf(b, "    expires %s\n", time.Unix(0, d.ExpiresAt).UTC().Format(time.RFC3339))
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *rewrite {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -rewrite to create it)", err)
	}
	if string(want) != got {
		t.Fatalf("output differs from %s (run with -rewrite and review the diff):\n%s", path, got)
	}
}
