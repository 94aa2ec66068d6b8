package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/features"
	"github.com/meridian/meridian/pipeline"
)

// RunRestore measures restore_seconds: the time for a fresh instance to
// restore n W1 customers' state from the changelog and be ready. The
// changelog of an embedded broker is first seeded with the state of n
// customers (filled as RunStateBytes does, each in the store of its
// partition); then an instance starts and the clock runs until it reports
// ready, with every partition restored. It also returns how many customers
// the instance holds, as a check.
func RunRestore(ctx context.Context, app *config.Config, n int) (seconds float64, restored int, err error) {
	b, err := startBroker(ctx, app)
	if err != nil {
		return 0, 0, err
	}
	defer b.Close()
	cfg := *app
	cfg.Group = "bench-restore"
	cfg.Topics.Changelog = cfg.Group + ".changelog"
	cfg.Topics.Learning = cfg.Group + ".learning"
	if err := seedChangelog(ctx, &cfg, b.Addrs(), n); err != nil {
		return 0, 0, err
	}
	start := time.Now()
	p, err := pipeline.New(&cfg, pipeline.Options{Brokers: b.Addrs()})
	if err != nil {
		return 0, 0, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	for !(p.Ready() && len(p.Partitions()) == int(cfg.Topics.Partitions)) {
		select {
		case err := <-done:
			cancel()
			return 0, 0, fmt.Errorf("instance stopped while restoring: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	seconds = time.Since(start).Seconds()
	restored = int(p.Stats().Customers)
	cancel()
	return seconds, restored, <-done
}

// seedChangelog writes n customers' state to cfg's changelog topic.
func seedChangelog(ctx context.Context, cfg *config.Config, brokers []string, n int) error {
	set, err := features.NewSet(cfg)
	if err != nil {
		return err
	}
	parts := int(cfg.Topics.Partitions)
	stores := make([]*features.Store, parts)
	for i := range stores {
		stores[i] = features.NewStore(set)
	}
	fillW1(cfg, set, n, func(ev *event.Event, wm int64) {
		stores[pipeline.PartitionOf(ev.CustomerID, parts)].Update(ev, wm)
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(200_000))
	if err != nil {
		return err
	}
	defer cl.Close()
	compact := "compact"
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, int32(parts), -1,
		map[string]*string{"cleanup.policy": &compact}, cfg.Topics.Changelog); err != nil {
		return err
	}
	for p, st := range stores {
		if err := pipeline.WriteState(ctx, cl, cfg.Topics.Changelog, int32(p), st); err != nil {
			return err
		}
	}
	return nil
}
