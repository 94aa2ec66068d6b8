package models

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fixtureDir holds the shared XGBoost fixtures, relative to this package.
const fixtureDir = "../../shared/fixtures/models"

// tolerance is the agreement required with XGBoost's own predictions.
const tolerance = 1e-6

// fixture returns the path of a fixture file, failing under CI=true and
// skipping otherwise when the fixture directory is missing.
func fixture(tb testing.TB, name string) string {
	tb.Helper()
	if _, err := os.Stat(fixtureDir); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("fixture directory %s missing: %v", fixtureDir, err)
		}
		tb.Skipf("fixture directory %s missing: %v", fixtureDir, err)
	}
	return filepath.Join(fixtureDir, name)
}

type expectedRow struct {
	x       []float64
	margins []float64
	probs   []float64
}

// readExpected parses an .expected.csv: the features (empty = NaN), then
// margin/prob or margin_k.../prob_k... columns.
func readExpected(t *testing.T, name string, features []string, numClass int) []expectedRow {
	t.Helper()
	f, err := os.Open(fixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := recs[0]
	if len(header) != len(features)+2*numClass {
		t.Fatalf("%s: %d columns, want %d", name, len(header), len(features)+2*numClass)
	}
	for i, fn := range features {
		if header[i] != fn {
			t.Fatalf("%s: column %d is %q, model feature is %q", name, i, header[i], fn)
		}
	}
	var rows []expectedRow
	for ri, rec := range recs[1:] {
		vals := make([]float64, len(rec))
		for i, s := range rec {
			if s == "" {
				vals[i] = math.NaN()
				continue
			}
			if vals[i], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatalf("%s row %d col %d: %v", name, ri+1, i, err)
			}
		}
		nf := len(features)
		rows = append(rows, expectedRow{
			x:       vals[:nf],
			margins: vals[nf : nf+numClass],
			probs:   vals[nf+numClass:],
		})
	}
	return rows
}

func checkParity(t *testing.T, modelFile, csvFile string, wantClass int) {
	m, err := LoadXGBoost(fixture(t, modelFile))
	if err != nil {
		t.Fatal(err)
	}
	if m.NumClass() != wantClass {
		t.Fatalf("NumClass = %d, want %d", m.NumClass(), wantClass)
	}
	rows := readExpected(t, csvFile, m.FeatureNames(), m.NumClass())
	if len(rows) == 0 {
		t.Fatal("no rows")
	}
	var margins, probs []float64
	var maxMargin, maxProb float64
	for i, r := range rows {
		margins, probs = m.Predict(r.x, margins, probs)
		if len(margins) != wantClass || len(probs) != wantClass {
			t.Fatalf("row %d: got %d margins, %d probs", i+1, len(margins), len(probs))
		}
		for k := range wantClass {
			dm := math.Abs(margins[k] - r.margins[k])
			dp := math.Abs(probs[k] - r.probs[k])
			maxMargin = max(maxMargin, dm)
			maxProb = max(maxProb, dp)
			if !(dm <= tolerance) || !(dp <= tolerance) {
				t.Errorf("row %d class %d: margin %v want %v, prob %v want %v",
					i+1, k, margins[k], r.margins[k], probs[k], r.probs[k])
			}
		}
	}
	t.Logf("%s: %d rows, max |margin err| %.3g, max |prob err| %.3g", modelFile, len(rows), maxMargin, maxProb)
}

func TestParityCartRecoveryJSON(t *testing.T) {
	checkParity(t, "cart_recovery.xgb.json", "cart_recovery.expected.csv", 1)
}

func TestParityCartRecoveryUBJSON(t *testing.T) {
	checkParity(t, "cart_recovery.xgb.ubj", "cart_recovery.expected.csv", 1)
}

func TestParityChannelChoice(t *testing.T) {
	checkParity(t, "channel_choice.xgb.json", "channel_choice.expected.csv", 3)
}

func TestFixtureMetadata(t *testing.T) {
	want := []string{"cart_value_1h", "add_to_cart_1h", "page_views_1h", "product_views_1h",
		"sessions_24h", "minutes_since_last_add_to_cart", "minutes_since_last_purchase",
		"purchases_30d", "payment_failures_7d", "tenure_days"}
	for _, c := range []struct {
		file      string
		objective string
		trees     int
	}{
		{"cart_recovery.xgb.json", "binary:logistic", 100},
		{"cart_recovery.xgb.ubj", "binary:logistic", 100},
		{"channel_choice.xgb.json", "multi:softprob", 120},
	} {
		m, err := LoadXGBoost(fixture(t, c.file))
		if err != nil {
			t.Fatal(err)
		}
		if m.Objective() != c.objective || m.NumTrees() != c.trees {
			t.Errorf("%s: objective %q trees %d, want %q %d", c.file, m.Objective(), m.NumTrees(), c.objective, c.trees)
		}
		if strings.Join(m.FeatureNames(), ",") != strings.Join(want, ",") {
			t.Errorf("%s: feature names %v", c.file, m.FeatureNames())
		}
	}
}

// stumpModel is a hand-written one-tree model: feature f1 < 0.5 goes left
// (leaf -1), otherwise right (leaf 2); missing goes right.
func stumpModel(objective, baseScore string, numClass int) string {
	trees := ""
	info := ""
	for k := 0; k < max(numClass, 1); k++ {
		if k > 0 {
			trees += ","
			info += ","
		}
		trees += `{"left_children":[1,-1,-1],"right_children":[2,-1,-1],"split_indices":[1,0,0],
			"split_conditions":[0.5,-1.0,2.0],"default_left":[0,0,0],"split_type":[0,0,0],
			"base_weights":[0,0,0]}`
		info += strconv.Itoa(k)
	}
	return `{"learner":{"feature_names":["a","b"],
		"gradient_booster":{"model":{"trees":[` + trees + `],"tree_info":[` + info + `]},"name":"gbtree"},
		"learner_model_param":{"base_score":"` + baseScore + `","num_class":"` + strconv.Itoa(numClass) + `","num_feature":"2"},
		"objective":{"name":"` + objective + `"}},"version":[1,7,4]}`
}

func writeTemp(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPredictStump(t *testing.T) {
	cases := []struct {
		objective string
		base      string
		numClass  int
		x         []float64
		margin    float64
		prob      float64
	}{
		{"reg:squarederror", "5E-1", 0, []float64{0, 0.25}, -0.5, -0.5},
		{"reg:squarederror", "5E-1", 0, []float64{0, 0.5}, 2.5, 2.5},        // not < 0.5: right
		{"reg:squarederror", "5E-1", 0, []float64{0, math.NaN()}, 2.5, 2.5}, // missing: default right
		{"reg:squarederror", "5E-1", 0, []float64{0}, 2.5, 2.5},             // short row: missing
		{"binary:logitraw", "5E-1", 0, []float64{0, 0.1}, -1, -1},
		{"binary:logistic", "5E-1", 0, []float64{0, 0.1}, -1, 1 / (1 + math.E)},
		{"binary:logistic", "7.310586E-1", 0, []float64{0, 0.1}, 0, 0.5},
	}
	for _, c := range cases {
		m, err := LoadXGBoost(writeTemp(t, "m.json", stumpModel(c.objective, c.base, c.numClass)))
		if err != nil {
			t.Fatalf("%s: %v", c.objective, err)
		}
		margins, probs := m.Predict(c.x, nil, nil)
		if math.Abs(margins[0]-c.margin) > 1e-6 || math.Abs(probs[0]-c.prob) > 1e-6 {
			t.Errorf("%s base %s x=%v: margin %v prob %v, want %v %v", c.objective, c.base, c.x, margins[0], probs[0], c.margin, c.prob)
		}
	}
	m, err := LoadXGBoost(writeTemp(t, "m.json", stumpModel("multi:softprob", "0", 3)))
	if err != nil {
		t.Fatal(err)
	}
	_, probs := m.Predict([]float64{0, 0}, nil, nil)
	for _, p := range probs {
		if math.Abs(p-1.0/3) > 1e-6 {
			t.Errorf("softprob of equal margins: %v", probs)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	valid := stumpModel("binary:logistic", "5E-1", 0)
	cases := []struct {
		name    string
		path    string
		wantSub string
	}{
		{"missing file", filepath.Join(t.TempDir(), "nope.json"), "no such file"},
		{"truncated json", writeTemp(t, "t.json", valid[:len(valid)/2]), "truncated"},
		{"unsupported objective", writeTemp(t, "o.json", strings.Replace(valid, "binary:logistic", "rank:pairwise", 1)), `unsupported objective "rank:pairwise"`},
		{"empty file", writeTemp(t, "e.json", ""), "unexpected end"},
		{"not a model", writeTemp(t, "n.json", `{"a":1}`), `"learner"`},
		{"bad child", writeTemp(t, "c.json", strings.Replace(valid, `"left_children":[1,`, `"left_children":[7,`, 1)), "out of range"},
		{"cycle", writeTemp(t, "y.json", strings.Replace(valid, `"right_children":[2,`, `"right_children":[1,`, 1)), "reached twice"},
		{"bad feature", writeTemp(t, "f.json", strings.Replace(valid, `"split_indices":[1,`, `"split_indices":[9,`, 1)), "split feature 9"},
		{"categorical", writeTemp(t, "s.json", strings.Replace(valid, `"split_type":[0,`, `"split_type":[1,`, 1)), "categorical"},
		{"truncated ubjson", writeTemp(t, "u.ubj", "{L\x00\x00\x00\x00\x00\x00\x00\x07lear"), "unexpected end"},
	}
	if _, err := os.Stat(fixtureDir); err == nil {
		data, err := os.ReadFile(filepath.Join(fixtureDir, "cart_recovery.xgb.ubj"))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			name    string
			path    string
			wantSub string
		}{"truncated fixture ubjson", writeTemp(t, "cart.ubj", string(data[:len(data)-100])), "unexpected end"})
	}
	for _, c := range cases {
		m, err := LoadXGBoost(c.path)
		if err == nil {
			t.Errorf("%s: loaded %+v, want error", c.name, m)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "cannot load model "+c.path+": ") || !strings.Contains(msg, c.wantSub) {
			t.Errorf("%s: error %q, want prefix %q and %q", c.name, msg, "cannot load model "+c.path, c.wantSub)
		}
	}
}

func TestUBJSONDecoder(t *testing.T) {
	in := "{i\x01a[$d#i\x02\x3f\x80\x00\x00\x40\x00\x00\x00" + // "a": [1, 2] as float32
		"i\x01b[$U#i\x03\x01\x02\xff" + // "b": uint8 typed array
		"i\x01c[i\xffI\x01\x00l\x00\x01\x00\x00L\x00\x00\x00\x00\x00\x00\x00\x05TFZCxSi\x02hiD\x3f\xf8\x00\x00\x00\x00\x00\x00]" +
		"i\x01d{#i\x01i\x01eSU\x01z" + // counted object
		"}"
	v, err := decodeUBJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	got := func(key string) []any { return m[key].([]any) }
	if a := got("a"); len(a) != 2 || a[0] != 1.0 || a[1] != 2.0 {
		t.Errorf("a = %v", a)
	}
	if b := got("b"); len(b) != 3 || b[2] != 255.0 {
		t.Errorf("b = %v", b)
	}
	c := got("c")
	want := []any{-1.0, 256.0, 65536.0, 5.0, true, false, nil, "x", "hi", 1.5}
	if len(c) != len(want) {
		t.Fatalf("c = %v", c)
	}
	for i := range want {
		if c[i] != want[i] {
			t.Errorf("c[%d] = %v, want %v", i, c[i], want[i])
		}
	}
	if d := m["d"].(map[string]any); d["e"] != "z" {
		t.Errorf("d = %v", d)
	}
	for _, bad := range []string{"", "{", "[#L\x7f\x00\x00\x00\x00\x00\x00\x00", "[$Z#i\x7f", "[$d#i\x05\x00", "Q", "{i\x01a", "Ti"} {
		if _, err := decodeUBJSON([]byte(bad)); err == nil {
			t.Errorf("decodeUBJSON(%q): no error", bad)
		}
	}
	deep := strings.Repeat("[", 10000)
	if _, err := decodeUBJSON([]byte(deep)); err == nil || !strings.Contains(err.Error(), "nesting") {
		t.Errorf("deep nesting: %v", err)
	}
}

func TestPredictAllocs(t *testing.T) {
	m, err := LoadXGBoost(fixture(t, "channel_choice.xgb.json"))
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{167.2, 5, 18, 3, 4, 1.7, math.NaN(), math.NaN(), math.NaN(), 3427}
	margins := make([]float64, 0, m.NumClass())
	probs := make([]float64, 0, m.NumClass())
	if n := testing.AllocsPerRun(100, func() { margins, probs = m.Predict(x, margins, probs) }); n != 0 {
		t.Errorf("Predict allocates %v times per call", n)
	}
}

func BenchmarkPredict(b *testing.B) {
	for _, file := range []string{"cart_recovery.xgb.json", "channel_choice.xgb.json"} {
		b.Run(strings.TrimSuffix(file, ".xgb.json"), func(b *testing.B) {
			m, err := LoadXGBoost(fixture(b, file))
			if err != nil {
				b.Fatal(err)
			}
			x := []float64{63.1, 3, 5, 1, 3, 14.3, 10017, 1, 0, 442}
			margins := make([]float64, 0, m.NumClass())
			probs := make([]float64, 0, m.NumClass())
			b.ReportAllocs()
			for b.Loop() {
				margins, probs = m.Predict(x, margins, probs)
			}
		})
	}
}

// FuzzLoadUBJSON feeds arbitrary bytes to the UBJSON decoder and the model
// builder: neither may panic or hang.
func FuzzLoadUBJSON(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join(fixtureDir, "cart_recovery.xgb.ubj")); err == nil {
		f.Add(data)
	}
	f.Add([]byte("{i\x01a[$d#i\x02\x3f\x80\x00\x00\x40\x00\x00\x00}"))
	f.Add([]byte("[$U#i\x03\x01\x02\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeUBJSON(data)
		if err != nil {
			return
		}
		if m, err := modelFromTree(v); err == nil {
			x := make([]float64, m.numFeature)
			m.Predict(x, nil, nil)
			for k := range m.numClass {
				m.Explain(x, k, nil)
			}
		}
	})
}
