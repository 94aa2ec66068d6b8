package features_test

import (
	"math"
	"testing"
	"time"

	"github.com/meridian/meridian/features"
)

const m = time.Minute

var null = math.NaN()

func price(p float64) map[string]any { return map[string]any{"price": p} }

// TestGolden checks each aggregation and window kind on small hand-written
// event sequences. Events are applied with no watermark, so none is late.
func TestGolden(t *testing.T) {
	const (
		count1h   = `{name: f, events: [x], agg: count, window: {kind: sliding, size: 1h}}`
		sum1h     = `{name: f, events: [x], agg: sum, value: attrs.price, window: {kind: sliding, size: 1h}}`
		tumbling  = `{name: f, events: [x], agg: count, window: {kind: tumbling, size: 1h}}`
		session   = `{name: f, events: [x], agg: count, window: {kind: session, gap: 30m}}`
		sessSum   = `{name: f, events: [x], agg: sum, value: attrs.price, window: {kind: session, gap: 30m}}`
		distinct  = `{name: f, events: [x], agg: distinct, of: session_id, window: {kind: sliding, size: 1h}}`
		distAttr  = `{name: f, events: [x], agg: distinct, of: attrs.price, window: {kind: lifetime}}`
		since     = `{name: f, events: [x], agg: time_since_last, window: {kind: lifetime}}`
		sinceHour = `{name: f, events: [x], agg: time_since_last, unit: 1h, window: {kind: sliding, size: 1h}}`
		whereMob  = `{name: f, events: [x], agg: count, where: 'attrs.device == "mobile"', window: {kind: lifetime}}`
	)
	agg := func(a, kind string) string {
		w := map[string]string{"sliding": "{kind: sliding, size: 1h}", "tumbling": "{kind: tumbling, size: 1h}",
			"session": "{kind: session, gap: 30m}", "lifetime": "{kind: lifetime}"}[kind]
		return `{name: f, events: [x], agg: ` + a + `, value: attrs.price, window: ` + w + `}`
	}
	x := func(at time.Duration, p float64) ev { return ev{typ: "x", at: at, attrs: price(p), sess: "s1"} }
	xs := func(at time.Duration, s string) ev { return ev{typ: "x", at: at, sess: s} }
	mob := func(at time.Duration, d string) ev { return ev{typ: "x", at: at, attrs: map[string]any{"device": d}} }
	edges := []ev{x(0, 1), x(5*m-1, 1), x(5*m, 1), x(60*m-1, 1)}
	for _, tc := range []struct {
		name string
		feat string
		evs  []ev
		now  time.Duration
		want float64
	}{
		{"count empty is 0", count1h, nil, 0, 0},
		{"count bucket edges", count1h, edges, 60 * m, 2},
		{"count all in window", count1h, edges, 60*m - 1, 4},
		{"count future bucket excluded", count1h, edges, 30 * m, 3},
		{"count same bucket after now included", count1h, []ev{x(31*m, 1)}, 30 * m, 1},
		{"count window over", count1h, edges, 120 * m, 0},
		{"count ignores other types", count1h, []ev{{typ: "y", at: 0}}, 0, 0},
		{"sum", sum1h, []ev{x(0, 1.5), x(m, 2.25)}, 2 * m, 3.75},
		{"sum empty is 0", sum1h, nil, 0, 0},
		{"sum skips missing value", sum1h, []ev{x(0, 1), {typ: "x", at: m}}, 2 * m, 1},
		{"avg sliding", agg("avg", "sliding"), []ev{x(0, 1), x(m, 2), x(2*m, 6)}, 3 * m, 3},
		{"avg empty is null", agg("avg", "sliding"), nil, 0, null},
		{"min sliding", agg("min", "sliding"), []ev{x(0, 4), x(m, -2), x(2*m, 6)}, 3 * m, -2},
		{"max sliding drops old buckets", agg("max", "sliding"), []ev{x(0, 9), x(10*m, 2)}, 65 * m, 2},
		{"first by event time", agg("first", "sliding"), []ev{x(2*m, 1), x(m, 2), x(3*m, 3)}, 5 * m, 2},
		{"first tie keeps first arrival", agg("first", "lifetime"), []ev{x(m, 1), x(m, 2)}, 5 * m, 1},
		{"last by event time", agg("last", "sliding"), []ev{x(3*m, 1), x(m, 2)}, 5 * m, 1},
		{"last tie takes latest arrival", agg("last", "lifetime"), []ev{x(m, 1), x(m, 2)}, 5 * m, 2},
		{"last excludes future bucket", agg("last", "sliding"), []ev{x(m, 1), x(50*m, 2)}, 10 * m, 1},
		{"tumbling current window", tumbling, []ev{xs(10*m, ""), xs(59*m, ""), xs(60*m, "")}, 30 * m, 2},
		{"tumbling next window", tumbling, []ev{xs(10*m, ""), xs(59*m, ""), xs(60*m, "")}, 60 * m, 1},
		{"tumbling sum", agg("sum", "tumbling"), []ev{x(10*m, 1), x(70*m, 2), x(80*m, 3)}, 90 * m, 5},
		{"tumbling first", agg("first", "tumbling"), []ev{x(70*m, 1), x(65*m, 2), x(10*m, 3)}, 90 * m, 2},
		{"session latest", session, []ev{xs(0, ""), xs(20*m, ""), xs(60*m, "")}, 70 * m, 1},
		{"session gap exactly", session, []ev{xs(0, ""), xs(30*m, "")}, 60 * m, 2},
		{"session over", session, []ev{xs(0, ""), xs(20*m, "")}, 50*m + 1, 0},
		{"session bridged late", session, []ev{xs(0, ""), xs(20*m, ""), xs(60*m, ""), xs(40*m, "")}, 70 * m, 4},
		{"session older late event", session, []ev{xs(60*m, ""), xs(0, "")}, 70 * m, 1},
		{"session sum", sessSum, []ev{x(0, 1), x(20*m, 2), x(60*m, 4)}, 61 * m, 4},
		{"session avg", agg("avg", "session"), []ev{x(0, 1), x(20*m, 2)}, 21 * m, 1.5},
		{"session max over", agg("max", "session"), []ev{x(0, 1)}, 31 * m, null},
		{"lifetime min", agg("min", "lifetime"), []ev{x(0, 3), x(1000*m, 5)}, 5000 * m, 3},
		{"lifetime avg", agg("avg", "lifetime"), []ev{x(0, 3), x(1000*m, 5)}, 5000 * m, 4},
		{"distinct sessions", distinct, []ev{xs(0, "a"), xs(m, "b"), xs(20*m, "a")}, 30 * m, 2},
		{"distinct across buckets", distinct, []ev{xs(0, "a"), xs(10*m, "a"), xs(20*m, "b")}, 60 * m, 2},
		{"distinct empty is null", distinct, nil, 0, null},
		{"distinct skips missing", distinct, []ev{xs(0, "")}, m, null},
		{"distinct numbers", distAttr, []ev{x(0, 1), x(m, 1), x(2*m, 2)}, m, 2},
		{"time since last", since, []ev{xs(0, ""), xs(-m, "")}, 90 * time.Second, 1.5},
		{"time since last none", since, nil, 0, null},
		{"time since last in window, hours", sinceHour, []ev{xs(0, ""), xs(30*m, "")}, 60 * m, 0.5},
		{"time since last window over", sinceHour, []ev{xs(0, "")}, 60 * m, null},
		{"where", whereMob, []ev{mob(0, "mobile"), mob(m, "desktop"), {typ: "x", at: 2 * m}}, 3 * m, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSet(t, featureYAML(tc.feat))
			st := features.NewStore(s)
			for _, e := range tc.evs {
				want := features.Applied
				if e.typ != "x" {
					want = features.Ignored
				}
				if got := st.Update(e.event(), math.MinInt64); got != want {
					t.Fatalf("Update = %v, want %v", got, want)
				}
			}
			vec, ok := st.Vector([]byte("c-1"), t0+int64(tc.now), nil)
			if !ok {
				if len(tc.evs) == 0 || tc.name == "count ignores other types" {
					return // unknown customer: the caller shows the empty value
				}
				t.Fatal("unknown customer")
			}
			if !same(vec[0], tc.want, 0) {
				t.Errorf("got %v, want %v", vec[0], tc.want)
			}
		})
	}
}
