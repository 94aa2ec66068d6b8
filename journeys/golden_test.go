package journeys

import (
	"strings"
	"testing"
)

// The reference journeys of examples/meridian.yaml, events in, transitions,
// actions and goal credits out, reviewed as golden files.
var scenarios = []struct {
	name, extra, script string
}{
	{"cart_happy_path", "", `
		# abandoned: reminder after 30 min, offer a day later, bought after that
		ev add_to_cart c1 +0s price=20
		wm +29m59s
		wm +30m
		wm +24h29m
		wm +24h30m
		ev purchase c1 +30h value=40`},
	{"cart_exit_before_reminder", "", `
		ev add_to_cart c1 +0s price=20
		ev purchase c1 +10m value=20
		wm +48h`},
	{"cart_exit_after_reminder", "", `
		ev add_to_cart c1 +0s price=20
		wm +31m
		ev purchase c1 +2h value=20
		wm +48h`},
	{"cart_condition_false", "", `
		ev add_to_cart c1 +0s price=0
		wm +48h`},
	{"cart_reentry_cooldown", "", `
		ev add_to_cart c1 +0s price=20
		# a second cart while in the journey starts nothing
		ev add_to_cart c1 +10m price=5
		ev purchase c1 +20m value=25
		# within the 24h cooldown after the exit: refused
		ev add_to_cart c1 +12h price=5
		# after it: a new instance
		ev add_to_cart c1 +24h21m price=5
		wm +24h52m`},
	{"payment_timeout", "", `
		ev payment_failed c2 +0s amount=30
		wm +47h59m
		wm +48h
		# paid after the callback: still the goal, credited to the callback
		ev payment_succeeded c2 +50h amount=30`},
	{"payment_exit_and_reentry_always", "", `
		ev payment_failed c2 +0s amount=30
		ev payment_succeeded c2 +3h amount=30
		# always: a new failure starts again at once
		ev payment_failed c2 +4h amount=30
		wm +52h`},
	{"onboarding_verified_before_reminder", "", `
		ev account_opened c3 +0s
		ev kyc_verified c3 +2h
		wm +720h`},
	{"onboarding_reminders_until_max", "", `
		ev account_opened c3 +0s
		wm +24h
		wm +96h
		wm +168h
		wm +240h
		# never: opening another account does not start it again
		ev account_opened c3 +241h
		wm +960h`},
	{"onboarding_verified_after_reminder", "", `
		ev account_opened c3 +0s
		wm +24h
		wm +96h
		ev kyc_verified c3 +100h
		wm +960h`},
	{"concurrent_journeys", "", `
		# one customer in all three journeys at once, each on its own timers
		ev account_opened c4 +0s
		ev add_to_cart c4 +5m price=20
		ev payment_failed c4 +10m amount=30
		wm +24h
		ev purchase c4 +25h value=20
		wm +72h`},
	{"max_active_and_priority", "journey_limits: {max_active: 2}\n", `
		ev account_opened c5 +0s
		ev add_to_cart c5 +1m price=20
		# at the limit: payment_recovery (20) displaces onboarding (5)
		ev payment_failed c5 +2m amount=30
		# never: onboarding does not start again after giving way
		ev account_opened c5 +3m
		# another customer at the limit with only higher priorities: refused
		ev add_to_cart c6 +0s price=20
		ev payment_failed c6 +1m amount=30
		ev account_opened c6 +2m
		wm +31m`},
}

func TestGolden(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			r := newRun(t, exampleEngine(t, sc.extra))
			r.script(sc.script)
			golden(t, sc.name, append(r.lines, r.act.log...))
		})
	}
}

// TestPriorityOrder checks that journeys triggered by one event start in
// priority order and the lower one is refused at the limit.
func TestPriorityOrder(t *testing.T) {
	extra := `  - id: low
    priority: 1
    trigger: {event: payment_failed}
    reentry: {policy: always}
    steps: [{id: note, wait: {for: 1h}}]
  - id: high
    priority: 50
    trigger: {event: payment_failed}
    reentry: {policy: always}
    steps: [{id: call, wait: {for: 1h}}]
journey_limits: {max_active: 2}
`
	r := newRun(t, exampleEngineJourneys(t, extra))
	r.script("ev payment_failed c9 +0s")
	var entered []string
	for _, l := range r.lines {
		if strings.Contains(l, ": - -> ") {
			entered = append(entered, strings.Fields(l)[2])
		}
	}
	if strings.Join(entered, ",") != "high,payment_recovery" {
		t.Errorf("entered %v, want high then payment_recovery (low refused at max_active 2)\n%s", entered, strings.Join(r.lines, "\n"))
	}
	if r.st.Stats().Refused != 1 {
		t.Errorf("refused %d, want 1", r.st.Stats().Refused)
	}
}

// exampleEngineJourneys appends journeys to the example's list.
func exampleEngineJourneys(t *testing.T, extra string) *Engine {
	t.Helper()
	return exampleEngine(t, "\n"+strings.Replace(extra, "journey_limits", "journey_limits", 1))
}
