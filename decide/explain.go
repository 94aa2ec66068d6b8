package decide

import (
	"math"
	"strconv"

	"github.com/meridian/meridian/models"
)

// topContributions is how many feature contributions a decision's
// reasons name.
const topContributions = 3

// explain appends the top contributions of model m's output k to the
// reasons, as "top: NAME +0.41", largest magnitude first; contributions
// that round to 0.00 are left out.
func (d *Decider) explain(in *Input, m, k int) {
	mod := &d.e.models[m]
	d.x = d.inputs(in, m, d.x)
	d.contrib = mod.s.Explain(d.x, k, d.contrib[:0])
	names := mod.s.Inputs()
	var used [topContributions]int
	for n := 0; n < topContributions; n++ {
		best := -1
		for i, c := range d.contrib {
			if math.Abs(c) < 0.005 || math.IsNaN(c) || i >= len(names) || taken(used[:n], i) {
				continue
			}
			if best < 0 || math.Abs(c) > math.Abs(d.contrib[best]) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		used[n] = best
		start := len(d.rbuf)
		d.rbuf = append(d.rbuf, "top: "...)
		d.rbuf = append(d.rbuf, names[best]...)
		d.rbuf = append(d.rbuf, ' ')
		if d.contrib[best] >= 0 {
			d.rbuf = append(d.rbuf, '+')
		}
		d.rbuf = strconv.AppendFloat(d.rbuf, d.contrib[best], 'f', 2, 64)
		d.reasons = append(d.reasons, d.text(start))
	}
}

func taken(used []int, i int) bool {
	for _, u := range used {
		if u == i {
			return true
		}
	}
	return false
}

// probability estimates the probability that the policy picks candidate
// k. Only the adaptive model is random. An adaptive contender can win only
// if its value x weight x context weight exceeds the best priority of the
// deterministic contenders (a Beta draw is below 1); with no such
// contender the choice is a deterministic argmax (ties go to the first
// considered) and the probability is 1. Otherwise those contenders are
// drawn again `draws` times from their posteriors, with seeds derived from
// the decision id, and the probability is the share of the draws, the
// real one included, that k wins. With draws: 0 it is -1 (unknown).
func (d *Decider) probability(in *Input, k int) float64 {
	floor := 0.0
	for j, i := range d.cand {
		if d.block[j] == "" && d.e.actions[i].model != adaptiveModel {
			floor = max(floor, d.prio[j])
		}
	}
	random := false
	for j, i := range d.cand {
		if d.block[j] == "" && d.e.actions[i].model == adaptiveModel && d.base[j] > floor {
			random = true
			break
		}
	}
	if !random {
		return 1
	}
	draws := d.e.adaptive.draws
	if draws <= 0 {
		return -1
	}
	wins := 1
	for r := 1; r <= draws; r++ {
		rng := models.NewRand(seed(in.DecisionID) ^ uint64(r)*0xd1b54a32d192ed03)
		best, bestPrio := -1, 0.0
		for j, i := range d.cand {
			if d.block[j] != "" {
				continue
			}
			p := d.prio[j]
			if d.e.actions[i].model == adaptiveModel {
				if d.base[j] <= floor {
					continue // cannot win
				}
				p = rng.Beta(d.alpha[j], d.beta[j]) * d.base[j]
			}
			if best < 0 || p > bestPrio {
				best, bestPrio = j, p
			}
		}
		if best == k {
			wins++
		}
	}
	return float64(wins) / float64(draws+1)
}
