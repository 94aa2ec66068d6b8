package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// LinearFormat is the value of the "format" key that marks a linear or
// logistic model file.
const LinearFormat = "meridian.linear/v1"

// Linear model types.
const (
	typeLinear   = "linear"
	typeLogistic = "logistic"
)

// Linear is a linear or logistic regression model read from Meridian's
// linear JSON format (see docs/models.md):
//
//	{"format": "meridian.linear/v1", "type": "logistic", "id": "cart_recovery_lr",
//	 "version": "3", "intercept": -2.1,
//	 "weights": {"cart_value_1h": 0.012, "tenure_days": -0.0004},
//	 "missing": {"tenure_days": 365}}
//
// The margin is intercept + sum(weight_i * x_i); a logistic model predicts
// 1/(1+exp(-margin)), a linear one the margin itself. A missing input (NaN,
// or beyond the end of x) takes its "missing" value when the file gives one
// and contributes 0 otherwise. Inputs are the weights' names in file order.
// Linear is immutable and safe for concurrent use.
type Linear struct {
	id, version string
	logistic    bool
	intercept   float64
	names       []string
	weights     []float64
	missing     []float64 // NaN: no value given, the input contributes 0
}

// linearFile is the JSON document; weights and missing are decoded by hand
// to keep the file's order and refuse repeated names.
type linearFile struct {
	Format    string          `json:"format"`
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	Version   json.RawMessage `json:"version"`
	Intercept *float64        `json:"intercept"`
	Weights   json.RawMessage `json:"weights"`
	Missing   json.RawMessage `json:"missing"`
}

// parseLinear decodes and validates a linear model. Its errors say which
// key is wrong and what to write instead.
func parseLinear(data []byte) (*Linear, error) {
	var f linearFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, linearSyntaxError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("json: trailing data after the model object")
	}
	if f.Format != LinearFormat {
		return nil, fmt.Errorf("format %q is not supported; write \"format\": %q", f.Format, LinearFormat)
	}
	m := &Linear{id: f.ID}
	switch f.Type {
	case typeLogistic:
		m.logistic = true
	case typeLinear:
	default:
		return nil, fmt.Errorf("type %q is not a linear model type; write \"type\": \"logistic\" or \"type\": \"linear\"", f.Type)
	}
	v, err := versionString(f.Version)
	if err != nil {
		return nil, err
	}
	m.version = v
	if f.Intercept == nil {
		return nil, errors.New(`"intercept" is required; write e.g. "intercept": 0`)
	}
	m.intercept = *f.Intercept
	names, weights, err := orderedNumbers(f.Weights, "weights")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New(`"weights" must name at least one input; write e.g. "weights": {"cart_value_1h": 0.012}`)
	}
	m.names, m.weights = names, weights
	m.missing = make([]float64, len(names))
	for i := range m.missing {
		m.missing[i] = math.NaN()
	}
	if len(f.Missing) > 0 && !bytes.Equal(bytes.TrimSpace(f.Missing), []byte("null")) {
		mnames, mvals, err := orderedNumbers(f.Missing, "missing")
		if err != nil {
			return nil, err
		}
		for j, name := range mnames {
			i := indexOf(names, name)
			if i < 0 {
				return nil, fmt.Errorf("missing: %q has no weight; every name in \"missing\" must also be in \"weights\"", name)
			}
			m.missing[i] = mvals[j]
		}
	}
	return m, nil
}

// linearSyntaxError makes the decoder's errors say what to do, notably for
// the NaN and Infinity that Python's json module writes.
func linearSyntaxError(data []byte, err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) && (bytes.Contains(data, []byte("NaN")) || bytes.Contains(data, []byte("Infinity"))) {
		return fmt.Errorf("json: %v: NaN and Infinity are not numbers in JSON, and a model needs finite weights; fix the model (json.dumps(..., allow_nan=False) finds them)", err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("json: truncated input: %w", err)
	}
	return fmt.Errorf("json: %w (the keys are format, type, id, version, intercept, weights and missing)", err)
}

// versionString accepts "version" as a string or an integer.
func versionString(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		if _, err := n.Int64(); err == nil {
			return n.String(), nil
		}
	}
	return "", fmt.Errorf("version %s is not a string or an integer; write e.g. \"version\": \"3\"", raw)
}

// orderedNumbers decodes a JSON object of finite numbers, keeping the key
// order and refusing repeated keys.
func orderedNumbers(raw json.RawMessage, key string) ([]string, []float64, error) {
	if len(raw) == 0 {
		return nil, nil, fmt.Errorf("%q is required; write e.g. %q: {\"cart_value_1h\": 0.012}", key, key)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, fmt.Errorf("%q must be an object of input name to number, got %s", key, raw)
	}
	var names []string
	var vals []float64
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", key, err)
		}
		name := t.(string) // object keys are always strings
		if name == "" {
			return nil, nil, fmt.Errorf("%s: an input name is empty", key)
		}
		if indexOf(names, name) >= 0 {
			return nil, nil, fmt.Errorf("%s: %q appears twice; keep one", key, name)
		}
		t, err = dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("%s.%s: %w", key, name, err)
		}
		num, ok := t.(json.Number)
		if !ok {
			return nil, nil, fmt.Errorf("%s.%s: %v is not a number", key, name, t)
		}
		v, err := strconv.ParseFloat(string(num), 64)
		if err != nil || math.IsInf(v, 0) {
			return nil, nil, fmt.Errorf("%s.%s: %s is out of range; weights must be finite", key, name, num)
		}
		names = append(names, name)
		vals = append(vals, v)
	}
	return names, vals, nil
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// ID returns the model's id.
func (m *Linear) ID() string { return m.id }

// Version returns the model's version.
func (m *Linear) Version() string { return m.version }

// Inputs returns the names of the weights in file order. The slice must
// not be modified.
func (m *Linear) Inputs() []string { return m.names }

// Outputs is 1.
func (m *Linear) Outputs() int { return 1 }

// Logistic reports whether the model predicts a probability.
func (m *Linear) Logistic() bool { return m.logistic }

// value is input i of x, with the missing-value rule applied.
func (m *Linear) value(x []float64, i int) float64 {
	if i < len(x) && x[i] == x[i] {
		return x[i]
	}
	if v := m.missing[i]; v == v {
		return v
	}
	return 0
}

// Margins writes the margin, intercept + sum(weight * value), to dst[:0].
func (m *Linear) Margins(x, dst []float64) []float64 {
	s := m.intercept
	for i, w := range m.weights {
		s += w * m.value(x, i)
	}
	return append(dst[:0], s)
}

// Score writes the prediction to out[:0]: the probability for a logistic
// model, the margin for a linear one.
func (m *Linear) Score(x, out []float64) []float64 {
	out = m.Margins(x, out)
	if m.logistic {
		out[0] = sigmoid(out[0])
	}
	return out
}

// Explain writes weight * value for each input to dst[:0]. k must be 0;
// any other k gets all zeros.
func (m *Linear) Explain(x []float64, k int, dst []float64) []float64 {
	dst = dst[:0]
	for i, w := range m.weights {
		c := 0.0
		if k == 0 {
			c = w * m.value(x, i)
		}
		dst = append(dst, c)
	}
	return dst
}

// Bias returns the intercept for k = 0 and 0 otherwise.
func (m *Linear) Bias(k int) float64 {
	if k != 0 {
		return 0
	}
	return m.intercept
}

func sigmoid(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
