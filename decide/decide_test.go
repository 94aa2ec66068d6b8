package decide_test

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/decide"
	"github.com/meridian/meridian/examples"
	"github.com/meridian/meridian/features"
)

const hour = int64(time.Hour)

func TestArbitration(t *testing.T) {
	f := newFixture(t, `
decide:
  models: [{id: lin, file: unused}]
  actions:
    - {id: a, channel: email, on: [t], value: 2, context_weight: 'context.reason == "billing" ? 2 : 1'}
    - {id: b, channel: sms, on: [t], value: 1, weight: 3}
    - {id: c, channel: push, on: [tie], value: 2}
    - {id: d, channel: web, on: [tie], value: 2}
    - {id: m1, channel: email, on: [m], model: lin, value: 1}
    - {id: m2, channel: push, on: [m], value: 0.35}
`)
	cases := []struct {
		name    string
		trig    string
		ctx     map[string]string
		feats   map[string]float64
		actions []string
		want    string
		score   float64
	}{
		{name: "weight beats value", trig: "t", want: "b", score: 3},
		{name: "context weight", trig: "t", ctx: map[string]string{"reason": "billing"}, want: "a", score: 4},
		{name: "no context: context weight 1", actions: []string{"a"}, want: "a", score: 2},
		{name: "context weight other", trig: "t", ctx: map[string]string{"reason": "sales"}, want: "b", score: 3},
		{name: "tie goes to the first in the catalogue", trig: "tie", want: "c", score: 2},
		{name: "tie goes to the first listed", actions: []string{"d", "c"}, want: "d", score: 2},
		// lin: 0.1 + 0.004 x 100 = 0.5 > 0.35
		{name: "propensity x value", trig: "m", feats: map[string]float64{"cart_value_1h": 100}, want: "m1", score: 0.5},
		// lin: 0.1 + 0.004 x 20 = 0.18 < 0.35
		{name: "low propensity loses", trig: "m", feats: map[string]float64{"cart_value_1h": 20}, want: "m2", score: 0.35},
		// missing input counts 0 in the fake: 0.1
		{name: "missing feature", trig: "m", want: "m2", score: 0.35},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := decide.Input{Now: t0, Context: c.ctx, Features: f.vec(c.feats), Actions: c.actions}
			if c.trig != "" {
				in.Trigger = trigger(c.trig, t0, nil)
			}
			d := f.decide(in)
			if !d.Chosen || d.ActionID != c.want || math.Abs(d.Score-c.score) > 1e-9 {
				t.Fatalf("got %s (chosen %v, %s) score %v, want %s score %v; candidates %+v", d.ActionID, d.Chosen, d.Reason, d.Score, c.want, c.score, d.Candidates)
			}
			if d.Score != d.Propensity*d.ContextWeight*d.Value*d.Weight {
				t.Fatalf("score %v is not propensity x context weight x value x weight (%v %v %v %v)", d.Score, d.Propensity, d.ContextWeight, d.Value, d.Weight)
			}
		})
	}
}

func TestEligibility(t *testing.T) {
	f := newFixture(t, `
decide:
  actions:
    - {id: big_cart, channel: email, on: [t], eligible: 'features.cart_value_1h > 20 && profile.segment != "churned"', value: 1}
    - {id: loyal, channel: sms, on: [t], eligible: 'profile.tenure_days > 30', value: 2}
    - {id: web_only, channel: web, on: [t], eligible: 'event.source == "web" && event.attrs?.device == "mobile"', value: 0.5}
`)
	f.c = nil
	type want struct {
		pass, fail, errs []string
		chosen           string
	}
	cases := []struct {
		name  string
		feats map[string]float64
		prof  map[string]any
		attrs map[string]any
		want  want
	}{
		{name: "all pass", feats: map[string]float64{"cart_value_1h": 50}, prof: map[string]any{"segment": "vip", "tenure_days": 400},
			attrs: map[string]any{"device": "mobile"},
			want:  want{pass: []string{"big_cart", "loyal", "web_only"}, chosen: "loyal"}},
		{name: "missing feature is NaN, comparison false", prof: map[string]any{"tenure_days": 10},
			want: want{fail: []string{"big_cart", "loyal", "web_only"}}},
		{name: "churned", feats: map[string]float64{"cart_value_1h": 50}, prof: map[string]any{"segment": "churned", "tenure_days": 10},
			attrs: map[string]any{"device": "desktop"},
			want:  want{fail: []string{"big_cart", "loyal", "web_only"}}},
		{name: "missing profile number is an error, not eligible", feats: map[string]float64{"cart_value_1h": 50},
			want: want{pass: []string{"big_cart"}, errs: []string{"loyal"}, fail: []string{"web_only"}, chosen: "big_cart"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := f.decide(decide.Input{Now: t0, Trigger: trigger("t", t0, c.attrs), Features: f.vec(c.feats), Profile: f.profile(c.prof)})
			for _, id := range c.want.pass {
				if !reasonFor(d, "eligible "+id+":") {
					t.Errorf("no pass reason for %s: %q", id, d.Reasons)
				}
			}
			for _, id := range c.want.fail {
				if !reasonFor(d, "not eligible "+id+":") {
					t.Errorf("no fail reason for %s: %q", id, d.Reasons)
				}
			}
			for _, id := range c.want.errs {
				if !reasonFor(d, "not eligible "+id+" (error evaluating):") {
					t.Errorf("no error reason for %s: %q", id, d.Reasons)
				}
			}
			if c.want.chosen == "" {
				if d.Chosen || d.Reason != decide.ReasonNoEligible {
					t.Fatalf("chose %s (%s), want no_eligible_action", d.ActionID, d.Reason)
				}
				return
			}
			if d.ActionID != c.want.chosen || !d.Chosen {
				t.Fatalf("chose %s (%s), want %s", d.ActionID, d.Reason, c.want.chosen)
			}
		})
	}
}

func reasonFor(d *decide.Decision, prefix string) bool {
	for _, r := range d.Reasons {
		if strings.HasPrefix(r, prefix) {
			return true
		}
	}
	return false
}

const policyYAML = `
decide:
  actions:
    - {id: sms_a, channel: sms, on: [s], value: 2}
    - {id: email_a, channel: email, on: [e], value: 1}
    - {id: push_a, channel: push, on: [p], value: 1}
    - {id: mixed_sms, channel: sms, on: [m], value: 3}
    - {id: mixed_email, channel: email, on: [m], value: 1}
  contact_policy:
    caps: [{channel: sms, max: 1, per: 24h}, {channel: email, max: 3, per: 7d}]
    quiet_hours: {from: "21:00", to: "08:00", channels: [sms, push], timezone_attribute: timezone, default_timezone: UTC}
    suppress_after_dismissal: 72h
`

func TestCaps(t *testing.T) {
	f := newFixture(t, policyYAML)
	step := func(trig string, at int64, send bool, want string) *decide.Decision {
		t.Helper()
		d := f.decide(decide.Input{Now: at, Trigger: trigger(trig, at, nil), Send: send})
		if d.Reason != want {
			t.Fatalf("%s at %+dh: %s (%s), want %s; caps %+v", trig, (at-t0)/hour, d.Reason, d.ActionID, want, d.CapState)
		}
		return d
	}
	// 1 SMS a day: a dry run reserves nothing.
	step("s", t0, false, decide.ReasonChosen)
	step("s", t0, true, decide.ReasonChosen)
	d := step("s", t0+hour, true, decide.ReasonCapped)
	if len(d.CapState) != 1 || d.CapState[0].Used != 1 || d.CapState[0].Max != 1 || !hasReason(d, "cap sms: 1/1 per 1d") {
		t.Fatalf("cap state %+v reasons %q", d.CapState, d.Reasons)
	}
	step("s", t0+24*hour-1, true, decide.ReasonCapped)
	step("s", t0+24*hour, true, decide.ReasonChosen) // the window has passed
	step("s", t0+25*hour, true, decide.ReasonCapped)

	// 3 emails a week.
	for i := range 3 {
		step("e", t0+int64(i)*hour, true, decide.ReasonChosen)
	}
	step("e", t0+3*hour, true, decide.ReasonCapped)
	step("e", t0+7*24*hour-1, true, decide.ReasonCapped)
	step("e", t0+7*24*hour, true, decide.ReasonChosen) // the first send left the window

	// A capped channel does not block another: the SMS is capped, the email wins.
	f.c = decide.NewContacts(f.e.Horizon())
	step("m", t0, true, decide.ReasonChosen)
	d = step("m", t0+hour, true, decide.ReasonChosen)
	if d.ActionID != "mixed_email" {
		t.Fatalf("chose %s, want mixed_email while sms is capped", d.ActionID)
	}
	if d.Candidates[0].Blocked != decide.ReasonCapped {
		t.Fatalf("candidates %+v", d.Candidates)
	}
}

func TestQuietHours(t *testing.T) {
	f := newFixture(t, policyYAML)
	at := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixNano()
	}
	cases := []struct {
		zone, utc string
		quiet     bool
		fallback  bool
	}{
		// Asia/Kolkata is UTC+5:30: 15:29Z is 20:59, 15:30Z is 21:00.
		{zone: "Asia/Kolkata", utc: "2026-03-10T15:29:00Z"},
		{zone: "Asia/Kolkata", utc: "2026-03-10T15:30:00Z", quiet: true},
		{zone: "Asia/Kolkata", utc: "2026-03-10T02:29:00Z", quiet: true}, // 07:59
		{zone: "Asia/Kolkata", utc: "2026-03-10T02:30:00Z"},              // 08:00
		// America/New_York moves to daylight time on 2026-03-08: 12:30Z
		// is 07:30 EST (quiet) the day before and 08:30 EDT after.
		{zone: "America/New_York", utc: "2026-03-07T12:30:00Z", quiet: true},
		{zone: "America/New_York", utc: "2026-03-09T12:30:00Z"},
		// 01:30Z is 20:30 EST before, 21:30 EDT after.
		{zone: "America/New_York", utc: "2026-03-07T01:30:00Z"},
		{zone: "America/New_York", utc: "2026-03-10T01:30:00Z", quiet: true},
		// And back on 2026-11-01: 12:30Z is 08:30 EDT, then 07:30 EST.
		{zone: "America/New_York", utc: "2026-10-31T12:30:00Z"},
		{zone: "America/New_York", utc: "2026-11-02T12:30:00Z", quiet: true},
		// No zone: the default (UTC). An unknown one: the default, said so.
		{zone: "", utc: "2026-03-10T21:00:00Z", quiet: true},
		{zone: "", utc: "2026-03-10T20:59:00Z"},
		{zone: "Mars/Olympus", utc: "2026-03-10T20:59:00Z", fallback: true},
		{zone: "Mars/Olympus", utc: "2026-03-10T07:59:00Z", quiet: true, fallback: true},
	}
	for _, c := range cases {
		prof := map[string]any{}
		if c.zone != "" {
			prof["timezone"] = c.zone
		}
		now := at(c.utc)
		d := f.decide(decide.Input{Now: now, Trigger: trigger("s", now, nil), Profile: f.profile(prof)})
		want := decide.ReasonChosen
		if c.quiet {
			want = decide.ReasonQuietHours
		}
		if d.Reason != want {
			t.Errorf("%s at %s: %s, want %s", c.zone, c.utc, d.Reason, want)
		}
		if got := reasonFor(d, "timezone: the profile's zone is unknown, used UTC"); got != c.fallback {
			t.Errorf("%s at %s: fallback reason %v, want %v: %q", c.zone, c.utc, got, c.fallback, d.Reasons)
		}
		// Email is not a quiet channel.
		if d := f.decide(decide.Input{Now: now, Trigger: trigger("e", now, nil), Profile: f.profile(prof)}); d.Reason != decide.ReasonChosen {
			t.Errorf("email at %s: %s", c.utc, d.Reason)
		}
		// An inbound contact (the customer calls) is never quiet.
		if d := f.decide(decide.Input{Now: now, Trigger: trigger("s", now, nil), Profile: f.profile(prof), Inbound: true}); d.Reason != decide.ReasonChosen {
			t.Errorf("inbound at %s: %s", c.utc, d.Reason)
		}
	}
}

func TestConsent(t *testing.T) {
	f := newFixture(t, policyYAML)
	d := f.decide(decide.Input{Now: t0, Trigger: trigger("m", t0, nil), Profile: f.profile(nil, "sms"), Send: true})
	if d.ActionID != "mixed_email" || !d.Chosen || d.Candidates[0].Blocked != decide.ReasonNoConsent {
		t.Fatalf("got %s (%s), candidates %+v; want mixed_email with sms blocked by consent", d.ActionID, d.Reason, d.Candidates)
	}
	d = f.decide(decide.Input{Now: t0, Trigger: trigger("s", t0, nil), Profile: f.profile(nil, "sms", "email")})
	if d.Chosen || d.Reason != decide.ReasonNoConsent || d.ActionID != "sms_a" {
		t.Fatalf("got %s chosen %v (%s), want no_consent naming sms_a", d.ActionID, d.Chosen, d.Reason)
	}
	// Web has no consent channel: always allowed.
	f2 := newFixture(t, `
decide:
  actions: [{id: w, channel: web, on: [t], value: 1}]
`)
	if d := f2.decide(decide.Input{Now: t0, Trigger: trigger("t", t0, nil), Profile: f2.profile(nil, "email", "sms", "push", "call_center")}); !d.Chosen {
		t.Fatalf("web: %s", d.Reason)
	}
}

func TestSuppression(t *testing.T) {
	f := newFixture(t, policyYAML)
	dismiss := trigger("action_dismissed", t0, map[string]any{"action_id": "email_a", "decision_id": "d-1"})
	if !f.d.Observe(dismiss, f.profile(nil), f.c, nil) {
		t.Fatal("Observe ignored a dismissal")
	}
	for _, c := range []struct {
		at   int64
		want string
	}{{t0 + hour, decide.ReasonSuppressed}, {t0 + 72*hour - 1, decide.ReasonSuppressed}, {t0 + 72*hour, decide.ReasonChosen}} {
		d := f.decide(decide.Input{Now: c.at, Trigger: trigger("e", c.at, nil)})
		if d.Reason != c.want {
			t.Fatalf("at +%dns: %s, want %s", c.at-t0, d.Reason, c.want)
		}
	}
	// Only the dismissed action is suppressed.
	if d := f.decide(decide.Input{Now: t0 + hour, Trigger: trigger("p", t0+hour, nil)}); d.Reason != decide.ReasonChosen {
		t.Fatalf("push: %s", d.Reason)
	}
	// An unknown action is ignored.
	if f.d.Observe(trigger("action_dismissed", t0, map[string]any{"action_id": "nope"}), f.profile(nil), f.c, nil) {
		t.Fatal("Observe used an unknown action")
	}
}

func TestPayloadAndExpiry(t *testing.T) {
	f := newFixture(t, `
decide:
  actions:
    - id: a
      channel: email
      on: [add_to_cart]
      ttl: 6h
      payload:
        sku: "{attrs.sku}"
        qty: "{attrs.qty}"
        missing: "{attrs.nope}"
        cart: "{features.cart_value_1h}"
        tenure: "{profile.tenure_days}"
        seg: "{profile.segment}"
        link: "https://x/?c={customer_id}&e={event_id}&t={type}&r={context.reason}"
        quote: 'say "hi"'
`)
	d := f.decide(decide.Input{Now: t0, Trigger: trigger("add_to_cart", t0, map[string]any{"sku": "S\"1", "qty": 2}),
		Features: f.vec(map[string]float64{"cart_value_1h": 39.98}), Profile: f.profile(map[string]any{"tenure_days": 412, "segment": "vip"}),
		Context: map[string]string{"reason": "billing"}})
	got := map[string]string{}
	for _, p := range d.Payload {
		got[p.Key] = string(p.Raw)
	}
	want := map[string]string{"sku": `"S\"1"`, "qty": `2`, "missing": `null`, "cart": `39.98`, "tenure": `412`, "seg": `"vip"`,
		"link": `"https://x/?c=c-1&e=e-1&t=add_to_cart&r=billing"`, "quote": `"say \"hi\""`}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("payload %s = %s, want %s", k, got[k], v)
		}
	}
	if d.ExpiresAt != t0+6*hour || d.DecidedAt != t0 {
		t.Fatalf("decided %d expires %d", d.DecidedAt, d.ExpiresAt)
	}
}

func TestExplanations(t *testing.T) {
	f := newFixture(t, `
decide:
  models: [{id: lin, file: unused}]
  actions: [{id: a, channel: email, on: [t], model: lin, value: 1}]
`)
	// Contributions: cart 0.004 x 50 = 0.2, purchases -0.1 x 3 = -0.3,
	// tenure 0.0002 x 100 = 0.02.
	d := f.decide(decide.Input{Now: t0, Trigger: trigger("t", t0, nil),
		Features: f.vec(map[string]float64{"cart_value_1h": 50, "purchases_30d": 3}), Profile: f.profile(map[string]any{"tenure_days": 100})})
	var tops []string
	for _, r := range d.Reasons {
		if strings.HasPrefix(r, "top: ") {
			tops = append(tops, r)
		}
	}
	want := []string{"top: purchases_30d -0.30", "top: cart_value_1h +0.20", "top: tenure_days +0.02"}
	if strings.Join(tops, "|") != strings.Join(want, "|") {
		t.Fatalf("top contributions %q, want %q", tops, want)
	}
	if d.Model != "lin@7" {
		t.Fatalf("model %q", d.Model)
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{`
decide:
  actions: [{id: a, channel: email, eligible: 'features.nope > 1'}]
`, `decide.actions[0].eligible: unknown feature "nope"`},
		{`
decide:
  actions: [{id: a, channel: email, eligible: 'features.cart_value_1h >'}]
`, `decide.actions[0].eligible: unexpected token`},
		{`
decide:
  actions: [{id: a, channel: email, eligible: 'features.cart_value_1h + 1'}]
`, `decide.actions[0].eligible: expected bool`},
		{`
decide:
  actions: [{id: a, channel: email, context_weight: '"x"'}]
`, `decide.actions[0].context_weight:`},
		{`
decide:
  actions: [{id: a, channel: email, payload: {x: "{profile.nope}"}}]
`, `unknown profile attribute in {profile.nope}`},
		{`
decide:
  actions: [{id: a, channel: email, payload: {link: "x?c={customer}"}}]
`, `decide.actions[0].payload: link: unknown placeholder {customer}; use {customer_id}, {event_id}, {type}, {attrs.NAME}, {features.NAME}, {profile.NAME} or {context.NAME}`},
		{`
decide:
  actions: [{id: a, channel: email, payload: {a: "{attrs.x"}}]
`, `decide.actions[0].payload: a: unclosed { in "{attrs.x"`},
		{`
decide:
  actions: [{id: a, channel: email, payload: {a: "x}"}}]
`, `decide.actions[0].payload: a: unmatched } in "x}"`},
		{`
decide:
  models: [{id: m, file: models/missing.json}]
`, `decide.models[0].file: cannot load model`},
	}
	for _, c := range cases {
		cfg, err := parseCfg(c.yaml)
		if err != nil {
			t.Fatal(err)
		}
		_, err = newEngine(cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "test.yaml:") {
			t.Errorf("%s: error %v, want test.yaml:...%s", strings.TrimSpace(c.yaml), err, c.want)
		}
	}
}

func TestExampleCatalogue(t *testing.T) {
	_, _, e := exampleEngine(t)
	ids := e.Actions()
	if len(ids) < 20 {
		t.Fatalf("%d actions in the example, want at least 20", len(ids))
	}
	for _, id := range []string{"cart_reminder_email", "cart_reminder_push", "cart_offer_sms", "payment_selfservice_sms",
		"payment_callback", "kyc_reminder_email", "kyc_reminder_sms"} {
		if !slices.Contains(ids, id) {
			t.Errorf("the example has no action %s (the journeys use it)", id)
		}
	}
	if got := strings.Join(e.Models(), " "); got != "cart_recovery@3 cart_recovery_v4@4 channel_choice@1" {
		t.Errorf("models %s", got)
	}
}

func TestBadModelFileKeepsNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(path, []byte(`{"learner": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseCfg(`
decide:
  models: [{id: m, file: ` + path + `}]
  actions: [{id: a, channel: email, model: m}]
`)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := features.NewSet(cfg)
	e, err := decide.New(cfg, set, decide.Options{})
	if e != nil || err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "decide.models[0].file") {
		t.Fatalf("engine %v, error %v; want an error naming %s", e, err, path)
	}
}

func TestEmbeddedModels(t *testing.T) {
	cfg, err := config.Parse(examples.ConfigName, examples.Config)
	if err != nil {
		t.Fatal(err)
	}
	set, err := features.NewSet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e, err := decide.New(cfg, set, decide.Options{Load: decide.FSLoader(examples.Models)})
	if err != nil {
		t.Fatalf("the example does not load from the embedded models: %v", err)
	}
	if len(e.Models()) != 3 {
		t.Fatalf("models %v", e.Models())
	}
}

type refTable map[string]map[string]any

func (r refTable) Lookup(table, key string) (map[string]any, bool) {
	if table != "products" {
		return nil, false
	}
	m, ok := r[key]
	return m, ok
}

func TestReferenceData(t *testing.T) {
	ref := refTable{"S-1": {"margin": 0.4}, "S-2": {"margin": 0.1}}
	yaml := `
decide:
  actions:
    - {id: a, channel: web, on: [t], eligible: '(ref("products", event.attrs.sku)?.margin ?? 0) > 0.2', value: 1}
`
	for _, c := range []struct {
		sku  any
		want bool
	}{{"S-1", true}, {"S-2", false}, {"S-9", false}, {nil, false}} {
		for _, r := range []decide.Reference{ref, nil} {
			f := newFixtureOpts(t, yaml, decide.Options{Reference: r})
			d := f.decide(decide.Input{Now: t0, Trigger: trigger("t", t0, map[string]any{"sku": c.sku})})
			want := c.want && r != nil
			if d.Chosen != want || reasonFor(d, "not eligible a (error") {
				t.Errorf("sku %v, reference %v: chosen %v, want %v; %q", c.sku, r != nil, d.Chosen, want, d.Reasons)
			}
		}
	}
}
