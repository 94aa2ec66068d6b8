package jsontext

import (
	"encoding/json"
	"math"
	"testing"
)

// TestAppendStringRoundTrips: what AppendString writes decodes, with the
// standard library, to the input (invalid UTF-8 as U+FFFD).
func TestAppendStringRoundTrips(t *testing.T) {
	for _, in := range []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rret",
		"ctl \x00\x01\x1f\x7f", "ünïcödé €", "bad \xff utf8", "</script>&"} {
		var got string
		b := AppendString(nil, []byte(in))
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q encoded as %s, not JSON: %v", in, b, err)
		}
		want := in
		if in == "bad \xff utf8" {
			want = "bad \uFFFD utf8"
		}
		if got != want {
			t.Errorf("%q -> %s -> %q", in, b, got)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{{0, "0"}, {1.5, "1.5"}, {-2e-7, "-2e-07"}, {1e21, "1e+21"}, {math.NaN(), "null"}, {math.Inf(1), "null"}, {math.Inf(-1), "null"}} {
		if got := string(AppendFloat(nil, c.f)); got != c.want {
			t.Errorf("%v -> %s, want %s", c.f, got, c.want)
		}
	}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = AppendString(AppendFloat(buf[:0], 3.25), []byte("x\ty")) }); n != 0 {
		t.Errorf("appending allocates %v times", n)
	}
}
