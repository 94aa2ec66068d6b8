package decide_test

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/decide"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/examples"
	"github.com/meridian/meridian/features"
	"github.com/meridian/meridian/models"
)

// t0 is 2026-01-05T12:00:00Z, a Monday at noon UTC (outside quiet hours
// in UTC).
var t0 = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC).UnixNano()

// base is the part of a test configuration that every test shares: the
// features the fixture models read and the profile.
const base = `
features:
  - {name: cart_value_1h, events: [add_to_cart], agg: sum, value: attrs.price, window: {kind: sliding, size: 1h}}
  - {name: add_to_cart_1h, events: [add_to_cart], agg: count, window: {kind: sliding, size: 1h}}
  - {name: page_views_1h, events: [page_view], agg: count, window: {kind: sliding, size: 1h}}
  - {name: product_views_1h, events: [product_view], agg: count, window: {kind: sliding, size: 1h}}
  - {name: sessions_24h, events: [page_view], agg: distinct, of: session_id, window: {kind: sliding, size: 24h}}
  - {name: minutes_since_last_add_to_cart, events: [add_to_cart], agg: time_since_last, window: {kind: lifetime}}
  - {name: minutes_since_last_purchase, events: [purchase], agg: time_since_last, window: {kind: lifetime}}
  - {name: purchases_30d, events: [purchase], agg: count, window: {kind: sliding, size: 30d}}
  - {name: payment_failures_7d, events: [payment_failed], agg: count, window: {kind: sliding, size: 7d}}
profile:
  attributes:
    - {name: tenure_days, events: [profile_updated]}
    - {name: segment, events: [profile_updated]}
    - {name: timezone, events: [profile_updated]}
    - {name: plan, events: [profile_updated]}
`

// fixture is an engine built from base plus a decide section.
type fixture struct {
	t   testing.TB
	cfg *config.Config
	set *features.Set
	e   *decide.Engine
	d   *decide.Decider
	c   *decide.Contacts
	n   int // decisions made, for distinct ids
}

// linear is a fake linear model: margin = bias + sum w_i x_i (missing
// inputs count 0), propensity = the margin clamped to [0, 1]. Its
// contributions are exact: w_i x_i.
type linear struct {
	id     string
	names  []string
	w      []float64
	bias   float64
	called *int
}

func (m *linear) ID() string       { return m.id }
func (m *linear) Version() string  { return "7" }
func (m *linear) Inputs() []string { return m.names }
func (m *linear) Outputs() int     { return 1 }
func (m *linear) Score(x, out []float64) []float64 {
	if m.called != nil {
		*m.called++
	}
	s := m.bias
	for i, w := range m.w {
		if !math.IsNaN(x[i]) {
			s += w * x[i]
		}
	}
	return append(out[:0], min(max(s, 0), 1))
}
func (m *linear) Explain(x []float64, k int, dst []float64) []float64 {
	dst = dst[:0]
	for i, w := range m.w {
		v := 0.0
		if !math.IsNaN(x[i]) {
			v = w * x[i]
		}
		dst = append(dst, v)
	}
	return dst
}

// testLoad loads "lin" as a linear model of cart_value_1h (0.004 per
// unit), purchases_30d (-0.1) and tenure_days (0.0002), and any other id
// from the file with models.Load.
func testLoad(path, id, version string) (models.Scorer, error) {
	if strings.HasPrefix(id, "lin") {
		return &linear{id: id, names: []string{"cart_value_1h", "purchases_30d", "tenure_days"},
			w: []float64{0.004, -0.1, 0.0002}, bias: 0.1}, nil
	}
	return models.Load(path, id, version)
}

func newFixture(t testing.TB, decideYAML string) *fixture {
	t.Helper()
	return newFixtureOpts(t, decideYAML, decide.Options{})
}

func newFixtureOpts(t testing.TB, decideYAML string, opt decide.Options) *fixture {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(base+decideYAML))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	set, err := features.NewSet(cfg)
	if err != nil {
		t.Fatalf("features: %v", err)
	}
	if opt.Load == nil {
		opt.Load = testLoad
	}
	if opt.BaseDir == "" {
		opt.BaseDir = filepath.Join("..", "examples")
	}
	e, err := decide.New(cfg, set, opt)
	if err != nil {
		t.Fatalf("decide.New: %v", err)
	}
	return &fixture{t: t, cfg: cfg, set: set, e: e, d: e.NewDecider(), c: decide.NewContacts(e.Horizon())}
}

// vec builds a feature vector: NaN except the named features.
func (f *fixture) vec(kv map[string]float64) []float64 {
	v := make([]float64, len(f.set.Names()))
	for i := range v {
		v[i] = math.NaN()
	}
	for k, x := range kv {
		i, ok := f.set.Index(k)
		if !ok {
			f.t.Fatalf("no feature %s", k)
		}
		v[i] = x
	}
	return v
}

// profile returns a Profile with the given attributes and refused
// consent channels.
func (f *fixture) profile(attrs map[string]any, refused ...string) features.Profile {
	st := features.NewStore(f.set)
	id := []byte("c-1")
	ev := &event.Event{Type: []byte("profile_updated"), CustomerID: id, EventID: []byte("p"), TS: t0 - int64(time.Hour)}
	for k, v := range attrs {
		ev.Attrs = append(ev.Attrs, attr(k, v))
	}
	st.Update(ev, math.MinInt64)
	for _, ch := range refused {
		st.Update(&event.Event{Type: []byte("consent_changed"), CustomerID: id, TS: t0 - int64(time.Hour),
			Attrs: []event.Attr{attr("channel", ch), attr("granted", false)}}, math.MinInt64)
	}
	p, ok := st.Profile(id)
	if !ok {
		f.t.Fatal("no profile")
	}
	return p
}

func attr(k string, v any) event.Attr {
	a := event.Attr{Key: []byte(k)}
	switch v := v.(type) {
	case string:
		a.Kind, a.Str = event.AttrString, []byte(v)
	case float64:
		a.Kind, a.Num = event.AttrNumber, v
	case int:
		a.Kind, a.Num = event.AttrNumber, float64(v)
	case bool:
		a.Kind, a.Bool = event.AttrBool, v
	case nil:
		a.Kind = event.AttrNull
	default:
		panic(fmt.Sprintf("attr %T", v))
	}
	return a
}

// trigger is an event of type typ for customer c-1 at t.
func trigger(typ string, t int64, attrs map[string]any) *event.Event {
	ev := &event.Event{Type: []byte(typ), CustomerID: []byte("c-1"), EventID: []byte("e-1"), TS: t, Source: []byte("web")}
	for k, v := range attrs {
		ev.Attrs = append(ev.Attrs, attr(k, v))
	}
	return ev
}

// id returns a distinct decision id.
func (f *fixture) id() (id [18]byte) {
	f.n++
	copy(id[:], fmt.Sprintf("d-%016x", uint64(f.n)*0x9e3779b97f4a7c15))
	return id
}

// decide runs one decision for customer c-1 with the fixture's ledger.
func (f *fixture) decide(in decide.Input) *decide.Decision {
	if in.CustomerID == nil {
		in.CustomerID = []byte("c-1")
	}
	if in.Contacts == nil {
		in.Contacts = f.c
	}
	if in.DecisionID == ([18]byte{}) {
		in.DecisionID = f.id()
	}
	out := &decide.Decision{}
	f.d.Decide(&in, out)
	return out
}

func hasReason(d *decide.Decision, s string) bool {
	for _, r := range d.Reasons {
		if r == s {
			return true
		}
	}
	return false
}

// exampleEngine builds the engine of examples/meridian.yaml.
func exampleEngine(t testing.TB) (*config.Config, *features.Set, *decide.Engine) {
	t.Helper()
	cfg, err := config.Parse(examples.ConfigName, examples.Config)
	if err != nil {
		t.Fatal(err)
	}
	set, err := features.NewSet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e, err := decide.New(cfg, set, decide.Options{BaseDir: filepath.Join("..", "examples"), Learner: models.NewLearner()})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, set, e
}

func parseCfg(decideYAML string) (*config.Config, error) {
	return config.Parse("test.yaml", []byte(base+decideYAML))
}

func newEngine(cfg *config.Config) (*decide.Engine, error) {
	set, err := features.NewSet(cfg)
	if err != nil {
		return nil, err
	}
	return decide.New(cfg, set, decide.Options{BaseDir: filepath.Join("..", "examples")})
}
