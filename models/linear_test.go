package models

import (
	"math"
	"strings"
	"testing"
)

const lrModel = `{
  "format": "meridian.linear/v1", "type": "logistic", "id": "cart_lr", "version": 3,
  "intercept": -2.1,
  "weights": {"cart_value_1h": 0.012, "add_to_cart_1h": 0.4, "tenure_days": -0.001},
  "missing": {"tenure_days": 365}
}`

func loadLinearString(t *testing.T, content string) Additive {
	t.Helper()
	s, err := Load(writeTemp(t, "m.json", content), "", "")
	if err != nil {
		t.Fatal(err)
	}
	return s.(Additive)
}

func TestLinearScoreAndExplain(t *testing.T) {
	s := loadLinearString(t, lrModel)
	if got := strings.Join(s.Inputs(), ","); got != "cart_value_1h,add_to_cart_1h,tenure_days" {
		t.Fatalf("inputs %s: want the file's order", got)
	}
	if s.ID() != "cart_lr" || s.Version() != "3" || s.Outputs() != 1 {
		t.Errorf("id %q version %q outputs %d", s.ID(), s.Version(), s.Outputs())
	}
	w := []float64{0.012, 0.4, -0.001}
	for _, c := range []struct {
		x    []float64
		used []float64 // the values the model should use
	}{
		{[]float64{50, 2, 100}, []float64{50, 2, 100}},
		{[]float64{50, math.NaN(), math.NaN()}, []float64{50, 0, 365}}, // no default: 0; default 365
		{[]float64{50}, []float64{50, 0, 365}},                         // short row: missing
	} {
		contrib := s.Explain(c.x, 0, nil)
		margin := -2.1
		for i := range w {
			if contrib[i] != w[i]*c.used[i] {
				t.Errorf("x=%v: contribution %d = %v, want exactly %v", c.x, i, contrib[i], w[i]*c.used[i])
			}
			margin += w[i] * c.used[i]
		}
		if m := s.Margins(c.x, nil); math.Abs(m[0]-margin) > 1e-12 {
			t.Errorf("x=%v: margin %v, want %v", c.x, m[0], margin)
		}
		if p := s.Score(c.x, nil); math.Abs(p[0]-1/(1+math.Exp(-margin))) > 1e-12 {
			t.Errorf("x=%v: probability %v for margin %v", c.x, p[0], margin)
		}
		if s.Bias(0) != -2.1 {
			t.Errorf("bias %v", s.Bias(0))
		}
	}
	if got := s.Explain([]float64{1, 1, 1}, 1, nil); len(got) != 3 || got[0] != 0 || got[1] != 0 || got[2] != 0 {
		t.Errorf("Explain(k=1) = %v, want zeros", got)
	}
	lin := loadLinearString(t, strings.Replace(lrModel, `"logistic"`, `"linear"`, 1))
	if p := lin.Score([]float64{10, 1, 0}, nil); math.Abs(p[0]-(-2.1+0.12+0.4)) > 1e-12 {
		t.Errorf("linear prediction %v, want the margin", p[0])
	}
}

func TestLinearAllocs(t *testing.T) {
	s := loadLinearString(t, lrModel)
	x := []float64{50, math.NaN(), 10}
	out := make([]float64, 0, 1)
	dst := make([]float64, 0, 3)
	if n := testing.AllocsPerRun(100, func() { out = s.Score(x, out) }); n != 0 {
		t.Errorf("Score allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { dst = s.Explain(x, 0, dst) }); n != 0 {
		t.Errorf("Explain allocates %v times", n)
	}
}

func TestLinearErrors(t *testing.T) {
	valid := `{"format":"meridian.linear/v1","type":"logistic","intercept":0,"weights":{"a":1,"b":2}}`
	for _, c := range []struct{ name, content, want string }{
		{"unknown key", strings.Replace(valid, `"intercept"`, `"intercpt":1,"intercept"`, 1), `unknown field "intercpt"`},
		{"NaN weight", strings.Replace(valid, `"a":1`, `"a":NaN`, 1), "NaN and Infinity are not numbers"},
		{"NaN as string", strings.Replace(valid, `"a":1`, `"a":"NaN"`, 1), "weights.a: NaN is not a number"},
		{"huge weight", strings.Replace(valid, `"a":1`, `"a":1e999`, 1), "weights.a: 1e999 is out of range"},
		{"empty weights", strings.Replace(valid, `{"a":1,"b":2}`, `{}`, 1), `"weights" must name at least one input`},
		{"no weights", strings.Replace(valid, `,"weights":{"a":1,"b":2}`, ``, 1), `"weights" is required`},
		{"weights not object", strings.Replace(valid, `{"a":1,"b":2}`, `[1,2]`, 1), `"weights" must be an object`},
		{"repeated weight", strings.Replace(valid, `"b":2`, `"a":2`, 1), `"a" appears twice`},
		{"unknown type", strings.Replace(valid, `"logistic"`, `"probit"`, 1), `type "probit" is not a linear model type`},
		{"wrong format", strings.Replace(valid, `v1`, `v2`, 1), `format "meridian.linear/v2" is not supported`},
		{"no intercept", strings.Replace(valid, `"intercept":0,`, ``, 1), `"intercept" is required`},
		{"missing without weight", strings.Replace(valid, `}}`, `},"missing":{"c":1}}`, 1), `missing: "c" has no weight`},
		{"bad version", strings.Replace(valid, `"type"`, `"version":1.5,"type"`, 1), "version 1.5 is not a string or an integer"},
		{"trailing", valid + `{}`, "trailing data"},
		{"truncated", valid[:40], "truncated"},
	} {
		path := writeTemp(t, "m.json", c.content)
		_, err := Load(path, "", "")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "cannot load model "+path+": ") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// FuzzLoadLinear: the linear decoder never panics, and a model it accepts
// scores finite inputs to a finite margin equal to bias plus contributions.
func FuzzLoadLinear(f *testing.F) {
	f.Add([]byte(lrModel))
	f.Add([]byte(`{"format":"meridian.linear/v1","type":"linear","intercept":0,"weights":{"a":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseLinear(data)
		if err != nil {
			return
		}
		x := make([]float64, len(m.Inputs()))
		for i := range x {
			x[i] = 1
		}
		sum := m.Bias(0)
		for _, c := range m.Explain(x, 0, nil) {
			sum += c
		}
		if got := m.Margins(x, nil)[0]; got != sum && !(math.IsInf(got, 0) || math.IsNaN(got)) {
			t.Errorf("margin %v, bias + contributions %v", got, sum)
		}
	})
}
