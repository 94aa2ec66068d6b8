package sinks

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// discard is a Writer that writes nothing, to measure the Batcher alone.
type discard struct{}

func (discard) Write(context.Context, Table, arrow.RecordBatch) error { return nil }
func (discard) Close() error                                          { return nil }

func benchBatcher(tb testing.TB) *Batcher {
	cfg := localConfig(tb)
	cfg.Flush.Rows = 8192
	cfg.Flush.Bytes = 64 << 20
	cfg.Queue = 1024
	s, err := NewWithWriter(cfg, discard{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close(context.Background()) })
	return s.NewBatcher()
}

func sampleDecision() *DecisionRow {
	return &DecisionRow{DecisionID: []byte("d-3c5e0f9a1b2c4d5e"), CustomerID: []byte("c-1042"),
		DecidedAt: base, Origin: "event", TriggerType: []byte("add_to_cart"), TriggerEventID: []byte("8f1c2a"),
		Journey: "cart_abandonment", Step: "reminder_1", Channel: "email", ActionID: "cart_reminder_email",
		Reason: "chosen", Score: 0.31, Propensity: 0.12, Value: 2.6, Weight: 1, Probability: 1,
		Experiment: "cart_subject_line", Arm: "challenger", Model: "cart_recovery@3",
		Reasons: []string{"eligible: cart_value_1h > 20", "top: cart_value_1h +0.41"},
		Candidates: []Candidate{{ActionID: "cart_reminder_email", Eligible: true, Propensity: 0.12, Score: 0.31},
			{ActionID: "cart_reminder_sms", Eligible: true, Propensity: 0.2, Blocked: "quiet_hours"}},
		LatencyNs: 850000}
}

func sampleEvent() *EventRow {
	return &EventRow{TS: base, CustomerID: []byte("c-1042"), EventID: []byte("8f1c2a"), Type: []byte("add_to_cart"),
		Source: []byte("web"), SessionID: []byte("s-77"), Topic: "clickstream", Partition: 3, Offset: 123456,
		Attrs: []byte(`{"sku":"SKU-19","price":19.99,"qty":2,"device":"mobile"}`)}
}

// TestAppendDoesNotAllocate: in steady state appending a row allocates
// nothing; the builders' growth per batch amortizes below one per row.
func TestAppendDoesNotAllocate(t *testing.T) {
	b := benchBatcher(t)
	d, e := sampleDecision(), sampleEvent()
	a := &ActionRow{DecisionID: d.DecisionID, CustomerID: d.CustomerID, ActionID: "x", Channel: "email", Payload: []byte(`{}`)}
	o := &OutcomeRow{TS: base, CustomerID: d.CustomerID, EventID: e.EventID, DecisionID: d.DecisionID, Outcome: "clicked"}
	tr := &TransitionRow{TS: base, CustomerID: d.CustomerID, Journey: "j", Instance: "i", From: "a", To: "b", Cause: "timer"}
	dl := &DeadLetterRow{At: base, Topic: "bss", Key: d.CustomerID, Error: "bad", Value: e.Attrs}
	for range 20000 { // grow the builders
		b.AppendDecision(d)
		b.AppendEvent(e)
	}
	allocs := testing.AllocsPerRun(20000, func() {
		b.AppendDecision(d)
		b.AppendEvent(e)
		b.AppendAction(a)
		b.AppendOutcome(o)
		b.AppendTransition(tr)
		b.AppendDeadLetter(dl)
	})
	if allocs != 0 {
		t.Errorf("appending one row of each table allocates %v times on average, want 0", allocs)
	}
}

func BenchmarkAppendDecision(b *testing.B) {
	bt := benchBatcher(b)
	d := sampleDecision()
	b.ReportAllocs()
	for b.Loop() {
		bt.AppendDecision(d)
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	bt := benchBatcher(b)
	e := sampleEvent()
	b.ReportAllocs()
	for b.Loop() {
		bt.AppendEvent(e)
	}
}

func BenchmarkAppendAction(b *testing.B) {
	bt := benchBatcher(b)
	a := &ActionRow{DecisionID: []byte("d-3c5e0f9a1b2c4d5e"), CustomerID: []byte("c-1042"), ActionID: "cart_reminder_email",
		Channel: "email", Score: 0.31, Propensity: 0.12, Value: 2.6, Weight: 1, Journey: "cart_abandonment",
		Step: "reminder_1", Experiment: "cart_subject_line", Arm: "challenger", Model: "cart_recovery@3",
		DecidedAt: base, ExpiresAt: base, Payload: []byte(`{"sku":"SKU-19","cart_value":39.98}`)}
	b.ReportAllocs()
	for b.Loop() {
		bt.AppendAction(a)
	}
}

func BenchmarkAppendOutcome(b *testing.B) {
	bt := benchBatcher(b)
	o := &OutcomeRow{TS: base, CustomerID: []byte("c-1042"), EventID: []byte("9a8b7c"), DecisionID: []byte("d-3c5e0f9a1b2c4d5e"),
		ActionID: []byte("cart_reminder_email"), Channel: []byte("email"), Outcome: "converted", Value: 39.98}
	b.ReportAllocs()
	for b.Loop() {
		bt.AppendOutcome(o)
	}
}

func BenchmarkAppendTransition(b *testing.B) {
	bt := benchBatcher(b)
	tr := &TransitionRow{TS: base, CustomerID: []byte("c-1042"), Journey: "cart_abandonment", Instance: "c-1042/1",
		From: "wait_30m", To: "reminder_1", Cause: "timer", DecisionID: []byte("d-3c5e0f9a1b2c4d5e")}
	b.ReportAllocs()
	for b.Loop() {
		bt.AppendTransition(tr)
	}
}

func BenchmarkAppendDeadLetter(b *testing.B) {
	bt := benchBatcher(b)
	dl := &DeadLetterRow{At: base, Topic: "bss", Partition: 3, Offset: 99, Key: []byte("c-1042"),
		Error: "invalid JSON: unexpected end of input", Value: []byte(`{"event_id":"8f1c2a","type":`)}
	b.ReportAllocs()
	for b.Loop() {
		bt.AppendDeadLetter(dl)
	}
}

// BenchmarkClickHouseInsert measures rows per second into a real
// ClickHouse: batches of 8192 decisions through the ClickHouse writer.
func BenchmarkClickHouseInsert(b *testing.B) {
	_, cfg, _ := startMigrated(b)
	w, err := NewClickHouse(cfg.ClickHouse)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	const rows = 8192
	// A Batcher that never flushes by itself; the batch is taken by hand.
	bt := newBatcher(&Sink{}, rows+1, 1<<30, 0, 1)
	d := sampleDecision()
	for i := range rows {
		d.DecisionID = id("d", i)
		bt.AppendDecision(d)
	}
	rb := bt.tables[Decisions].rb
	rec := rb.NewRecordBatch()
	defer rec.Release()
	ctx := context.Background()
	start := time.Now()
	n := 0
	for b.Loop() {
		if err := w.Write(ctx, Decisions, rec); err != nil {
			b.Fatal(err)
		}
		n += rows
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "rows/s")
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(n), "ns/row")
}
