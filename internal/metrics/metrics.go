// Package metrics is a small registry that writes the Prometheus text
// exposition format. Meridian's metrics are counters and gauges updated once
// per batch, so a few atomics serve them; the official client would add a
// dependency tree for no measurable gain.
package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Counter is a monotonically increasing count.
type Counter struct{ v atomic.Uint64 }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Inc adds one.
func (c *Counter) Inc() { c.v.Add(1) }

// Load returns the current count.
func (c *Counter) Load() uint64 { return c.v.Load() }

// Gauge is a value that goes up and down.
type Gauge struct{ bits atomic.Uint64 }

// Set sets the gauge to v.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Load returns the gauge's value.
func (g *Gauge) Load() float64 { return math.Float64frombits(g.bits.Load()) }

type series struct {
	labels  string // rendered, e.g. `{reason="x"}`, or ""
	counter *Counter
	gauge   *Gauge
	fn      func() float64
}

type family struct {
	name, help, kind string
	series           []*series
}

// Registry holds metric families and writes them in a stable order.
type Registry struct {
	mu       sync.Mutex
	families map[string]*family
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{families: make(map[string]*family)} }

// Counter returns the counter name{labels}, creating it on first use.
// labels are name/value pairs.
func (r *Registry) Counter(name, help string, labels ...string) *Counter {
	s := r.series(name, help, "counter", labels, func(s *series) { s.counter = new(Counter) })
	return s.counter
}

// Gauge returns the gauge name{labels}, creating it on first use.
func (r *Registry) Gauge(name, help string, labels ...string) *Gauge {
	s := r.series(name, help, "gauge", labels, func(s *series) { s.gauge = new(Gauge) })
	return s.gauge
}

// GaugeFunc registers a gauge read from fn at scrape time, replacing any
// earlier one with the same labels.
func (r *Registry) GaugeFunc(name, help string, fn func() float64, labels ...string) {
	s := r.series(name, help, "gauge", labels, func(*series) {})
	r.mu.Lock()
	s.fn = fn
	r.mu.Unlock()
}

// CounterFunc registers a counter read from fn at scrape time (a running
// total another component keeps), replacing any earlier one with the same
// labels.
func (r *Registry) CounterFunc(name, help string, fn func() float64, labels ...string) {
	s := r.series(name, help, "counter", labels, func(*series) {})
	r.mu.Lock()
	s.fn = fn
	r.mu.Unlock()
}

func (r *Registry) series(name, help, kind string, labels []string, init func(*series)) *series {
	if len(labels)%2 != 0 {
		panic("BUG: metrics labels must be name/value pairs")
	}
	rendered := renderLabels(labels)
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.families[name]
	if f == nil {
		f = &family{name: name, help: help, kind: kind}
		r.families[name] = f
	}
	for _, s := range f.series {
		if s.labels == rendered {
			return s
		}
	}
	s := &series{labels: rendered}
	init(s)
	f.series = append(f.series, s)
	return s
}

func renderLabels(labels []string) string {
	if len(labels) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < len(labels); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", labels[i], labels[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

// WriteText writes every family in the Prometheus text format, sorted by
// name. Gauge functions run without the registry's lock held: they take
// their owners' locks, and those owners register metrics under them.
func (r *Registry) WriteText(w io.Writer) error {
	type snap struct {
		f      family
		series []series
	}
	r.mu.Lock()
	snaps := make([]snap, 0, len(r.families))
	for _, f := range r.families {
		s := snap{f: *f}
		for _, x := range f.series {
			s.series = append(s.series, *x)
		}
		snaps = append(snaps, s)
	}
	r.mu.Unlock()
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].f.name < snaps[j].f.name })
	var b strings.Builder
	for _, s := range snaps {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", s.f.name, s.f.help, s.f.name, s.f.kind)
		for i := range s.series {
			fmt.Fprintf(&b, "%s%s %s\n", s.f.name, s.series[i].labels, formatValue(&s.series[i]))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func formatValue(s *series) string {
	switch {
	case s.counter != nil:
		return fmt.Sprint(s.counter.Load())
	case s.gauge != nil:
		return fmt.Sprint(s.gauge.Load())
	case s.fn != nil:
		return fmt.Sprint(s.fn())
	}
	return "0"
}
