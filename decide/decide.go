package decide

import (
	"encoding/binary"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/expr-lang/expr/vm"

	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/features"
	"github.com/meridian/meridian/models"
)

// Reasons a decision chose what it chose (Decision.Reason), and why a
// candidate was blocked (Candidate.Blocked).
const (
	ReasonChosen        = "chosen"
	ReasonNoEligible    = "no_eligible_action"
	ReasonCapped        = "capped"
	ReasonQuietHours    = "quiet_hours"
	ReasonNoConsent     = "no_consent"
	ReasonSuppressed    = "suppressed"
	ReasonControlArm    = "control_arm"
	blockedNotEligible  = "not_eligible"
	blockedOtherChannel = "other_channel"
)

// Input is what one decision reads. Slices are read only during Decide.
type Input struct {
	// DecisionID is derived deterministically by the caller; it also seeds
	// the adaptive model's draws, so a replay makes the same choice.
	DecisionID [18]byte
	CustomerID []byte
	// Trigger is the event that opened the decision; nil for the API and
	// journey timers.
	Trigger *event.Event
	// Context is the API request's context (context.NAME in expressions).
	Context map[string]string
	// Now is the decision time (event time), Unix nanoseconds.
	Now int64
	// Channel restricts the candidates to one channel; "" is any.
	Channel string
	// Actions restricts the candidates to these ids (a journey step's).
	// nil: the actions whose `on` lists the trigger's type, or with no
	// trigger every action.
	Actions []string
	// Features is features.Store.Vector: Set.Names order, NaN missing.
	Features []float64
	// Profile is features.Store.Profile; the zero Profile is empty.
	Profile features.Profile
	// Contacts is the task's ledger; nil: no caps, no suppression.
	Contacts *Contacts
	// Send reserves the chosen action's contact; false is a dry run.
	Send bool
	// Inbound is a contact the customer started (a call, a visit: POST
	// /v1/decide): quiet hours, which keep us from disturbing, do not
	// apply; consent, suppression and caps do.
	Inbound bool
}

// Candidate is one action considered by a decision.
type Candidate struct {
	ActionID   string
	Eligible   bool
	Propensity float64
	// Score is the priority: propensity x context weight x value x weight.
	Score float64
	// Blocked is why the candidate could not win: "" (it could),
	// not_eligible, no_consent, suppressed, quiet_hours or capped.
	Blocked string
}

// Decision is the outcome of Decide: the action record of the contract
// plus what the audit trail needs. It is reused between decisions; its
// slices and strings alias the Decider's buffers until the next Decide.
type Decision struct {
	DecisionID [18]byte
	CustomerID []byte
	// Chosen is true when an action is to be sent. A control-arm decision
	// has the would-be action in ActionID but Chosen false.
	Chosen bool
	// Reason is chosen, no_eligible_action, capped, quiet_hours,
	// no_consent, suppressed or control_arm.
	Reason        string
	ActionID      string
	Channel       string
	Score         float64
	Propensity    float64
	Value         float64
	Weight        float64
	ContextWeight float64
	// Probability is the probability that the policy chooses ActionID for
	// this input: 1 when no adaptive model is among the contenders, else
	// estimated from the adaptive model's extra draws; also set for a
	// control-arm decision, 0 when every candidate was blocked.
	Probability float64
	// Model is "id@version" of the model that gave the propensity, "" none.
	Model      string
	Experiment string
	Arm        string
	Reasons    []string
	Payload    []PayloadField
	DecidedAt  int64
	ExpiresAt  int64
	Candidates []Candidate
	// CapState is every cap on the winner's channel as it stood.
	CapState []CapUse
}

// Decider decides for one goroutine, reusing its buffers.
type Decider struct {
	e        *Engine
	env      *env
	vm       vm.VM
	cand     []int
	in       []bool // by action index: in cand
	prio     []float64
	prop     []float64
	base     []float64 // priority without the propensity (cw x value x weight)
	cw       []float64
	alpha    []float64 // adaptive candidates' posteriors
	beta     []float64
	block    []string
	modelOut [][]float64
	scored   []bool
	x        []float64
	contrib  []float64
	zones    map[string]*time.Location
	pbuf     []byte
	poffs    []int
	payload  []PayloadField
	reasons  []string
	rbuf     []byte
	caps     []CapUse
	cands    []Candidate
}

// NewDecider returns a Decider for one goroutine.
func (e *Engine) NewDecider() *Decider {
	d := &Decider{e: e, env: newEnv(e.vars), zones: map[string]*time.Location{}}
	n := len(e.actions)
	d.cand, d.in = make([]int, 0, n), make([]bool, n)
	d.prio, d.prop, d.base, d.cw = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	d.block = make([]string, n)
	d.alpha, d.beta = make([]float64, n), make([]float64, n)
	d.modelOut = make([][]float64, len(e.models))
	for i := range e.models {
		d.modelOut[i] = make([]float64, 0, e.models[i].outs)
	}
	d.scored = make([]bool, len(e.models))
	d.reasons = make([]string, 0, n+8)
	d.rbuf = make([]byte, 0, 1024)
	d.cands = make([]Candidate, 0, n)
	return d
}

// Engine is the engine d decides with. A task that sees a new engine
// after a reload makes a new Decider.
func (d *Decider) Engine() *Engine { return d.e }

// Decide decides for in and writes the outcome to out. It never panics
// on input and allocates nothing in steady state.
func (d *Decider) Decide(in *Input, out *Decision) {
	d.reset(in, out)
	e := d.e
	d.candidates(in)
	x, a := d.experiment(in)
	if a != nil {
		out.Experiment, out.Arm = x.id, a.name
	}
	d.env.bind(e.vars, in)
	for j := range d.scored {
		d.scored[j] = false
	}
	rng := models.NewRand(seed(in.DecisionID))
	best, bestBlocked := -1, -1
	for k, i := range d.cand {
		d.evaluate(in, i, k, a, &rng, out)
		switch {
		case d.block[k] == "":
			if best < 0 || d.prio[k] > d.prio[best] {
				best = k
			}
		case d.block[k] != blockedNotEligible:
			if bestBlocked < 0 || d.prio[k] > d.prio[bestBlocked] {
				bestBlocked = k
			}
		}
	}
	d.fillCandidates(out)
	switch {
	case best >= 0:
		d.win(in, out, best, a)
	case bestBlocked >= 0:
		out.Reason = d.block[bestBlocked]
		d.describe(in, out, bestBlocked)
	default:
		out.Reason = ReasonNoEligible
	}
	out.Reasons = d.reasons
}

func (d *Decider) reset(in *Input, out *Decision) {
	*out = Decision{DecisionID: in.DecisionID, CustomerID: in.CustomerID, DecidedAt: in.Now,
		Candidates: out.Candidates[:0], Reasons: out.Reasons[:0], CapState: out.CapState[:0],
		Payload: out.Payload[:0], Probability: 0}
	d.reasons, d.rbuf, d.caps, d.cands = d.reasons[:0], d.rbuf[:0], d.caps[:0], d.cands[:0]
	for _, i := range d.cand {
		d.in[i] = false
	}
	d.cand = d.cand[:0]
}

// seed turns a decision id into the adaptive model's random seed.
func seed(id [18]byte) uint64 {
	return binary.LittleEndian.Uint64(id[2:]) ^ binary.LittleEndian.Uint64(id[10:])*0x9e3779b97f4a7c15
}

// candidates fills d.cand with the catalogue indexes in play.
func (d *Decider) candidates(in *Input) {
	e := d.e
	var list []int
	switch {
	case in.Actions != nil:
		for _, id := range in.Actions {
			if i, ok := e.byID[id]; ok {
				d.cand = d.appendCand(in, i)
			}
		}
		return
	case in.Trigger != nil:
		list = e.byTrigger[string(in.Trigger.Type)]
	default:
		list = e.all
	}
	for _, i := range list {
		d.cand = d.appendCand(in, i)
	}
}

// appendCand adds action i unless it is on another channel or already in.
func (d *Decider) appendCand(in *Input, i int) []int {
	if d.in[i] || (in.Channel != "" && d.e.actions[i].channel != in.Channel) {
		return d.cand
	}
	d.in[i] = true
	return append(d.cand, i)
}

// experiment returns the first experiment covering a candidate and the
// customer's arm in it.
func (d *Decider) experiment(in *Input) (*experiment, *arm) {
	for xi := range d.e.exps {
		x := &d.e.exps[xi]
		for _, i := range d.cand {
			if x.actions[i] {
				return x, x.assign(in.CustomerID)
			}
		}
	}
	return nil, nil
}

// evaluate computes candidate k (catalogue index i): eligibility,
// propensity, priority and what of the contact policy blocks it.
func (d *Decider) evaluate(in *Input, i, k int, ar *arm, rng *models.Rand, out *Decision) {
	a := &d.e.actions[i]
	d.prio[k], d.prop[k], d.cw[k], d.base[k] = 0, 0, 0, 0
	if a.eligible != nil {
		ok, err := d.run(a.eligible)
		switch {
		case err:
			d.reasons = append(d.reasons, a.errReason)
		case ok:
			d.reasons = append(d.reasons, a.passReason)
		default:
			d.reasons = append(d.reasons, a.failReason)
		}
		if err || !ok {
			d.block[k] = blockedNotEligible
			return
		}
	}
	cw := 1.0
	if a.cw != nil {
		cw = d.runFloat(a.cw)
	}
	d.cw[k] = cw
	d.base[k] = cw * a.value * a.weight
	d.prop[k] = d.propensity(in, k, a, ar, rng)
	d.prio[k] = d.prop[k] * d.base[k]
	d.block[k] = d.blocked(in, a)
}

// run evaluates a boolean program; err is true when it failed at run time
// (e.g. a missing profile value compared with a number).
func (d *Decider) run(p *vm.Program) (ok, err bool) {
	v, e := d.vm.Run(p, d.env.m)
	if e != nil {
		return false, true
	}
	b, _ := v.(bool)
	return b, false
}

// runFloat evaluates a context weight; a failure or a value that is not a
// finite number >= 0 counts as 0 (the action cannot win).
func (d *Decider) runFloat(p *vm.Program) float64 {
	v, err := d.vm.Run(p, d.env.m)
	if err != nil {
		return 0
	}
	var f float64
	switch v := v.(type) {
	case float64:
		f = v
	case int:
		f = float64(v)
	}
	if !(f >= 0) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// propensity scores action a for the customer.
func (d *Decider) propensity(in *Input, k int, a *action, ar *arm, rng *models.Rand) float64 {
	m := a.model
	if ar != nil && ar.model >= 0 && m >= 0 {
		m = ar.model
	}
	switch {
	case m == noModel:
		return 1
	case m == adaptiveModel:
		d.alpha[k], d.beta[k] = d.posterior(in, a)
		return rng.Beta(d.alpha[k], d.beta[k])
	}
	out := d.score(in, m)
	if a.output < len(out) && !math.IsNaN(out[a.output]) {
		return out[a.output]
	}
	return 0
}

func (d *Decider) posterior(in *Input, a *action) (alpha, beta float64) {
	ad := &d.e.adaptive
	var seg []byte
	if ad.segment >= 0 {
		seg, _ = in.Profile.Str(ad.segment)
	}
	return d.e.learner.Posterior(models.BanditKey(a.id, seg), ad.alpha, ad.beta)
}

// score runs model m once per decision and caches its outputs.
func (d *Decider) score(in *Input, m int) []float64 {
	if d.scored[m] {
		return d.modelOut[m]
	}
	d.x = d.inputs(in, m, d.x)
	d.modelOut[m] = d.e.models[m].s.Score(d.x, d.modelOut[m][:0])
	d.scored[m] = true
	return d.modelOut[m]
}

func (d *Decider) inputs(in *Input, m int, x []float64) []float64 {
	x = x[:0]
	for _, src := range d.e.models[m].inputs {
		v := math.NaN()
		switch {
		case src.feature >= 0 && src.feature < len(in.Features):
			v = in.Features[src.feature]
		case src.attr >= 0:
			if n, ok := in.Profile.Num(src.attr); ok {
				v = n
			}
		}
		x = append(x, v)
	}
	return x
}

// blocked returns what of the contact policy stops action a, or "".
func (d *Decider) blocked(in *Input, a *action) string {
	if a.consent >= 0 && !in.Profile.Consent(a.consent) {
		return ReasonNoConsent
	}
	var l *ledger
	if in.Contacts != nil {
		l = in.Contacts.get(in.CustomerID)
	}
	if l.suppressed(a.key, in.Now) {
		return ReasonSuppressed
	}
	pol := &d.e.policy
	if a.quiet && pol.quietOn && !in.Inbound {
		loc, _ := d.location(in.Profile)
		if pol.quiet(localMinute(in.Now, loc)) {
			return ReasonQuietHours
		}
	}
	for _, c := range a.caps {
		cp := &pol.caps[c]
		if l.count(cp.chKey, in.Now-cp.per) >= cp.max {
			return ReasonCapped
		}
	}
	return ""
}

func (d *Decider) fillCandidates(out *Decision) {
	for k, i := range d.cand {
		d.cands = append(d.cands, Candidate{ActionID: d.e.actions[i].id, Eligible: d.block[k] != blockedNotEligible,
			Propensity: d.prop[k], Score: d.prio[k], Blocked: d.block[k]})
	}
	out.Candidates = d.cands
}

// win fills out with candidate k, the top unblocked one.
func (d *Decider) win(in *Input, out *Decision, k int, ar *arm) {
	a := &d.e.actions[d.cand[k]]
	d.describe(in, out, k)
	out.Probability = d.probability(in, k)
	if ar != nil && ar.control {
		out.Reason = ReasonControlArm
		return
	}
	out.Chosen, out.Reason = true, ReasonChosen
	out.ExpiresAt = in.Now + a.ttl
	out.Payload = d.renderPayload(a, in)
	if in.Send && in.Contacts != nil {
		in.Contacts.record(in.CustomerID, a.key, a.chKey, in.Now)
	}
}

// describe fills the action fields and explanations of candidate k.
func (d *Decider) describe(in *Input, out *Decision, k int) {
	a := &d.e.actions[d.cand[k]]
	out.ActionID, out.Channel = a.id, a.channel
	out.Score, out.Propensity, out.Value, out.Weight = d.prio[k], d.prop[k], a.value, a.weight
	out.ContextWeight = d.cw[k]
	m := d.modelOf(a, out)
	switch {
	case m >= 0:
		out.Model = d.e.models[m].name
		d.explain(in, m, a.output)
	case m == adaptiveModel:
		out.Model = "adaptive"
	}
	d.capState(in, a, out)
}

func (d *Decider) modelOf(a *action, out *Decision) int {
	if a.model >= 0 && out.Arm != "" {
		for xi := range d.e.exps {
			x := &d.e.exps[xi]
			if x.id != out.Experiment {
				continue
			}
			for _, ar := range x.arms {
				if ar.name == out.Arm && ar.model >= 0 {
					return ar.model
				}
			}
		}
	}
	return a.model
}

// capState records every cap on a's channel, and a reason per cap.
func (d *Decider) capState(in *Input, a *action, out *Decision) {
	var l *ledger
	if in.Contacts != nil {
		l = in.Contacts.get(in.CustomerID)
	}
	for _, c := range a.caps {
		cp := &d.e.policy.caps[c]
		u := CapUse{Channel: cp.channel, Used: l.count(cp.chKey, in.Now-cp.per), Max: cp.max, Per: time.Duration(cp.per)}
		d.caps = append(d.caps, u)
		start := len(d.rbuf)
		d.rbuf = append(d.rbuf, "cap "...)
		d.rbuf = append(d.rbuf, cp.channel...)
		d.rbuf = append(d.rbuf, ": "...)
		d.rbuf = strconv.AppendInt(d.rbuf, int64(u.Used), 10)
		d.rbuf = append(d.rbuf, '/')
		d.rbuf = strconv.AppendInt(d.rbuf, int64(u.Max), 10)
		d.rbuf = append(d.rbuf, " per "...)
		d.rbuf = append(d.rbuf, cp.perText...)
		d.reasons = append(d.reasons, d.text(start))
	}
	out.CapState = d.caps
	if a.quiet && d.e.policy.quietOn && !in.Inbound {
		if _, fallback := d.location(in.Profile); fallback {
			d.reasons = append(d.reasons, d.e.policy.fallbackReason)
		}
	}
}

// text returns rbuf[start:] as a string that aliases rbuf: valid until
// the next decision (rbuf only grows within one).
func (d *Decider) text(start int) string {
	b := d.rbuf[start:]
	return unsafe.String(unsafe.SliceData(b), len(b))
}
