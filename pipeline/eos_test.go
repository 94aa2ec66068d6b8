package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/internal/testkit"
	"github.com/meridian/meridian/operators"
)

// TestExactlyOnce runs the pipeline in exactly_once mode while a second
// instance joins (a rebalance aborts the open transaction, and the tasks
// restore from the changelog and replay): a read_committed consumer must see
// every expected decision exactly once.
func TestExactlyOnce(t *testing.T) {
	cfg := oneTopicConfig(t)
	cfg.Group = "eos"
	cfg.State.Delivery = config.ExactlyOnce
	cfg.State.CheckpointInterval = 200 * time.Millisecond
	addr := standardBroker(t)
	recs := w1Records(cfg.Generator.Seed, 20_000)
	want := expectedActions(t, cfg, recs)
	produce := producer(t, addr)
	produce(recs[:10_000])
	a := startInstance(t, cfg, addr)
	testkit.WaitFor(t, 30*time.Second, func() bool { return a.p.Stats().Events >= 5_000 },
		func() string { return fmt.Sprintf("a processed %d", a.p.Stats().Events) })
	bi := startInstance(t, cfg, addr)
	produce(recs[10_000:])
	testkit.WaitFor(t, 30*time.Second, func() bool {
		return len(a.p.Partitions())+len(bi.p.Partitions()) == 12 && len(bi.p.Partitions()) > 0
	}, func() string { return fmt.Sprintf("a owns %v, b owns %v", a.p.Partitions(), bi.p.Partitions()) })
	got := readCommittedActions(t, addr, want)
	aborted := a.p.Stats().Aborted + bi.p.Stats().Aborted
	a.close(t)
	bi.close(t)
	if aborted == 0 {
		t.Error("no transaction was aborted: the test did not exercise the abort and replay path")
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("decision %s seen %d times by a read_committed consumer", id, n)
		}
	}
}

// readCommittedActions reads the actions topic with read_committed until
// every wanted decision arrived (then a little longer, to catch late
// duplicates), and counts each decision id.
func readCommittedActions(t *testing.T, addr string, want map[string][]byte) map[string]int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("actions"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := map[string]int{}
	deadline := time.Now().Add(60 * time.Second)
	var settle time.Time
	for time.Now().Before(deadline) && (settle.IsZero() || time.Now().Before(settle)) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			id := string(r.Value[len(`{"decision_id":"`):][:operators.DecisionIDLen])
			if w, ok := want[id]; !ok || !bytes.Equal(w, r.Value) {
				t.Errorf("unexpected action: %s", r.Value)
			}
			got[id]++
		})
		cancel()
		if settle.IsZero() && len(got) == len(want) {
			settle = time.Now().Add(2 * time.Second)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d of %d decisions reached a read_committed consumer", len(got), len(want))
	}
	return got
}
