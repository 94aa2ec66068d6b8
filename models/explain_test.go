package models

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"
)

// TestExplainMatchesXGBoost compares Explain and Bias with the
// contributions XGBoost 1.7.4 itself computes with pred_contribs=True,
// approx_contribs=True (testdata/contribs.py wrote them) for the first
// 200 rows of each fixture, every class. XGBoost keeps node means in
// float32, hence the tolerance.
func TestExplainMatchesXGBoost(t *testing.T) {
	for _, c := range []struct{ model, expected, contribs string }{
		{"cart_recovery.xgb.json", "cart_recovery.expected.csv", "testdata/cart_recovery.contribs.csv"},
		{"cart_recovery.xgb.ubj", "cart_recovery.expected.csv", "testdata/cart_recovery.contribs.csv"},
		{"channel_choice.xgb.json", "channel_choice.expected.csv", "testdata/channel_choice.contribs.csv"},
	} {
		t.Run(c.model, func(t *testing.T) {
			s, err := Load(fixture(t, c.model), "", "")
			if err != nil {
				t.Fatal(err)
			}
			a := s.(Additive)
			rows := readExpected(t, c.expected, s.Inputs(), s.Outputs())
			f, err := os.Open(c.contribs)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			recs, err := csv.NewReader(f).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			nf := len(s.Inputs())
			if len(recs) < 2 || len(recs[0]) != nf+3 {
				t.Fatalf("%s: %d records of %d columns", c.contribs, len(recs), len(recs[0]))
			}
			var got []float64
			worst := 0.0
			for _, rec := range recs[1:] {
				row, _ := strconv.Atoi(rec[0])
				k, _ := strconv.Atoi(rec[1])
				want := make([]float64, nf+1)
				for j := range want {
					if want[j], err = strconv.ParseFloat(rec[2+j], 64); err != nil {
						t.Fatal(err)
					}
				}
				got = a.Explain(rows[row-1].x, k, got)
				got = append(got, a.Bias(k))
				for j := range want {
					d := math.Abs(got[j] - want[j])
					worst = max(worst, d)
					if !(d <= 1e-5) {
						name := "bias"
						if j < nf {
							name = s.Inputs()[j]
						}
						t.Fatalf("row %d class %d %s: %v, XGBoost %v", row, k, name, got[j], want[j])
					}
				}
			}
			t.Logf("%d rows x classes, max |difference| %.3g", len(recs)-1, worst)
		})
	}
}
