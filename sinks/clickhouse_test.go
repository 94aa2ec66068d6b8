package sinks

import (
	"context"
	"strings"
	"testing"

	"github.com/meridian/meridian/internal/chtest"
)

func TestClickHouseRoundTrip(t *testing.T) {
	_, cfg, conn := startMigrated(t)
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := s.NewBatcher()
	const n = 250
	for i := range n {
		b.AppendEvent(&EventRow{TS: base + int64(i), CustomerID: id("c", i%10), EventID: id("e", i),
			Type: []byte("add_to_cart"), Source: []byte("web"), Topic: "clickstream", Partition: 3, Offset: int64(i),
			Attrs: []byte(`{"sku":"SKU-1"}`)})
		b.AppendDecision(&DecisionRow{DecisionID: id("d", i), CustomerID: id("c", i%10), DecidedAt: base + int64(i),
			Origin: "event", Reason: "chosen", ActionID: "a1", Channel: "email", Score: 0.5, Probability: 1,
			Reasons: []string{"eligible", "top"}, Candidates: []Candidate{{ActionID: "a1", Eligible: true, Propensity: 0.1, Score: 0.5},
				{ActionID: "a2", Blocked: "capped"}}, LatencyNs: 1000})
		b.AppendAction(&ActionRow{DecisionID: id("d", i), CustomerID: id("c", i%10), ActionID: "a1", Channel: "email",
			DecidedAt: base, ExpiresAt: base + 1e9, Payload: []byte(`{}`)})
		b.AppendOutcome(&OutcomeRow{TS: base, CustomerID: id("c", i%10), EventID: id("o", i), DecisionID: id("d", i),
			ActionID: []byte("a1"), Channel: []byte("email"), Outcome: "clicked"})
		b.AppendTransition(&TransitionRow{TS: base + int64(i), CustomerID: id("c", i%10), Journey: "j", Instance: "i1",
			From: "s1", To: "s2", Cause: "timer"})
		b.AppendDeadLetter(&DeadLetterRow{At: base, Topic: "bss", Partition: 1, Offset: int64(i),
			Key: []byte{0xff, 0}, Error: "bad json", Value: []byte{0xfe, '{'}})
	}
	b.Flush()
	closeSink(t, s)
	ctx := context.Background()
	for tb := range NumTables {
		if got := count(t, conn, "SELECT count() FROM mtest."+tb.String()); got != n {
			t.Errorf("%s: %d rows, want %d", tb, got, n)
		}
	}
	var blocked []string
	var elig []uint8
	var at string
	if err := conn.QueryRow(ctx, "SELECT candidate_blocked, candidate_eligible, toString(decided_at) FROM mtest.decisions WHERE decision_id = 'd-000007'").Scan(&blocked, &elig, &at); err != nil {
		t.Fatal(err)
	}
	if len(blocked) != 2 || blocked[1] != "capped" || elig[0] != 1 || elig[1] != 0 || at != "2026-12-04 19:00:00" {
		t.Errorf("decision candidates: blocked %q eligible %v decided_at %s", blocked, elig, at)
	}
	var key, val string
	if err := conn.QueryRow(ctx, "SELECT key, value FROM mtest.dead_letters WHERE kafka_offset = 5").Scan(&key, &val); err != nil {
		t.Fatal(err)
	}
	if key != "\xff\x00" || val != "\xfe{" {
		t.Errorf("dead letter bytes changed: key %q value %q", key, val)
	}
	st := s.Stats()
	// 18 batches into a queue of 8: the overflow went through the spool.
	if st.Rows[Decisions] != n || st.Spooled != st.Replayed || st.SpoolBatches != 0 || st.WriteErrors != 0 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestClickHouseWithoutMigrateSaysSo(t *testing.T) {
	srv := chtest.Start(t)
	cfg := testConfig(t, srv.Addr())
	w, err := NewClickHouse(cfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	b := newBatcher(&Sink{}, 100, 1<<20, 0, 1)
	b.AppendDecision(&DecisionRow{DecisionID: []byte("d")})
	rec := b.tables[Decisions].rb.NewRecordBatch()
	defer rec.Release()
	err = w.Write(context.Background(), Decisions, rec)
	if err == nil || !strings.Contains(err.Error(), "meridian clickhouse migrate") {
		t.Fatalf("write before migrate: %v, want an error saying to run migrate", err)
	}
}
