package operators

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/event"
)

func testRules(t testing.TB) *Rules {
	t.Helper()
	r, err := NewRules([]config.Rule{
		{ID: "pf", Event: "payment_failed", Action: "selfservice_sms", Channel: "sms", Value: 3, Weight: 1, TTL: 24 * time.Hour,
			Payload: map[string]string{"link": "https://x/?c={customer_id}&inv={attrs.invoice_id}", "amount": "{attrs.amount}",
				"missing": "{attrs.nope}", "flag": "{attrs.retry}", "label": `say "{type}" \ {event_id}`}},
		{ID: "pf_low", Event: "payment_failed", Action: "low_value_email", Channel: "email", Value: 1, Weight: 2, TTL: time.Hour},
		{ID: "co", Event: "checkout_start", Action: "nudge", Channel: "push", Value: 1, Weight: 1, TTL: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func decodeOne(t testing.TB, rec string) *event.Event {
	t.Helper()
	var d Decoder
	ev := new(event.Event)
	var probe struct {
		C string `json:"customer_id"`
	}
	_ = json.Unmarshal([]byte(rec), &probe)
	if err := d.Decode([]byte(probe.C), []byte(rec), ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestRulesDecideAndEncode(t *testing.T) {
	r := testRules(t).NewDecider()
	ev := decodeOne(t, `{"event_id":"e-9","type":"payment_failed","customer_id":"c-\u00e9","ts":"2026-12-04T20:14:15.123456+01:00",`+
		`"attrs":{"invoice_id":"inv-1","amount":19.5,"retry":true}}`)
	var a Action
	if !r.Decide(ev, &a) {
		t.Fatal("no decision for payment_failed")
	}
	out := AppendAction(nil, &a)
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	// The higher value x weight wins: 3x1 over 1x2.
	if got["action_id"] != "selfservice_sms" || got["channel"] != "sms" || got["customer_id"] != "c-é" {
		t.Errorf("wrong action: %s", out)
	}
	trig := got["trigger"].(map[string]any)
	if trig["ts"] != "2026-12-04T19:14:15.123Z" || got["decided_at"] != "2026-12-04T19:14:15.123Z" ||
		got["expires_at"] != "2026-12-05T19:14:15.123Z" {
		t.Errorf("timestamps: trigger %v decided %v expires %v", trig["ts"], got["decided_at"], got["expires_at"])
	}
	p := got["payload"].(map[string]any)
	want := map[string]any{"link": "https://x/?c=c-é&inv=inv-1", "amount": 19.5, "missing": nil, "flag": true,
		"label": `say "payment_failed" \ e-9`}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("payload %s = %#v, want %#v", k, p[k], v)
		}
	}
	// Payload keys are sorted, so the bytes are stable.
	if !strings.Contains(string(out), `"payload":{"amount":19.5,"flag":true,"label":`) {
		t.Errorf("payload not in key order: %s", out)
	}
}

func TestRulesNoMatch(t *testing.T) {
	var a Action
	if testRules(t).NewDecider().Decide(decodeOne(t, `{"event_id":"e","type":"page_view","customer_id":"c","ts":1}`), &a) {
		t.Fatal("page_view has no rule but produced an action")
	}
}

func TestDecisionIDDeterministic(t *testing.T) {
	a := DecisionID([]byte("c-1"), []byte("e-1"), "pf")
	if a != DecisionID([]byte("c-1"), []byte("e-1"), "pf") {
		t.Fatal("same input, different id")
	}
	for _, other := range [][DecisionIDLen]byte{
		DecisionID([]byte("c-2"), []byte("e-1"), "pf"),
		DecisionID([]byte("c-1"), []byte("e-2"), "pf"),
		DecisionID([]byte("c-1"), []byte("e-1"), "co"),
		DecisionID([]byte("c-1e"), []byte("-1"), "pf"), // field boundaries matter
	} {
		if other == a {
			t.Errorf("collision with %s", other)
		}
	}
	if s := string(a[:]); !strings.HasPrefix(s, "d-") || len(s) != 18 || strings.Trim(s[2:], "0123456789abcdef") != "" {
		t.Errorf("id %q is not d- and 16 hex digits", s)
	}
}

func TestBadTemplatesRefused(t *testing.T) {
	for _, tpl := range []string{"{customer}", "{attrs.}", "a}b", "{attrs.x", "x{}"} {
		_, err := NewRules([]config.Rule{{ID: "r", Event: "e", Payload: map[string]string{"k": tpl}}})
		if err == nil || !strings.Contains(err.Error(), `rule "r" payload "k"`) {
			t.Errorf("template %q: err %v", tpl, err)
		}
	}
}

func TestAppendJSONStringEscapes(t *testing.T) {
	in := []byte("a\"b\\c\n\x01\x7f\xffé")
	out := AppendJSONString(nil, in)
	var s string
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if s != "a\"b\\c\n\x01\x7f\uFFFDé" {
		t.Errorf("round trip %q", s)
	}
}

func TestProcessAllocatesNothing(t *testing.T) {
	p := NewProcessor(testRules(t), nil)
	key := []byte("c-1042")
	rec := []byte(`{"event_id":"8f1c2a","type":"payment_failed","customer_id":"c-1042","ts":"2026-12-04T19:14:15.123Z",` +
		`"source":"bss","attrs":{"invoice_id":"inv-7","amount":42.5,"reason":"card_declined"}}`)
	var out Output
	if err := p.Process(key, rec, 0, &out); err != nil || out.Len() != 1 {
		t.Fatalf("warm-up: %v %d actions", err, out.Len())
	}
	if n := testing.AllocsPerRun(200, func() { out.Reset(); _ = p.Process(key, rec, 0, &out) }); n != 0 {
		t.Errorf("Process allocates %.1f times per event", n)
	}
}

func BenchmarkProcess(b *testing.B) {
	p := NewProcessor(testRules(b), nil)
	key := []byte("c-1042")
	recs := map[string][]byte{
		"no_action": []byte(`{"event_id":"e-1","type":"page_view","customer_id":"c-1042","ts":"2026-12-04T19:14:15.123Z","source":"web","session_id":"s-77","attrs":{"url":"/p/19","device":"mobile"}}`),
		"action": []byte(`{"event_id":"8f1c2a","type":"payment_failed","customer_id":"c-1042","ts":"2026-12-04T19:14:15.123Z",` +
			`"source":"bss","attrs":{"invoice_id":"inv-7","amount":42.5,"reason":"card_declined"}}`),
	}
	for name, rec := range recs {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(rec)))
			var out Output
			for b.Loop() {
				out.Reset()
				_ = p.Process(key, rec, 0, &out)
			}
		})
	}
}
