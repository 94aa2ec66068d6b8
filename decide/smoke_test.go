package decide_test

import (
	"testing"

	"github.com/meridian/meridian/decide"
)

func TestSmoke(t *testing.T) {
	f := newFixture(t, `
decide:
  models: [{id: lin, file: x}]
  actions:
    - {id: a, channel: email, on: [add_to_cart], eligible: 'features.cart_value_1h > 20 && profile.segment != "churned"', model: lin, value: 2, payload: {sku: "{attrs.sku}", v: "{features.cart_value_1h}", s: "x-{profile.segment}"}}
    - {id: b, channel: sms, on: [add_to_cart], eligible: '(profile.tenure_days ?? 0) > 30', value: 1}
`)
	d := f.decide(decide.Input{Now: t0, Trigger: trigger("add_to_cart", t0, map[string]any{"sku": "S-1"}),
		Features: f.vec(map[string]float64{"cart_value_1h": 50}), Profile: f.profile(map[string]any{"segment": "vip", "tenure_days": 10}), Send: true})
	t.Logf("%+v", d)
	for _, p := range d.Payload {
		t.Logf("%s=%s", p.Key, p.Raw)
	}
}
