package decide_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/meridian/meridian/decide"
	"github.com/meridian/meridian/models"
)

const banditYAML = `
decide:
  adaptive: {segment: segment, prior: {alpha: 1, beta: 19}, draws: 4}
  actions:
    - {id: r02, channel: web, on: [visit], model: adaptive, value: 1}
    - {id: r05, channel: web, on: [visit], model: adaptive, value: 1}
    - {id: r08, channel: web, on: [visit], model: adaptive, value: 1}
    - {id: r12, channel: web, on: [visit], model: adaptive, value: 1}
`

// TestBanditConverges simulates two partitions (tasks) deciding for
// their customers with outcomes drawn from known click rates, each
// counting its own outcomes and publishing its tally every 250 decisions
// to the shared Learner, as the tally topic would. The best action must
// win most of the late decisions of both.
func TestBanditConverges(t *testing.T) {
	rates := map[string]float64{"r02": 0.02, "r05": 0.05, "r08": 0.08, "r12": 0.12}
	l := models.NewLearner()
	type task struct {
		f     *fixture
		tally *models.Tally
	}
	var tasks [2]task
	for i := range tasks {
		tasks[i] = task{f: newFixtureOpts(t, banditYAML, decide.Options{Learner: l}), tally: models.NewTally()}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	prof := tasks[0].f.profile(map[string]any{"segment": "retail"})
	const n, tail = 30000, 6000
	best := [2]int{}
	for i := range n {
		p := i % 2
		tk := &tasks[p]
		id := fmt.Appendf(nil, "c-%d", rng.IntN(5000))
		d := tk.f.decide(decide.Input{CustomerID: id, Now: t0, Trigger: trigger("visit", t0, nil), Profile: prof})
		if !d.Chosen {
			t.Fatalf("nothing chosen: %s", d.Reason)
		}
		out := trigger("action_delivered", t0, map[string]any{"action_id": d.ActionID})
		tk.f.d.Observe(out, prof, nil, tk.tally)
		if rng.Float64() < rates[d.ActionID] {
			out = trigger("action_clicked", t0, map[string]any{"action_id": d.ActionID})
			tk.f.d.Observe(out, prof, nil, tk.tally)
		}
		if i >= n-tail && d.ActionID == "r12" {
			best[p]++
		}
		if i%250 == 249 {
			for q := range tasks {
				publish(t, l, int32(q), tasks[q].tally)
			}
		}
	}
	t.Logf("best action share in the last decisions: %v of %d each", best, tail/2)
	for p, b := range best {
		if share := float64(b) / (tail / 2); share < 0.8 {
			t.Errorf("partition %d: the best action won %.2f of the last %d decisions, want > 0.8", p, share, tail/2)
		}
	}
	// Each partition's counts reached the other: the Learner's total is
	// the sum of both tallies.
	key := models.BanditKey("r12", []byte("retail"))
	sum := tasks[0].tally.Get("r12", []byte("retail")).Trials + tasks[1].tally.Get("r12", []byte("retail")).Trials
	if got := l.Counts(key).Trials; got != sum || tasks[0].tally.Get("r12", []byte("retail")).Trials == 0 || tasks[1].tally.Get("r12", []byte("retail")).Trials == 0 {
		t.Fatalf("learner trials %d, partitions' sum %d", got, sum)
	}

	// A reload adds an action: it starts from the prior (mean 0.05),
	// while the others keep what was learnt (keyed by name).
	f := newFixtureOpts(t, banditYAML+`    - {id: fresh, channel: web, on: [visit], model: adaptive, value: 1}
`, decide.Options{Learner: l})
	if c := l.Counts(models.BanditKey("fresh", []byte("retail"))); c.Trials != 0 {
		t.Fatalf("a new action has counts %+v", c)
	}
	var sumFresh float64
	const draws = 4000
	wins := 0
	for range draws {
		d := f.decide(decide.Input{Now: t0, Trigger: trigger("visit", t0, nil), Profile: prof})
		for _, c := range d.Candidates {
			if c.ActionID == "fresh" {
				sumFresh += c.Propensity
			}
		}
		if d.ActionID == "r12" {
			wins++
		}
	}
	if mean := sumFresh / draws; math.Abs(mean-0.05) > 0.01 {
		t.Fatalf("the new action's draws average %.4f, want the prior mean 0.05", mean)
	}
	if float64(wins)/draws < 0.6 {
		t.Fatalf("after the reload the best action won only %d of %d", wins, draws)
	}
}
