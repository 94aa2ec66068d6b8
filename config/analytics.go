package config

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Analytics sinks.
const (
	SinkParquet    = "parquet"
	SinkClickHouse = "clickhouse"
	SinkNone       = "none"
)

var analyticsSinks = []string{SinkParquet, SinkClickHouse, SinkNone}

// Analytics configures the analytics and audit trail: events, decisions,
// actions, outcomes, journey transitions and dead letters, written as Arrow
// batches to Parquet files or ClickHouse. Analytics never block decisions:
// batches queue in memory, spool to disk while the writer is slow or away,
// and are replayed in order when it returns.
type Analytics struct {
	// Sink is parquet (files under Dir; the default, and what `meridian
	// dev` uses), clickhouse or none.
	Sink string `yaml:"sink"`
	// Dir is where the parquet sink writes TABLE/dt=YYYY-MM-DD/hour=HH/
	// part-SEQ.parquet files.
	Dir string `yaml:"dir"`
	// EventsSample is the share of input events recorded, 0 to 1. The
	// choice is a hash of (customer_id, event_id), so a replay records the
	// same events. Decisions, actions, outcomes, transitions and dead
	// letters are always recorded in full.
	EventsSample float64        `yaml:"events_sample"`
	Flush        AnalyticsFlush `yaml:"flush"`
	// Queue is how many batches wait in memory for the writer; beyond it
	// batches go to the spool.
	Queue      int        `yaml:"queue"`
	Spool      Spool      `yaml:"spool"`
	ClickHouse ClickHouse `yaml:"clickhouse"`
}

// AnalyticsFlush says when a table's batch is handed to the writer:
// whichever of Rows, Bytes (estimated) and Interval comes first.
type AnalyticsFlush struct {
	Rows     int           `yaml:"rows"`
	Bytes    int           `yaml:"bytes"`
	Interval time.Duration `yaml:"interval"`
}

// Spool is the local disk buffer (zstd-compressed Arrow IPC files) used
// while the writer is slow or away.
type Spool struct {
	Dir string `yaml:"dir"`
	// MaxBytes bounds the spool on disk; a batch that does not fit is
	// dropped and counted.
	MaxBytes int64 `yaml:"max_bytes"`
}

// ClickHouse is the ClickHouse server the clickhouse sink and `meridian
// clickhouse migrate` connect to over the native protocol.
type ClickHouse struct {
	// Addr lists host:port of the native protocol (port 9000 by default).
	Addr     []string `yaml:"addr"`
	Database string   `yaml:"database"`
	Username string   `yaml:"username"`
	// Password may be written as ${ENV_VAR}.
	Password string `yaml:"password"`
	// TTL is how long rows are kept; 0 keeps them forever. Applied on
	// servers that support table TTL (19.6 and later).
	TTL time.Duration `yaml:"ttl"`
	// DialTimeout bounds connecting; a server that does not answer in time
	// counts as away and batches spool.
	DialTimeout time.Duration `yaml:"dial_timeout"`
}

// DefaultAnalytics is the analytics section used for every key the file
// leaves out.
func DefaultAnalytics() Analytics {
	return Analytics{
		Sink:         SinkParquet,
		Dir:          "meridian-data/analytics",
		EventsSample: 1,
		Flush:        AnalyticsFlush{Rows: 8192, Bytes: 4 << 20, Interval: 5 * time.Second},
		Queue:        64,
		Spool:        Spool{Dir: "meridian-data/spool", MaxBytes: 1 << 30},
		ClickHouse: ClickHouse{Addr: []string{"127.0.0.1:9000"}, Database: "meridian",
			Username: "default", TTL: 90 * 24 * time.Hour, DialTimeout: 5 * time.Second},
	}
}

func (k *checker) analytics() {
	a := &k.c.Analytics
	if !slices.Contains(analyticsSinks, a.Sink) {
		k.fail("analytics.sink", "analytics.sink: %q is not a sink; write one of parquet, clickhouse or none", a.Sink)
	}
	if a.Sink == SinkParquet && a.Dir == "" {
		k.fail("analytics.dir", "analytics.dir must not be empty with sink parquet; write e.g. dir: meridian-data/analytics")
	}
	if math.IsNaN(a.EventsSample) || a.EventsSample < 0 || a.EventsSample > 1 {
		k.fail("analytics.events_sample", "analytics.events_sample must be between 0 and 1, got %v; write e.g. events_sample: 0.1 to record one event in ten", a.EventsSample)
	}
	if a.Flush.Rows < 1 || a.Flush.Rows > 1<<20 {
		k.fail("analytics.flush.rows", "analytics.flush.rows must be 1 to 1048576, got %d; write e.g. rows: 8192", a.Flush.Rows)
	}
	if a.Flush.Bytes < 1<<10 || a.Flush.Bytes > 1<<30 {
		k.fail("analytics.flush.bytes", "analytics.flush.bytes must be 1024 to 1073741824, got %d; write e.g. bytes: 4194304", a.Flush.Bytes)
	}
	if a.Flush.Interval < 10*time.Millisecond || a.Flush.Interval > time.Hour {
		k.fail("analytics.flush.interval", "analytics.flush.interval must be 10ms to 1h, got %v; write e.g. interval: 5s", a.Flush.Interval)
	}
	if a.Queue < 1 || a.Queue > 1<<16 {
		k.fail("analytics.queue", "analytics.queue must be 1 to 65536 batches, got %d; write e.g. queue: 64", a.Queue)
	}
	if a.Sink != SinkNone && a.Spool.Dir == "" {
		k.fail("analytics.spool.dir", "analytics.spool.dir must not be empty; write e.g. dir: meridian-data/spool")
	}
	if a.Spool.MaxBytes < 0 {
		k.fail("analytics.spool.max_bytes", "analytics.spool.max_bytes must be 0 (no spool: batches are dropped and counted while the writer is away) or more, got %d; write e.g. max_bytes: 1073741824", a.Spool.MaxBytes)
	}
	k.clickhouse(&a.ClickHouse, a.Sink == SinkClickHouse)
}

func (k *checker) clickhouse(ch *ClickHouse, used bool) {
	if used && len(ch.Addr) == 0 {
		k.fail("analytics.clickhouse.addr", "analytics.clickhouse.addr must list at least one host:port with sink clickhouse; write e.g. addr: [localhost:9000]")
	}
	for i, a := range ch.Addr {
		path := fmt.Sprintf("analytics.clickhouse.addr[%d]", i)
		before := len(k.errs)
		k.address(path, a, true)
		if len(k.errs) > before {
			k.errs[len(k.errs)-1].Msg += "write e.g. - localhost:9000"
		}
	}
	if !nameRE.MatchString(ch.Database) {
		k.fail("analytics.clickhouse.database", "analytics.clickhouse.database: %q is not a database name (a lower-case letter, then up to 63 of a-z, 0-9 and _); write e.g. database: meridian", ch.Database)
	}
	if ch.Username == "" {
		k.fail("analytics.clickhouse.username", "analytics.clickhouse.username must not be empty; write e.g. username: default")
	}
	if ch.TTL != 0 && ch.TTL < 24*time.Hour {
		k.fail("analytics.clickhouse.ttl", "analytics.clickhouse.ttl must be 0 (keep forever) or at least 24h, got %v; write e.g. ttl: 2160h (90 days)", ch.TTL)
	}
	if ch.DialTimeout < 100*time.Millisecond || ch.DialTimeout > time.Minute {
		k.fail("analytics.clickhouse.dial_timeout", "analytics.clickhouse.dial_timeout must be 100ms to 1m, got %v; write e.g. dial_timeout: 5s", ch.DialTimeout)
	}
}
