package config

import (
	"strings"
	"testing"
)

// TestJourneyErrors checks that each journey mistake is reported at the
// offending value, with what to write instead.
func TestJourneyErrors(t *testing.T) {
	f := func(name, steps string, want ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			t.Helper()
			data := "journeys:\n  - id: j\n    trigger: {event: add_to_cart}\n" + steps
			_, err := ParseWithEnv("m.yaml", []byte(data), noEnv)
			if err == nil {
				t.Fatalf("no error for\n%s", data)
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain %q", err, w)
				}
			}
		})
	}
	f("unknown goto", "    steps:\n      - {id: wait_a, wait: {for: 1m}, next: wiat_b}\n      - {id: wait_b, wait: {for: 1m}}\n",
		`m.yaml:5:45: journeys[0].steps[0].next: "wiat_b" is not a step of this journey; did you mean "wait_b"?`)
	f("wait with neither", "    steps:\n      - {id: w, wait: {then: end}}\n",
		"m.yaml:5:17: journeys[0].steps[0].wait: a wait needs a duration or an event")
	f("wait for and event", "    steps:\n      - {id: w, wait: {for: 1m, event: purchase}}\n",
		"a wait is either for a duration (for) or until an event")
	f("event wait without timeout", "    steps:\n      - {id: w, wait: {event: purchase}}\n",
		"journeys[0].steps[0].wait.timeout: a wait for an event needs a positive timeout")
	f("duplicate step", "    steps:\n      - {id: w, send: a}\n      - {id: w, send: b}\n",
		`m.yaml:6:14: journeys[0].steps[1].id: "w" is already the id of steps[0]`)
	f("reserved step id", "    steps:\n      - {id: end, send: a}\n", `"end" is reserved`)
	f("two kinds", "    steps:\n      - {id: s, send: a, decide: {actions: [b]}}\n",
		"a step is exactly one of wait, branch, decide and send, got 2 (decide, send)")
	f("no kind", "    steps:\n      - {id: s, next: end}\n", "got 0 ()")
	f("no steps", "    steps: []\n", "journeys[0].steps: a journey needs 1 to 256 steps, got 0")
	f("branch without then", "    steps:\n      - {id: b, branch: {when: 'attrs.x > 1'}}\n", "journeys[0].steps[0].branch.then")
	f("bad policy", "    reentry: {policy: sometimes}\n    steps: [{id: s, send: a}]\n",
		`m.yaml:4:23: journeys[0].reentry.policy: "sometimes" is not a re-entry policy`)
	f("cooldown missing", "    reentry: {policy: after_cooldown}\n    steps: [{id: s, send: a}]\n",
		"journeys[0].reentry.cooldown must be greater than 0")
	f("goal without window", "    goal: {event: purchase}\n    steps: [{id: s, send: a}]\n",
		"journeys[0].goal.within must be greater than 0")
	f("bad channel", "    steps: [{id: s, decide: {actions: [a], channel: fax}}]\n", `"fax" is not a channel`)
	f("duplicate journey", "    steps: [{id: s, send: a}]\n  - id: j\n    trigger: {event: purchase}\n    steps: [{id: s, send: a}]\n",
		`journeys[1].id: "j" is already the id of journeys[0]`)
	f("max active", "    steps: [{id: s, send: a}]\njourney_limits: {max_active: 0}\n", "journey_limits.max_active must be at least 1")
}

// TestJourneyDefaults checks the defaults Validate fills in.
func TestJourneyDefaults(t *testing.T) {
	cfg, err := ParseWithEnv("m.yaml", []byte("journeys:\n  - {id: j, trigger: {event: a}, steps: [{id: s, send: x}]}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Journeys[0].Reentry.Policy; got != ReentryNever {
		t.Errorf("default re-entry policy %q, want never", got)
	}
	if cfg.JourneyLimits.MaxActive != 3 {
		t.Errorf("default max_active %d, want 3", cfg.JourneyLimits.MaxActive)
	}
}
