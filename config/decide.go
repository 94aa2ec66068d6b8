package config

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Decide configures next-best-action decisioning: the action catalogue,
// the models that score it, the adaptive model, the contact policy and
// the experiments. Package decide compiles it.
type Decide struct {
	// Models are the offline-trained model files, by id.
	Models []ModelRef `yaml:"models"`
	// Adaptive configures the Beta-Bernoulli bandit (model: adaptive).
	Adaptive Adaptive `yaml:"adaptive"`
	// Actions is the catalogue.
	Actions []Action `yaml:"actions"`
	// ContactPolicy limits what reaches a customer.
	ContactPolicy ContactPolicy `yaml:"contact_policy"`
	// Experiments split customers into arms by a hash of their id.
	Experiments []Experiment `yaml:"experiments"`
}

// ModelRef names a model file.
type ModelRef struct {
	// ID is how actions and experiment arms refer to the model.
	ID string `yaml:"id"`
	// File is the model file, relative to the config file's directory.
	File string `yaml:"file"`
	// Version is shown on decisions as id@version. Default: the first 12
	// hex digits of the file's SHA-256.
	Version string `yaml:"version"`
}

// AdaptiveModel is the model id of the bandit in Action.Model.
const AdaptiveModel = "adaptive"

// Adaptive configures the Beta-Bernoulli Thompson-sampling model.
type Adaptive struct {
	// Segment is the profile attribute (a string) that splits the
	// learning (one posterior per action and segment value). Empty, or a
	// customer without the attribute: one segment, "".
	Segment string `yaml:"segment"`
	// Prior is the Beta prior every (action, segment) starts from.
	Prior Prior `yaml:"prior"`
	// Trials are the outcome event types counted as a trial (the action
	// reached the customer).
	Trials []string `yaml:"trials"`
	// Rewards are the outcome event types counted as a success.
	Rewards []string `yaml:"rewards"`
	// Draws is how many extra Thompson draws estimate the probability of
	// the chosen action (0: report the probability as unknown, -1).
	Draws int `yaml:"draws"`
}

// Prior is a Beta(alpha, beta) prior.
type Prior struct {
	Alpha float64 `yaml:"alpha"`
	Beta  float64 `yaml:"beta"`
}

// Action is one entry of the action catalogue.
type Action struct {
	// ID is written on the action record; unique.
	ID string `yaml:"id"`
	// Channel is one of email, sms, push, web, app, call_center.
	Channel string `yaml:"channel"`
	// On are the event types that open a decision for this action; empty
	// means only journeys and the API decide it.
	On []string `yaml:"on"`
	// Eligible is an expression (expr-lang) that must be true; empty: always.
	Eligible string `yaml:"eligible"`
	// Model is a model id, "adaptive", or empty (propensity 1).
	Model string `yaml:"model"`
	// Output is the class of a multi-class model to read. Default 0.
	Output int `yaml:"output"`
	// ContextWeight is an expression giving the context weight; empty: 1.
	ContextWeight string `yaml:"context_weight"`
	// Value is the business value (>= 0).
	Value float64 `yaml:"value"`
	// Weight is the lever weight (> 0). Default (or 0): 1.
	Weight float64 `yaml:"weight"`
	// TTL is how long the action stays valid. Default 24h.
	TTL time.Duration `yaml:"ttl"`
	// Payload maps payload keys to templates (see docs/decisioning.md).
	Payload map[string]string `yaml:"payload"`
}

// ContactPolicy limits contacts per customer.
type ContactPolicy struct {
	Caps       []Cap      `yaml:"caps"`
	QuietHours QuietHours `yaml:"quiet_hours"`
	// SuppressAfterDismissal blocks an action for a customer this long
	// after they dismissed it. 0: no suppression.
	SuppressAfterDismissal time.Duration `yaml:"suppress_after_dismissal"`
}

// Cap allows at most Max sends on Channel within any window of Per.
type Cap struct {
	Channel string        `yaml:"channel"`
	Max     int           `yaml:"max"`
	Per     time.Duration `yaml:"per"`
}

// QuietHours blocks Channels between From and To in the customer's time zone.
type QuietHours struct {
	// From and To are HH:MM local times; From > To spans midnight. Both
	// empty: no quiet hours.
	From     string   `yaml:"from"`
	To       string   `yaml:"to"`
	Channels []string `yaml:"channels"`
	// TimezoneAttribute is the profile attribute holding an IANA zone.
	TimezoneAttribute string `yaml:"timezone_attribute"`
	// DefaultTimezone is used when the profile has no zone or an unknown one.
	DefaultTimezone string `yaml:"default_timezone"`
}

// Experiment splits customers into arms by a hash of experiment id and
// customer id.
type Experiment struct {
	ID string `yaml:"id"`
	// Actions or Channel select the decisions the experiment covers: a
	// decision is in it when any candidate action is listed, or is on Channel.
	Actions []string `yaml:"actions"`
	Channel string   `yaml:"channel"`
	Arms    []Arm    `yaml:"arms"`
}

// Arm is one arm of an experiment.
type Arm struct {
	Name string `yaml:"name"`
	// Share is the fraction of customers in the arm; shares sum to 1.
	Share float64 `yaml:"share"`
	// Model, when set, replaces the model of every action that has one
	// (a challenger model).
	Model string `yaml:"model"`
	// Control arms are decided for but never sent (a holdout).
	Control bool `yaml:"control"`
}

// defaultDecide holds the decisioning defaults.
func defaultDecide() Decide {
	return Decide{
		Adaptive: Adaptive{Prior: Prior{Alpha: 1, Beta: 1},
			Trials:  []string{"action_delivered"},
			Rewards: []string{"action_clicked"}, Draws: 16},
		ContactPolicy: ContactPolicy{QuietHours: QuietHours{TimezoneAttribute: "timezone",
			DefaultTimezone: "UTC"}},
	}
}

func (k *checker) decide() {
	d := &k.c.Decide
	modelIDs := k.decideModels(d)
	actions := make(map[string]int, len(d.Actions))
	for i := range d.Actions {
		a := &d.Actions[i]
		at := fmt.Sprintf("decide.actions[%d]", i)
		if a.Weight == 0 {
			a.Weight = 1
		}
		if a.TTL == 0 {
			a.TTL = 24 * time.Hour
		}
		if !nameRE.MatchString(a.ID) {
			k.fail(at+".id", "%s.id: %q is not an action id (a lower-case letter, then up to 63 of a-z, 0-9 and _); write e.g. id: cart_reminder_email", at, a.ID)
		} else if j, dup := actions[a.ID]; dup {
			k.fail(at+".id", "%s.id: %q is already the id of decide.actions[%d]; action ids must be unique", at, a.ID, j)
		} else {
			actions[a.ID] = i
		}
		k.decideAction(at, a, modelIDs)
	}
	k.adaptive(&d.Adaptive)
	k.contactPolicy(&d.ContactPolicy)
	k.experiments(d, actions, modelIDs)
}

func (k *checker) decideModels(d *Decide) map[string]bool {
	ids := map[string]bool{}
	for i, m := range d.Models {
		at := fmt.Sprintf("decide.models[%d]", i)
		switch {
		case !nameRE.MatchString(m.ID) || m.ID == AdaptiveModel:
			k.fail(at+".id", "%s.id: %q is not a model id (a lower-case letter, then a-z, 0-9 and _; not %q); write e.g. id: cart_recovery", at, m.ID, AdaptiveModel)
		case ids[m.ID]:
			k.fail(at+".id", "%s.id: %q is listed twice; model ids must be unique", at, m.ID)
		}
		ids[m.ID] = true
		if strings.TrimSpace(m.File) == "" {
			k.fail(at+".file", "%s.file must not be empty; write e.g. file: models/cart_recovery.xgb.json", at)
		}
	}
	return ids
}

func (k *checker) channel(path, ch string) {
	if slices.Contains(channels, ch) {
		return
	}
	msg := fmt.Sprintf("%s: %q is not a channel; ", path, ch)
	if ch == "" {
		msg = path + " must not be empty; "
	}
	if s := closest(ch, channels); s != "" {
		msg += fmt.Sprintf("did you mean %q? ", s)
	}
	k.fail(path, "%swrite one of %s", msg, strings.Join(channels, ", "))
}

func (k *checker) decideAction(at string, a *Action, modelIDs map[string]bool) {
	k.channel(at+".channel", a.Channel)
	for j, t := range a.On {
		if !eventTypeRE.MatchString(t) {
			k.fail(fmt.Sprintf("%s.on[%d]", at, j), "%s.on[%d]: %q is not an event type (a lower-case letter, then up to 63 of a-z, 0-9, _ and .); write e.g. on: [checkout_start]", at, j, t)
		}
	}
	if a.Model != "" && a.Model != AdaptiveModel && !modelIDs[a.Model] {
		k.fail(at+".model", "%s.model: %q is not a model; list it under decide.models, or write model: adaptive, or leave model out (propensity 1)", at, a.Model)
	}
	if a.Output < 0 {
		k.fail(at+".output", "%s.output must be 0 or more (the class of a multi-class model), got %d", at, a.Output)
	}
	if !(a.Value >= 0) || math.IsInf(a.Value, 0) {
		k.fail(at+".value", "%s.value must be 0 or more, got %v; write e.g. value: 2.5", at, a.Value)
	}
	if !(a.Weight > 0) || math.IsInf(a.Weight, 0) {
		k.fail(at+".weight", "%s.weight must be greater than 0, got %v; write e.g. weight: 1.0 (the default)", at, a.Weight)
	}
	k.positive(at+".ttl", a.TTL)
}

func (k *checker) adaptive(a *Adaptive) {
	if !(a.Prior.Alpha > 0) || !(a.Prior.Beta > 0) || math.IsInf(a.Prior.Alpha+a.Prior.Beta, 0) {
		k.fail("decide.adaptive.prior", "decide.adaptive.prior: alpha and beta must be greater than 0, got %v and %v; write e.g. prior: {alpha: 1, beta: 19} (a 5%% starting rate)", a.Prior.Alpha, a.Prior.Beta)
	}
	k.eventTypes("decide.adaptive.trials", a.Trials, "trials: [action_delivered]")
	k.eventTypes("decide.adaptive.rewards", a.Rewards, "rewards: [action_clicked]")
	if a.Draws < 0 || a.Draws > 1024 {
		k.fail("decide.adaptive.draws", "decide.adaptive.draws must be between 0 and 1024, got %d; write e.g. draws: 16", a.Draws)
	}
}

func (k *checker) contactPolicy(p *ContactPolicy) {
	for i, c := range p.Caps {
		at := fmt.Sprintf("decide.contact_policy.caps[%d]", i)
		k.channel(at+".channel", c.Channel)
		if c.Max < 0 {
			k.fail(at+".max", "%s.max must be 0 or more, got %d; write e.g. max: 1", at, c.Max)
		}
		if c.Per <= 0 || c.Per > 400*24*time.Hour {
			k.fail(at+".per", "%s.per must be between 1ns and 400d, got %v; write e.g. per: 24h", at, c.Per)
		}
	}
	q := &p.QuietHours
	if q.From != "" || q.To != "" {
		for _, f := range []struct{ key, v string }{{"from", q.From}, {"to", q.To}} {
			if _, ok := ClockMinutes(f.v); !ok {
				path := "decide.contact_policy.quiet_hours." + f.key
				k.fail(path, "%s: %q is not a time of day; write HH:MM, e.g. %s: \"21:00\"", path, f.v, f.key)
			}
		}
	}
	for i, ch := range q.Channels {
		k.channel(fmt.Sprintf("decide.contact_policy.quiet_hours.channels[%d]", i), ch)
	}
	if _, err := time.LoadLocation(q.DefaultTimezone); err != nil || q.DefaultTimezone == "" {
		k.fail("decide.contact_policy.quiet_hours.default_timezone", "decide.contact_policy.quiet_hours.default_timezone: %q is not an IANA time zone; write e.g. default_timezone: Europe/Berlin", q.DefaultTimezone)
	}
	if p.SuppressAfterDismissal < 0 {
		k.fail("decide.contact_policy.suppress_after_dismissal", "decide.contact_policy.suppress_after_dismissal must be 0 (none) or more, got %v", p.SuppressAfterDismissal)
	}
}

// ClockMinutes parses "HH:MM" into minutes after midnight.
func ClockMinutes(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

func (k *checker) experiments(d *Decide, actions map[string]int, modelIDs map[string]bool) {
	ids := map[string]bool{}
	for i := range d.Experiments {
		e := &d.Experiments[i]
		at := fmt.Sprintf("decide.experiments[%d]", i)
		if !nameRE.MatchString(e.ID) || ids[e.ID] {
			k.fail(at+".id", "%s.id: %q is not a unique experiment id (a-z, 0-9 and _); write e.g. id: cart_subject_line", at, e.ID)
		}
		ids[e.ID] = true
		if len(e.Actions) == 0 && e.Channel == "" {
			k.fail(at, "%s: say which decisions it covers with actions: [...] or channel: NAME", at)
		}
		for j, a := range e.Actions {
			if _, ok := actions[a]; !ok {
				k.fail(fmt.Sprintf("%s.actions[%d]", at, j), "%s.actions[%d]: %q is not an action of decide.actions", at, j, a)
			}
		}
		if e.Channel != "" {
			k.channel(at+".channel", e.Channel)
		}
		k.arms(at, e.Arms, modelIDs)
	}
}

func (k *checker) arms(at string, arms []Arm, modelIDs map[string]bool) {
	if len(arms) < 2 {
		k.fail(at+".arms", "%s.arms: list at least two arms, e.g. [{name: champion, share: 0.9}, {name: control, share: 0.1, control: true}]", at)
	}
	sum, names := 0.0, map[string]bool{}
	for j, a := range arms {
		p := fmt.Sprintf("%s.arms[%d]", at, j)
		if !nameRE.MatchString(a.Name) || names[a.Name] {
			k.fail(p+".name", "%s.name: %q is not a unique arm name (a-z, 0-9 and _)", p, a.Name)
		}
		names[a.Name] = true
		if !(a.Share > 0 && a.Share <= 1) {
			k.fail(p+".share", "%s.share must be greater than 0 and at most 1, got %v", p, a.Share)
		}
		if a.Model != "" && !modelIDs[a.Model] {
			k.fail(p+".model", "%s.model: %q is not a model; list it under decide.models", p, a.Model)
		}
		sum += a.Share
	}
	if len(arms) >= 2 && math.Abs(sum-1) > 1e-9 {
		k.fail(at+".arms", "%s.arms: shares sum to %v; they must sum to 1", at, sum)
	}
}
