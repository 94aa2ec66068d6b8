package main

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const fixtures = "../../../shared/fixtures/models"

func requireFixtures(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(fixtures); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("model fixtures missing under CI=true: %v", err)
		}
		t.Skipf("model fixtures not found: %v", err)
	}
}

// TestModelScoreParity scores each fixture's input with `meridian model
// score` and compares every output column with XGBoost's own figures.
func TestModelScoreParity(t *testing.T) {
	requireFixtures(t)
	for _, tc := range []struct{ model, expected string }{
		{"cart_recovery.xgb.json", "cart_recovery.expected.csv"},
		{"cart_recovery.xgb.ubj", "cart_recovery.expected.csv"},
		{"channel_choice.xgb.json", "channel_choice.expected.csv"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			exp := filepath.Join(fixtures, tc.expected)
			code, out, errs := runCLI(t, "model", "score", "--model", filepath.Join(fixtures, tc.model), "--input", exp)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			got := readCSV(t, strings.NewReader(out))
			f, err := os.Open(exp)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			want := readCSV(t, f)
			if len(got) != len(want) || len(got) < 2 {
				t.Fatalf("%d output rows, %d expected", len(got), len(want))
			}
			wantCol := map[string]int{}
			for i, h := range want[0] {
				wantCol[h] = i
			}
			for c, h := range got[0] {
				wc, ok := wantCol[strings.Replace(h, "prediction", "prob", 1)]
				if !ok {
					t.Fatalf("output column %q has no expected column", h)
				}
				for r := 1; r < len(got); r++ {
					g, _ := strconv.ParseFloat(got[r][c], 64)
					w, _ := strconv.ParseFloat(want[r][wc], 64)
					if math.Abs(g-w) > 1e-6 {
						t.Fatalf("row %d %s = %v, XGBoost %v", r, h, g, w)
					}
				}
			}
		})
	}
}

func TestModelScoreErrors(t *testing.T) {
	requireFixtures(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("cart_value_1h,tenure_days\n1.5,10\nabc,3\n"), 0o644)
	none := filepath.Join(dir, "none.csv")
	os.WriteFile(none, []byte("x,y\n1,2\n"), 0o644)
	model := filepath.Join(fixtures, "cart_recovery.xgb.json")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"model", "score", "--input", bad}, "--model FILE and --input CSV are required"},
		{[]string{"model", "score", "--model", filepath.Join(dir, "nope.json"), "--input", bad}, "cannot load model"},
		{[]string{"model", "score", "--model", model, "--input", bad}, bad + `:3: column "cart_value_1h"`},
		{[]string{"model", "score", "--model", model, "--input", none}, "the header names none of the model's features"},
		{[]string{"model", "frob"}, "unknown model subcommand"},
	} {
		code, _, errs := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("meridian %v: exit %d, want 2 and %q:\n%s", tc.args, code, tc.want, errs)
		}
	}
}

func readCSV(t *testing.T, r interface{ Read([]byte) (int, error) }) [][]string {
	t.Helper()
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestModelScoreLinear scores a logistic and a linear model: columns are
// matched by name whatever their order, unknown columns are ignored and an
// empty cell takes the model's missing value.
func TestModelScoreLinear(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.csv")
	os.WriteFile(input, []byte("tenure_days,other,cart_value_1h\n100,x,50\n,y,10\n"), 0o644)
	rows := []struct{ cart, tenure float64 }{{50, 100}, {10, 365}} // row 2: missing tenure -> 365
	for _, typ := range []string{"logistic", "linear"} {
		model := filepath.Join(dir, typ+".json")
		os.WriteFile(model, []byte(`{"format":"meridian.linear/v1","type":"`+typ+`","intercept":-2,
			"weights":{"cart_value_1h":0.05,"tenure_days":-0.001},"missing":{"tenure_days":365}}`), 0o644)
		code, out, errs := runCLI(t, "model", "score", "--model", model, "--input", input)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", typ, code, errs)
		}
		got := readCSV(t, strings.NewReader(out))
		if len(got) != 3 || strings.Join(got[0], ",") != "margin,prediction" {
			t.Fatalf("%s: output %q", typ, out)
		}
		for i, r := range rows {
			margin := -2 + 0.05*r.cart - 0.001*r.tenure
			pred := margin
			if typ == "logistic" {
				pred = 1 / (1 + math.Exp(-margin))
			}
			gm, _ := strconv.ParseFloat(got[i+1][0], 64)
			gp, _ := strconv.ParseFloat(got[i+1][1], 64)
			if math.Abs(gm-margin) > 1e-12 || math.Abs(gp-pred) > 1e-12 {
				t.Errorf("%s row %d: margin %v prediction %v, want %v %v", typ, i+1, gm, gp, margin, pred)
			}
		}
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"format":"meridian.linear/v1","type":"probit","intercept":0,"weights":{"a":1}}`), 0o644)
	if code, _, errs := runCLI(t, "model", "score", "--model", bad, "--input", input); code != exitUsage || !strings.Contains(errs, `type "probit"`) {
		t.Errorf("bad model: exit %d: %s", code, errs)
	}
}
