package pipeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/meridian/meridian/bench"
	"github.com/meridian/meridian/internal/testkit"
	"github.com/meridian/meridian/models"
	"github.com/meridian/meridian/pipeline"
)

// TestLearningReachesEveryTaskAndSurvivesRestart: outcomes of an adaptive
// action on customers spread over every partition reach the instance's
// learner through the learning topic; a new instance learns them from the
// topic, and its tasks carry on from their partitions' tallies (restored,
// not started again from zero) when more outcomes come.
func TestLearningReachesEveryTaskAndSurvivesRestart(t *testing.T) {
	cfg := oneTopicConfig(t)
	cfg.Group = "learning"
	cfg.Topics.Changelog, cfg.Topics.Learning = "learning.changelog", "learning.learning"
	cfg.State.CheckpointInterval = 200 * time.Millisecond
	addr := standardBroker(t)
	produce := producer(t, addr)
	now := time.Now().Add(-time.Minute).UnixMilli()
	outcomes := func(from, to int) []bench.Record {
		var rs []bench.Record
		for i := from; i < to; i++ {
			cust := fmt.Sprintf("c-%d", i)
			ev := func(typ string) bench.Record {
				return bench.Record{Topic: "events", Key: []byte(cust), Value: fmt.Appendf(nil,
					`{"event_id":"%s-%s","type":%q,"customer_id":%q,"ts":%d,"attrs":{"decision_id":"d-%d","action_id":"cart_discount_web","channel":"web"}}`,
					typ, cust, typ, cust, now+int64(i), i)}
			}
			rs = append(rs, ev("action_delivered"))
			if i%2 == 0 {
				rs = append(rs, ev("action_clicked"))
			}
		}
		return rs
	}
	key := models.BanditKey("cart_discount_web", nil)
	run := func(want models.Counts, recs []bench.Record) {
		t.Helper()
		env, err := pipeline.NewEnv(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer env.Close()
		p, err := pipeline.New(cfg, pipeline.Options{Brokers: []string{addr}, Env: env})
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		produce(recs)
		testkit.WaitFor(t, 30*time.Second, func() bool { return env.Learner.Counts(key) == want },
			func() string { return fmt.Sprintf("learner has %+v, want %+v", env.Learner.Counts(key), want) })
		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	run(models.Counts{Trials: 400, Successes: 200}, outcomes(0, 400))
	// A new instance: what was learnt comes back from the topic, and
	// every task adds to its partition's tally.
	run(models.Counts{Trials: 600, Successes: 300}, outcomes(400, 600))
}
