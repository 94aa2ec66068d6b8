// Package sinks shapes and writes what Meridian records outside its state:
// action records and dead letters for Kafka, and the analytics and audit
// trail (events, decisions, actions, outcomes, journey transitions, dead
// letters) as Arrow record batches to ClickHouse or Parquet files.
//
// Each pipeline task appends rows to its own Batcher, which builds one
// Arrow batch per table with reused builders and hands full batches to the
// shared Sink. The Sink never blocks a task: a bounded queue feeds one
// writer goroutine, and batches spool to disk (zstd Arrow IPC) while the
// queue is full or the writer fails, to be replayed in order when it
// recovers. ClickHouse tables are ReplacingMergeTree keyed by each row's
// dedup key, so a retried or replayed row is never counted twice.
// docs/analytics.md describes the tables and the analysts' queries.
package sinks
