package operators

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// TestActionJourneyExperimentAndNullTrigger: the contract's journey and
// experiment objects appear when set and are null when not; an API
// decision has no trigger.
func TestActionJourneyExperimentAndNullTrigger(t *testing.T) {
	a := Action{DecisionID: DecisionID([]byte("c-1"), []byte("e-1"), "x"), CustomerID: []byte("c-1"),
		ActionID: "cart_reminder_email", Channel: "email", Journey: "cart_abandonment", JourneyStep: "reminder",
		Experiment: "cart_subject_line", Arm: "challenger", Model: "cart_recovery@3"}
	var got map[string]any
	if err := json.Unmarshal(AppendAction(nil, &a), &got); err != nil {
		t.Fatal(err)
	}
	j, _ := got["journey"].(map[string]any)
	e, _ := got["experiment"].(map[string]any)
	if j["id"] != "cart_abandonment" || j["step"] != "reminder" || e["id"] != "cart_subject_line" ||
		e["arm"] != "challenger" || got["model"] != "cart_recovery@3" || got["trigger"] != nil {
		t.Errorf("action = %v", got)
	}
	a.Journey, a.Experiment, a.Model = "", "", ""
	a.TriggerType, a.TriggerEventID = []byte("add_to_cart"), []byte("e-1")
	got = nil
	if err := json.Unmarshal(AppendAction(nil, &a), &got); err != nil {
		t.Fatal(err)
	}
	if got["journey"] != nil || got["experiment"] != nil || got["model"] != nil {
		t.Errorf("unset journey/experiment/model not null: %v", got)
	}
	if tr, _ := got["trigger"].(map[string]any); tr["type"] != "add_to_cart" || tr["event_id"] != "e-1" {
		t.Errorf("trigger = %v", got["trigger"])
	}
	var none map[string]any
	if err := json.Unmarshal(AppendNoAction(nil, a.DecisionID, "capped"), &none); err != nil {
		t.Fatal(err)
	}
	if none["action_id"] != nil || none["reason"] != "capped" || none["decision_id"] != string(a.DecisionID[:]) {
		t.Errorf("no action = %v", none)
	}
}

// TestAppendActionEncoding: timestamps are RFC 3339 UTC with milliseconds,
// payload values are written as the JSON they are, in the order given, and
// the record parses.
func TestAppendActionEncoding(t *testing.T) {
	ts := time.Date(2026, 12, 4, 19, 14, 15, 123456789, time.FixedZone("", 3600)).UnixNano()
	a := Action{DecisionID: DecisionID([]byte("c-é"), []byte("e-9"), "decide"), CustomerID: []byte("c-é"),
		ActionID: "checkout_nudge_push", Channel: "push", Score: 1.5, Propensity: 1, Value: 1.5, Weight: 1,
		Reasons:        []string{"cap push: 0/3 per 1d", `say "hi" \ bye`},
		TriggerEventID: []byte("e-9"), TriggerType: []byte("checkout_start"), TriggerTS: ts,
		DecidedAt: ts, ExpiresAt: ts + int64(time.Hour),
		Payload: []PayloadField{{"cart_value", []byte("59.9")}, {"banner", []byte(`"checkout-help"`)}, {"missing", []byte("null")}}}
	out := AppendAction(nil, &a)
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	trig, _ := got["trigger"].(map[string]any)
	if trig["ts"] != "2026-12-04T18:14:15.123Z" || got["decided_at"] != "2026-12-04T18:14:15.123Z" ||
		got["expires_at"] != "2026-12-04T19:14:15.123Z" {
		t.Errorf("timestamps: trigger %v decided %v expires %v", trig["ts"], got["decided_at"], got["expires_at"])
	}
	if got["customer_id"] != "c-é" || got["score"] != 1.5 || got["reasons"].([]any)[1] != `say "hi" \ bye` {
		t.Errorf("action = %s", out)
	}
	if !strings.Contains(string(out), `"payload":{"cart_value":59.9,"banner":"checkout-help","missing":null}}`) {
		t.Errorf("payload not as given: %s", out)
	}
	a.Score = math.NaN()
	if err := json.Unmarshal(AppendAction(nil, &a), &got); err != nil || got["score"] != nil {
		t.Errorf("NaN score: %v %v", err, got["score"])
	}
}

func TestDecisionIDDeterministic(t *testing.T) {
	a := DecisionID([]byte("c-1"), []byte("e-1"), "decide")
	if a != DecisionID([]byte("c-1"), []byte("e-1"), "decide") {
		t.Fatal("same input, different id")
	}
	for _, other := range [][DecisionIDLen]byte{
		DecisionID([]byte("c-2"), []byte("e-1"), "decide"),
		DecisionID([]byte("c-1"), []byte("e-2"), "decide"),
		DecisionID([]byte("c-1"), []byte("e-1"), "journey"),
		DecisionID([]byte("c-1e"), []byte("-1"), "decide"), // field boundaries matter
	} {
		if other == a {
			t.Errorf("collision with %s", other)
		}
	}
	if s := string(a[:]); !strings.HasPrefix(s, "d-") || len(s) != 18 || strings.Trim(s[2:], "0123456789abcdef") != "" {
		t.Errorf("id %q is not d- and 16 hex digits", s)
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
