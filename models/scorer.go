package models

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// Additive is a Scorer whose margins are a bias plus its explanation:
// for every x and output k, Margins(x)[k] = Bias(k) + sum(Explain(x, k)),
// to float rounding. Every Scorer that Load returns implements it; parity
// checks and explanations that show the bias use it.
type Additive interface {
	Scorer
	// Margins writes the Outputs margins for x (the log-odds of a
	// logistic model, XGBoost's output_margin) to dst[:0]. It does not
	// allocate when dst has room for Outputs values.
	Margins(x []float64, dst []float64) []float64
	// Bias is the part of output k's margin credited to no input.
	Bias(k int) float64
}

// Load reads a model file, detecting its format from the content:
// Meridian's linear JSON (a "format" key, see Linear), XGBoost JSON (a
// "learner" key) or XGBoost UBJSON (binary; a .ubj or .ubjson extension
// forces it). id names the model; when empty, the linear file's "id" or
// else the file name up to its first dot is used. The version is the
// argument, else the linear file's "version", else the first 12 hex digits
// of the content's SHA-256, so a changed file is a new version. Errors
// read "cannot load model PATH: reason".
func Load(path, id, version string) (Scorer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot load model %s: %w", path, err)
	}
	s, err := parseModel(data, path, id, version)
	if err != nil {
		return nil, fmt.Errorf("cannot load model %s: %w", path, err)
	}
	return s, nil
}

// parseModel detects the format of data and decodes it.
func parseModel(data []byte, path, id, version string) (Additive, error) {
	fileID, _, _ := strings.Cut(filepath.Base(path), ".")
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:6])
	ext := strings.ToLower(filepath.Ext(path))
	ubj := ext == ".ubj" || ext == ".ubjson"
	if !ubj && looksLikeJSON(data) {
		var top map[string]json.RawMessage
		err := json.Unmarshal(data, &top)
		_, isLinear := top["format"]
		_, isXGB := top["learner"]
		switch {
		case isLinear || (err != nil && bytes.Contains(data, []byte(`"format"`))):
			// Invalid JSON that mentions "format" gets the linear
			// decoder's more helpful errors.
			return loadLinear(data, id, version, fileID, hash)
		case err == nil && !isXGB:
			return nil, errors.New(`not a model this version reads: a linear model has "format": "` +
				LinearFormat + `", an XGBoost model (Booster.save_model) has "learner"`)
		}
	}
	m, err := parseXGBoost(data, ubj)
	if err != nil {
		return nil, err
	}
	return &xgbScorer{XGBoost: m, id: first(id, fileID), version: first(version, hash)}, nil
}

// loadLinear decodes a linear model. Its id and version are the caller's,
// else the file's, else the file name's and the content hash.
func loadLinear(data []byte, id, version, fileID, hash string) (*Linear, error) {
	m, err := parseLinear(data)
	if err != nil {
		return nil, err
	}
	m.id = first(id, m.id, fileID)
	m.version = first(version, m.version, hash)
	return m, nil
}

// first returns the first non-empty string.
func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

type xgbScorer struct {
	*XGBoost
	id, version string
}

func (s *xgbScorer) ID() string       { return s.id }
func (s *xgbScorer) Version() string  { return s.version }
func (s *xgbScorer) Inputs() []string { return s.featureNames }
func (s *xgbScorer) Outputs() int     { return s.numClass }

// Score accumulates the margins in out itself and transforms them in
// place, so it needs no scratch space whatever the number of classes.
func (s *xgbScorer) Score(x, out []float64) []float64 {
	out = s.Margins(x, out)
	s.transform(out)
	return out
}
