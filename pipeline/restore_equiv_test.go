package pipeline_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/meridian/meridian/bench"
	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/examples"
	"github.com/meridian/meridian/operators"
	"github.com/meridian/meridian/pipeline"
)

// TestRestoreMidStreamDecidesTheSame runs a W1 log through one task's steps
// twice: straight through, and with the task's durable state written out
// (every section's dirty customers, as a checkpoint does) and restored
// into a fresh Processor every few hundred records, evicting as the task
// does. Both must emit exactly the same actions: whatever a checkpoint
// leaves out (a send a cap should count, a journey timer) would show.
func TestRestoreMidStreamDecidesTheSame(t *testing.T) {
	cfg, err := config.Parse(examples.ConfigName, examples.Config)
	if err != nil {
		t.Fatal(err)
	}
	env, err := pipeline.NewEnv(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	g := bench.NewGenerator(bench.GenConfig{Seed: 3, Customers: 300})
	start := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var recs []bench.Record
	for i := range 20_000 {
		var r bench.Record
		g.Next(start.Add(time.Duration(i)*200*time.Millisecond), &r)
		recs = append(recs, bench.Record{Key: bytes.Clone(r.Key), Value: bytes.Clone(r.Value)})
	}
	run := func(every int) []string {
		var out []string
		var o operators.Output
		proc := operators.NewProcessor(&env.Env, nil)
		// stored is the changelog: the latest record per key (nil = tombstone).
		stored := map[string][]byte{}
		wm := pipeline.NewWatermark(cfg.EventTime.AllowedDisorder, cfg.EventTime.IdleAfter, time.Unix(0, 0))
		for i, r := range recs {
			o.Reset()
			if err := proc.Process(r.Key, r.Value, wm.Current(), &o); err == nil {
				wm.Observe(proc.Event().TS, time.Unix(0, 0))
			}
			for j := range o.Len() {
				_, v := o.Record(j)
				out = append(out, string(v))
			}
			if every == 0 || (i+1)%every != 0 {
				continue
			}
			proc.Evict(wm.MaxEventTime())
			for _, sec := range proc.Sections() {
				sec.State.Dirty(func(id []byte) {
					key := sec.Prefix + string(id)
					if b, ok := sec.State.AppendCustomer(nil, id); ok {
						stored[key] = b
					} else {
						stored[key] = nil
					}
				})
				sec.State.ClearDirty()
			}
			fresh := operators.NewProcessor(&env.Env, nil)
			for key, b := range stored {
				var sec *operators.Section
				var id []byte
				for i, s := range fresh.Sections() {
					if s.Prefix != "" && strings.HasPrefix(key, s.Prefix) {
						sec, id = &fresh.Sections()[i], []byte(key[len(s.Prefix):])
					} else if s.Prefix == "" && key[0] >= 0x20 && sec == nil {
						sec, id = &fresh.Sections()[i], []byte(key)
					}
				}
				if sec == nil {
					t.Fatalf("no section for key %q", key)
				}
				if b == nil {
					sec.State.Delete(id)
					continue
				}
				if err := sec.State.RestoreCustomer(id, b); err != nil {
					t.Fatal(err)
				}
			}
			for _, sec := range fresh.Sections() {
				sec.State.ClearDirty()
			}
			proc = fresh
		}
		return out
	}
	want, got := run(0), run(250)
	if len(want) < 100 {
		t.Fatalf("only %d actions; the test needs more", len(want))
	}
	n := min(len(want), len(got))
	for i := range n {
		if want[i] != got[i] {
			t.Fatalf("action %d differs after restores:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
	if len(want) != len(got) {
		t.Fatalf("%d actions after restores, %d straight through", len(got), len(want))
	}
}
