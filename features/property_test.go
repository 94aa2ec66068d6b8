package features_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/examples"
	"github.com/meridian/meridian/features"
)

// propertyConfig is the example config (the standard feature set and
// profile) plus features covering every aggregation on every window kind,
// with where conditions, on short windows so that random logs of a few
// hours exercise them.
func propertyConfig(t testing.TB) *config.Config {
	cfg, err := config.Parse(examples.ConfigName, examples.Config)
	if err != nil {
		t.Fatal(err)
	}
	windows := map[string]config.Window{
		"sl": {Kind: "sliding", Size: 12 * time.Minute, Bucket: time.Minute},
		"tu": {Kind: "tumbling", Size: 15 * time.Minute},
		"se": {Kind: "session", Gap: 5 * time.Minute},
		"li": {Kind: "lifetime"},
	}
	for _, w := range []string{"sl", "tu", "se", "li"} {
		win := windows[w]
		for _, agg := range []string{"sum", "avg", "min", "max", "first", "last"} {
			cfg.Features = append(cfg.Features, config.Feature{Name: agg + "_" + w, Agg: agg, Window: win,
				Events: []string{"add_to_cart", "purchase", "product_view"}, Value: "attrs.price"})
		}
		cfg.Features = append(cfg.Features,
			config.Feature{Name: "count_" + w, Agg: "count", Window: win, Events: []string{"page_view", "search"}},
			config.Feature{Name: "skus_" + w, Agg: "distinct", Of: "attrs.sku", Window: win, Events: []string{"product_view", "add_to_cart"}},
			config.Feature{Name: "since_" + w, Agg: "time_since_last", Window: win, Events: []string{"search", "purchase"}, Unit: time.Second},
			config.Feature{Name: "mobile_" + w, Agg: "count", Window: win, Events: []string{"page_view", "add_to_cart"}, Where: `attrs.device == "mobile"`},
			config.Feature{Name: "bigqty_" + w, Agg: "sum", Window: win, Events: []string{"add_to_cart"}, Where: "attrs.qty > 1", Value: "attrs.price * (attrs.qty ?? 1)"},
		)
	}
	cfg.Features = append(cfg.Features,
		config.Feature{Name: "types_sl", Agg: "distinct", Of: "type", Window: windows["sl"], Events: []string{"page_view", "search", "purchase"}},
		config.Feature{Name: "prices_li", Agg: "distinct", Of: "attrs.price", Window: windows["li"], Events: []string{"add_to_cart"}},
	)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

var (
	propTypes = []string{"page_view", "product_view", "add_to_cart", "purchase", "search", "checkout_start",
		"payment_failed", "profile_updated", "plan_changed", "consent_changed", "app_open", "not_read"}
	propCusts    = []string{"c-1", "c-2"}
	propPrices   = []float64{0.1, 0.2, 1, 2.5, 10, 99.99, -3, 0}
	propSKUs     = []string{"a", "b", "c", "d", "e"}
	propSessions = []string{"s1", "s2", "s3", ""}
	propEdges    = []time.Duration{time.Minute, 5 * time.Minute, 12 * time.Minute, 15 * time.Minute, time.Hour, 2 * time.Hour, 25 * time.Second}
	propSteps    = []time.Duration{0, 1, time.Second, 20 * time.Second, time.Minute, 4 * time.Minute, 20 * time.Minute, 3 * time.Hour, 26 * time.Hour}
	lateness     = int64(10 * time.Minute)
	disorder     = int64(2 * time.Second)
)

// logGen makes random event logs: times move forward in random steps,
// with disorder within the lateness, events exactly on bucket and window
// edges, duplicates, and some events beyond the lateness.
type logGen struct {
	r      *rand.Rand
	cursor int64
	prev   []*event.Event
}

func (g *logGen) next() *event.Event {
	if len(g.prev) > 0 && g.r.IntN(20) == 0 {
		return g.prev[g.r.IntN(len(g.prev))] // a duplicate
	}
	g.cursor += int64(propSteps[g.r.IntN(len(propSteps))])
	e := &event.Event{Type: []byte(propTypes[g.r.IntN(len(propTypes))]),
		CustomerID: []byte(propCusts[g.r.IntN(len(propCusts))]), TS: g.ts(),
		Source: []byte("web"), SessionID: []byte(propSessions[g.r.IntN(len(propSessions))])}
	if len(g.prev) > 0 && g.r.IntN(8) == 0 {
		// Exactly a gap, a bucket or a window away from a recent event of
		// the same customer and type.
		p := g.prev[len(g.prev)-1-g.r.IntN(min(len(g.prev), 4))]
		d := int64(propEdges[g.r.IntN(len(propEdges))])
		e.Type, e.CustomerID = p.Type, p.CustomerID
		e.TS = p.TS + (g.r.Int64N(3)-1)*d + g.r.Int64N(3) - 1
	}
	g.attrs(e)
	g.prev = append(g.prev, e)
	return e
}

func (g *logGen) ts() int64 {
	switch p := g.r.IntN(100); {
	case p < 65:
		return g.cursor - g.r.Int64N(disorder+1)
	case p < 80:
		return g.cursor - g.r.Int64N(lateness)
	case p < 85:
		return g.cursor - disorder - lateness - 1 - g.r.Int64N(lateness)
	default:
		e := int64(propEdges[g.r.IntN(len(propEdges))])
		return floorDiv(g.cursor, e)*e + g.r.Int64N(3) - 1
	}
}

func (g *logGen) attrs(e *event.Event) {
	add := func(pct int, k string, v any) {
		if g.r.IntN(100) < pct {
			e.Attrs = append(e.Attrs, attrOf(k, v))
		}
	}
	add(85, "price", propPrices[g.r.IntN(len(propPrices))])
	add(50, "qty", 1+g.r.IntN(3))
	add(80, "sku", propSKUs[g.r.IntN(len(propSKUs))])
	add(60, "device", []string{"mobile", "desktop"}[g.r.IntN(2)])
	add(70, "value", []float64{5, 12.34, 0.3}[g.r.IntN(3)])
	add(60, "plan", []any{"basic", "plus", 3.0, true, nil}[g.r.IntN(5)])
	add(60, "to", []string{"basic", "premium"}[g.r.IntN(2)])
	add(50, "tenure_days", float64(g.r.IntN(1000)))
	add(50, "segment", []string{"mass", "value"}[g.r.IntN(2)])
	add(90, "channel", []string{"email", "sms", "push", "fax"}[g.r.IntN(4)])
	add(80, "granted", []any{true, false, "no"}[g.r.IntN(3)])
}

// TestProperty replays random logs through a Store with the task's
// watermark and compares every feature of every customer, at several
// times, and the profile, with the oracle's brute-force recomputation.
// At each check it also round-trips every customer through
// AppendCustomer/RestoreCustomer into a second store that then keeps
// being updated alongside.
func TestProperty(t *testing.T) {
	cfg := propertyConfig(t)
	set, err := features.NewSet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	iters := 300
	if testing.Short() {
		iters = 50
	}
	for it := range iters {
		r := rand.New(rand.NewPCG(uint64(it), 7))
		if err := runLog(set, cfg, r, 60+r.IntN(100)); err != nil {
			t.Fatalf("seed %d: %v", it, err)
		}
	}
}

func runLog(set *features.Set, cfg *config.Config, r *rand.Rand, n int) error {
	o := newOracle(nil, cfg)
	st, st2 := features.NewStore(set), features.NewStore(set)
	g := &logGen{r: r, cursor: t0}
	maxTS, wm := int64(math.MinInt64), int64(math.MinInt64)
	for i := range n {
		e := g.next()
		want := features.Applied
		switch {
		case !set.Reads(e.Type):
			want = features.Ignored
		case wm != math.MinInt64 && e.TS < wm-lateness:
			want = features.Late
		}
		got := st.Update(e, wm)
		st2.Update(e, wm)
		if got != want {
			return fmt.Errorf("event %d: Update = %v, want %v", i, got, want)
		}
		if got == features.Applied {
			o.log = append(o.log, e)
		}
		maxTS = max(maxTS, e.TS)
		wm = max(wm, maxTS-disorder)
		if i%16 == 15 || i == n-1 {
			if err := check(set, o, st, r, wm, maxTS); err != nil {
				return fmt.Errorf("after event %d: %w", i, err)
			}
			if err := roundTrip(set, st, st2, r, wm); err != nil {
				return fmt.Errorf("after event %d: %w", i, err)
			}
		}
	}
	return nil
}

func check(set *features.Set, o *oracle, st *features.Store, r *rand.Rand, wm, maxTS int64) error {
	nows := []int64{wm - lateness, wm, maxTS, maxTS + r.Int64N(int64(2*time.Hour)), maxTS + r.Int64N(int64(40*24*time.Hour))}
	var vec []float64
	for _, c := range propCusts {
		for _, now := range nows {
			var ok bool
			vec, ok = st.Vector([]byte(c), now, vec)
			if !ok {
				continue
			}
			for i, name := range set.Names() {
				want, scale := o.feature(i, c, now)
				if !same(vec[i], want, scale) {
					return fmt.Errorf("customer %s, now %+d: %s = %v, want %v", c, now-t0, name, vec[i], want)
				}
			}
		}
		if err := checkProfile(o, st, c, wm); err != nil {
			return err
		}
	}
	return nil
}

func checkProfile(o *oracle, st *features.Store, c string, now int64) error {
	v, ok := st.View([]byte(c), now)
	if !ok {
		return nil
	}
	attrs, consent := o.profile(c)
	if !reflect.DeepEqual(v.Profile, attrs) {
		return fmt.Errorf("customer %s: profile %v, want %v", c, v.Profile, attrs)
	}
	if !reflect.DeepEqual(v.Consent, consent) {
		return fmt.Errorf("customer %s: consent %v, want %v", c, v.Consent, consent)
	}
	return nil
}

// roundTrip restores every customer of st into st2 and checks that the
// two agree exactly.
func roundTrip(set *features.Set, st, st2 *features.Store, r *rand.Rand, wm int64) error {
	var buf []byte
	for _, c := range propCusts {
		var ok bool
		buf, ok = st.AppendCustomer(buf[:0], []byte(c))
		if !ok {
			continue
		}
		if err := st2.RestoreCustomer([]byte(c), buf); err != nil {
			return err
		}
		now := wm + r.Int64N(int64(time.Hour))
		a, _ := st.View([]byte(c), now)
		b, _ := st2.View([]byte(c), now)
		if !reflect.DeepEqual(a, b) {
			return fmt.Errorf("customer %s: restored view %+v, want %+v", c, b, a)
		}
	}
	return nil
}
