package features_test

import (
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/features/expr"
)

// oracle recomputes features from the log of accepted events by brute
// force, straight from the definitions in the config: the specification
// the store is checked against.
type oracle struct {
	cfg   *config.Config
	where []*expr.Program
	value []*expr.Program
	log   []*event.Event // accepted events in arrival order
}

func newOracle(t testing.TB, cfg *config.Config) *oracle {
	o := &oracle{cfg: cfg}
	for _, f := range cfg.Features {
		o.where = append(o.where, mustCompile(t, f.Where))
		o.value = append(o.value, mustCompile(t, f.Value))
	}
	return o
}

func mustCompile(t testing.TB, src string) *expr.Program {
	if src == "" {
		return nil
	}
	p, err := expr.Compile(src)
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	return p
}

// point is one event as a feature sees it.
type point struct {
	ts  int64
	v   float64
	key string
}

// points returns the events of customer cust feature i reads, in arrival
// order.
func (o *oracle) points(i int, cust string) []point {
	f := &o.cfg.Features[i]
	var out []point
	for _, e := range o.log {
		if string(e.CustomerID) != cust || !slices.Contains(f.Events, string(e.Type)) {
			continue
		}
		if o.where[i] != nil && !o.where[i].Test(e) {
			continue
		}
		p := point{ts: e.TS}
		if o.value[i] != nil {
			v, ok := o.value[i].Num(e)
			if !ok {
				continue
			}
			p.v = v
		}
		if f.Agg == "distinct" {
			k, ok := distinctKey(f.Of, e)
			if !ok {
				continue
			}
			p.key = k
		}
		out = append(out, p)
	}
	return out
}

func distinctKey(of string, e *event.Event) (string, bool) {
	var b []byte
	switch of {
	case "session_id":
		b = e.SessionID
	case "source":
		b = e.Source
	case "type":
		b = e.Type
	default:
		a := e.Attr(of[len("attrs."):])
		if a == nil {
			return "", false
		}
		switch a.Kind {
		case event.AttrString:
			return "s" + string(a.Str), true
		case event.AttrNumber:
			return "n" + strconv.FormatFloat(a.Num+0, 'g', -1, 64), true
		case event.AttrBool:
			return "b" + strconv.FormatBool(a.Bool), true
		}
		return "", false
	}
	return "s" + string(b), len(b) > 0
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// feature returns feature i of cust as of now, and the sum of the
// magnitudes of its values (the scale of float rounding).
func (o *oracle) feature(i int, cust string, now int64) (float64, float64) {
	f := &o.cfg.Features[i]
	ps := o.window(f, o.points(i, cust), now)
	return aggregate(f, ps, now)
}

func (o *oracle) window(f *config.Feature, ps []point, now int64) []point {
	var out []point
	switch f.Window.Kind {
	case "sliding":
		b := int64(f.Window.Bucket)
		nb, n := floorDiv(now, b), int64(f.Window.Size/f.Window.Bucket)
		for _, p := range ps {
			if k := floorDiv(p.ts, b); k > nb-n && k <= nb {
				out = append(out, p)
			}
		}
	case "tumbling":
		w := int64(f.Window.Size)
		for _, p := range ps {
			if floorDiv(p.ts, w) == floorDiv(now, w) {
				out = append(out, p)
			}
		}
	case "session":
		return lastSession(ps, int64(f.Window.Gap), now)
	default:
		return ps
	}
	return out
}

// lastSession returns the points of the latest session, in arrival order,
// if it is not over as of now.
func lastSession(ps []point, gap, now int64) []point {
	if len(ps) == 0 {
		return nil
	}
	byTime := slices.Clone(ps)
	slices.SortStableFunc(byTime, func(a, b point) int { return cmpInt(a.ts, b.ts) })
	start := byTime[len(byTime)-1].ts
	for k := len(byTime) - 1; k > 0 && byTime[k].ts-byTime[k-1].ts <= gap; k-- {
		start = byTime[k-1].ts
	}
	if now-byTime[len(byTime)-1].ts > gap {
		return nil
	}
	var out []point
	for _, p := range ps {
		if p.ts >= start {
			out = append(out, p)
		}
	}
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func aggregate(f *config.Feature, ps []point, now int64) (float64, float64) {
	if len(ps) == 0 {
		if f.Agg == "count" || f.Agg == "sum" {
			return 0, 0
		}
		return math.NaN(), 0
	}
	var sum, scale float64
	lo, hi := math.Inf(1), math.Inf(-1)
	first, last := ps[0], ps[0]
	keys := map[string]bool{}
	for _, p := range ps {
		sum += p.v
		scale += math.Abs(p.v)
		lo, hi = math.Min(lo, p.v), math.Max(hi, p.v)
		if p.ts < first.ts {
			first = p
		}
		if p.ts >= last.ts {
			last = p
		}
		keys[p.key] = true
	}
	switch f.Agg {
	case "count":
		return float64(len(ps)), 0
	case "sum":
		return sum, scale
	case "avg":
		return sum / float64(len(ps)), scale
	case "min":
		return lo, 0
	case "max":
		return hi, 0
	case "first":
		return first.v, 0
	case "last":
		return last.v, 0
	case "distinct":
		return float64(len(keys)), 0
	}
	return float64(now-last.ts) / float64(f.Unit), 1
}

// profile returns the latest value (by event time, ties to the latest
// arrival) of each profile attribute, and the consent of each channel.
func (o *oracle) profile(cust string) (map[string]any, map[string]bool) {
	p := &o.cfg.Profile
	attrs, ts := map[string]any{}, map[string]int64{}
	consent, cts := map[string]bool{}, map[string]int64{}
	for _, c := range p.Consent.Channels {
		consent[c] = true
	}
	for _, e := range o.log {
		if string(e.CustomerID) != cust {
			continue
		}
		for _, a := range p.Attributes {
			if !slices.Contains(a.Events, string(e.Type)) {
				continue
			}
			key := a.Attr
			if k, ok := a.From[string(e.Type)]; ok {
				key = k
			}
			v := attrValue(e.Attr(key))
			if t, seen := ts[a.Name]; v != nil && (!seen || e.TS >= t) {
				attrs[a.Name], ts[a.Name] = v, e.TS
			}
		}
		if string(e.Type) != p.Consent.Event {
			continue
		}
		ch, ok := e.Str(p.Consent.ChannelAttr)
		if t, seen := cts[string(ch)]; ok && slices.Contains(p.Consent.Channels, string(ch)) && (!seen || e.TS >= t) {
			g := e.Attr(p.Consent.GrantedAttr)
			consent[string(ch)] = g == nil || g.Kind != event.AttrBool || g.Bool
			cts[string(ch)] = e.TS
		}
	}
	return attrs, consent
}

func attrValue(a *event.Attr) any {
	if a == nil {
		return nil
	}
	switch a.Kind {
	case event.AttrString:
		return string(a.Str)
	case event.AttrNumber:
		return a.Num
	case event.AttrBool:
		return a.Bool
	}
	return nil
}
