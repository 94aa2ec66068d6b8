package bench

import (
	"bufio"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// GenRun describes one generator run.
type GenRun struct {
	Gen      GenConfig
	Rate     int           // events/s; 0 = as fast as possible (file mode: 1000/s of virtual time)
	Count    int64         // records to write; 0 = unlimited
	Duration time.Duration // run length; 0 = unlimited (file mode: virtual time)
	Start    time.Time     // file mode: virtual start; zero = 2026-01-01T00:00:00Z
	// Observed, when set, feeds actions read back from the actions topic to
	// the generator, which then emits their outcomes (Kafka mode only).
	Observed <-chan ObservedAction
}

// ObservedAction is an action a channel received, for outcome generation.
type ObservedAction struct {
	CustomerID, DecisionID, ActionID, Channel string
}

const (
	fileModeRate  = 1000 // virtual events/s when GenRun.Rate is 0
	paceTick      = 10 * time.Millisecond
	maxInFlight   = 1 << 14 // bound on unacknowledged Kafka records
	flushGrace    = 30 * time.Second
	fileBufBytes  = 256 << 10
	ctxCheckEvery = 1024
)

// RunGenToFile writes run's records as JSON lines (one event value per line)
// to w. Each record's `now` is virtual time, run.Start + i/rate, so the output
// depends only on run. It stops at run.Count, at run.Duration of virtual time,
// or when ctx is done (not an error), and returns the number of lines written.
func RunGenToFile(ctx context.Context, run GenRun, w io.Writer) (int64, error) {
	g := NewGenerator(run.Gen)
	rate := int64(run.Rate)
	if rate <= 0 {
		rate = fileModeRate
	}
	start := run.Start
	if start.IsZero() {
		start = time.UnixMilli(defaultStartMs).UTC()
	}
	bw := bufio.NewWriterSize(w, fileBufBytes)
	var r Record
	var n int64
	for ; run.Count <= 0 || n < run.Count; n++ {
		off := virtualOffset(n, rate)
		if run.Duration > 0 && off >= run.Duration {
			break
		}
		if n%ctxCheckEvery == 0 && ctx.Err() != nil {
			break
		}
		g.Next(start.Add(off), &r)
		r.Value = append(r.Value, '\n')
		if _, err := bw.Write(r.Value); err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}

// virtualOffset is the time of event i at rate events/s, without overflow.
func virtualOffset(i, rate int64) time.Duration {
	return time.Duration(i/rate)*time.Second + time.Duration(i%rate)*time.Second/time.Duration(rate)
}

// RunGenToKafka produces run's records to cl asynchronously (key = customer
// id, topic from the record), at run.Rate paced in 10 ms ticks, or as fast as
// possible when the rate is 0, with the wall clock as `now`. At most 16,384
// records are unacknowledged at a time. It stops at run.Count, run.Duration,
// the first produce error, or when ctx is done (not an error); it flushes
// before returning. It returns the number of records acknowledged and the
// first produce error.
func RunGenToKafka(ctx context.Context, run GenRun, cl *kgo.Client) (int64, error) {
	p := newPump(ctx, run, cl)
	if run.Rate > 0 {
		p.paced()
	} else {
		for !p.done() {
			if p.sent%ctxCheckEvery == 0 {
				p.observe()
			}
			p.produce(time.Now())
		}
	}
	p.flush()
	return p.acked.Load(), p.firstErr()
}

// pump produces generated records to Kafka.
type pump struct {
	ctx     context.Context
	run     GenRun
	cl      *kgo.Client
	g       *Generator
	start   time.Time
	rec     Record
	sent    int64
	sem     chan struct{}
	pool    sync.Pool
	promise func(*kgo.Record, error)
	acked   atomic.Int64
	failed  atomic.Bool
	errMu   sync.Mutex
	err     error
}

func newPump(ctx context.Context, run GenRun, cl *kgo.Client) *pump {
	p := &pump{ctx: ctx, run: run, cl: cl, g: NewGenerator(run.Gen), start: time.Now(),
		sem: make(chan struct{}, maxInFlight)}
	p.pool.New = func() any { return new(kgo.Record) }
	p.promise = p.onAck
	return p
}

// done reports whether the run should stop producing.
func (p *pump) done() bool {
	return p.failed.Load() || p.ctx.Err() != nil ||
		(p.run.Count > 0 && p.sent >= p.run.Count) ||
		(p.run.Duration > 0 && time.Since(p.start) >= p.run.Duration)
}

// paced produces the records due so far every tick.
func (p *pump) paced() {
	t := time.NewTicker(paceTick)
	defer t.Stop()
	rate := int64(p.run.Rate)
	for !p.done() {
		el := time.Since(p.start)
		due := int64(el/time.Second)*rate + int64(el%time.Second)*rate/int64(time.Second)
		now := time.Now()
		p.observe()
		for p.sent < due && !p.done() {
			p.produce(now)
		}
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// observe hands the actions observed since the last call to the generator.
func (p *pump) observe() {
	for {
		select {
		case a := <-p.run.Observed:
			p.g.ObserveAction(a.CustomerID, a.DecisionID, a.ActionID, a.Channel)
		default:
			return
		}
	}
}

// produce generates one record and hands a pooled copy of it to the client.
func (p *pump) produce(now time.Time) {
	select {
	case p.sem <- struct{}{}:
	case <-p.ctx.Done():
		return
	}
	p.g.Next(now, &p.rec)
	kr := p.pool.Get().(*kgo.Record)
	kr.Topic = p.rec.Topic
	kr.Key = append(kr.Key, p.rec.Key...)
	kr.Value = append(kr.Value, p.rec.Value...)
	p.sent++
	p.cl.Produce(p.ctx, kr, p.promise)
}

// onAck is the produce promise: it counts, keeps the first real error and
// recycles the record. It never blocks.
func (p *pump) onAck(kr *kgo.Record, err error) {
	switch {
	case err == nil:
		p.acked.Add(1)
	case p.ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		// stopping because ctx is done is not a produce error
	default:
		p.setErr(err)
	}
	*kr = kgo.Record{Key: kr.Key[:0], Value: kr.Value[:0]}
	p.pool.Put(kr)
	<-p.sem
}

func (p *pump) setErr(err error) {
	p.errMu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.errMu.Unlock()
	p.failed.Store(true)
}

func (p *pump) firstErr() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.err
}

// flush waits for the outstanding records; if ctx is already done it still
// waits up to flushGrace for records the client can finish.
func (p *pump) flush() {
	ctx := p.ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), flushGrace)
		defer cancel()
	}
	_ = p.cl.Flush(ctx) // only fails when ctx is done
}
