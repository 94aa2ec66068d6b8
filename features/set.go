package features

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"time"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/features/expr"
)

// lifetimeHorizon is the window the horizon assumes when no feature has a
// finite window.
const lifetimeHorizon = 30 * 24 * time.Hour

// maxProfileSlots bounds profile attributes and consent channels: the
// profile section keeps their presence in one 64-bit mask.
const maxProfileSlots = 64

type aggKind uint8

const (
	aggCount aggKind = iota
	aggSum
	aggAvg
	aggMin
	aggMax
	aggFirst
	aggLast
	aggDistinct
	aggSince
)

var aggNames = map[string]aggKind{"count": aggCount, "sum": aggSum, "avg": aggAvg, "min": aggMin,
	"max": aggMax, "first": aggFirst, "last": aggLast, "distinct": aggDistinct, "time_since_last": aggSince}

type winKind uint8

const (
	winBucketed winKind = iota // sliding, and tumbling as one bucket of the window's size
	winSession
	winLifetime
)

type ofKind uint8

const (
	ofNone ofKind = iota
	ofSession
	ofSource
	ofType
	ofAttr
)

// feature is one compiled feature definition.
type feature struct {
	name   string
	agg    aggKind
	win    winKind
	bucket int64 // bucket length (ns); a tumbling window is one bucket
	span   int64 // buckets per window
	gap    int64 // session gap (ns)
	unit   int64 // time_since_last unit (ns)
	where  *expr.Program
	value  *expr.Program
	of     ofKind
	ofAttr string
}

// attrRead says which attrs key of an event type feeds a profile attribute.
type attrRead struct {
	attr int
	key  string
}

// route is what one event type feeds.
type route struct {
	feats   []int // ascending
	attrs   []attrRead
	consent bool
}

// Set is the compiled feature definitions and profile attributes. It is
// immutable and shared by all tasks.
type Set struct {
	feats    []feature
	names    []string
	index    map[string]int
	attrs    []string
	consent  config.Consent
	routes   map[string]*route
	horizon  time.Duration
	lateness int64
	fp       uint32
}

// NewSet compiles the features and the profile of cfg, which Validate (or
// Load) has checked and filled with defaults. Errors in expressions carry
// the file and line of the offending value.
func NewSet(cfg *config.Config) (*Set, error) {
	s := &Set{index: make(map[string]int), routes: make(map[string]*route),
		consent: cfg.Profile.Consent, lateness: int64(cfg.EventTime.AllowedLateness)}
	if s.lateness < 0 {
		return nil, cfg.ErrorAt("event_time.allowed_lateness", "event_time.allowed_lateness: must not be negative")
	}
	for i := range cfg.Features {
		f, err := compileFeature(cfg, i)
		if err != nil {
			return nil, err
		}
		if _, dup := s.index[f.name]; dup {
			return nil, cfg.ErrorAt(fmt.Sprintf("features[%d].name", i), "features[%d].name: %q is not unique", i, f.name)
		}
		s.index[f.name] = i
		s.feats = append(s.feats, f)
		s.names = append(s.names, f.name)
		for _, t := range cfg.Features[i].Events {
			if r := s.route(t); len(r.feats) == 0 || r.feats[len(r.feats)-1] != i {
				r.feats = append(r.feats, i)
			}
		}
	}
	if err := s.addProfile(cfg); err != nil {
		return nil, err
	}
	s.horizon = horizonOf(s.feats) + time.Duration(s.lateness)
	s.fp = fingerprint(cfg)
	return s, nil
}

func (s *Set) route(t string) *route {
	r := s.routes[t]
	if r == nil {
		r = &route{}
		s.routes[t] = r
	}
	return r
}

func (s *Set) addProfile(cfg *config.Config) error {
	p := &cfg.Profile
	if len(p.Attributes) > maxProfileSlots || len(p.Consent.Channels) > maxProfileSlots {
		return cfg.ErrorAt("profile", "profile: at most %d attributes and %d consent channels", maxProfileSlots, maxProfileSlots)
	}
	for i, a := range p.Attributes {
		s.attrs = append(s.attrs, a.Name)
		for _, t := range a.Events {
			key := a.Attr
			if k, ok := a.From[t]; ok {
				key = k
			}
			if key == "" {
				key = a.Name
			}
			r := s.route(t)
			r.attrs = append(r.attrs, attrRead{attr: i, key: key})
		}
	}
	if p.Consent.Event != "" && len(p.Consent.Channels) > 0 {
		s.route(p.Consent.Event).consent = true
	}
	return nil
}

// compileFeature compiles cfg.Features[i], filling the defaults Validate
// fills in case cfg was built in code.
func compileFeature(cfg *config.Config, i int) (feature, error) {
	c := &cfg.Features[i]
	at := fmt.Sprintf("features[%d]", i)
	f := feature{name: c.Name, unit: int64(c.Unit)}
	agg, ok := aggNames[c.Agg]
	if !ok {
		return f, cfg.ErrorAt(at+".agg", "%s.agg: %q is not an aggregation", at, c.Agg)
	}
	f.agg = agg
	if f.unit <= 0 {
		f.unit = int64(time.Minute)
	}
	if err := compileWindow(cfg, at+".window", &c.Window, &f); err != nil {
		return f, err
	}
	var err error
	if f.where, err = compileExpr(cfg, at+".where", c.Where, true); err != nil {
		return f, err
	}
	if f.value, err = compileExpr(cfg, at+".value", c.Value, false); err != nil {
		return f, err
	}
	needsValue := agg == aggSum || agg == aggAvg || agg == aggMin || agg == aggMax || agg == aggFirst || agg == aggLast
	if needsValue != (f.value != nil) {
		return f, cfg.ErrorAt(at+".value", "%s.value: %s needs a value expression exactly when it aggregates values", at, c.Agg)
	}
	if agg == aggDistinct {
		if f.of, f.ofAttr = parseOf(c.Of); f.of == ofNone {
			return f, cfg.ErrorAt(at+".of", "%s.of: %q is not a field; write session_id, source, type or attrs.NAME", at, c.Of)
		}
	}
	return f, nil
}

func compileWindow(cfg *config.Config, at string, w *config.Window, f *feature) error {
	switch w.Kind {
	case "sliding":
		b := w.Bucket
		if b == 0 {
			b = w.Size / 12
		}
		if w.Size <= 0 || b <= 0 || w.Size%b != 0 {
			return cfg.ErrorAt(at+".bucket", "%s.bucket: %v must be positive and divide the size %v", at, b, w.Size)
		}
		f.win, f.bucket, f.span = winBucketed, int64(b), int64(w.Size/b)
	case "tumbling":
		if w.Size <= 0 {
			return cfg.ErrorAt(at+".size", "%s.size: a tumbling window needs a positive size", at)
		}
		f.win, f.bucket, f.span = winBucketed, int64(w.Size), 1
	case "session":
		if w.Gap <= 0 {
			return cfg.ErrorAt(at+".gap", "%s.gap: a session window needs a positive gap", at)
		}
		f.win, f.gap = winSession, int64(w.Gap)
	case "lifetime":
		f.win = winLifetime
	default:
		return cfg.ErrorAt(at+".kind", "%s.kind: %q is not a window kind", at, w.Kind)
	}
	return nil
}

func compileExpr(cfg *config.Config, at, src string, cond bool) (*expr.Program, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	p, err := expr.Compile(src)
	if err != nil {
		return nil, cfg.ErrorAt(at, "%s: %v", at, err)
	}
	if p == nil {
		return nil, cfg.ErrorAt(at, "%s: the expression compiler returned no program", at)
	}
	switch {
	case cond && !p.IsBool():
		return nil, cfg.ErrorAt(at, "%s: %q is not a condition; write e.g. attrs.device == \"mobile\"", at, src)
	case !cond && p.IsBool():
		return nil, cfg.ErrorAt(at, "%s: %q is a condition, not a number; write e.g. attrs.price * (attrs.qty ?? 1)", at, src)
	}
	return p, nil
}

func parseOf(of string) (ofKind, string) {
	switch of {
	case "session_id":
		return ofSession, ""
	case "source":
		return ofSource, ""
	case "type":
		return ofType, ""
	}
	if a, ok := strings.CutPrefix(of, "attrs."); ok && a != "" {
		return ofAttr, a
	}
	return ofNone, ""
}

// horizonOf is the longest finite window: a sliding or tumbling window's
// size, a session's gap; lifetimeHorizon when there is none.
func horizonOf(feats []feature) time.Duration {
	var h int64
	for i := range feats {
		f := &feats[i]
		switch f.win {
		case winBucketed:
			if f.span > 0 && f.bucket > math.MaxInt64/f.span {
				return time.Duration(math.MaxInt64 / 2)
			}
			h = max(h, f.bucket*f.span)
		case winSession:
			h = max(h, f.gap)
		}
	}
	if h == 0 {
		return lifetimeHorizon
	}
	return time.Duration(h)
}

// fingerprint identifies the state layout a configuration implies, so that
// RestoreCustomer refuses state written for other definitions.
func fingerprint(cfg *config.Config) uint32 {
	h := fnv.New32a()
	for _, f := range cfg.Features {
		fmt.Fprintf(h, "%s|%s|%s|%v|%v|%v|%v|%v|", f.Name, f.Agg, f.Window.Kind, f.Window.Size,
			f.Window.Bucket, f.Window.Gap, f.Unit, f.Of)
	}
	for _, a := range cfg.Profile.Attributes {
		fmt.Fprintf(h, "a:%s|", a.Name)
	}
	fmt.Fprintf(h, "c:%v", cfg.Profile.Consent.Channels)
	return h.Sum32()
}

// Names returns the feature names in config order: the order of Vector.
func (s *Set) Names() []string { return s.names }

// Index returns the position of the named feature in Names.
func (s *Set) Index(name string) (int, bool) {
	i, ok := s.index[name]
	return i, ok
}

// Horizon is how long a customer's state matters after its latest event:
// the longest finite window (a sliding or tumbling size, a session gap; 30
// days when every window is lifetime) plus the allowed lateness. Evict
// drops customers idle for longer.
func (s *Set) Horizon() time.Duration { return s.horizon }

// Reads reports whether a feature or a profile attribute reads events of
// type eventType. It does not allocate.
func (s *Set) Reads(eventType []byte) bool { return s.routes[string(eventType)] != nil }

// errCorrupt is wrapped by every RestoreCustomer error about the bytes.
var errCorrupt = errors.New("corrupt customer state")
