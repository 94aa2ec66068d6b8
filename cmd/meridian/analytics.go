package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/internal/metrics"
	"github.com/meridian/meridian/pipeline"
	"github.com/meridian/meridian/refdata"
	"github.com/meridian/meridian/sinks"
)

// startAnalytics opens the configured analytics sink (parquet files by
// default, ClickHouse, or none) and exports its counters as metrics.
func startAnalytics(cfg *config.Config, reg *metrics.Registry, log *slog.Logger) (*sinks.Sink, error) {
	s, err := sinks.New(cfg.Analytics, log)
	if err != nil {
		return nil, err
	}
	for t := sinks.Table(0); t < sinks.NumTables; t++ {
		reg.CounterFunc("meridian_analytics_rows_total", "Analytics rows written, per table (replayed from the spool included).",
			func() float64 { return float64(s.Stats().Rows[t]) }, "table", t.String())
	}
	stat := func(f func(sinks.Stats) int64) func() float64 {
		return func() float64 { return float64(f(s.Stats())) }
	}
	reg.GaugeFunc("meridian_analytics_queued_batches", "Analytics batches waiting in memory for the writer.",
		stat(func(st sinks.Stats) int64 { return int64(st.Queued) }))
	reg.GaugeFunc("meridian_analytics_spool_batches", "Analytics batches in the disk spool now (the writer is slow or away).",
		stat(func(st sinks.Stats) int64 { return st.SpoolBatches }))
	reg.GaugeFunc("meridian_analytics_spool_bytes", "Bytes of the disk spool now.",
		stat(func(st sinks.Stats) int64 { return st.SpoolBytes }))
	reg.CounterFunc("meridian_analytics_spooled_batches_total", "Analytics batches put in the spool.",
		stat(func(st sinks.Stats) int64 { return st.Spooled }))
	reg.CounterFunc("meridian_analytics_replayed_batches_total", "Spooled analytics batches written once the writer recovered.",
		stat(func(st sinks.Stats) int64 { return st.Replayed }))
	reg.CounterFunc("meridian_analytics_dropped_rows_total", "Analytics rows lost because the spool was full or failed.",
		stat(func(st sinks.Stats) int64 { return st.DroppedRows }))
	reg.CounterFunc("meridian_analytics_write_errors_total", "Failed analytics writes (retried from the spool).",
		stat(func(st sinks.Stats) int64 { return st.WriteErrors }))
	return s, nil
}

// referenceMetrics exports the reference tables' lookup counters.
func referenceMetrics(env *pipeline.Env, reg *metrics.Registry) {
	lookups := func(f func(refdata.Stats) uint64) func() float64 {
		return func() float64 { return float64(f(env.ReferenceStats())) }
	}
	help := "Reference-table lookups by what they found (a miss includes unknown keys and source errors); restarts from 0 after a reload."
	reg.CounterFunc("meridian_reference_lookups_total", help, lookups(func(s refdata.Stats) uint64 { return s.Hits }), "result", "hit")
	reg.CounterFunc("meridian_reference_lookups_total", help, lookups(func(s refdata.Stats) uint64 { return s.Misses }), "result", "miss")
	reg.CounterFunc("meridian_reference_source_errors_total", "Reference-table lookups whose source failed (each also a miss).",
		lookups(func(s refdata.Stats) uint64 { return s.Errors }))
	reg.GaugeFunc("meridian_reference_cache_hit_ratio", "Share of reference lookups the cache answered without asking the source.",
		func() float64 { return env.ReferenceStats().CacheHitRatio() })
	reg.GaugeFunc("meridian_reference_cache_bytes", "Estimated bytes the reference cache holds (bounded by reference_cache.max_cost).",
		func() float64 { return float64(env.ReferenceStats().Cost) })
}

// closeAnalytics writes what the tasks flushed at their last checkpoint;
// what cannot be written stays in the spool for the next start.
func closeAnalytics(s *sinks.Sink, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		log.Warn("analytics not all written; the rest is in the spool and is written at the next start", "err", err)
	}
}
