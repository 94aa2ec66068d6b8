package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/internal/chtest"
	"github.com/meridian/meridian/internal/testkit"
	"github.com/meridian/meridian/pipeline"
	"github.com/meridian/meridian/sinks"
)

// TestAnalyticsToClickHouse runs generated events through a pipeline whose
// analytics go to a real clickhouse-server, which is killed while events
// flow and started again. Decisions keep flowing meanwhile; afterwards the
// actions table holds exactly the actions on the Kafka topic, decision_id
// by decision_id, none counted twice, and every decision and event is
// there once.
func TestAnalyticsToClickHouse(t *testing.T) {
	srv := chtest.Start(t)
	cfg := oneTopicConfig(t)
	cfg.Group = "analytics-e2e"
	cfg.Analytics.Sink = config.SinkClickHouse
	cfg.Analytics.Spool.Dir = t.TempDir()
	cfg.Analytics.Flush.Rows = 500
	cfg.Analytics.Flush.Interval = 200 * time.Millisecond
	cfg.Analytics.Queue = 4
	cfg.Analytics.ClickHouse.Addr = []string{srv.Addr()}
	cfg.Analytics.ClickHouse.Database = "e2e"
	cfg.Analytics.ClickHouse.DialTimeout = time.Second
	ctx := context.Background()
	if _, _, err := sinks.Migrate(ctx, cfg.Analytics.ClickHouse, nil); err != nil {
		t.Fatal(err)
	}
	sink, err := sinks.New(cfg.Analytics, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := standardBroker(t)
	recs := w1Records(cfg.Generator.Seed, 30_000)
	produce := producer(t, addr)
	p, err := pipeline.New(cfg, pipeline.Options{Brokers: []string{addr}, Analytics: sink})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()

	produce(recs[:10_000])
	testkit.WaitFor(t, 60*time.Second, func() bool { return p.Stats().Events >= 10_000 },
		func() string { return fmt.Sprintf("processed %+v", p.Stats()) })
	srv.Kill()
	before := p.Stats().Actions
	produce(recs[10_000:20_000])
	testkit.WaitFor(t, 60*time.Second, func() bool { return p.Stats().Events >= 20_000 },
		func() string { return fmt.Sprintf("with ClickHouse down, processed %+v", p.Stats()) })
	if p.Stats().Actions <= before {
		t.Errorf("no actions while ClickHouse was down (%d before, %d after)", before, p.Stats().Actions)
	}
	testkit.WaitFor(t, 30*time.Second, func() bool { return sink.Stats().Spooled > 0 },
		func() string { return fmt.Sprintf("nothing spooled while ClickHouse was down: %+v", sink.Stats()) })
	srv.Restart(t)
	produce(recs[20_000:])
	testkit.WaitFor(t, 60*time.Second, func() bool { return p.Stats().Events >= 30_000 },
		func() string { return fmt.Sprintf("processed %+v", p.Stats()) })
	stop()
	if err := <-done; err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	closeCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := sink.Close(closeCtx); err != nil {
		t.Fatalf("sink close: %v (stats %+v)", err, sink.Stats())
	}
	if st := sink.Stats(); st.DroppedRows != 0 {
		t.Fatalf("analytics dropped rows: %+v", st)
	}

	onTopic := actionIDs(t, addr, cfg.Topics.Actions)
	if len(onTopic) < 100 {
		t.Fatalf("only %d actions on the topic; the test needs more", len(onTopic))
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{srv.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(ctx, "SELECT decision_id, count() FROM e2e.actions FINAL GROUP BY decision_id")
	if err != nil {
		t.Fatal(err)
	}
	inCH := map[string]uint64{}
	for rows.Next() {
		var id string
		var n uint64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		inCH[id] = n
	}
	for id := range onTopic {
		if inCH[id] != 1 {
			t.Errorf("action %s is on the topic but %d times in ClickHouse", id, inCH[id])
		}
	}
	for id := range inCH {
		if !onTopic[id] {
			t.Errorf("action %s is in ClickHouse but not on the topic", id)
		}
	}
	var events, distinct uint64
	if err := conn.QueryRow(ctx, "SELECT count(), uniqExact(customer_id, event_id) FROM e2e.events FINAL").Scan(&events, &distinct); err != nil {
		t.Fatal(err)
	}
	if events != uint64(len(recs)) || distinct != events {
		t.Errorf("events table: %d rows, %d distinct, want %d", events, distinct, len(recs))
	}
	var decisions, chosen uint64
	if err := conn.QueryRow(ctx, "SELECT count(), countIf(reason = 'chosen') FROM e2e.decisions FINAL").Scan(&decisions, &chosen); err != nil {
		t.Fatal(err)
	}
	if chosen != uint64(len(onTopic)) || decisions < chosen {
		t.Errorf("decisions table: %d decisions, %d chosen; %d actions on the topic", decisions, chosen, len(onTopic))
	}
}

// actionIDs reads every action on topic and returns its decision ids.
func actionIDs(t *testing.T, addr, topic string) map[string]bool {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	out := map[string]bool{}
	for idle := 0; idle < 5; {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		n := 0
		fs.EachRecord(func(r *kgo.Record) {
			n++
			var a struct {
				ID string `json:"decision_id"`
			}
			if err := json.Unmarshal(r.Value, &a); err != nil {
				t.Fatalf("action is not JSON: %s", r.Value)
			}
			out[a.ID] = true
		})
		if n == 0 {
			idle++
		} else {
			idle = 0
		}
	}
	return out
}
