package sinks

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridian/meridian/internal/testkit"
)

// TestClickHouseKilledAndRestarted kills clickhouse-server while a task
// keeps appending, starts it again, and checks that every decision and
// event is in ClickHouse exactly once and that appending never waited on
// the writer.
func TestClickHouseKilledAndRestarted(t *testing.T) {
	srv, cfg, conn := startMigrated(t)
	cfg.Flush.Rows = 500
	cfg.Queue = 4
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var appended atomic.Int64
	var slowest atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // one pipeline task
		defer close(done)
		b := s.NewBatcher()
		var d DecisionRow
		var e EventRow
		for i := 0; ; i++ {
			select {
			case <-stop:
				b.Flush()
				return
			default:
			}
			start := time.Now()
			d = DecisionRow{DecisionID: id("d", i), CustomerID: id("c", i%97), DecidedAt: base + int64(i)*1e6,
				Origin: "event", Reason: "no_eligible_action", LatencyNs: 5000}
			b.AppendDecision(&d)
			e = EventRow{TS: base + int64(i)*1e6, CustomerID: id("c", i%97), EventID: id("e", i), Type: []byte("page_view")}
			b.AppendEvent(&e)
			if i%2000 == 1999 { // a checkpoint
				b.Flush()
			}
			slowest.Store(max(slowest.Load(), int64(time.Since(start))))
			appended.Store(int64(i + 1))
			if i%20 == 19 { // at most 20k rows per second per table
				time.Sleep(time.Millisecond)
			}
		}
	}()
	progress := func(n int64) func() bool { return func() bool { return appended.Load() >= n } }
	testkit.WaitFor(t, 30*time.Second, func() bool { return s.Stats().Rows[Decisions] >= 2000 }, func() string { return "no rows written" })
	srv.Kill()
	killedAt := appended.Load()
	testkit.WaitFor(t, 30*time.Second, func() bool { return s.Stats().Spooled > 10 }, func() string { return "nothing spooled while the server was down" })
	testkit.WaitFor(t, 30*time.Second, progress(killedAt+10000), func() string { return "task stalled while the server was down" })
	srv.Restart(t)
	testkit.WaitFor(t, 60*time.Second, func() bool { st := s.Stats(); return st.SpoolBatches == 0 && st.Replayed > 0 },
		func() string { return fmt.Sprintf("spool not replayed after restart: %+v", s.Stats()) })
	restartedAt := appended.Load()
	testkit.WaitFor(t, 30*time.Second, progress(restartedAt+5000), func() string { return "task stalled after restart" })
	close(stop)
	<-done
	closeSink(t, s)

	n := uint64(appended.Load())
	st := s.Stats()
	t.Logf("appended %d rows per table; killed at %d; stats %+v; slowest append+flush %v", n, killedAt, st, time.Duration(slowest.Load()))
	if st.Dropped != 0 || st.WriteErrors == 0 {
		t.Errorf("want write errors while down and nothing dropped: %+v", st)
	}
	for _, tb := range []string{"decisions", "events"} {
		key := map[string]string{"decisions": "decision_id", "events": "event_id"}[tb]
		if got := count(t, conn, "SELECT count() FROM mtest."+tb+" FINAL"); got != n {
			t.Errorf("%s FINAL: %d rows, want %d", tb, got, n)
		}
		if got := count(t, conn, "SELECT uniqExact("+key+") FROM mtest."+tb); got != n {
			t.Errorf("%s: %d distinct ids, want %d (a row is missing)", tb, got, n)
		}
	}
	if slow := time.Duration(slowest.Load()); slow > 2*time.Second {
		t.Errorf("an append+flush took %v: the task waited on the writer", slow)
	}
}
