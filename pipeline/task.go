package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
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
	in        chan fetched
	// mailbox runs requests (the customer view) on the task goroutine, so
	// the state needs no locks on the per-event path.
	mailbox chan func()
	done    chan struct{}
	proc    *operators.Processor
	wm      *Watermark
	// wmNanos mirrors wm.Current() for the metrics scrape.
	wmNanos atomic.Int64
	// customers mirrors the store's customer count; lastLate is the late
	// count already published.
	customers atomic.Int64
	lastLate  uint64
	// behind says, per input topic, whether the last batch stopped short of
	// the partition's high watermark; started is when the task began.
	behind  map[string]bool
	started time.Time

	// Durability: next is the next input offset per topic the state
	// includes; restored is what the changelog said it included (records
	// below are skipped on replay); advanced says next moved since the last
	// checkpoint; ckpt is the checkpoint's reused record slice.
	codec    *codec
	next     map[string]int64
	restored map[string]int64
	advanced bool
	ckpt     []*kgo.Record
	// ready is set once the task has restored; lag is how many input
	// records it was behind at its last batch.
	ready atomic.Bool
	lag   atomic.Int64

	// reused per batch: output records, their pointers, the actions.
	recs []kgo.Record
	out  []*kgo.Record
	outp operators.Output
	// rows builds the task's analytics batches; nil records none.
	rows *sinks.Batcher
}

func newTask(p *Pipeline, partition int32) *task {
	t := &task{
		p: p, partition: partition,
		in:      make(chan fetched, 4),
		behind:  make(map[string]bool, len(p.cfg.Topics.Inputs)),
		started: p.now(),
		codec:   newCodec(),
		next:    make(map[string]int64, len(p.cfg.Topics.Inputs)),
		mailbox: make(chan func(), 16),
		done:    make(chan struct{}),
		wm:      NewWatermark(p.cfg.EventTime.AllowedDisorder, p.cfg.EventTime.IdleAfter, p.now()),
	}
	var rec operators.Recorder
	if p.analytics != nil {
		t.rows = p.analytics.NewBatcher()
		rec = t.rows
	}
	t.proc = operators.NewProcessor(&p.env.Env, rec)
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
	defer t.codec.close()
	select {
	case <-t.p.changelogReady:
	case <-t.p.runCtx.Done():
		t.discard()
		return
	}
	if err := t.restore(t.p.runCtx); err != nil {
		t.p.fail(fmt.Errorf("cannot restore partition %d: %w", t.partition, err))
		t.discard()
		return
	}
	t.publishStoreStats()
	t.ready.Store(true)
	evict := time.NewTicker(evictEvery)
	defer evict.Stop()
	for {
		select {
		case f, ok := <-t.in:
			if !ok {
				return
			}
			t.handle(f)
		case fn := <-t.mailbox:
			fn()
		case <-evict.C:
			t.p.m.evicted.Add(uint64(t.proc.Evict(t.clock())))
		}
	}
}

// onTick advances the watermark of an idle partition with the wall clock
// and fires the timers that passes, producing what they decide.
func (t *task) onTick() {
	now := t.p.now()
	if t.caughtUp(now) && t.wm.Tick(now) {
		t.wmNanos.Store(t.wm.Current())
	}
	t.outp.Reset()
	t.proc.Advance(t.wm.Current(), &t.outp)
	if t.rows != nil {
		t.rows.MaybeFlush(now)
	}
	if t.outp.Len() == 0 {
		return
	}
	t.out = t.out[:0]
	t.appendActions(0)
	if t.produce(0) {
		t.p.m.actions.Add(uint64(t.outp.Len()))
	}
}

// handle runs one item of the task's queue: a batch, or a checkpoint
// barrier, which comes after every batch handed over before it.
func (t *task) handle(f fetched) {
	if f.checkpoint != nil {
		f.checkpoint <- t.checkpoint(t.p.produceCtx)
		return
	}
	if f.tick {
		t.onTick()
		return
	}
	t.process(f.records)
	last := f.records[len(f.records)-1].Offset
	t.behind[f.topic] = last+1 < f.highWatermark
	t.lag.Store(max(0, f.highWatermark-last-1))
}

// discard drains a task that cannot run (its restore failed and the
// pipeline is stopping), so the poll loop never blocks on it.
func (t *task) discard() {
	for f := range t.in {
		if f.checkpoint != nil {
			f.checkpoint <- errors.New("task is not running")
		}
	}
}

// fetched is one fetched partition's records, handed to the task owning it.
type fetched struct {
	records       []*kgo.Record
	topic         string
	highWatermark int64
	// checkpoint, when set, asks for a checkpoint instead; the result is
	// sent on it.
	checkpoint chan error
	// tick asks the task to advance an idle watermark and fire due timers.
	tick bool
}

// startupGrace is, in units of idle_after, how long a task that has
// received nothing waits before it treats its partitions as idle.
const startupGrace = 10

// caughtUp reports whether the partition may count as idle: the last batch
// of every topic reached the partition's end. A task that has received
// nothing yet waits out a start-up grace first, so a backlog (a restart
// after downtime, a backfill) is not judged against the wall clock before
// its first fetch arrives, which would make it all late.
func (t *task) caughtUp(now time.Time) bool {
	if len(t.behind) == 0 {
		return now.Sub(t.started) >= startupGrace*t.p.cfg.EventTime.IdleAfter
	}
	for _, b := range t.behind {
		if b {
			return false
		}
	}
	return true
}

// evictEvery is how often a task drops customers idle beyond the features'
// horizon; eviction walks the task's customers, so not on every tick.
const evictEvery = 10 * time.Second

// clock is the task's "now" for reading features: the wall clock, or the
// highest event time seen if events run ahead of it.
func (t *task) clock() int64 {
	return max(t.p.now().UnixNano(), t.wm.MaxEventTime())
}

// ask runs fn on the task goroutine; it reports false if the task stopped
// or ctx ended before fn was accepted.
func (t *task) ask(ctx context.Context, fn func()) bool {
	select {
	case t.mailbox <- fn:
		return true
	case <-t.done:
	case <-ctx.Done():
	}
	return false
}

// tickEvery is how often tasks are ticked: often enough that an idle
// partition's watermark, and its timers, follow the wall clock closely.
func tickEvery(idleAfter time.Duration) time.Duration {
	return max(idleAfter/2, 10*time.Millisecond)
}

// process runs one batch end to end. Offsets are marked for commit only
// after every action and dead letter of the batch is acknowledged, so a
// failure before that replays the batch (at-least-once).
func (t *task) process(batch []*kgo.Record) {
	dead := t.decideBatch(batch)
	if !t.produce(len(batch)) {
		return
	}
	t.publishStoreStats()
	t.p.m.events.Add(uint64(len(batch)))
	t.p.m.actions.Add(uint64(t.outp.Len()))
	t.p.m.deadLetters.Add(dead)
	t.p.m.batches.Inc()
}

// produce writes t.out and waits for the acknowledgement; false means it
// failed and the pipeline is stopping (the input is replayed after a
// restart). inputs is how many input records it covers, for the log.
func (t *task) produce(inputs int) bool {
	if len(t.out) == 0 {
		return true
	}
	ctx, cancel := t.p.produceContext()
	err := t.p.cl.ProduceSync(ctx, t.out...).FirstErr()
	cancel()
	if err == nil {
		return true
	}
	t.p.m.produceErrors.Inc()
	if !errors.Is(err, context.Canceled) {
		t.p.log.Error("cannot produce actions; the input will be replayed after restart",
			"partition", t.partition, "records", inputs, "err", err)
	}
	t.p.fail(err)
	return false
}

// decideBatch fills t.out with the batch's dead letters and the actions
// its events and the timers it made due decided, and returns how many
// dead letters.
func (t *task) decideBatch(batch []*kgo.Record) (dead uint64) {
	if cap(t.recs) < len(batch) {
		t.recs = make([]kgo.Record, len(batch))
	}
	t.recs = t.recs[:len(batch)]
	t.out = t.out[:0]
	t.outp.Reset()
	now := t.p.now()
	for _, r := range batch {
		t.next[r.Topic] = r.Offset + 1
		t.advanced = true
		if t.restored != nil && r.Offset < t.restored[r.Topic] {
			continue // already in the restored state: replayed after a crash
		}
		t.proc.SetInput(r.Topic, r.Partition, r.Offset)
		err := t.proc.Process(r.Key, r.Value, t.wm.Current(), &t.outp)
		if err != nil {
			rec := &t.recs[dead]
			sinks.DeadLetter(rec, t.p.cfg.Topics.DeadLetter, r, err.Error())
			t.out = append(t.out, rec)
			t.proc.DeadLetter(r.Topic, r.Partition, r.Offset, r.Key, r.Value, err.Error())
			dead++
			continue
		}
		t.wm.Observe(t.proc.Event().TS, now)
	}
	t.proc.Advance(t.wm.Current(), &t.outp)
	t.appendActions(int(dead))
	t.wmNanos.Store(t.wm.Current())
	return dead
}

// appendActions appends a record to t.out for every action in t.outp,
// using t.recs from index from on.
func (t *task) appendActions(from int) {
	n := t.outp.Len()
	if cap(t.recs) < from+n {
		t.recs = slices.Grow(t.recs[:from], n)
		// t.out points into the old slice: re-point it.
		for i := range from {
			t.out[i] = &t.recs[i]
		}
	}
	t.recs = t.recs[:from+n]
	for i := range n {
		key, value := t.outp.Record(i)
		rec := &t.recs[from+i]
		sinks.Action(rec, t.p.cfg.Topics.Actions, key, nil)
		rec.Value = value
		t.out = append(t.out, rec)
	}
}

// publishStoreStats moves the store's running totals to the pipeline's
// metrics: the store belongs to this goroutine, metrics are read anywhere.
func (t *task) publishStoreStats() {
	st := t.proc.Store().Stats()
	t.p.m.late.Add(st.Late - t.lastLate)
	t.lastLate = st.Late
	t.customers.Store(int64(st.Customers))
}
