package pipeline

import (
	"context"
	"errors"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/operators"
	"github.com/meridian/meridian/sinks"
)

// task owns partition number `partition` of every input topic: it is the
// only goroutine that touches its customers. It is fed whole fetched
// batches through in and stops when in is closed, after finishing them.
type task struct {
	p         *Pipeline
	partition int32
	in        chan []*kgo.Record
	done      chan struct{}
	proc      *operators.Processor
	wm        *Watermark
	// wmNanos mirrors wm.Current() for the metrics scrape.
	wmNanos atomic.Int64

	// reused per batch: output records, their pointers, action bytes.
	recs  []kgo.Record
	out   []*kgo.Record
	arena []byte
	ends  []int
}

func newTask(p *Pipeline, partition int32) *task {
	t := &task{
		p: p, partition: partition,
		in:   make(chan []*kgo.Record, 4),
		done: make(chan struct{}),
		proc: operators.NewProcessor(p.rules),
		wm:   NewWatermark(p.cfg.EventTime.AllowedDisorder, p.cfg.EventTime.IdleAfter, p.now()),
	}
	t.wmNanos.Store(math.MinInt64)
	p.reg.GaugeFunc("meridian_watermark_seconds",
		"Event-time watermark of the partition, Unix seconds (the highest event time minus the allowed disorder, or the wall clock when idle).",
		func() float64 {
			v := t.wmNanos.Load()
			if v == math.MinInt64 {
				return 0
			}
			return float64(v) / 1e9
		}, "partition", strconv.Itoa(int(partition)))
	return t
}

func (t *task) run() {
	defer close(t.done)
	tick := time.NewTicker(t.tickEvery())
	defer tick.Stop()
	for {
		select {
		case batch, ok := <-t.in:
			if !ok {
				return
			}
			t.process(batch)
		case <-tick.C:
			if t.wm.Tick(t.p.now()) {
				t.wmNanos.Store(t.wm.Current())
			}
		}
	}
}

func (t *task) tickEvery() time.Duration {
	d := t.p.cfg.EventTime.IdleAfter / 2
	if d < 10*time.Millisecond {
		d = 10 * time.Millisecond
	}
	return d
}

// process runs one batch end to end. Offsets are marked for commit only
// after every action and dead letter of the batch is acknowledged, so a
// failure before that replays the batch (at-least-once).
func (t *task) process(batch []*kgo.Record) {
	actions, dead := t.decideBatch(batch)
	if len(t.out) > 0 {
		ctx, cancel := t.p.produceContext()
		err := t.p.cl.ProduceSync(ctx, t.out...).FirstErr()
		cancel()
		if err != nil {
			t.p.m.produceErrors.Inc()
			if !errors.Is(err, context.Canceled) {
				t.p.log.Error("cannot produce actions; the batch will be replayed after restart",
					"partition", t.partition, "records", len(batch), "err", err)
			}
			t.p.fail(err)
			return
		}
	}
	t.p.cl.MarkCommitRecords(batch...)
	t.p.m.events.Add(uint64(len(batch)))
	t.p.m.actions.Add(actions)
	t.p.m.deadLetters.Add(dead)
	t.p.m.batches.Inc()
}

// decideBatch fills t.out with the batch's actions and dead letters and
// returns how many of each.
func (t *task) decideBatch(batch []*kgo.Record) (actions, dead uint64) {
	if cap(t.recs) < len(batch) {
		t.recs = make([]kgo.Record, len(batch))
	}
	t.recs = t.recs[:len(batch)]
	t.out, t.arena, t.ends = t.out[:0], t.arena[:0], t.ends[:0]
	now := t.p.now()
	n := 0
	for _, r := range batch {
		act, err := t.proc.Process(r.Key, r.Value)
		if err != nil {
			sinks.DeadLetter(&t.recs[n], t.p.cfg.Topics.DeadLetter, r, err.Error())
			t.ends = append(t.ends, -1)
			n++
			dead++
			continue
		}
		t.wm.Observe(t.proc.Event().TS, now)
		if act == nil {
			continue
		}
		t.arena = append(t.arena, act...)
		t.ends = append(t.ends, len(t.arena))
		// The key is the input record's, which is the customer id: decode checked it.
		sinks.Action(&t.recs[n], t.p.cfg.Topics.Actions, r.Key, nil)
		n++
		actions++
	}
	// Values are sliced from the arena only now, since appends may move it.
	start := 0
	for i := 0; i < n; i++ {
		if end := t.ends[i]; end >= 0 {
			t.recs[i].Value = t.arena[start:end:end]
			start = end
		}
		t.out = append(t.out, &t.recs[i])
	}
	t.wmNanos.Store(t.wm.Current())
	return actions, dead
}
