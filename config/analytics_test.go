package config

import (
	"testing"
	"time"
)

func TestAnalyticsErrors(t *testing.T) {
	f := func(name, data string, want ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			t.Helper()
			_, err := ParseWithEnv("m.yaml", []byte(data), noEnv)
			checkErrs(t, err, want)
		})
	}
	f("sink", "analytics:\n  sink: kafka\n",
		`m.yaml:2:9: analytics.sink: "kafka" is not a sink; write one of parquet, clickhouse or none`)
	f("sample", "analytics:\n  events_sample: 1.5\n",
		`m.yaml:2:18: analytics.events_sample must be between 0 and 1, got 1.5; write e.g. events_sample: 0.1 to record one event in ten`)
	f("flush", "analytics:\n  flush: {rows: 0, interval: 1ms}\n",
		`m.yaml:2:17: analytics.flush.rows must be 1 to 1048576, got 0; write e.g. rows: 8192`,
		`m.yaml:2:30: analytics.flush.interval must be 10ms to 1h, got 1ms; write e.g. interval: 5s`)
	f("clickhouse addr", "analytics:\n  sink: clickhouse\n  clickhouse:\n    addr: [ch-1]\n",
		`m.yaml:4:12: analytics.clickhouse.addr[0]: "ch-1" is not host:port; write e.g. - localhost:9000`)
	f("clickhouse no addr", "analytics:\n  sink: clickhouse\n  clickhouse:\n    addr: []\n",
		`m.yaml:4:5: analytics.clickhouse.addr must list at least one host:port with sink clickhouse; write e.g. addr: [localhost:9000]`)
	f("database", "analytics:\n  clickhouse: {database: 'my-db', ttl: 1h}\n",
		`m.yaml:2:26: analytics.clickhouse.database: "my-db" is not a database name (a lower-case letter, then up to 63 of a-z, 0-9 and _); write e.g. database: meridian`,
		`m.yaml:2:40: analytics.clickhouse.ttl must be 0 (keep forever) or at least 24h, got 1h0m0s; write e.g. ttl: 2160h (90 days)`)
}

func TestAnalyticsDefaultsAndValues(t *testing.T) {
	cfg, err := ParseWithEnv("m.yaml", []byte("analytics:\n  sink: clickhouse\n  events_sample: 0.25\n  clickhouse:\n    addr: [ch:9000]\n    password: ${PW}\n"),
		func(k string) (string, bool) { return "secret", k == "PW" })
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Analytics
	if a.Sink != SinkClickHouse || a.EventsSample != 0.25 || a.ClickHouse.Addr[0] != "ch:9000" || a.ClickHouse.Password != "secret" {
		t.Errorf("values not read: %+v", a)
	}
	if a.Flush.Rows != 8192 || a.Flush.Interval != 5*time.Second || a.ClickHouse.Database != "meridian" || a.Spool.MaxBytes != 1<<30 {
		t.Errorf("defaults not kept for keys left out: %+v", a)
	}
}

func TestAnalyticsPasswordRedacted(t *testing.T) {
	cfg := Default()
	cfg.Analytics.ClickHouse.Password = "hunter2"
	if r := cfg.Redacted(); r.Analytics.ClickHouse.Password != "***" {
		t.Errorf("redacted password = %q", r.Analytics.ClickHouse.Password)
	}
	if cfg.Analytics.ClickHouse.Password != "hunter2" {
		t.Error("Redacted changed the original")
	}
}
