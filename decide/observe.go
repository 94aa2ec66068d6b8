package decide

import (
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/features"
	"github.com/meridian/meridian/models"
)

// Observe learns from an outcome event (action_dismissed, and the
// adaptive model's trial and reward types) and reports whether it used
// it. A dismissal suppresses attrs.action_id for the customer for
// suppress_after_dismissal from the event's time; a trial or reward
// counts for (attrs.action_id, the customer's segment) in tally, which the
// task writes to the tally topic at checkpoints. Actions the catalogue
// does not know are ignored. It allocates only for a pair the tally has
// not seen.
func (d *Decider) Observe(ev *event.Event, profile features.Profile, contacts *Contacts, tally *models.Tally) bool {
	id, ok := ev.Str("action_id")
	if !ok {
		return false
	}
	i, ok := d.e.byID[string(id)]
	if !ok {
		return false
	}
	a := &d.e.actions[i]
	used := false
	if ev.TypeIs("action_dismissed") && contacts != nil && d.e.policy.suppress > 0 {
		contacts.dismiss(ev.CustomerID, a.key, ev.TS, ev.TS+d.e.policy.suppress)
		used = true
	}
	if tally == nil {
		return used
	}
	ad := &d.e.adaptive
	trial, reward := typeIn(ev, ad.trials), typeIn(ev, ad.rewards)
	if !trial && !reward {
		return used
	}
	var seg []byte
	if ad.segment >= 0 {
		seg, _ = profile.Str(ad.segment)
	}
	var t, s uint64
	if trial {
		t = 1
	}
	if reward {
		s = 1
	}
	tally.Add(a.id, seg, t, s)
	return true
}

func typeIn(ev *event.Event, types []string) bool {
	for _, t := range types {
		if ev.TypeIs(t) {
			return true
		}
	}
	return false
}

// Outcome reports whether events of type t are outcomes Observe uses.
func (e *Engine) Outcome(t []byte) bool {
	if string(t) == "action_dismissed" {
		return true
	}
	for _, list := range [2][]string{e.adaptive.trials, e.adaptive.rewards} {
		for _, x := range list {
			if string(t) == x {
				return true
			}
		}
	}
	return false
}
