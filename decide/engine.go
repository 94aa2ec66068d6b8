package decide

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/features"
	"github.com/meridian/meridian/models"
)

// Options are what New needs besides the configuration.
type Options struct {
	// BaseDir is the directory model files are relative to: the config
	// file's directory.
	BaseDir string
	// Reference backs ref(table, key) in expressions; nil: always missing.
	Reference Reference
	// Learner holds what the adaptive model has learnt; nil: the prior only.
	Learner *models.Learner
	// Load reads a model file; nil means models.Load. Tests and the
	// embedded defaults pass their own.
	Load func(path, id, version string) (models.Scorer, error)
}

// Engine is a compiled decisioning configuration: immutable, shared by
// every task. A reload builds a new Engine; callers swap an atomic pointer.
type Engine struct {
	vars      *vars
	actions   []action
	byID      map[string]int
	byTrigger map[string][]int
	all       []int
	models    []model
	modelIdx  map[string]int
	adaptive  adaptive
	policy    policy
	exps      []experiment
	learner   *models.Learner
	// names maps the stable keys of action ids and channels to names, for
	// the customer view of Contacts.
	names map[uint64]string
}

type adaptive struct {
	segment  int // profile attribute index, -1: one segment
	alpha    float64
	beta     float64
	draws    int
	trials   []string
	rewards  []string
	hasModel bool
}

// Model kinds of an action besides an index into Engine.models.
const (
	noModel       = -1
	adaptiveModel = -2
)

type action struct {
	id, channel   string
	key, chKey    uint64 // stable hashes of id and channel (Contacts)
	consent       int    // consent channel index, -1: none
	eligible      *vm.Program
	eligibleSrc   string
	passReason    string
	failReason    string
	errReason     string
	cw            *vm.Program
	model, output int
	value, weight float64
	ttl           int64
	payload       []payloadTemplate
	quiet         bool
	caps          []int // indexes into policy.caps
}

type model struct {
	s      models.Scorer
	name   string // id@version
	inputs []input
	outs   int
}

// input says where a model input comes from: a feature, a numeric
// profile attribute, or nowhere (always missing).
type input struct{ feature, attr int }

// New compiles cfg's decisioning section. It loads every model file,
// compiles every expression once, and returns an error placed at the
// offending key (file:line:col) when something cannot be used.
func New(cfg *config.Config, set *features.Set, opt Options) (*Engine, error) {
	d := &cfg.Decide
	e := &Engine{vars: newVars(set), byID: map[string]int{}, byTrigger: map[string][]int{},
		modelIdx: map[string]int{}, learner: opt.Learner, names: map[uint64]string{}}
	if err := e.loadModels(cfg, set, opt); err != nil {
		return nil, err
	}
	if err := e.compileAdaptive(cfg, set); err != nil {
		return nil, err
	}
	if err := e.compilePolicy(cfg, set); err != nil {
		return nil, err
	}
	for i := range d.Actions {
		a, err := e.compileAction(cfg, i, opt.Reference)
		if err != nil {
			return nil, err
		}
		e.byID[a.id] = len(e.actions)
		for _, t := range d.Actions[i].On {
			e.byTrigger[t] = append(e.byTrigger[t], len(e.actions))
		}
		e.all = append(e.all, len(e.actions))
		e.actions = append(e.actions, a)
	}
	if err := e.compileExperiments(cfg); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Engine) loadModels(cfg *config.Config, set *features.Set, opt Options) error {
	load := opt.Load
	if load == nil {
		load = models.Load
	}
	for i, m := range cfg.Decide.Models {
		at := fmt.Sprintf("decide.models[%d].file", i)
		path := m.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(opt.BaseDir, path)
		}
		s, err := load(path, m.ID, m.Version)
		if err != nil {
			return cfg.ErrorAt(at, "%s: %v; fix or replace the file (the model in use stays until a valid one loads)", at, err)
		}
		mod := model{s: s, name: s.ID() + "@" + s.Version(), outs: max(s.Outputs(), 1)}
		for _, name := range s.Inputs() {
			in := input{feature: -1, attr: -1}
			if j, ok := set.Index(name); ok {
				in.feature = j
			} else if j, ok := set.AttributeIndex(name); ok {
				in.attr = j
			} else {
				return cfg.ErrorAt(at, "%s: model %s reads %q, which is neither a feature nor a profile attribute; define it under features or profile.attributes", at, m.ID, name)
			}
			mod.inputs = append(mod.inputs, in)
		}
		e.modelIdx[m.ID] = len(e.models)
		e.models = append(e.models, mod)
	}
	return nil
}

func (e *Engine) compileAdaptive(cfg *config.Config, set *features.Set) error {
	a := cfg.Decide.Adaptive
	e.adaptive = adaptive{segment: -1, alpha: a.Prior.Alpha, beta: a.Prior.Beta, draws: a.Draws,
		trials: a.Trials, rewards: a.Rewards}
	if a.Segment != "" {
		i, ok := set.AttributeIndex(a.Segment)
		if !ok {
			return cfg.ErrorAt("decide.adaptive.segment", "decide.adaptive.segment: %q is not a profile attribute; list it under profile.attributes or leave segment out", a.Segment)
		}
		e.adaptive.segment = i
	}
	return nil
}

func (e *Engine) compileAction(cfg *config.Config, i int, ref Reference) (action, error) {
	c := &cfg.Decide.Actions[i]
	at := fmt.Sprintf("decide.actions[%d]", i)
	a := action{id: c.ID, channel: c.Channel, key: nameKey(c.ID), chKey: nameKey(c.Channel),
		consent: -1, model: noModel, output: c.Output, value: c.Value, weight: c.Weight,
		ttl: int64(c.TTL), eligibleSrc: c.Eligible}
	if a.weight == 0 {
		a.weight = 1
	}
	if a.ttl == 0 {
		a.ttl = int64(24 * time.Hour)
	}
	e.names[a.key], e.names[a.chKey] = a.id, a.channel
	if j, ok := e.vars.set.ConsentIndex(c.Channel); ok {
		a.consent = j
	}
	var err error
	if c.Eligible != "" {
		if a.eligible, err = e.vars.compile(c.Eligible, true, ref); err != nil {
			return a, cfg.ErrorAt(at+".eligible", "%s.eligible: %v", at, err)
		}
		a.passReason = "eligible " + c.ID + ": " + c.Eligible
		a.failReason = "not eligible " + c.ID + ": " + c.Eligible
		a.errReason = "not eligible " + c.ID + " (error evaluating): " + c.Eligible
	}
	if c.ContextWeight != "" {
		if a.cw, err = e.vars.compile(c.ContextWeight, false, ref); err != nil {
			return a, cfg.ErrorAt(at+".context_weight", "%s.context_weight: %v", at, err)
		}
	}
	switch c.Model {
	case "":
	case config.AdaptiveModel:
		a.model = adaptiveModel
		e.adaptive.hasModel = true
	default:
		j, ok := e.modelIdx[c.Model]
		if !ok {
			return a, cfg.ErrorAt(at+".model", "%s.model: %q is not a model of decide.models", at, c.Model)
		}
		if c.Output >= e.models[j].outs {
			return a, cfg.ErrorAt(at+".output", "%s.output: model %s has %d output(s); write 0 to %d", at, c.Model, e.models[j].outs, e.models[j].outs-1)
		}
		a.model = j
	}
	if a.payload, err = e.compilePayload(c.Payload); err != nil {
		return a, cfg.ErrorAt(at+".payload", "%s.payload: %v", at, err)
	}
	a.quiet = slices.Contains(e.policy.quietChannels, c.Channel)
	for j, cp := range e.policy.caps {
		if cp.chKey == a.chKey {
			a.caps = append(a.caps, j)
		}
	}
	return a, nil
}

// nameKey is the stable key of an action id or channel name in Contacts.
func nameKey(s string) uint64 { return models.BanditKey(s, nil) }

// Actions are the catalogue's action ids, in configuration order.
func (e *Engine) Actions() []string {
	out := make([]string, len(e.actions))
	for i := range e.actions {
		out[i] = e.actions[i].id
	}
	return out
}

// Channels are the channels the catalogue has actions on, each once, in
// configuration order.
func (e *Engine) Channels() []string {
	var out []string
	for i := range e.actions {
		if !slices.Contains(out, e.actions[i].channel) {
			out = append(out, e.actions[i].channel)
		}
	}
	return out
}

// Models are the loaded models as id@version, in configuration order.
func (e *Engine) Models() []string {
	out := make([]string, len(e.models))
	for i := range e.models {
		out[i] = e.models[i].name
	}
	return out
}

// FSLoader returns an Options.Load that reads model files from fsys, for
// running on embedded defaults (examples.Models, with BaseDir ""). It
// goes through a temporary file because models.Load reads a path; the
// version derived from the content is the same as from the original file.
func FSLoader(fsys fs.FS) func(path, id, version string) (models.Scorer, error) {
	return func(path, id, version string) (models.Scorer, error) {
		data, err := fs.ReadFile(fsys, filepath.ToSlash(filepath.Clean(path)))
		if err != nil {
			return nil, fmt.Errorf("cannot load model %s: %w", path, err)
		}
		f, err := os.CreateTemp("", "meridian-model-*"+filepath.Ext(path))
		if err != nil {
			return nil, fmt.Errorf("cannot load model %s: %w", path, err)
		}
		defer os.Remove(f.Name())
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("cannot load model %s: %w", path, err)
		}
		s, err := models.Load(f.Name(), id, version)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", path, err)
		}
		return s, nil
	}
}

// Opens reports whether an event of this type opens a decision: some
// action lists it in `on`. It does not allocate.
func (e *Engine) Opens(eventType []byte) bool { return len(e.byTrigger[string(eventType)]) > 0 }
