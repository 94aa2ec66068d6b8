package decide

import (
	"github.com/meridian/meridian/config"
)

type experiment struct {
	id      string
	actions []bool // by action index: covered
	arms    []arm
}

type arm struct {
	name    string
	upTo    float64 // cumulative share
	model   int     // replacement model index, -1: none
	control bool
}

func (e *Engine) compileExperiments(cfg *config.Config) error {
	for i, c := range cfg.Decide.Experiments {
		x := experiment{id: c.ID, actions: make([]bool, len(e.actions))}
		for _, id := range c.Actions {
			j, ok := e.byID[id]
			if !ok {
				return cfg.ErrorAt("decide.experiments", "decide.experiments[%d].actions: %q is not an action", i, id)
			}
			x.actions[j] = true
		}
		for j := range e.actions {
			if c.Channel != "" && e.actions[j].channel == c.Channel {
				x.actions[j] = true
			}
		}
		cum := 0.0
		for _, a := range c.Arms {
			cum += a.Share
			m := -1
			if a.Model != "" {
				k, ok := e.modelIdx[a.Model]
				if !ok {
					return cfg.ErrorAt("decide.experiments", "decide.experiments[%d]: arm %s: model %q is not in decide.models", i, a.Name, a.Model)
				}
				m = k
			}
			x.arms = append(x.arms, arm{name: a.Name, upTo: cum, model: m, control: a.Control})
		}
		if n := len(x.arms); n > 0 {
			x.arms[n-1].upTo = 2 // rounding never leaves a customer out
		}
		e.exps = append(e.exps, x)
	}
	return nil
}

// assign returns the arm of customer in x: a deterministic function of
// the experiment id and the customer id, uniform over [0, 1).
func (x *experiment) assign(customer []byte) *arm {
	h := uint64(14695981039346656037)
	for i := 0; i < len(x.id); i++ {
		h = (h ^ uint64(x.id[i])) * 1099511628211
	}
	h = (h ^ 0xff) * 1099511628211
	for _, c := range customer {
		h = (h ^ uint64(c)) * 1099511628211
	}
	// Finalize (SplitMix64) so that neighbouring ids spread evenly.
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9
	h = (h ^ (h >> 27)) * 0x94d049bb133111eb
	h ^= h >> 31
	u := float64(h>>11) / (1 << 53)
	for i := range x.arms {
		if u < x.arms[i].upTo {
			return &x.arms[i]
		}
	}
	return &x.arms[len(x.arms)-1]
}

// Arm returns the arm of a customer in experiment id, or "" when there is
// no such experiment. The assignment is the one Decide uses.
func (e *Engine) Arm(experimentID string, customer []byte) string {
	for i := range e.exps {
		if e.exps[i].id == experimentID {
			return e.exps[i].assign(customer).name
		}
	}
	return ""
}
