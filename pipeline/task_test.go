package pipeline

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/examples"
	"github.com/meridian/meridian/internal/metrics"
)

// offlinePipeline is a Pipeline with no Kafka client, enough to drive a
// task's per-batch work.
func offlinePipeline(tb testing.TB) *Pipeline {
	tb.Helper()
	cfg, err := config.Parse(examples.ConfigName, examples.Config)
	if err != nil {
		tb.Fatal(err)
	}
	env, err := NewEnv(cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(env.Close)
	reg := metrics.NewRegistry()
	return &Pipeline{cfg: cfg, env: env, reg: reg, now: time.Now, log: slog.New(slog.DiscardHandler),
		m: newPipelineMetrics(reg)}
}

func record(topic string, offset int64, key, value string) *kgo.Record {
	return &kgo.Record{Topic: topic, Partition: 3, Offset: offset, Key: []byte(key), Value: []byte(value)}
}

func event(i int, typ string) string {
	return fmt.Sprintf(`{"event_id":"e-%d","type":%q,"customer_id":"c-%d","ts":%d,"attrs":{"invoice_id":"inv-%d","cart_value":%d}}`,
		i, typ, i, 1_700_000_000_000+i, i, i)
}

// TestDecideBatchMixesActionsAndDeadLetters checks that every output record
// of a mixed batch carries its own bytes (the arena is sliced only after it
// stopped growing) and the right topic.
func TestDecideBatchMixesActionsAndDeadLetters(t *testing.T) {
	p := offlinePipeline(t)
	tk := newTask(p, 3)
	var batch []*kgo.Record
	for i := 0; i < 300; i++ {
		switch i % 3 {
		case 0:
			batch = append(batch, record("clickstream", int64(i), fmt.Sprintf("c-%d", i), event(i, "checkout_start")))
		case 1:
			batch = append(batch, record("clickstream", int64(i), "c-x", "{not json"))
		case 2:
			batch = append(batch, record("clickstream", int64(i), fmt.Sprintf("c-%d", i), event(i, "page_view")))
		}
	}
	dead := tk.decideBatch(batch)
	if actions := tk.outp.Len(); actions != 100 || dead != 100 || len(tk.out) != 200 {
		t.Fatalf("actions %d dead %d out %d, want 100, 100, 200", actions, dead, len(tk.out))
	}
	// Dead letters come first, in input order, then the actions.
	for j, r := range tk.out {
		if j < 100 {
			if r.Topic != p.cfg.Topics.DeadLetter || string(r.Value) != "{not json" {
				t.Fatalf("output %d: topic %s value %s", j, r.Topic, r.Value)
			}
			continue
		}
		i := (j - 100) * 3
		want := fmt.Sprintf(`"trigger":{"event_id":"e-%d"`, i)
		if r.Topic != p.cfg.Topics.Actions || string(r.Key) != fmt.Sprintf("c-%d", i) || !strings.Contains(string(r.Value), want) {
			t.Fatalf("output %d: topic %s key %s value %s", j, r.Topic, r.Key, r.Value)
		}
	}
}

// BenchmarkTaskBatch is the task loop without Kafka: a batch of records
// through decode, decide, encode and output-record assembly.
func BenchmarkTaskBatch(b *testing.B) {
	for _, size := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			p := offlinePipeline(b)
			tk := newTask(p, 0)
			types := []string{"page_view", "page_view", "product_view", "search", "add_to_cart", "checkout_start", "payment_failed"}
			batch := make([]*kgo.Record, size)
			bytes := 0
			for i := range batch {
				batch[i] = record("clickstream", int64(i), fmt.Sprintf("c-%d", i), event(i, types[i%len(types)]))
				bytes += len(batch[i].Value)
			}
			tk.decideBatch(batch) // grow buffers to their steady size
			b.ReportAllocs()
			b.SetBytes(int64(bytes))
			b.ResetTimer()
			for b.Loop() {
				tk.decideBatch(batch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/event")
		})
	}
}

// TestIdleWatermarkWaitsUntilCaughtUp checks that the wall clock moves a
// task's watermark only when the partition is really idle: its last batch
// reached the high watermark, or nothing arrived for the start-up grace.
func TestIdleWatermarkWaitsUntilCaughtUp(t *testing.T) {
	p := offlinePipeline(t)
	now := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	tk := newTask(p, 0)
	idle := p.cfg.EventTime.IdleAfter
	now = now.Add(2 * idle)
	if tk.caughtUp(now) {
		t.Fatal("a task that has received nothing counts as caught up before the start-up grace")
	}
	now = now.Add(startupGrace * idle)
	if !tk.caughtUp(now) {
		t.Fatal("an empty partition never counts as idle")
	}
	// A batch that stops short of the end: a backlog is being read.
	old := []*kgo.Record{record("bss", 10, "c-1", event(1, "payment_failed"))}
	tk.behind["bss"] = old[0].Offset+1 < 500
	if tk.caughtUp(now) {
		t.Fatal("a partition with a backlog counts as idle")
	}
	tk.behind["clickstream"] = false
	tk.behind["bss"] = false
	if !tk.caughtUp(now) {
		t.Fatal("caught-up partitions do not count as idle")
	}
}

// TestReadyWaitsForRestoreAndLag: an instance is ready only once connected,
// every task restored, and the total lag within state.ready_lag.
func TestReadyWaitsForRestoreAndLag(t *testing.T) {
	p := offlinePipeline(t)
	p.tasks = map[int32]*task{0: newTask(p, 0), 1: newTask(p, 1)}
	if p.Ready() {
		t.Fatal("ready before connecting")
	}
	p.ready.Store(true)
	if p.Ready() {
		t.Fatal("ready while tasks restore")
	}
	p.tasks[0].ready.Store(true)
	p.tasks[1].ready.Store(true)
	if !p.Ready() {
		t.Fatal("not ready with every task restored and no lag")
	}
	p.tasks[0].lag.Store(p.cfg.State.ReadyLag)
	p.tasks[1].lag.Store(1)
	if p.Ready() {
		t.Fatalf("ready %d records behind, bound %d", p.cfg.State.ReadyLag+1, p.cfg.State.ReadyLag)
	}
}
