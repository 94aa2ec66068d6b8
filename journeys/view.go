package journeys

// InstanceView is one of a customer's journeys as GET /v1/customers/{id}
// shows it.
type InstanceView struct {
	Journey  string
	Instance string
	// Step is the current step, or the pseudo-step the instance ended with
	// (it is kept while its goal window is open).
	Step   string
	Active bool
	// EnteredAt is when the customer entered the journey, StepEnteredAt
	// the current step (Unix ns, event time).
	EnteredAt, StepEnteredAt int64
	// NextTimer is when the pending timer fires (Unix ns); 0 for none.
	NextTimer int64
	// LastAction is the last action the journey took; "" for none.
	LastAction string
}

// View returns a customer's journeys in the order they started; nil for a
// customer with none. It allocates: it serves the API, not the hot path.
func (s *State) View(customerID []byte) []InstanceView {
	ci := s.lookup(customerID)
	if ci < 0 {
		return nil
	}
	var out []InstanceView
	for i, insts := 0, s.custs[ci].list(); i < len(insts); i++ {
		in := &insts[i]
		if in.dead {
			continue
		}
		v := InstanceView{Journey: s.e.journeys[in.journey].id, Instance: in.id.String(),
			Step: s.stepName(in), Active: in.ended == "", EnteredAt: in.entered,
			StepEnteredAt: in.stepAt, LastAction: in.lastAction}
		if in.armed {
			v.NextTimer = in.due
		}
		out = append(out, v)
	}
	return out
}

// Stats returns the state's counts. It walks every customer: call it for
// metrics, not per event.
func (s *State) Stats() Stats {
	st := s.stats
	st.Customers = s.ids.Len()
	for ci := range s.custs {
		if !s.ids.Live(ci) {
			continue
		}
		c := &s.custs[ci]
		for ii, insts := 0, c.list(); ii < len(insts); ii++ {
			in := &insts[ii]
			switch {
			case in.dead:
			case in.ended == "":
				st.Active++
			default:
				st.AwaitingGoal++
			}
			if in.armed && !in.dead {
				st.PendingTimers++
			}
		}
	}
	return st
}
