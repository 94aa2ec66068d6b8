package journeys

import (
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/examples"
	"github.com/meridian/meridian/features"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata")

// t0 is the start of every scenario: 2026-12-04T10:00:00Z.
var t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC).UnixNano()

// exampleEngine compiles the journeys of examples/meridian.yaml, with
// extra YAML appended (to override journey_limits, say).
func exampleEngine(t testing.TB, extra string) *Engine {
	t.Helper()
	cfg, err := config.Parse("meridian.yaml", []byte(exampleYAML(extra)))
	if err != nil {
		t.Fatal(err)
	}
	set, err := features.NewSet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// exampleYAML is examples/meridian.yaml with extra appended: more journeys
// (the file ends with the journeys list once journey_limits is cut) or a
// journey_limits of its own.
func exampleYAML(extra string) string {
	data := string(examples.Config)
	if extra == "" {
		return data
	}
	cut := strings.Index(data, "\njourney_limits:\n")
	return data[:cut+1] + extra
}

// fakeActor sends fixed actions and, for decisions, picks the candidate
// named in prefer (by customer) or else the first; decision ids hash the
// trigger id, as the real decisioning engine derives them.
type fakeActor struct {
	prefer map[string]string
	log    []string
	buf    []byte
}

func (a *fakeActor) Act(r *Request) Result {
	choice := r.Actions[0]
	if p, ok := a.prefer[string(r.CustomerID)]; ok && r.Kind == Decide {
		for _, x := range r.Actions {
			if x == p {
				choice = x
			}
		}
	}
	h := fnv.New64a()
	h.Write(r.TriggerID)
	a.buf = strconv.AppendUint(append(a.buf[:0], "d-"...), h.Sum64(), 16)
	if a.log != nil || r.Kind == Decide || r.Kind == Send {
		a.log = append(a.log, fmt.Sprintf("act %s %s %s/%s -> %s %s", clock(r.TS), r.CustomerID, r.Journey, r.Step, choice, a.buf))
	}
	return Result{ActionID: choice, DecisionID: a.buf, Reason: "fake"}
}

// clock renders ns as the offset from t0, e.g. +24h30m0s.
func clock(ts int64) string {
	return "+" + time.Duration(ts-t0).String()
}

// run drives a State from a script and renders what it did, one line each.
// Script lines: "ev TYPE CUSTOMER OFFSET [attr=number ...]" (the event id
// is the line number) and "wm OFFSET" (advance the watermark); # comments.
type run struct {
	t     testing.TB
	st    *State
	act   *fakeActor
	out   Output
	lines []string
	ev    event.Event
}

func newRun(t testing.TB, e *Engine) *run {
	return &run{t: t, st: e.NewState(), act: &fakeActor{prefer: map[string]string{}}}
}

func (r *run) script(src string) {
	r.t.Helper()
	for n, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		switch f[0] {
		case "ev":
			r.event(f[1], f[2], r.offset(f[3]), fmt.Sprintf("e%d", n+1), f[4:])
		case "wm":
			r.advance(t0 + r.offset(f[1]))
		default:
			r.t.Fatalf("bad script line %q", line)
		}
	}
}

func (r *run) offset(s string) int64 {
	d, err := time.ParseDuration(strings.TrimPrefix(s, "+"))
	if err != nil {
		r.t.Fatalf("bad offset %q", s)
	}
	return int64(d)
}

func (r *run) event(typ, cust string, off int64, id string, attrs []string) {
	r.ev.Reset()
	r.ev.Type, r.ev.CustomerID, r.ev.EventID, r.ev.TS = []byte(typ), []byte(cust), []byte(id), t0+off
	for _, a := range attrs {
		k, v, _ := strings.Cut(a, "=")
		x, _ := strconv.ParseFloat(v, 64)
		r.ev.Attrs = append(r.ev.Attrs, event.Attr{Key: []byte(k), Kind: event.AttrNumber, Num: x})
	}
	r.lines = append(r.lines, fmt.Sprintf("-- %s %s %s (%s)", clock(r.ev.TS), typ, cust, id))
	r.st.OnEvent(&r.ev, nil, r.act, &r.out)
	r.render()
}

func (r *run) advance(wm int64) {
	r.st.Advance(wm, func([]byte) Facts { return nil }, r.act, &r.out)
	if len(r.out.Transitions) > 0 {
		r.lines = append(r.lines, "-- watermark "+clock(wm))
	}
	r.render()
}

func (r *run) render() {
	for _, t := range r.out.Transitions {
		line := fmt.Sprintf("%s %s %s %s: %s -> %s by %s %s", clock(t.TS), t.CustomerID, t.Journey,
			t.Instance, orDash(t.From), t.To, t.Cause, t.CauseID)
		if t.ActionID != "" {
			line += fmt.Sprintf(" action=%s decision=%s", t.ActionID, t.DecisionID)
		}
		r.lines = append(r.lines, line)
	}
	for _, g := range r.out.Goals {
		r.lines = append(r.lines, fmt.Sprintf("%s %s GOAL %s %s by %s %s credit=%s %s", clock(g.TS),
			g.CustomerID, g.Journey, g.Instance, g.Event, g.EventID, orDash(g.ActionID), g.DecisionID))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// golden compares got with testdata/NAME.golden (rewritten with -rewrite).
func golden(t *testing.T, name string, got []string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	text := strings.Join(got, "\n") + "\n"
	if *rewrite {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -rewrite to create it)", err)
	}
	if string(want) != text {
		t.Errorf("%s differs from the golden file; got:\n%s\nwant:\n%s", path, text, want)
	}
}

func exampleSet(t testing.TB) *features.Set {
	t.Helper()
	cfg, err := config.Parse("meridian.yaml", examples.Config)
	if err != nil {
		t.Fatal(err)
	}
	set, err := features.NewSet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return set
}
