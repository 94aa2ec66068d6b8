package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/bench"
	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/features"
	"github.com/meridian/meridian/internal/broker"
	"github.com/meridian/meridian/internal/testkit"
	"github.com/meridian/meridian/operators"
	"github.com/meridian/meridian/pipeline"
)

// instances counts the instances a test run started, to name each.
var instances int

type instance struct {
	p    *pipeline.Pipeline
	stop context.CancelFunc
	done chan error
}

func startInstance(t *testing.T, cfg *config.Config, addr string) *instance {
	t.Helper()
	own := *cfg
	instances++
	own.HTTP.Addr = fmt.Sprintf("127.0.0.1:%d", 20000+instances) // names the instance; not bound here
	p, err := pipeline.New(&own, pipeline.Options{Brokers: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{p: p, stop: cancel, done: make(chan error, 1)}
	go func() { in.done <- p.Run(ctx) }()
	return in
}

func (in *instance) close(t *testing.T) {
	t.Helper()
	in.stop()
	if err := <-in.done; err != nil {
		t.Fatalf("instance stopped with %v", err)
	}
}

// TestRebalance runs a second instance that joins while records flow and a
// first that leaves: partition p of every input topic stays with one
// instance, and every expected decision reaches the actions topic, any
// replayed one byte-identical.
func TestRebalance(t *testing.T) {
	cfg := oneTopicConfig(t)
	cfg.Group = "rebalance"
	addr := standardBroker(t)
	recs := w1Records(cfg.Generator.Seed, 30_000)
	want := expectedActions(t, cfg, recs)
	produce := producer(t, addr)
	produce(recs[:10_000])
	a := startInstance(t, cfg, addr)
	testkit.WaitFor(t, 30*time.Second, func() bool { return a.p.Stats().Events >= 10_000 },
		func() string { return fmt.Sprintf("a processed %d", a.p.Stats().Events) })
	bi := startInstance(t, cfg, addr)
	testkit.WaitFor(t, 30*time.Second, func() bool {
		pa, pb := a.p.Partitions(), bi.p.Partitions()
		return len(pa) > 0 && len(pb) > 0 && len(pa)+len(pb) == 12
	}, func() string { return fmt.Sprintf("a owns %v, b owns %v", a.p.Partitions(), bi.p.Partitions()) })
	pa, pb := a.p.Partitions(), bi.p.Partitions()
	for _, p := range pa {
		if slices.Contains(pb, p) {
			t.Fatalf("partition %d owned by both instances: %v and %v", p, pa, pb)
		}
	}
	produce(recs[10_000:20_000])
	a.close(t) // leaves the group; b takes every partition
	testkit.WaitFor(t, 30*time.Second, func() bool { return len(bi.p.Partitions()) == 12 },
		func() string { return fmt.Sprintf("b owns %v", bi.p.Partitions()) })
	produce(recs[20_000:])
	got := readActions(t, addr, want)
	// Every customer with an event a feature reads has state on the
	// surviving instance, moved there through the changelog.
	set, err := features.NewSet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var dec operators.Decoder
	var ev event.Event
	held := map[string]bool{}
	for _, r := range recs {
		if dec.Decode(r.Key, r.Value, &ev) == nil && set.Reads(ev.Type) {
			held[string(r.Key)] = true
		}
	}
	missing := 0
	testkit.WaitFor(t, 30*time.Second, func() bool {
		missing = 0
		for id := range held {
			if _, found, err := bi.p.CustomerJSON(context.Background(), id); err != nil || !found {
				missing++
			}
		}
		return missing == 0
	}, func() string {
		return fmt.Sprintf("%d of %d customers with state are not held by the surviving instance", missing, len(held))
	})
	bi.close(t)
	for id, v := range want {
		if !bytes.Equal(got[id], v) {
			t.Errorf("decision %s: got %s, want %s", id, got[id], v)
		}
	}
}

// standardBroker starts an embedded broker with the example config's topics
// (12 partitions) for the test, and returns its address.
func standardBroker(t *testing.T) string {
	b, err := broker.Start(context.Background(), broker.Config{Topics: []string{"events", "clickstream", "bss", "outcomes",
		"actions", "meridian.dlq"}, Partitions: 12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b.Addrs()[0]
}

// producer returns a function that produces records synchronously.
func producer(t *testing.T, addr string) func([]bench.Record) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return func(rs []bench.Record) {
		t.Helper()
		krs := make([]*kgo.Record, len(rs))
		for i := range rs {
			krs[i] = &kgo.Record{Topic: rs[i].Topic, Key: rs[i].Key, Value: rs[i].Value}
		}
		if err := cl.ProduceSync(context.Background(), krs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// oneTopicConfig is the example config reading one input topic, events:
// the order of a partition is then the order records were produced in
// (ordering across input topics is up to the consumer), so an offline
// replay gives exactly the live pipeline's actions.
func oneTopicConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg := exampleConfig(t)
	cfg.Topics.Inputs = []string{"events"}
	return cfg
}

// w1Records generates n W1 records on the one topic events, one per
// millisecond of event time from a minute ago: near the wall clock, so
// that when an idle partition's watermark follows the wall clock, later
// events are not late (a late event changes nothing, which a replay would
// not know).
func w1Records(seed int64, n int) []bench.Record {
	g := bench.NewGenerator(bench.GenConfig{Seed: seed, Customers: 5000,
		Topics: bench.GenTopics{Clickstream: "events", BSS: "events", Outcomes: "events"}})
	start := time.Now().Add(-time.Minute)
	out := make([]bench.Record, n)
	for i := range out {
		var r bench.Record
		g.Next(start.Add(time.Duration(i)*time.Millisecond), &r)
		out[i] = bench.Record{Topic: r.Topic, Key: bytes.Clone(r.Key), Value: bytes.Clone(r.Value)}
	}
	return out
}

// expectedActions replays recs offline (pipeline.Replay) in the partitions
// and order the producer gives them, and returns every action by decision id.
func expectedActions(t *testing.T, cfg *config.Config, recs []bench.Record) map[string][]byte {
	t.Helper()
	env, err := pipeline.NewEnv(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	want := map[string][]byte{}
	pipeline.Replay(cfg, env, kafkaRecords(recs, 12), func(_, act []byte) {
		id := string(act[len(`{"decision_id":"`):][:operators.DecisionIDLen])
		if prev, ok := want[id]; ok {
			t.Fatalf("decision %s twice in the replay:\n%s\n%s", id, prev, act)
		}
		want[id] = bytes.Clone(act)
	})
	if len(want) < 100 {
		t.Fatalf("only %d actions expected; the test needs more", len(want))
	}
	return want
}

// kafkaRecords gives recs the partitions (of n) and offsets a producer with
// Kafka's default partitioner gives them, producing them in order.
func kafkaRecords(recs []bench.Record, n int) []*kgo.Record {
	next := map[string]int64{}
	out := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		p := pipeline.PartitionOf(r.Key, n)
		tp := fmt.Sprintf("%s/%d", r.Topic, p)
		out[i] = &kgo.Record{Topic: r.Topic, Partition: p, Offset: next[tp], Key: r.Key, Value: r.Value}
		next[tp]++
	}
	return out
}

// readActions reads the actions topic until every wanted decision id has
// arrived, checking that a repeated id carries identical bytes.
func readActions(t *testing.T, addr string, want map[string][]byte) map[string][]byte {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("actions"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := map[string][]byte{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	missing := func() int {
		n := 0
		for id := range want {
			if got[id] == nil {
				n++
			}
		}
		return n
	}
	for missing() > 0 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			id := string(r.Value[len(`{"decision_id":"`):][:operators.DecisionIDLen])
			if prev, ok := got[id]; ok && !bytes.Equal(prev, r.Value) {
				t.Errorf("decision %s replayed with different bytes", id)
			}
			if _, ok := want[id]; !ok {
				t.Errorf("unexpected decision %s: %s", id, r.Value)
			}
			got[id] = r.Value
		})
	}
	if n := missing(); n > 0 {
		t.Fatalf("%d of %d decisions never reached the actions topic", n, len(want))
	}
	return got
}
