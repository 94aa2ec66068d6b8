package sinks

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/internal/chtest"
)

// base is the event time of the test data: 2026-12-04 19:00:00 UTC.
var base = time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC).UnixNano()

// testConfig is an analytics config writing to ClickHouse at addr, with
// small batches so tests cross batch boundaries.
func testConfig(t testing.TB, addr string) config.Analytics {
	cfg := config.DefaultAnalytics()
	cfg.Sink = config.SinkClickHouse
	cfg.Dir = t.TempDir()
	cfg.Spool.Dir = t.TempDir()
	cfg.Flush.Rows = 100
	cfg.Queue = 8
	cfg.ClickHouse.Addr = []string{addr}
	cfg.ClickHouse.Database = "mtest"
	cfg.ClickHouse.DialTimeout = time.Second
	return cfg
}

// startMigrated starts a ClickHouse server with the schema migrated.
func startMigrated(t testing.TB) (*chtest.Server, config.Analytics, driver.Conn) {
	return startMigratedDB(t, "mtest")
}

func startMigratedDB(t testing.TB, db string) (*chtest.Server, config.Analytics, driver.Conn) {
	srv := chtest.Start(t)
	cfg := testConfig(t, srv.Addr())
	cfg.ClickHouse.Database = db
	if _, _, err := Migrate(context.Background(), cfg.ClickHouse, nil); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return srv, cfg, dial(t, srv.Addr())
}

func dial(t testing.TB, addr string) driver.Conn {
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func count(t testing.TB, conn driver.Conn, q string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func closeSink(t testing.TB, s *Sink) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func id(prefix string, i int) []byte { return fmt.Appendf(nil, "%s-%06d", prefix, i) }
