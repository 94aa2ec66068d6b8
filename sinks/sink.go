package sinks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/meridian/meridian/config"
)

// Writer writes one finished batch of a table: to ClickHouse or to Parquet
// files. Write must be safe to retry: the Sink writes a batch again after
// an error (ClickHouse tables collapse duplicates by their dedup key).
type Writer interface {
	Write(ctx context.Context, t Table, rec arrow.RecordBatch) error
	Close() error
}

// Retry timing while the writer fails: the spool is retried after
// retryMin, doubling up to retryMax.
const (
	retryMin     = 100 * time.Millisecond
	retryMax     = 5 * time.Second
	writeTimeout = 30 * time.Second
)

// Stats are the Sink's counters since New, for metrics.
type Stats struct {
	// Rows and Batches written per table (not counting the spool).
	Rows, Batches [NumTables]int64
	// Queued is the number of batches waiting in memory now.
	Queued int
	// SpoolBatches and SpoolBytes are what is in the spool now.
	SpoolBatches, SpoolBytes int64
	// Spooled counts batches put in the spool; Replayed those written from it.
	Spooled, Replayed int64
	// Dropped counts batches lost: the spool was full or failed; DroppedRows
	// their rows.
	Dropped, DroppedRows int64
	// WriteErrors counts failed writes; LastError is the latest.
	WriteErrors int64
	LastError   string
}

// Sink takes finished batches from the Batchers of every task and writes
// them with one Writer goroutine. It never blocks a Batcher: a batch that
// does not fit in the queue, or arrives while the writer is failing, goes to
// the spool (zstd Arrow IPC files on disk), which is replayed in order before
// newer batches once the writer recovers.
type Sink struct {
	cfg   config.Analytics
	w     Writer
	log   *slog.Logger
	queue chan batch
	spool *spool

	closing   chan struct{}
	closeCtx  chan context.Context
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool
	ctx       context.Context // the writer's; cancelled when Close's ctx ends
	cancel    context.CancelFunc

	rows, batches              [NumTables]atomic.Int64
	spooled, replayed, dropped atomic.Int64
	droppedRows, writeErrors   atomic.Int64
	lastErr                    atomic.Pointer[string]
	seq                        atomic.Uint64 // hand-over order of batches
}

type batch struct {
	seq uint64 // order of hand-over, kept through the spool
	t   Table
	rec arrow.RecordBatch
}

// New returns the Sink that cfg describes, with its writer goroutine
// running: Parquet files under cfg.Dir, ClickHouse at cfg.ClickHouse, or
// (sink none) one whose Batchers drop every row. cfg must be validated.
// log may be nil.
func New(cfg config.Analytics, log *slog.Logger) (*Sink, error) {
	var w Writer
	switch cfg.Sink {
	case config.SinkNone:
	case config.SinkParquet:
		p, err := NewParquet(cfg.Dir)
		if err != nil {
			return nil, err
		}
		w = p
	case config.SinkClickHouse:
		ch, err := NewClickHouse(cfg.ClickHouse)
		if err != nil {
			return nil, err
		}
		w = ch
	default:
		return nil, fmt.Errorf("analytics.sink %q is not parquet, clickhouse or none", cfg.Sink)
	}
	return NewWithWriter(cfg, w, log)
}

// NewWithWriter is New with a Writer of the caller's; a nil w is sink none.
// The Sink closes w in Close.
func NewWithWriter(cfg config.Analytics, w Writer, log *slog.Logger) (*Sink, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sink{cfg: cfg, w: w, log: log, closing: make(chan struct{}),
		closeCtx: make(chan context.Context, 1), done: make(chan struct{})}
	if w == nil {
		close(s.done)
		return s, nil
	}
	sp, err := openSpool(cfg.Spool.Dir, cfg.Spool.MaxBytes)
	if err != nil {
		return nil, err
	}
	if n, b := sp.size(); n > 0 {
		log.Info("analytics spool has batches from an earlier run; replaying them first",
			"dir", cfg.Spool.Dir, "batches", n, "bytes", b)
	}
	s.spool = sp
	s.seq.Store(sp.seq)
	s.queue = make(chan batch, cfg.Queue)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.run()
	return s, nil
}

// NewBatcher returns a Batcher for one task goroutine.
func (s *Sink) NewBatcher() *Batcher {
	if s.w == nil {
		return newBatcher(nil, 1, 1, 0, 0)
	}
	f := s.cfg.Flush
	return newBatcher(s, f.Rows, f.Bytes, f.Interval, s.cfg.EventsSample)
}

// submit hands a finished batch over without blocking: to the queue, or to
// the spool when the queue is full or the Sink is closed.
func (s *Sink) submit(t Table, rec arrow.RecordBatch) {
	b := batch{s.seq.Add(1), t, rec}
	if !s.closed.Load() {
		select {
		case s.queue <- b:
			return
		default:
		}
	}
	s.toSpool(b)
}

// queueToSpool moves every queued batch to the spool, so that a replay
// sees them in their place among the batches spooled by the Batchers.
func (s *Sink) queueToSpool() {
	for {
		select {
		case b := <-s.queue:
			s.toSpool(b)
		default:
			return
		}
	}
}

// toSpool puts b in the spool, or counts it dropped.
func (s *Sink) toSpool(b batch) {
	defer b.rec.Release()
	if err := s.spool.put(b.seq, b.t, b.rec); err != nil {
		s.dropped.Add(1)
		s.droppedRows.Add(b.rec.NumRows())
		s.noteErr(err)
		if !errors.Is(err, errSpoolFull) {
			s.log.Error("analytics batch dropped", "table", b.t, "rows", b.rec.NumRows(), "err", err)
		}
		return
	}
	s.spooled.Add(1)
}

func (s *Sink) noteErr(err error) {
	msg := err.Error()
	s.lastErr.Store(&msg)
}

// Stats returns the counters now.
func (s *Sink) Stats() Stats {
	var st Stats
	for t := range NumTables {
		st.Rows[t] = s.rows[t].Load()
		st.Batches[t] = s.batches[t].Load()
	}
	st.Queued = len(s.queue)
	if s.spool != nil {
		st.SpoolBatches, st.SpoolBytes = s.spool.size()
	}
	st.Spooled, st.Replayed = s.spooled.Load(), s.replayed.Load()
	st.Dropped, st.DroppedRows = s.dropped.Load(), s.droppedRows.Load()
	st.WriteErrors = s.writeErrors.Load()
	if p := s.lastErr.Load(); p != nil {
		st.LastError = *p
	}
	return st
}

// write writes one batch, counting it.
func (s *Sink) write(ctx context.Context, t Table, rec arrow.RecordBatch) error {
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := s.w.Write(wctx, t, rec); err != nil {
		s.writeErrors.Add(1)
		err = fmt.Errorf("cannot write %d rows to %s: %w", rec.NumRows(), t, err)
		s.noteErr(err)
		return err
	}
	s.rows[t].Add(rec.NumRows())
	s.batches[t].Add(1)
	return nil
}

// run is the writer goroutine. While the spool holds batches, new ones go
// behind them into the spool, so batches are written in the order they
// were finished; the spool is retried with a growing backoff.
func (s *Sink) run() {
	defer close(s.done)
	ctx := s.ctx
	var backoff time.Duration
	var retryAt time.Time
	fail := func(err error) {
		backoff = min(max(2*backoff, retryMin), retryMax)
		retryAt = time.Now().Add(backoff)
		s.log.Warn("analytics writer failing; batches spool to disk", "retry_in", backoff, "err", err)
	}
	for {
		if n, _ := s.spool.size(); n > 0 {
			wait := time.NewTimer(time.Until(retryAt))
			select {
			case b := <-s.queue:
				s.toSpool(b)
			case <-wait.C:
				if err := s.replayAll(ctx); err != nil {
					fail(err)
				} else {
					backoff = 0
				}
			case <-s.closing:
				wait.Stop()
				s.shutdown(<-s.closeCtx)
				return
			}
			wait.Stop()
			continue
		}
		select {
		case b := <-s.queue:
			if err := s.write(ctx, b.t, b.rec); err != nil {
				s.toSpool(b)
				fail(err)
				continue
			}
			backoff = 0
			b.rec.Release()
		case <-s.closing:
			s.shutdown(<-s.closeCtx)
			return
		}
	}
}

// Replay takes up to replayFiles spool files (about replayBytes of them)
// at a time and writes each table's batches among them as one insert:
// ClickHouse's cost is per insert, so a spool of many small batches drains
// far faster than it filled. Within a table the order is kept.
const (
	replayFiles = 64
	replayBytes = 32 << 20
)

// replayAll writes the spooled batches oldest first until the spool is
// empty, a write fails or ctx ends.
func (s *Sink) replayAll(ctx context.Context) error {
	for ctx.Err() == nil {
		s.queueToSpool()
		entries := s.spool.oldest(replayFiles, replayBytes)
		if len(entries) == 0 {
			return nil
		}
		var groups [NumTables][]spoolEntry
		var order []Table
		for _, e := range entries {
			if len(groups[e.table]) == 0 {
				order = append(order, e.table)
			}
			groups[e.table] = append(groups[e.table], e)
		}
		for _, t := range order {
			if err := s.replayGroup(ctx, t, groups[t]); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// replayGroup writes spooled batches of one table as one batch and removes
// their files.
func (s *Sink) replayGroup(ctx context.Context, t Table, entries []spoolEntry) error {
	recs := make([]arrow.RecordBatch, 0, len(entries))
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	kept := entries[:0:0]
	for _, e := range entries {
		rec, err := s.spool.read(e)
		if err != nil {
			// A damaged file can never be written: drop it, and say so.
			s.dropped.Add(1)
			s.noteErr(err)
			s.log.Error("analytics spool file unreadable; dropped", "file", e.path, "err", err)
			s.spool.remove(e)
			continue
		}
		recs = append(recs, rec)
		kept = append(kept, e)
	}
	if len(recs) == 0 {
		return nil
	}
	rec, err := concat(t, recs)
	if err != nil {
		return err
	}
	err = s.write(ctx, t, rec)
	rec.Release()
	if err != nil {
		return err
	}
	for _, e := range kept {
		s.spool.remove(e)
	}
	s.replayed.Add(int64(len(kept)))
	return nil
}

// concat joins batches of one table into one.
func concat(t Table, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	if len(recs) == 1 {
		recs[0].Retain()
		return recs[0], nil
	}
	schema := schemas[t]
	cols := make([]arrow.Array, schema.NumFields())
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	parts := make([]arrow.Array, len(recs))
	for i := range cols {
		for j, r := range recs {
			parts[j] = r.Column(i)
		}
		c, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			for _, done := range cols[:i] {
				done.Release()
			}
			return nil, fmt.Errorf("cannot join spooled %s batches: %w", t, err)
		}
		cols[i] = c
	}
	rec := array.NewRecordBatch(schema, cols, rows)
	for _, c := range cols {
		c.Release()
	}
	return rec, nil
}

// shutdown drains the queue: written when the writer works and nothing is
// spooled, spooled otherwise; then replays the spool while ctx allows.
func (s *Sink) shutdown(ctx context.Context) {
	failing := false
	if n, _ := s.spool.size(); n > 0 {
		failing = s.replayAll(ctx) != nil
	}
	for {
		select {
		case b := <-s.queue:
			if n, _ := s.spool.size(); failing || n > 0 || ctx.Err() != nil {
				s.toSpool(b)
				continue
			}
			if err := s.write(ctx, b.t, b.rec); err != nil {
				failing = true
				s.toSpool(b)
				continue
			}
			b.rec.Release()
		default:
			if !failing && ctx.Err() == nil {
				_ = s.replayAll(ctx)
			}
			return
		}
	}
}

// Close stops the Sink: batches still queued are written, or spooled when
// the writer fails or ctx ends, and the spool is replayed while ctx allows;
// what stays in the spool is replayed by the next Sink on the same spool
// dir. Flush every Batcher before Close; a batch handed over after Close
// goes to the spool. Close is idempotent.
func (s *Sink) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.w == nil {
			return
		}
		s.closeCtx <- ctx
		close(s.closing)
		select {
		case <-s.done:
		case <-ctx.Done():
			s.cancel()
			<-s.done
		}
		s.cancel()
		var errs []error
		if err := s.w.Close(); err != nil {
			errs = append(errs, fmt.Errorf("cannot close analytics writer: %w", err))
		}
		if n, b := s.spool.size(); n > 0 {
			errs = append(errs, fmt.Errorf("analytics: %d batches (%d bytes) left in spool %s; the next start replays them", n, b, s.cfg.Spool.Dir))
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
