package features_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/examples"
	"github.com/meridian/meridian/features"
)

const none = math.MinInt64

// update applies events with explicit watermarks and returns the outcomes.
func update(st *features.Store, evs []ev, wms []time.Duration) []features.Outcome {
	var out []features.Outcome
	for i, e := range evs {
		wm := int64(none)
		if wms[i] >= 0 {
			wm = t0 + int64(wms[i])
		}
		out = append(out, st.Update(e.event(), wm))
	}
	return out
}

func TestLateness(t *testing.T) {
	body := "event_time: {allowed_lateness: 10m}\n" + featureYAML(
		`{name: n, events: [x], agg: count, window: {kind: sliding, size: 1h}}`,
		`{name: s, events: [x], agg: count, window: {kind: session, gap: 5m}}`)
	st := features.NewStore(newSet(t, body))
	x := func(at time.Duration) ev { return ev{typ: "x", at: at} }
	// A session ending at 0, then events that arrive late but within the
	// lateness: 7m (more than a gap after it), then 3m, which bridges them.
	// The watermark is 11m, so the lateness bound is 1m, after the first
	// session's end: it must still be kept, as the 3m event can reach it.
	got := update(st, []ev{x(0), x(7 * m), x(3 * m), x(50 * time.Second), x(-time.Hour)},
		[]time.Duration{-1, 11 * m, 11 * m, 11 * m, 11 * m})
	want := []features.Outcome{features.Applied, features.Applied, features.Applied,
		features.Late, features.Late}
	if !slices.Equal(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	vec, _ := st.Vector([]byte("c-1"), t0+int64(11*m), nil)
	if vec[0] != 3 || vec[1] != 3 {
		t.Errorf("vector %v, want [3 3]", vec)
	}
	if s := st.Stats(); s.Late != 2 || s.Updates != 3 || s.Customers != 1 {
		t.Errorf("stats %+v", s)
	}
	if got := st.Update(ev{typ: "y"}.event(), none); got != features.Ignored || st.Stats().Ignored != 1 {
		t.Errorf("unread type: %v, stats %+v", got, st.Stats())
	}
}

func TestEvict(t *testing.T) {
	set := newSet(t, featureYAML(`{name: n, events: [x], agg: count, window: {kind: sliding, size: 1h}}`))
	if h := set.Horizon(); h != time.Hour+10*time.Minute {
		t.Fatalf("Horizon = %v", h)
	}
	st := features.NewStore(set)
	for i, c := range []string{"a", "b", "c"} {
		st.Update(ev{typ: "x", cust: c, at: time.Duration(i) * time.Hour}.event(), none)
	}
	st.ClearDirty()
	// At 2h + horizon, a (0h) and b (1h) are older than the horizon; c
	// (2h) is exactly at it and stays.
	if n := st.Evict(t0 + int64(2*time.Hour+set.Horizon())); n != 2 {
		t.Fatalf("Evict = %d, want 2", n)
	}
	if _, ok := st.Vector([]byte("a"), t0, nil); ok {
		t.Error("a still there")
	}
	if _, ok := st.Vector([]byte("c"), t0, nil); !ok {
		t.Error("c evicted")
	}
	if s := st.Stats(); s.Evicted != 2 || s.Customers != 1 {
		t.Errorf("stats %+v", s)
	}
	var dirty []string
	st.Dirty(func(id []byte) { dirty = append(dirty, string(id)) })
	if !slices.Equal(dirty, []string{"a", "b"}) {
		t.Errorf("dirty after evict = %v, want the tombstones [a b]", dirty)
	}
}

func TestHorizonLifetimeOnly(t *testing.T) {
	set := newSet(t, featureYAML(`{name: n, events: [x], agg: time_since_last, window: {kind: lifetime}}`))
	if h := set.Horizon(); h != 30*24*time.Hour+10*time.Minute {
		t.Errorf("Horizon = %v", h)
	}
}

func TestDirty(t *testing.T) {
	set := newSet(t, featureYAML(`{name: n, events: [x], agg: count, window: {kind: lifetime}}`))
	st := features.NewStore(set)
	list := func() []string {
		var out []string
		st.Dirty(func(id []byte) { out = append(out, string(id)) })
		slices.Sort(out)
		return out
	}
	st.Update(ev{typ: "x", cust: "a"}.event(), none)
	st.Update(ev{typ: "x", cust: "b"}.event(), none)
	st.Update(ev{typ: "x", cust: "a"}.event(), none)
	if got := list(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("dirty %v", got)
	}
	st.ClearDirty()
	st.Update(ev{typ: "x", cust: "b"}.event(), none)
	st.Delete([]byte("a"))
	if got := list(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("dirty %v", got)
	}
	if _, ok := st.AppendCustomer(nil, []byte("a")); ok {
		t.Error("deleted customer still serializes")
	}
}

func TestView(t *testing.T) {
	cfg := parse(t, string(examples.Config))
	set, err := features.NewSet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := features.NewStore(set)
	for _, e := range []ev{
		{typ: "profile_updated", at: 2 * m, attrs: map[string]any{"plan": "basic", "tenure_days": 412, "segment": nil}},
		{typ: "plan_changed", at: m, attrs: map[string]any{"to": "older"}},
		{typ: "plan_changed", at: 3 * m, attrs: map[string]any{"to": "unlimited-5g"}},
		{typ: "consent_changed", at: 0, attrs: map[string]any{"channel": "sms", "granted": false}},
		{typ: "consent_changed", at: 0, attrs: map[string]any{"channel": "push", "granted": false}},
		{typ: "consent_changed", at: -m, attrs: map[string]any{"channel": "push", "granted": true}},
		{typ: "add_to_cart", at: 0, attrs: map[string]any{"price": 19.99, "qty": 2}},
	} {
		st.Update(e.event(), none)
	}
	v, ok := st.View([]byte("c-1"), t0+int64(5*m))
	if !ok {
		t.Fatal("unknown customer")
	}
	wantProfile := map[string]any{"plan": "unlimited-5g", "tenure_days": 412.0}
	wantConsent := map[string]bool{"email": true, "sms": false, "push": false, "call_center": true}
	if !equalAny(v.Profile, wantProfile) || !equalBool(v.Consent, wantConsent) {
		t.Errorf("profile %v consent %v", v.Profile, v.Consent)
	}
	i, _ := set.Index("cart_value_1h")
	j, _ := set.Index("minutes_since_last_purchase")
	if v.Features[i].Name != "cart_value_1h" || *v.Features[i].Value != 39.98 || v.Features[j].Value != nil {
		t.Errorf("features %+v", v.Features)
	}
}

func equalAny(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func equalBool(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestNewSetErrors(t *testing.T) {
	cfg := parse(t, featureYAML(`{name: f, events: [x], agg: count, where: 'attrs.a +', window: {kind: lifetime}}`))
	_, err := features.NewSet(cfg)
	if err == nil || !strings.Contains(err.Error(), "test.yaml:2:") || !strings.Contains(err.Error(), "features[0].where") {
		t.Errorf("err = %v, want it at test.yaml:2 naming features[0].where", err)
	}
	cfg = parse(t, featureYAML(`{name: f, events: [x], agg: count, where: 'attrs.a + 1', window: {kind: lifetime}}`))
	if _, err := features.NewSet(cfg); err == nil || !strings.Contains(err.Error(), "not a condition") {
		t.Errorf("err = %v", err)
	}
	cfg = parse(t, featureYAML(`{name: f, events: [x], agg: sum, value: 'attrs.a > 1', window: {kind: lifetime}}`))
	if _, err := features.NewSet(cfg); err == nil || !strings.Contains(err.Error(), "features[0].value") {
		t.Errorf("err = %v", err)
	}
}

func TestRestoreErrors(t *testing.T) {
	set := newSet(t, featureYAML(`{name: n, events: [x], agg: count, window: {kind: lifetime}}`))
	other := newSet(t, featureYAML(`{name: n, events: [x], agg: sum, value: attrs.p, window: {kind: lifetime}}`))
	st := features.NewStore(set)
	st.Update(ev{typ: "x"}.event(), none)
	data, _ := st.AppendCustomer(nil, []byte("c-1"))
	if err := features.NewStore(other).RestoreCustomer([]byte("c-1"), data); !errors.Is(err, features.ErrIncompatible) {
		t.Errorf("other definitions: %v", err)
	}
	for i := 1; i < len(data); i++ {
		if err := features.NewStore(set).RestoreCustomer([]byte("c-1"), data[:i]); err == nil {
			t.Errorf("truncated to %d bytes: no error", i)
		}
	}
	if err := features.NewStore(set).RestoreCustomer([]byte("c-1"), append(data, 0)); err == nil {
		t.Error("trailing byte: no error")
	}
}

// FuzzRestoreCustomer checks that no bytes make RestoreCustomer panic, and
// that whatever it accepts can be read, updated and serialized again.
func FuzzRestoreCustomer(f *testing.F) {
	cfg := propertyConfig(f)
	set, err := features.NewSet(cfg)
	if err != nil {
		f.Fatal(err)
	}
	st := features.NewStore(set)
	g := &logGen{r: rand.New(rand.NewPCG(1, 2)), cursor: t0}
	for range 300 {
		st.Update(g.next(), none)
	}
	for _, c := range propCusts {
		data, _ := st.AppendCustomer(nil, []byte(c))
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st := features.NewStore(set)
		if err := st.RestoreCustomer([]byte("c-1"), data); err != nil {
			return
		}
		st.Vector([]byte("c-1"), t0, nil)
		st.View([]byte("c-1"), t0)
		e := g.prev[len(data)%len(g.prev)]
		e2 := *e
		e2.CustomerID = []byte("c-1")
		st.Update(&e2, none)
		out, _ := st.AppendCustomer(nil, []byte("c-1"))
		if err := features.NewStore(set).RestoreCustomer([]byte("c-1"), out); err != nil {
			t.Fatalf("re-serialized state does not restore: %v", err)
		}
	})
}

// TestAllocs checks that Update and Vector do not allocate in steady state.
func TestAllocs(t *testing.T) {
	cfg := propertyConfig(t)
	set, err := features.NewSet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := features.NewStore(set)
	g := &logGen{r: rand.New(rand.NewPCG(3, 4)), cursor: t0}
	var evs []*event.Event
	for range 2000 {
		evs = append(evs, g.next())
	}
	wm := func(e *event.Event) int64 { return e.TS - int64(time.Hour) }
	for _, e := range evs { // warm up
		st.Update(e, wm(e))
	}
	i := 0
	if n := testing.AllocsPerRun(5000, func() {
		e := evs[i%len(evs)]
		i++
		st.Update(e, wm(e))
	}); n != 0 {
		t.Errorf("Update: %v allocs/op", n)
	}
	dst := make([]float64, 0, len(set.Names()))
	if n := testing.AllocsPerRun(1000, func() {
		dst, _ = st.Vector([]byte("c-1"), g.cursor, dst)
	}); n != 0 {
		t.Errorf("Vector: %v allocs/op", n)
	}
}
