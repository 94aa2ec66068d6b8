package models

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// explainTolerance bounds |Bias + sum(Explain) - margin|: the margin is
// accumulated in float32 as XGBoost does, the contributions in float64.
const explainTolerance = 1e-5

// TestExplainAddsUpOnFixtures checks, for every row of every fixture and
// every class, that the contributions plus the bias give the margin.
func TestExplainAddsUpOnFixtures(t *testing.T) {
	for _, c := range []struct{ model, csv string }{
		{"cart_recovery.xgb.json", "cart_recovery.expected.csv"},
		{"cart_recovery.xgb.ubj", "cart_recovery.expected.csv"},
		{"channel_choice.xgb.json", "channel_choice.expected.csv"},
	} {
		t.Run(c.model, func(t *testing.T) {
			s, err := Load(fixture(t, c.model), "", "")
			if err != nil {
				t.Fatal(err)
			}
			a := s.(Additive)
			rows := readExpected(t, c.csv, s.Inputs(), s.Outputs())
			var contrib []float64
			nonZero := 0
			for i, r := range rows {
				for k := range s.Outputs() {
					contrib = a.Explain(r.x, k, contrib)
					if len(contrib) != len(s.Inputs()) {
						t.Fatalf("row %d: %d contributions for %d inputs", i+1, len(contrib), len(s.Inputs()))
					}
					sum := a.Bias(k)
					for _, v := range contrib {
						sum += v
						if v != 0 {
							nonZero++
						}
					}
					if d := math.Abs(sum - r.margins[k]); !(d <= explainTolerance) {
						t.Fatalf("row %d class %d: bias %v + contributions %v = %v, XGBoost margin %v",
							i+1, k, a.Bias(k), contrib, sum, r.margins[k])
					}
				}
			}
			// A broken Explain that credits everything to the bias would
			// pass the sum check only if the margin were constant.
			if nonZero < len(rows) {
				t.Errorf("only %d non-zero contributions over %d rows", nonZero, len(rows))
			}
		})
	}
}

// TestExplainStump checks the arithmetic on a tree small enough to work out
// by hand: the root's expected value is the cover-weighted mean of its
// leaves, and the split on b is credited with leaf minus root.
func TestExplainStump(t *testing.T) {
	// Leaves -1 (cover 3) and 2 (cover 1): root mean (-3 + 2)/4 = -0.25.
	model := strings.Replace(stumpModel("reg:squarederror", "5E-1", 0), `"base_weights":[0,0,0]`,
		`"base_weights":[0,0,0],"sum_hessian":[4,3,1]`, 1)
	s, err := Load(writeTemp(t, "m.json", model), "stump", "1")
	if err != nil {
		t.Fatal(err)
	}
	a := s.(Additive)
	if b := a.Bias(0); math.Abs(b-(0.5-0.25)) > 1e-12 {
		t.Errorf("bias %v, want 0.25", b)
	}
	for _, c := range []struct {
		x    []float64
		want float64 // contribution of b
	}{
		{[]float64{7, 0.1}, -1 - -0.25},
		{[]float64{7, 0.9}, 2 - -0.25},
		{[]float64{7, math.NaN()}, 2 - -0.25}, // missing goes right
	} {
		got := a.Explain(c.x, 0, nil)
		if len(got) != 2 || got[0] != 0 || math.Abs(got[1]-c.want) > 1e-12 {
			t.Errorf("Explain(%v) = %v, want [0 %v]", c.x, got, c.want)
		}
	}
	for _, k := range []int{-1, 1} {
		if got := a.Explain([]float64{0, 0}, k, nil); len(got) != 2 || got[0] != 0 || got[1] != 0 {
			t.Errorf("Explain(k=%d) = %v, want zeros", k, got)
		}
	}
}

// TestScoreManyClasses checks Score against Predict for a model with more
// classes than any fixed scratch array would hold, and that neither Score
// nor Explain allocates.
func TestScoreManyClasses(t *testing.T) {
	const classes = 40
	s, err := Load(writeTemp(t, "m.json", stumpModel("multi:softprob", "0", classes)), "many", "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Outputs() != classes {
		t.Fatalf("Outputs = %d", s.Outputs())
	}
	x := []float64{0, 0.9}
	out := make([]float64, 0, classes)
	out = s.Score(x, out)
	_, probs := s.(*xgbScorer).Predict(x, nil, nil)
	sum := 0.0
	for k := range classes {
		sum += out[k]
		if out[k] != probs[k] {
			t.Fatalf("class %d: Score %v, Predict %v", k, out[k], probs[k])
		}
	}
	if math.Abs(sum-1) > 1e-5 {
		t.Errorf("probabilities sum to %v", sum)
	}
	dst := make([]float64, 0, len(s.Inputs()))
	if n := testing.AllocsPerRun(100, func() { out = s.Score(x, out) }); n != 0 {
		t.Errorf("Score allocates %v times per call with %d classes", n, classes)
	}
	if n := testing.AllocsPerRun(100, func() { dst = s.Explain(x, classes-1, dst) }); n != 0 {
		t.Errorf("Explain allocates %v times per call", n)
	}
}

func TestScoreMatchesPredictOnFixtures(t *testing.T) {
	for _, c := range []struct{ model, csv string }{
		{"cart_recovery.xgb.json", "cart_recovery.expected.csv"},
		{"channel_choice.xgb.json", "channel_choice.expected.csv"},
	} {
		s, err := Load(fixture(t, c.model), "m", "")
		if err != nil {
			t.Fatal(err)
		}
		rows := readExpected(t, c.csv, s.Inputs(), s.Outputs())
		var out, margins []float64
		for i, r := range rows {
			out = s.Score(r.x, out)
			margins = s.(Additive).Margins(r.x, margins)
			for k := range s.Outputs() {
				if math.Abs(out[k]-r.probs[k]) > tolerance || math.Abs(margins[k]-r.margins[k]) > tolerance {
					t.Fatalf("%s row %d class %d: Score %v Margins %v, XGBoost %v %v",
						c.model, i+1, k, out[k], margins[k], r.probs[k], r.margins[k])
				}
			}
		}
	}
}

func TestScorerAllocsOnFixtures(t *testing.T) {
	for _, file := range []string{"cart_recovery.xgb.json", "channel_choice.xgb.json"} {
		s, err := Load(fixture(t, file), "m", "1")
		if err != nil {
			t.Fatal(err)
		}
		x := []float64{167.2, 5, 18, 3, 4, 1.7, math.NaN(), math.NaN(), math.NaN(), 3427}
		out := make([]float64, 0, s.Outputs())
		dst := make([]float64, 0, len(s.Inputs()))
		if n := testing.AllocsPerRun(100, func() { out = s.Score(x, out) }); n != 0 {
			t.Errorf("%s: Score allocates %v times per call", file, n)
		}
		if n := testing.AllocsPerRun(100, func() { dst = s.Explain(x, s.Outputs()-1, dst) }); n != 0 {
			t.Errorf("%s: Explain allocates %v times per call", file, n)
		}
	}
}

func TestLoadIDAndVersion(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lin := write("churn.lr.json", `{"format":"meridian.linear/v1","type":"linear","id":"churn_lr","version":"3","intercept":1,"weights":{"a":2}}`)
	linNoVersion := write("plain.json", `{"format":"meridian.linear/v1","type":"linear","intercept":1,"weights":{"a":2}}`)
	linNoVersion2 := write("plain2.json", `{"format":"meridian.linear/v1","type":"linear","intercept":1,"weights":{"a":3}}`)
	xgb := write("stump.xgb.json", stumpModel("binary:logistic", "5E-1", 0))
	for _, c := range []struct {
		path, id, version string
		wantID, wantVer   string
	}{
		{lin, "", "", "churn_lr", "3"},
		{lin, "cfg_id", "7", "cfg_id", "7"},
		{linNoVersion, "", "", "plain", ""}, // hash, checked below
		{xgb, "", "", "stump", ""},
		{xgb, "cart", "v9", "cart", "v9"},
	} {
		s, err := Load(c.path, c.id, c.version)
		if err != nil {
			t.Fatal(err)
		}
		if s.ID() != c.wantID {
			t.Errorf("%s: id %q, want %q", c.path, s.ID(), c.wantID)
		}
		if c.wantVer != "" && s.Version() != c.wantVer {
			t.Errorf("%s: version %q, want %q", c.path, s.Version(), c.wantVer)
		}
		if c.wantVer == "" && len(s.Version()) != 12 {
			t.Errorf("%s: version %q, want 12 hex digits of the content hash", c.path, s.Version())
		}
	}
	a, _ := Load(linNoVersion, "", "")
	b, _ := Load(linNoVersion2, "", "")
	if a.Version() == b.Version() {
		t.Errorf("different contents, same version %q", a.Version())
	}
}

func TestLoadDetectsFormat(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.json")
	os.WriteFile(p, []byte(`{"weights":{"a":1}}`), 0o644)
	if _, err := Load(p, "", ""); err == nil || !strings.Contains(err.Error(), `"format"`) || !strings.HasPrefix(err.Error(), "cannot load model "+p) {
		t.Errorf("neither linear nor XGBoost: %v", err)
	}
	s, err := Load(fixture(t, "cart_recovery.xgb.ubj"), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*xgbScorer); !ok || s.Outputs() != 1 {
		t.Errorf("UBJSON loaded as %T", s)
	}
}
