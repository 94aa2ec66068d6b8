package features_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/features"
)

// t0 is 2026-01-01T00:00:00Z, aligned to every window size the tests use.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()

// parse parses a config body, failing the test on errors.
func parse(t testing.TB, body string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(body))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// newSet compiles the features of a config body.
func newSet(t testing.TB, body string) *features.Set {
	t.Helper()
	s, err := features.NewSet(parse(t, body))
	if err != nil {
		t.Fatalf("NewSet: %v", err)
	}
	return s
}

// ev is a compact description of an event for tests.
type ev struct {
	typ   string
	at    time.Duration // after t0
	sess  string
	attrs map[string]any
	cust  string // default c-1
}

func (e ev) event() *event.Event {
	out := &event.Event{Type: []byte(e.typ), CustomerID: []byte(e.cust), TS: t0 + int64(e.at),
		Source: []byte("web"), SessionID: []byte(e.sess)}
	if e.cust == "" {
		out.CustomerID = []byte("c-1")
	}
	for k, v := range e.attrs {
		out.Attrs = append(out.Attrs, attrOf(k, v))
	}
	return out
}

func attrOf(k string, v any) event.Attr {
	a := event.Attr{Key: []byte(k)}
	switch v := v.(type) {
	case float64:
		a.Kind, a.Num = event.AttrNumber, v
	case int:
		a.Kind, a.Num = event.AttrNumber, float64(v)
	case string:
		a.Kind, a.Str = event.AttrString, []byte(v)
	case bool:
		a.Kind, a.Bool = event.AttrBool, v
	default:
		a.Kind = event.AttrNull
	}
	return a
}

// same reports whether two feature values agree: both null, or equal
// within a relative 1e-9 of scale (the sum of magnitudes behind them).
func same(got, want, scale float64) bool {
	if math.IsNaN(got) || math.IsNaN(want) {
		return math.IsNaN(got) && math.IsNaN(want)
	}
	return math.Abs(got-want) <= 1e-9*math.Max(1, scale)
}

// featureYAML wraps feature lines in a config body.
func featureYAML(lines ...string) string {
	return "features:\n  - " + strings.Join(lines, "\n  - ") + "\n"
}
