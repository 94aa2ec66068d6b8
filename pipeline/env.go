package pipeline

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/decide"
	"github.com/meridian/meridian/examples"
	"github.com/meridian/meridian/features"
	"github.com/meridian/meridian/journeys"
	"github.com/meridian/meridian/models"
	"github.com/meridian/meridian/operators"
	"github.com/meridian/meridian/refdata"
)

// Env is everything compiled from a configuration that the tasks share:
// features, journeys, and the decisioning engine (with its
// reference tables and the learner of its adaptive model).
type Env struct {
	operators.Env
	engine  atomic.Pointer[decide.Engine]
	Learner *models.Learner
	ref     atomic.Pointer[refdata.Tables]
	files   fs.FS
}

// NewEnv compiles cfg. files holds the model and reference files the
// config names; nil reads them from disk, relative to the config file, or
// from the embedded example's files when cfg is the embedded example. Errors point at the key in the config.
func NewEnv(cfg *config.Config, files fs.FS) (*Env, error) {
	if files == nil && cfg.Source() == examples.ConfigName {
		files = examples.Files
	}
	e := &Env{Learner: models.NewLearner(), files: files}
	var err error
	if e.Features, err = features.NewSet(cfg); err != nil {
		return nil, err
	}
	if len(cfg.Journeys) > 0 {
		if e.Journeys, err = journeys.New(cfg, e.Features); err != nil {
			return nil, err
		}
	}
	eng, ref, err := e.compileDecide(cfg)
	if err != nil {
		return nil, err
	}
	if err := checkJourneyActions(cfg, e.Journeys, eng); err != nil {
		ref.Close()
		return nil, err
	}
	e.engine.Store(eng)
	e.ref.Store(ref)
	e.Decide = &e.engine
	return e, nil
}

// compileDecide builds a decisioning engine and its reference tables.
func (e *Env) compileDecide(cfg *config.Config) (*decide.Engine, *refdata.Tables, error) {
	ref, err := refdata.Open(cfg, e.files)
	if err != nil {
		return nil, nil, err
	}
	opt := decide.Options{Reference: ref, Learner: e.Learner}
	if e.files != nil {
		opt.Load = decide.FSLoader(e.files)
	} else if src := cfg.Source(); src != "" {
		opt.BaseDir = filepath.Dir(src)
	}
	eng, err := decide.New(cfg, e.Features, opt)
	if err != nil {
		ref.Close()
		return nil, nil, err
	}
	return eng, ref, nil
}

// checkJourneyActions refuses journeys naming actions the catalogue does
// not have.
func checkJourneyActions(cfg *config.Config, j *journeys.Engine, eng *decide.Engine) error {
	if j == nil {
		return nil
	}
	known := map[string]bool{}
	for _, a := range eng.Actions() {
		known[a] = true
	}
	for i, id := range j.Journeys() {
		for _, a := range j.Actions(id) {
			if !known[a] {
				return cfg.ErrorAt(fmt.Sprintf("journeys[%d]", i),
					"journeys[%d] (%s): action %q is not in decide.actions; add it to the catalogue or use one of: %s",
					i, id, a, strings.Join(eng.Actions(), ", "))
			}
		}
	}
	return nil
}

// Engine is the decisioning engine in use.
func (e *Env) Engine() *decide.Engine { return e.engine.Load() }

// Reload compiles the decisioning section (models, catalogue, contact
// policy, experiments) and the reference tables of cfg and puts them in
// place at once; tasks pick them up at their next event. On any error
// nothing changes. Features, journeys and topics are not reloaded: they
// shape the state, and changing them needs a restart.
func (e *Env) Reload(cfg *config.Config) (string, error) {
	eng, ref, err := e.compileDecide(cfg)
	if err != nil {
		return "", err
	}
	if err := checkJourneyActions(cfg, e.Journeys, eng); err != nil {
		ref.Close()
		return "", err
	}
	e.engine.Store(eng)
	if old := e.ref.Swap(ref); old != nil {
		old.Close()
	}
	return fmt.Sprintf("%d actions, models %s", len(eng.Actions()), strings.Join(eng.Models(), ", ")), nil
}

// ReferenceStats are the lookup counters of the reference tables in use
// (they start again from zero after a reload).
func (e *Env) ReferenceStats() refdata.Stats {
	if r := e.ref.Load(); r != nil {
		return r.Stats()
	}
	return refdata.Stats{}
}

// Close releases the reference tables' cache.
func (e *Env) Close() {
	if r := e.ref.Swap(nil); r != nil {
		r.Close()
	}
}
