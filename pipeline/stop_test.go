package pipeline_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/meridian/meridian/internal/testkit"
)

// TestStopsLoseNothing stops and restarts an instance again and again
// while a backlog is consumed: every stop commits what was polled, so
// records a poll returned as the stop came must still be processed, or
// their decisions are lost for good. Every decision the log implies must
// reach the actions topic.
func TestStopsLoseNothing(t *testing.T) {
	cfg := oneTopicConfig(t)
	cfg.Group = "stops"
	cfg.Topics.Changelog, cfg.Topics.Learning = "stops.changelog", "stops.learning"
	cfg.Pipeline.MaxBatch = 50
	addr := standardBroker(t)
	recs := w1Records(cfg.Generator.Seed, 30_000)
	want := expectedActions(t, cfg, recs)
	producer(t, addr)(recs)
	var done uint64
	rounds := 0
	for round := 0; done < uint64(len(recs)) && round < 200; round++ {
		in := startInstance(t, cfg, addr)
		testkit.WaitFor(t, 30*time.Second, func() bool { return in.p.Stats().Events > 0 },
			func() string { return fmt.Sprintf("round %d: nothing processed", round) })
		time.Sleep(time.Duration(round%4) * time.Millisecond)
		in.close(t)
		done += in.p.Stats().Events
		rounds = round + 1
	}
	t.Logf("%d stops while %d records were consumed", rounds, done)
	// One more to finish whatever is left, then every decision is there.
	in := startInstance(t, cfg, addr)
	got := readActions(t, addr, want)
	in.close(t)
	if len(got) < len(want) {
		t.Fatalf("%d of %d decisions arrived", len(got), len(want))
	}
}
