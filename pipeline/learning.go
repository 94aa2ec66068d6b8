package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// learnKey is the key of a task's record in the learning topic: partition
// p holds what the adaptive models learned from input partition p's
// outcomes, cumulative, so compaction keeps just the latest.
const learnKey = "tally"

// followLearning reads every partition of the learning topic from the
// start, for as long as the pipeline runs, and hands each tally to
// Options.Learning, so that what any task learned reaches this instance's
// tasks within about a checkpoint interval.
func (p *Pipeline) followLearning(ctx context.Context) {
	if p.learn == nil {
		return
	}
	opts := append([]kgo.Opt{}, p.kopts...)
	opts = append(opts, kgo.ConsumeTopics(p.cfg.Topics.Learning), kgo.FetchMaxWait(500*time.Millisecond),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if p.eos() {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		p.log.Error("cannot follow the learning topic; adaptive models learn only from this instance's partitions", "err", err)
		return
	}
	defer cl.Close()
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachError(func(topic string, partition int32, err error) {
			if !errors.Is(err, context.Canceled) {
				p.log.Warn("cannot read the learning topic", "partition", partition, "err", err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Key) != learnKey || r.Value == nil {
				return
			}
			if err := p.learn(r.Partition, r.Value); err != nil {
				p.m.badTallies.Inc()
				p.log.Warn("ignored a learning record", "partition", r.Partition, "offset", r.Offset, "err", err)
			}
		})
	}
}
