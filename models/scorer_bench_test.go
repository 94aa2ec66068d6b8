package models

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// tenWeightModel is a logistic model over the fixtures' ten features.
func tenWeightModel() string {
	names := []string{"cart_value_1h", "add_to_cart_1h", "page_views_1h", "product_views_1h",
		"sessions_24h", "minutes_since_last_add_to_cart", "minutes_since_last_purchase",
		"purchases_30d", "payment_failures_7d", "tenure_days"}
	w := make([]string, len(names))
	for i, n := range names {
		w[i] = fmt.Sprintf("%q: %v", n, 0.01*float64(i+1)-0.04)
	}
	return `{"format":"meridian.linear/v1","type":"logistic","id":"lr10","intercept":-1.5,"weights":{` +
		strings.Join(w, ",") + `},"missing":{"tenure_days":365}}`
}

func benchScorers(b *testing.B) map[string]Scorer {
	cart, err := Load(fixture(b, "cart_recovery.xgb.json"), "cart", "1")
	if err != nil {
		b.Fatal(err)
	}
	lr, err := Load(writeTemp(b, "lr10.json", tenWeightModel()), "", "")
	if err != nil {
		b.Fatal(err)
	}
	return map[string]Scorer{"cart_recovery": cart, "logistic10": lr}
}

func BenchmarkScorer(b *testing.B) {
	x := []float64{63.1, 3, 5, 1, 3, 14.3, 10017, 1, math.NaN(), 442}
	scorers := benchScorers(b)
	for _, name := range []string{"cart_recovery", "logistic10"} {
		s := scorers[name]
		b.Run("Score/"+name, func(b *testing.B) {
			out := make([]float64, 0, s.Outputs())
			b.ReportAllocs()
			for b.Loop() {
				out = s.Score(x, out)
			}
		})
		b.Run("Explain/"+name, func(b *testing.B) {
			dst := make([]float64, 0, len(s.Inputs()))
			b.ReportAllocs()
			for b.Loop() {
				dst = s.Explain(x, 0, dst)
			}
		})
	}
}
