package sinks

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/internal/testkit"
)

// fakeWriter records what it is given and fails while down is set.
type fakeWriter struct {
	mu   sync.Mutex
	down bool
	rows map[Table][]string // first column of every row, in write order
}

func (f *fakeWriter) Write(_ context.Context, t Table, rec arrow.RecordBatch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("server away")
	}
	if f.rows == nil {
		f.rows = map[Table][]string{}
	}
	for i := range int(rec.NumRows()) {
		f.rows[t] = append(f.rows[t], rec.Column(0).ValueStr(i))
	}
	return nil
}

func (f *fakeWriter) Close() error { return nil }

func (f *fakeWriter) set(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

func (f *fakeWriter) decisions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.rows[Decisions]...)
}

func localConfig(t testing.TB) config.Analytics {
	cfg := config.DefaultAnalytics()
	cfg.Dir = t.TempDir()
	cfg.Spool.Dir = t.TempDir()
	cfg.Flush.Rows = 10
	cfg.Queue = 2
	return cfg
}

func appendDecisions(b *Batcher, from, to int) {
	for i := from; i < to; i++ {
		b.AppendDecision(&DecisionRow{DecisionID: id("d", i), DecidedAt: base, Reason: "chosen"})
	}
}

// TestSpoolKeepsOrderAndReplays: while the writer is down batches spool;
// when it returns they are written before newer ones, in order.
func TestSpoolKeepsOrderAndReplays(t *testing.T) {
	cfg := localConfig(t)
	w := &fakeWriter{down: true}
	s, err := NewWithWriter(cfg, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := s.NewBatcher()
	appendDecisions(b, 0, 200)
	testkit.WaitFor(t, 10*time.Second, func() bool { return s.Stats().SpoolBatches == 20 },
		func() string { return "batches not spooled" })
	w.set(false)
	appendDecisions(b, 200, 300)
	b.Flush()
	closeSink(t, s)
	got := w.decisions()
	if len(got) != 300 {
		t.Fatalf("%d rows written, want 300", len(got))
	}
	for i, g := range got {
		if want := string(id("d", i)); g != want {
			t.Fatalf("row %d is %s, want %s: order lost", i, g, want)
		}
	}
	if st := s.Stats(); st.Replayed < 20 || st.SpoolBatches != 0 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestSpoolBound: beyond spool.max_bytes the newest batch is dropped and
// counted; what was spooled is kept and replayed.
func TestSpoolBound(t *testing.T) {
	cfg := localConfig(t)
	w := &fakeWriter{down: true}
	s, err := NewWithWriter(cfg, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := s.NewBatcher()
	appendDecisions(b, 0, 10)
	testkit.WaitFor(t, 10*time.Second, func() bool { return s.Stats().SpoolBatches == 1 }, func() string { return "not spooled" })
	one := s.Stats().SpoolBytes
	s.spool.maxBytes = 3*one + one/2 // room for three batches
	appendDecisions(b, 10, 100)
	testkit.WaitFor(t, 10*time.Second, func() bool { st := s.Stats(); return st.SpoolBatches+st.Dropped == 10 },
		func() string { return "batches neither spooled nor dropped" })
	st := s.Stats()
	if st.SpoolBatches != 3 || st.Dropped != 7 || st.DroppedRows != 70 || st.SpoolBytes > s.spool.maxBytes {
		t.Fatalf("want 3 spooled, 7 dropped within %d bytes: %+v", s.spool.maxBytes, st)
	}
	if !strings.Contains(st.LastError, "spool is full") {
		t.Errorf("last error %q does not say the spool is full", st.LastError)
	}
	w.set(false)
	closeSink(t, s)
	got := w.decisions()
	if len(got) != 30 || got[0] != "d-000000" || !slices.IsSorted(got) {
		t.Errorf("want the 30 rows of the spooled batches replayed in order, got %d: %v", len(got), got)
	}
}

// TestSpoolSurvivesRestart: what Close could not write is replayed by the
// next Sink on the same spool dir.
func TestSpoolSurvivesRestart(t *testing.T) {
	cfg := localConfig(t)
	w := &fakeWriter{down: true}
	s, err := NewWithWriter(cfg, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	appendDecisions(s.NewBatcher(), 0, 50)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Close(ctx); err == nil || !strings.Contains(err.Error(), "left in spool") {
		t.Fatalf("Close with the writer down: %v, want an error naming the spool", err)
	}
	w2 := &fakeWriter{}
	s2, err := NewWithWriter(cfg, w2, nil)
	if err != nil {
		t.Fatal(err)
	}
	closeSink(t, s2)
	if got := w2.decisions(); len(got) != 50 || got[0] != "d-000000" || got[49] != "d-000049" {
		t.Fatalf("replayed after restart: %d rows %v", len(got), got)
	}
}

func TestSinkNoneDropsEverything(t *testing.T) {
	cfg := localConfig(t)
	cfg.Sink = config.SinkNone
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := s.NewBatcher()
	appendDecisions(b, 0, 100)
	b.Flush()
	closeSink(t, s)
	if b.Pending(Decisions) != 0 || s.Stats().Rows[Decisions] != 0 {
		t.Errorf("sink none kept rows: %+v", s.Stats())
	}
}

func TestEventsSample(t *testing.T) {
	cfg := localConfig(t)
	cfg.EventsSample = 0.25
	cfg.Flush.Rows = 1 << 20
	s, err := NewWithWriter(cfg, &fakeWriter{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSink(t, s)
	b := s.NewBatcher()
	const n = 20000
	for i := range n {
		b.AppendEvent(&EventRow{CustomerID: id("c", i%100), EventID: id("e", i)})
	}
	if got := b.Pending(Events); got < n/4-600 || got > n/4+600 {
		t.Errorf("sample 0.25 kept %d of %d events", got, n)
	}
	before := b.Pending(Events)
	b.AppendEvent(&EventRow{CustomerID: id("c", 1), EventID: id("e", 1)})
	b.AppendEvent(&EventRow{CustomerID: id("c", 1), EventID: id("e", 1)})
	if d := b.Pending(Events) - before; d != 0 && d != 2 {
		t.Errorf("the same event was sampled differently twice (%d of 2 kept)", d)
	}
	// A second Batcher (another task, or a replay) chooses the same events.
	b2 := s.NewBatcher()
	for i := range n {
		b2.AppendEvent(&EventRow{CustomerID: id("c", i%100), EventID: id("e", i)})
	}
	if b2.Pending(Events) != before {
		t.Errorf("another Batcher kept %d events, the first %d", b2.Pending(Events), before)
	}
}

// TestParquetRoundTrip writes through the Sink and reads the files back
// with the Parquet reader: partitions by table and hour, values intact.
func TestParquetRoundTrip(t *testing.T) {
	cfg := localConfig(t)
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := s.NewBatcher()
	// 30 outcomes across two hours, 5 decisions in one.
	for i := range 30 {
		b.AppendOutcome(&OutcomeRow{TS: base + int64(i)*int64(4*time.Minute), CustomerID: id("c", i),
			EventID: id("o", i), DecisionID: id("d", i), Outcome: "converted", Value: float64(i)})
	}
	for i := range 5 {
		b.AppendDecision(&DecisionRow{DecisionID: id("d", i), DecidedAt: base, Reason: "capped",
			Reasons: []string{"r1", "r2"}, Candidates: []Candidate{{ActionID: "a", Blocked: "capped", Score: 0.5}}})
	}
	b.Flush()
	closeSink(t, s)

	files := map[string]int64{}
	var sum float64
	err = filepath.WalkDir(cfg.Dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(cfg.Dir, path)
		rec := readParquet(t, path)
		defer rec.Release()
		files[filepath.Dir(rel)] += rec.NumRows()
		if strings.HasPrefix(rel, "outcomes/") {
			sum += sumFloat(rec, "value")
		}
		if strings.HasPrefix(rel, "decisions/") {
			l := rec.Column(rec.Schema().FieldIndices("candidate_blocked")[0]).(*array.List)
			if v := l.ListValues().(*array.String).Value(0); v != "capped" {
				t.Errorf("candidate_blocked read back as %q", v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		"outcomes/dt=2026-12-04/hour=19":  15,
		"outcomes/dt=2026-12-04/hour=20":  15,
		"decisions/dt=2026-12-04/hour=19": 5,
	}
	for k, v := range want {
		if files[k] != v {
			t.Errorf("%s: %d rows, want %d (all: %v)", k, files[k], v, files)
		}
	}
	if len(files) != len(want) || sum != 435 {
		t.Errorf("partitions %v, sum of outcome values %v (want 435)", files, sum)
	}
}

func readParquet(t *testing.T, path string) arrow.RecordBatch {
	t.Helper()
	if !strings.HasPrefix(filepath.Base(path), "part-") || filepath.Ext(path) != ".parquet" {
		t.Fatalf("unexpected file %s", path)
	}
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	tr := array.NewTableReader(tbl, -1)
	defer tr.Release()
	tr.Next()
	rec := tr.RecordBatch()
	rec.Retain()
	return rec
}

func sumFloat(rec arrow.RecordBatch, col string) float64 {
	var s float64
	for _, v := range rec.Column(rec.Schema().FieldIndices(col)[0]).(*array.Float64).Float64Values() {
		s += v
	}
	return s
}

func TestMaybeFlushByAge(t *testing.T) {
	cfg := localConfig(t)
	cfg.Flush.Rows = 1000
	cfg.Flush.Interval = time.Minute
	w := &fakeWriter{}
	s, err := NewWithWriter(cfg, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := s.NewBatcher()
	appendDecisions(b, 0, 5)
	b.MaybeFlush(time.Now())
	if b.Pending(Decisions) != 5 {
		t.Fatalf("young rows flushed: %d pending", b.Pending(Decisions))
	}
	b.MaybeFlush(time.Now().Add(2 * time.Minute))
	if b.Pending(Decisions) != 0 {
		t.Fatalf("old rows not flushed: %d pending", b.Pending(Decisions))
	}
	closeSink(t, s)
	if got := len(w.decisions()); got != 5 {
		t.Errorf("%d rows written, want 5", got)
	}
}

func TestFlushByBytes(t *testing.T) {
	cfg := localConfig(t)
	cfg.Flush.Rows = 1 << 20
	cfg.Flush.Bytes = 4096
	w := &fakeWriter{}
	s, err := NewWithWriter(cfg, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := s.NewBatcher()
	big := make([]byte, 1000)
	for i := range 10 {
		b.AppendDeadLetter(&DeadLetterRow{Topic: "bss", Offset: int64(i), Value: big})
	}
	if p := b.Pending(DeadLetters); p == 0 || p >= 5 {
		t.Errorf("%d rows of ~1 KB pending with a 4 KiB bound", p)
	}
	closeSink(t, s)
}

func TestCloseIsIdempotentAndLateBatchesSpool(t *testing.T) {
	cfg := localConfig(t)
	w := &fakeWriter{}
	s, err := NewWithWriter(cfg, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := s.NewBatcher()
	closeSink(t, s)
	closeSink(t, s)
	appendDecisions(b, 0, 10) // a full batch after Close
	if st := s.Stats(); st.SpoolBatches != 1 || st.Spooled != 1 {
		t.Errorf("a batch handed over after Close is not in the spool: %+v", st)
	}
}
