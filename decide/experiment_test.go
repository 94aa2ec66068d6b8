package decide_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/meridian/meridian/decide"
	"github.com/meridian/meridian/models"
)

const experimentYAML = `
decide:
  models: [{id: lin, file: unused}, {id: lin_v4, file: unused}]
  actions:
    - {id: a, channel: email, on: [t], model: lin, value: 2}
    - {id: b, channel: web, on: [u], value: 1}
  experiments:
    - id: subject
      actions: [a]
      arms:
        - {name: champion, share: 0.45}
        - {name: challenger, share: 0.45, model: lin_v4}
        - {name: control, share: 0.10, control: true}
`

func TestExperimentSplit(t *testing.T) {
	f := newFixture(t, experimentYAML)
	shares := map[string]float64{"champion": 0.45, "challenger": 0.45, "control": 0.10}
	const n = 100000
	counts := map[string]int{}
	for i := range n {
		counts[f.e.Arm("subject", fmt.Appendf(nil, "c-%d", i))]++
	}
	chi2 := 0.0
	for arm, p := range shares {
		exp := p * n
		chi2 += (float64(counts[arm]) - exp) * (float64(counts[arm]) - exp) / exp
	}
	// Two degrees of freedom: P(chi2 > 13.82) = 0.001 for a fair split.
	if chi2 > 13.82 || len(counts) != 3 {
		t.Fatalf("arms %v: chi-square %.2f exceeds 13.82", counts, chi2)
	}
	// Stable per customer, and the one Decide uses.
	for i := range 200 {
		id := fmt.Appendf(nil, "c-%d", i)
		arm := f.e.Arm("subject", id)
		d := f.decide(decide.Input{CustomerID: id, Now: t0, Trigger: trigger("t", t0, nil)})
		if d.Arm != arm || d.Experiment != "subject" || f.e.Arm("subject", id) != arm {
			t.Fatalf("customer %s: decision arm %q, Arm %q", id, d.Arm, arm)
		}
	}
	// A decision the experiment does not cover carries no arm.
	if d := f.decide(decide.Input{Now: t0, Trigger: trigger("u", t0, nil)}); d.Experiment != "" || d.Arm != "" {
		t.Fatalf("uncovered decision in %s/%s", d.Experiment, d.Arm)
	}
}

func TestControlArmAndChallenger(t *testing.T) {
	f := newFixture(t, experimentYAML)
	seen := map[string]bool{}
	for i := 0; len(seen) < 3 && i < 1000; i++ {
		id := fmt.Appendf(nil, "c-%d", i)
		arm := f.e.Arm("subject", id)
		if seen[arm] {
			continue
		}
		seen[arm] = true
		d := f.decide(decide.Input{CustomerID: id, Now: t0, Trigger: trigger("t", t0, nil),
			Features: f.vec(map[string]float64{"cart_value_1h": 50}), Send: true})
		switch arm {
		case "control":
			if d.Chosen || d.Reason != decide.ReasonControlArm || d.ActionID != "a" || len(d.Payload) != 0 {
				t.Fatalf("control: chosen %v reason %s action %q", d.Chosen, d.Reason, d.ActionID)
			}
			if _, ok := f.c.AppendCustomer(nil, id); ok {
				t.Fatal("the control arm reserved a contact")
			}
		case "challenger", "champion":
			want := map[string]string{"challenger": "lin_v4@7", "champion": "lin@7"}[arm]
			if !d.Chosen || d.Model != want {
				t.Fatalf("%s: chosen %v model %s, want %s", arm, d.Chosen, d.Model, want)
			}
			if _, ok := f.c.AppendCustomer(nil, id); !ok {
				t.Fatalf("%s: the send was not reserved", arm)
			}
		}
	}
	if len(seen) != 3 {
		t.Fatalf("arms seen: %v", seen)
	}
}

const adaptiveYAML = `
decide:
  adaptive: {prior: {alpha: 1, beta: 1}, draws: 32}
  actions:
    - {id: x1, channel: web, on: [t], model: adaptive, value: 1}
    - {id: x2, channel: web, on: [t], model: adaptive, value: 1}
    - {id: fixed, channel: email, on: [f], value: 1}
`

func TestProbability(t *testing.T) {
	l := models.NewLearner()
	f := newFixtureOpts(t, adaptiveYAML, decide.Options{Learner: l})
	// Deterministic argmax: probability 1.
	if d := f.decide(decide.Input{Now: t0, Trigger: trigger("f", t0, nil)}); d.Probability != 1 {
		t.Fatalf("deterministic probability %v", d.Probability)
	}
	// Equal posteriors: each action about half the time, and the recorded
	// probabilities average about one half.
	const n = 4000
	x1, sumP := 0, 0.0
	for range n {
		d := f.decide(decide.Input{Now: t0, Trigger: trigger("t", t0, nil)})
		if d.ActionID == "x1" {
			x1++
		}
		sumP += d.Probability
	}
	if share := float64(x1) / n; math.Abs(share-0.5) > 0.04 {
		t.Fatalf("x1 chosen %.3f of the time with equal posteriors", share)
	}
	if mean := sumP / n; math.Abs(mean-0.5) > 0.06 {
		t.Fatalf("mean probability %.3f, want about 0.5", mean)
	}
	// A clear winner: x1 at 50%, x2 at 10%.
	tally := models.NewTally()
	tally.Add("x1", nil, 1000, 500)
	tally.Add("x2", nil, 1000, 100)
	publish(t, l, 0, tally)
	d := f.decide(decide.Input{Now: t0, Trigger: trigger("t", t0, nil)})
	if d.ActionID != "x1" || d.Probability < 0.95 {
		t.Fatalf("chose %s with probability %v, want x1 near 1", d.ActionID, d.Probability)
	}
	// A replay with the same decision id makes the same choice.
	in := decide.Input{Now: t0, Trigger: trigger("t", t0, nil), DecisionID: f.id()}
	for range 50 {
		in.DecisionID = f.id()
		a, c := f.decide(in), f.decide(in)
		if a.ActionID != c.ActionID || a.Propensity != c.Propensity || a.Probability != c.Probability {
			t.Fatalf("replay differs: %s %v %v vs %s %v %v", a.ActionID, a.Propensity, a.Probability, c.ActionID, c.Propensity, c.Probability)
		}
	}
}

func publish(t testing.TB, l *models.Learner, p int32, tally *models.Tally) {
	t.Helper()
	b, err := tally.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Publish(p, b); err != nil {
		t.Fatal(err)
	}
}

func TestProbabilityMixed(t *testing.T) {
	l := models.NewLearner()
	tally := models.NewTally()
	tally.Add("x", nil, 1000, 500) // about 0.5
	publish(t, l, 0, tally)
	f := newFixtureOpts(t, `
decide:
  adaptive: {draws: 64}
  actions:
    - {id: x, channel: web, on: [t], model: adaptive, value: 1}
    - {id: low, channel: email, on: [t], value: 0.5, context_weight: 'context.v == "low" ? 1 : 4'}
`, decide.Options{Learner: l})
	// low at 0.5 x 4 = 2 > 1, the most x can reach: certain.
	d := f.decide(decide.Input{Now: t0, Trigger: trigger("t", t0, nil)})
	if d.ActionID != "low" || d.Probability != 1 {
		t.Fatalf("chose %s with probability %v, want low with 1", d.ActionID, d.Probability)
	}
	// low at 0.5 against x's draws around 0.5: a coin flip, estimated.
	wins, sum := 0, 0.0
	const n = 1000
	for range n {
		d := f.decide(decide.Input{Now: t0, Trigger: trigger("t", t0, nil), Context: map[string]string{"v": "low"}})
		if d.ActionID == "x" {
			wins++
			sum += d.Probability
		} else {
			sum += 1 - d.Probability
		}
		if d.Probability <= 0 || d.Probability >= 1 {
			t.Fatalf("probability %v of a contested choice", d.Probability)
		}
	}
	if share, est := float64(wins)/n, sum/n; math.Abs(share-0.5) > 0.06 || math.Abs(est-share) > 0.06 {
		t.Fatalf("x won %.3f, estimated %.3f; want both about 0.5", share, est)
	}
}
