package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Objective names understood by LoadXGBoost.
const (
	objBinaryLogistic = "binary:logistic"
	objBinaryLogitRaw = "binary:logitraw"
	objRegSquared     = "reg:squarederror"
	objMultiSoftprob  = "multi:softprob"
)

// xgbNode is one tree node. Leaves have left < 0 and keep their value in
// cond, as XGBoost's JSON format does (split_conditions holds leaf values).
type xgbNode struct {
	cond    float32 // split threshold, or leaf value
	feature int32   // feature index of the split
	left    int32   // absolute index into XGBoost.nodes, -1 for a leaf
	right   int32   // absolute index into XGBoost.nodes
	defLeft bool    // missing values go left
}

// XGBoost is an XGBoost gbtree model loaded by LoadXGBoost. It is immutable
// after loading and safe for concurrent use by multiple goroutines.
type XGBoost struct {
	featureNames []string
	numFeature   int
	numClass     int
	objective    string
	baseMargin   []float32 // per class, already in margin space
	roots        []int32   // root node of each tree
	groups       []int32   // output class of each tree
	nodes        []xgbNode
	// means holds each node's expected value, for Explain: a leaf's value,
	// or the cover-weighted mean of its children's. Kept apart from nodes
	// so that Predict's walk touches no more memory than it needs.
	means []float64
	// bias is, per class, the base margin plus the root means of the
	// class's trees: the part of the margin Explain attributes to no input.
	bias []float64
}

// LoadXGBoost reads an XGBoost model saved with Booster.save_model, either as
// JSON (XGBoost 1.7+) or UBJSON. The format is detected from the content (and
// the .ubj/.ubjson extension). Errors are of the form
// "cannot load model PATH: reason".
func LoadXGBoost(path string) (*XGBoost, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot load model %s: %w", path, err)
	}
	ext := strings.ToLower(filepath.Ext(path))
	m, err := parseXGBoost(data, ext == ".ubj" || ext == ".ubjson")
	if err != nil {
		return nil, fmt.Errorf("cannot load model %s: %w", path, err)
	}
	return m, nil
}

// parseXGBoost decodes a model from bytes; ubj forces UBJSON decoding.
func parseXGBoost(data []byte, ubj bool) (*XGBoost, error) {
	var (
		tree any
		err  error
	)
	if ubj || !looksLikeJSON(data) {
		tree, err = decodeUBJSON(data)
		if err != nil {
			return nil, err
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&tree); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("json: truncated input: %w", err)
			}
			return nil, fmt.Errorf("json: %w", err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.New("json: trailing data after model object")
		}
	}
	return modelFromTree(tree)
}

// looksLikeJSON reports whether data starts like a JSON object: '{' followed
// by '"' or '}' (after optional whitespace). UBJSON objects put a binary type
// marker after the '{'.
func looksLikeJSON(data []byte) bool {
	s := bytes.TrimLeft(data, " \t\r\n")
	if len(s) == 0 || s[0] != '{' {
		return len(s) > 0 && s[0] != '{' && s[0] != '['
	}
	s = bytes.TrimLeft(s[1:], " \t\r\n")
	return len(s) > 0 && (s[0] == '"' || s[0] == '}')
}

// modelFromTree builds the model from a decoded JSON/UBJSON value tree.
func modelFromTree(root any) (*XGBoost, error) {
	top, ok := root.(map[string]any)
	if !ok {
		return nil, errors.New("model is not an object")
	}
	if v, ok := top["version"].([]any); ok && len(v) >= 2 {
		major, e1 := toInt(v[0])
		minor, e2 := toInt(v[1])
		if e1 == nil && e2 == nil && (major < 1 || (major == 1 && minor < 7)) {
			return nil, fmt.Errorf("model written by XGBoost %d.%d, need 1.7 or later", major, minor)
		}
	}
	learner, err := getObj(top, "learner")
	if err != nil {
		return nil, err
	}
	param, err := getObj(learner, "learner_model_param")
	if err != nil {
		return nil, err
	}
	objObj, err := getObj(learner, "objective")
	if err != nil {
		return nil, err
	}
	objective, err := getString(objObj, "name")
	if err != nil {
		return nil, fmt.Errorf("learner.objective: %w", err)
	}

	m := &XGBoost{objective: objective}
	numFeature, err := getIntString(param, "num_feature")
	if err != nil {
		return nil, fmt.Errorf("learner_model_param: %w", err)
	}
	if numFeature < 0 || numFeature > 1<<24 {
		return nil, fmt.Errorf("learner_model_param: num_feature %d out of range", numFeature)
	}
	m.numFeature = int(numFeature)
	numClass := int64(0)
	if _, ok := param["num_class"]; ok {
		if numClass, err = getIntString(param, "num_class"); err != nil {
			return nil, fmt.Errorf("learner_model_param: %w", err)
		}
	}
	if nt, ok := param["num_target"]; ok {
		if n, err := toIntString(nt); err != nil || n > 1 {
			return nil, fmt.Errorf("learner_model_param: num_target %v not supported (multi-target models)", nt)
		}
	}
	switch objective {
	case objBinaryLogistic, objBinaryLogitRaw, objRegSquared:
		if numClass > 1 {
			return nil, fmt.Errorf("objective %s with num_class %d", objective, numClass)
		}
		m.numClass = 1
	case objMultiSoftprob:
		if numClass < 2 || numClass > 1<<16 {
			return nil, fmt.Errorf("objective %s needs num_class >= 2, got %d", objective, numClass)
		}
		m.numClass = int(numClass)
	default:
		return nil, fmt.Errorf("unsupported objective %q (supported: %s, %s, %s, %s)",
			objective, objBinaryLogistic, objBinaryLogitRaw, objRegSquared, objMultiSoftprob)
	}

	if err := m.loadBaseScore(param); err != nil {
		return nil, err
	}
	if err := m.loadFeatureNames(learner); err != nil {
		return nil, err
	}

	booster, err := getObj(learner, "gradient_booster")
	if err != nil {
		return nil, err
	}
	if name, err := getString(booster, "name"); err != nil {
		return nil, fmt.Errorf("gradient_booster: %w", err)
	} else if name != "gbtree" {
		return nil, fmt.Errorf("unsupported booster %q (only gbtree)", name)
	}
	model, err := getObj(booster, "model")
	if err != nil {
		return nil, fmt.Errorf("gradient_booster: %w", err)
	}
	trees, err := getArr(model, "trees")
	if err != nil {
		return nil, fmt.Errorf("gradient_booster.model: %w", err)
	}
	info, err := getArr(model, "tree_info")
	if err != nil {
		return nil, fmt.Errorf("gradient_booster.model: %w", err)
	}
	if len(info) != len(trees) {
		return nil, fmt.Errorf("gradient_booster.model: %d trees but %d tree_info entries", len(trees), len(info))
	}
	for i, t := range trees {
		g, err := toInt(info[i])
		if err != nil || g < 0 || g >= int64(m.numClass) {
			return nil, fmt.Errorf("tree %d: tree_info %v not a class in [0,%d)", i, info[i], m.numClass)
		}
		to, ok := t.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("tree %d: not an object", i)
		}
		if err := m.addTree(to); err != nil {
			return nil, fmt.Errorf("tree %d: %w", i, err)
		}
		m.groups = append(m.groups, int32(g))
	}
	m.bias = make([]float64, m.numClass)
	for k, b := range m.baseMargin {
		m.bias[k] = float64(b)
	}
	for t, root := range m.roots {
		m.bias[m.groups[t]] += m.means[root]
	}
	return m, nil
}

// loadBaseScore converts learner_model_param.base_score (stored in the
// objective's output space) to the base margin, like XGBoost's ProbToMargin:
// logit for the binary objectives, identity otherwise.
func (m *XGBoost) loadBaseScore(param map[string]any) error {
	raw, err := getString(param, "base_score")
	if err != nil {
		return fmt.Errorf("learner_model_param: %w", err)
	}
	// XGBoost 3 writes a vector intercept as "[v1,v2,...]".
	parts := strings.Split(strings.Trim(strings.TrimSpace(raw), "[]"), ",")
	vals := make([]float32, 0, len(parts))
	for _, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil {
			return fmt.Errorf("learner_model_param: bad base_score %q", raw)
		}
		vals = append(vals, float32(f))
	}
	if len(vals) != 1 && len(vals) != m.numClass {
		return fmt.Errorf("learner_model_param: base_score %q has %d values for %d classes", raw, len(vals), m.numClass)
	}
	m.baseMargin = make([]float32, m.numClass)
	for k := range m.baseMargin {
		v := vals[0]
		if len(vals) > 1 {
			v = vals[k]
		}
		switch m.objective {
		case objBinaryLogistic, objBinaryLogitRaw:
			if !(v > 0 && v < 1) {
				return fmt.Errorf("learner_model_param: base_score %v must be in (0,1) for %s", v, m.objective)
			}
			v = float32(-math.Log(1/float64(v) - 1))
		}
		m.baseMargin[k] = v
	}
	return nil
}

func (m *XGBoost) loadFeatureNames(learner map[string]any) error {
	if raw, ok := learner["feature_names"].([]any); ok && len(raw) > 0 {
		if len(raw) != m.numFeature {
			return fmt.Errorf("learner: %d feature_names but num_feature %d", len(raw), m.numFeature)
		}
		for i, v := range raw {
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("learner: feature_names[%d] is not a string", i)
			}
			m.featureNames = append(m.featureNames, s)
		}
		return nil
	}
	for i := 0; i < m.numFeature; i++ {
		m.featureNames = append(m.featureNames, "f"+strconv.Itoa(i))
	}
	return nil
}

// addTree validates one tree and appends its nodes.
func (m *XGBoost) addTree(t map[string]any) error {
	left, err := getArr(t, "left_children")
	if err != nil {
		return err
	}
	n := len(left)
	if n == 0 {
		return errors.New("empty tree")
	}
	if n > math.MaxInt32-len(m.nodes) {
		return errors.New("too many nodes")
	}
	arr := func(key string) ([]any, error) {
		a, err := getArr(t, key)
		if err == nil && len(a) != n {
			err = fmt.Errorf("%s has %d entries, left_children %d", key, len(a), n)
		}
		return a, err
	}
	right, err := arr("right_children")
	if err != nil {
		return err
	}
	idx, err := arr("split_indices")
	if err != nil {
		return err
	}
	cond, err := arr("split_conditions")
	if err != nil {
		return err
	}
	defLeft, err := arr("default_left")
	if err != nil {
		return err
	}
	var splitType []any
	if _, ok := t["split_type"]; ok {
		if splitType, err = arr("split_type"); err != nil {
			return err
		}
	}
	base := int32(len(m.nodes))
	for i := 0; i < n; i++ {
		l, err := toInt(left[i])
		if err != nil {
			return fmt.Errorf("left_children[%d]: %w", i, err)
		}
		c, err := toFloat32(cond[i])
		if err != nil {
			return fmt.Errorf("split_conditions[%d]: %w", i, err)
		}
		nd := xgbNode{cond: c, left: -1, right: -1}
		if l != -1 {
			r, err := toInt(right[i])
			if err != nil {
				return fmt.Errorf("right_children[%d]: %w", i, err)
			}
			if l < 0 || l >= int64(n) || r < 0 || r >= int64(n) {
				return fmt.Errorf("node %d: children %d,%d out of range", i, l, r)
			}
			f, err := toInt(idx[i])
			if err != nil {
				return fmt.Errorf("split_indices[%d]: %w", i, err)
			}
			if f < 0 || f >= int64(m.numFeature) {
				return fmt.Errorf("node %d: split feature %d out of range [0,%d)", i, f, m.numFeature)
			}
			dl, err := toInt(defLeft[i])
			if err != nil {
				return fmt.Errorf("default_left[%d]: %w", i, err)
			}
			if splitType != nil {
				if st, err := toInt(splitType[i]); err != nil || st != 0 {
					return fmt.Errorf("node %d: categorical splits are not supported", i)
				}
			}
			nd.feature = int32(f)
			nd.left = base + int32(l)
			nd.right = base + int32(r)
			nd.defLeft = dl != 0
		}
		m.nodes = append(m.nodes, nd)
	}
	// Every node reachable from the root must be reached exactly once: this
	// rules out cycles, so prediction always terminates.
	seen := make([]bool, n)
	stack := []int32{0}
	order := make([]int32, 0, n) // preorder: a parent before its children
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[i] {
			return fmt.Errorf("node %d reached twice: not a tree", i)
		}
		seen[i] = true
		order = append(order, i)
		if nd := m.nodes[base+i]; nd.left >= 0 {
			stack = append(stack, nd.left-base, nd.right-base)
		}
	}
	m.addMeans(t, base, n, order)
	m.roots = append(m.roots, base)
	return nil
}

// addMeans appends the expected value of each node of the tree that starts
// at base, as XGBoost's approximate (Saabas) contributions define it: a
// leaf's value, or the mean of the children's weighted by their hessian
// sums (cover). base_weights cannot serve: XGBoost stores the inner nodes'
// weights before the learning rate is applied and the leaves' after it, so
// a path from a base_weight to a leaf value does not add up. A tree
// without a usable sum_hessian weighs both children equally; the
// contributions still add up to the margin.
func (m *XGBoost) addMeans(t map[string]any, base int32, n int, order []int32) {
	hess, _ := t["sum_hessian"].([]any)
	cover := func(i int32) float64 {
		if len(hess) != n {
			return 1
		}
		h, err := toFloat64(hess[i-base])
		if err != nil || !(h > 0) || math.IsInf(h, 0) {
			return 1
		}
		return h
	}
	means := make([]float64, n)
	for j := len(order) - 1; j >= 0; j-- { // children before parents
		i := order[j]
		nd := m.nodes[base+i]
		if nd.left < 0 {
			means[i] = float64(nd.cond)
			continue
		}
		hl, hr := cover(nd.left), cover(nd.right)
		means[i] = (means[nd.left-base]*hl + means[nd.right-base]*hr) / (hl + hr)
	}
	m.means = append(m.means, means...)
}

// FeatureNames returns the model's features in the order Predict expects
// them. The slice must not be modified.
func (m *XGBoost) FeatureNames() []string { return m.featureNames }

// NumClass returns the number of outputs per row: the class count for
// multi:softprob, 1 for binary and regression objectives.
func (m *XGBoost) NumClass() int { return m.numClass }

// Objective returns the model's XGBoost objective name, e.g. "binary:logistic".
func (m *XGBoost) Objective() string { return m.objective }

// NumTrees returns the number of trees in the model.
func (m *XGBoost) NumTrees() int { return len(m.roots) }

// Predict scores one row. x holds the features in FeatureNames order, with
// math.NaN() for a missing value (features beyond len(x) are missing too).
// The NumClass margins and transformed outputs (probabilities for
// binary:logistic and multi:softprob, the margin itself for binary:logitraw
// and reg:squarederror) are appended to margins[:0] and probs[:0] and
// returned. Predict does not allocate when the slices have capacity
// NumClass.
func (m *XGBoost) Predict(x []float64, margins, probs []float64) (marginsOut, probsOut []float64) {
	margins = m.Margins(x, margins)
	probs = append(probs[:0], margins...)
	m.transform(probs)
	return margins, probs
}

// Margins appends the NumClass margins for x (as for Predict) to dst[:0]
// and returns it. It does not allocate when dst has capacity NumClass.
func (m *XGBoost) Margins(x []float64, dst []float64) []float64 {
	dst = dst[:0]
	for _, b := range m.baseMargin {
		dst = append(dst, float64(b))
	}
	nodes := m.nodes
	for t, i := range m.roots {
		nd := &nodes[i]
		for nd.left >= 0 {
			i = nd.next(x)
			nd = &nodes[i]
		}
		// XGBoost accumulates the margin in float32, tree by tree.
		g := m.groups[t]
		dst[g] = float64(float32(dst[g]) + nd.cond)
	}
	return dst
}

// next returns the child of the split nd that x goes to.
func (nd *xgbNode) next(x []float64) int32 {
	v := math.NaN()
	if int(nd.feature) < len(x) {
		v = x[nd.feature]
	}
	switch {
	case v != v: // missing
		if nd.defLeft {
			return nd.left
		}
		return nd.right
	case float32(v) < nd.cond:
		return nd.left
	}
	return nd.right
}

// transform turns margins into the objective's outputs in place.
func (m *XGBoost) transform(v []float64) {
	switch m.objective {
	case objBinaryLogistic:
		v[0] = float64(float32(sigmoid(v[0])))
	case objMultiSoftprob:
		wmax := v[0]
		for _, e := range v[1:] {
			wmax = math.Max(wmax, e)
		}
		sum := 0.0
		for _, e := range v {
			sum += math.Exp(e - wmax)
		}
		for k, e := range v {
			v[k] = float64(float32(math.Exp(e-wmax) / sum))
		}
	}
}

// Explain appends to dst[:0] each feature's contribution to class k's
// margin for x, in FeatureNames order, along the decision path (Saabas):
// each split on the path credits its feature with the child's expected
// value minus its own. Bias(k) plus the contributions is the margin, to
// float32 rounding. A k out of range gets all zeros. Explain does not
// allocate when dst has capacity NumFeature.
func (m *XGBoost) Explain(x []float64, k int, dst []float64) []float64 {
	dst = dst[:0]
	for range m.numFeature {
		dst = append(dst, 0)
	}
	if k < 0 || k >= m.numClass {
		return dst
	}
	nodes, means := m.nodes, m.means
	for t, i := range m.roots {
		if int(m.groups[t]) != k {
			continue
		}
		for nd := &nodes[i]; nd.left >= 0; nd = &nodes[i] {
			next := nd.next(x)
			dst[nd.feature] += means[next] - means[i]
			i = next
		}
	}
	return dst
}

// Bias returns the part of class k's margin that Explain credits to no
// feature: the base margin plus the expected value of each of the class's
// trees. It is 0 for a k out of range.
func (m *XGBoost) Bias(k int) float64 {
	if k < 0 || k >= m.numClass {
		return 0
	}
	return m.bias[k]
}

func getObj(m map[string]any, key string) (map[string]any, error) {
	v, ok := m[key].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("missing or invalid object %q", key)
	}
	return v, nil
}

func getArr(m map[string]any, key string) ([]any, error) {
	v, ok := m[key].([]any)
	if !ok {
		return nil, fmt.Errorf("missing or invalid array %q", key)
	}
	return v, nil
}

func getString(m map[string]any, key string) (string, error) {
	v, ok := m[key].(string)
	if !ok {
		return "", fmt.Errorf("missing or invalid string %q", key)
	}
	return v, nil
}

func getIntString(m map[string]any, key string) (int64, error) {
	n, err := toIntString(m[key])
	if err != nil {
		return 0, fmt.Errorf("%q: %w", key, err)
	}
	return n, nil
}

// toIntString accepts an integer written as a string (XGBoost's parameter
// style) or as a number.
func toIntString(v any) (int64, error) {
	if s, ok := v.(string); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("not an integer: %q", s)
		}
		return n, nil
	}
	return toInt(v)
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
		f, err := x.Float64()
		if err != nil {
			return 0, fmt.Errorf("not a number: %q", x)
		}
		return floatToInt(f)
	case float64:
		return floatToInt(x)
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("not an integer: %T", v)
}

func floatToInt(f float64) (int64, error) {
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("not an integer: %v", f)
	}
	return int64(f), nil
}

func toFloat64(v any) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Float64()
	case float64:
		return x, nil
	}
	return 0, fmt.Errorf("not a number: %T", v)
}

func toFloat32(v any) (float32, error) {
	switch x := v.(type) {
	case json.Number:
		// Parse straight to float32 to avoid double rounding.
		f, err := strconv.ParseFloat(string(x), 32)
		if err != nil {
			return 0, fmt.Errorf("not a float32: %q", x)
		}
		return float32(f), nil
	case float64:
		return float32(x), nil
	}
	return 0, fmt.Errorf("not a number: %T", v)
}
