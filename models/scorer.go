package models

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
)

// Scorer is a loaded, immutable, versioned model, safe for concurrent use
// by many goroutines. Decisions read it through this interface whatever
// the model family.
type Scorer interface {
	// ID and Version name the model on decisions, as ID@Version.
	ID() string
	Version() string
	// Inputs are the feature names the model reads, in the order Score
	// and Explain take them.
	Inputs() []string
	// Outputs is 1 for binary, regression and linear models and k for a
	// k-class model.
	Outputs() int
	// Score writes the model's outputs for x (Inputs order, NaN for a
	// missing value) to out[:0] and returns it: probabilities for
	// logistic, binary:logistic and multi:softprob models, the raw value
	// for linear, reg:squarederror and binary:logitraw. It does not
	// allocate when out has room for Outputs values.
	Score(x []float64, out []float64) []float64
	// Explain writes to dst[:0] each input's contribution to output k's
	// margin for x, in Inputs order: exact for linear models, along the
	// decision path for trees. It does not allocate when dst has room.
	Explain(x []float64, k int, dst []float64) []float64
}

// Load reads a model file: XGBoost JSON or UBJSON. id names the model;
// an empty version is taken from the file's content (the first 12 hex
// digits of its SHA-256), so a changed file is a new version.
func Load(path, id, version string) (Scorer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot load model %s: %w", path, err)
	}
	if version == "" {
		sum := sha256.Sum256(data)
		version = hex.EncodeToString(sum[:6])
	}
	m, err := LoadXGBoost(path)
	if err != nil {
		return nil, err
	}
	return &xgbScorer{XGBoost: m, id: id, version: version, margins: nil}, nil
}

type xgbScorer struct {
	*XGBoost
	id, version string
	margins     []float64
}

func (s *xgbScorer) ID() string       { return s.id }
func (s *xgbScorer) Version() string  { return s.version }
func (s *xgbScorer) Inputs() []string { return s.featureNames }
func (s *xgbScorer) Outputs() int     { return s.numClass }

func (s *xgbScorer) Score(x, out []float64) []float64 {
	var m [16]float64
	_, out = s.Predict(x, m[:0], out)
	return out
}

// Explain is not yet implemented for trees: it reports no contribution.
func (s *xgbScorer) Explain(x []float64, k int, dst []float64) []float64 {
	dst = dst[:0]
	for range s.featureNames {
		dst = append(dst, 0)
	}
	return dst
}
