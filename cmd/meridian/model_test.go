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
