// Package sinks shapes what Meridian writes: action records and dead letters
// for Kafka today; the ClickHouse and Parquet analytics sinks join them.
package sinks
