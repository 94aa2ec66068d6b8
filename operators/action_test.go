package operators

import (
	"encoding/json"
	"testing"
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
