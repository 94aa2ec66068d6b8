// Package operators holds the steps a task runs on every event: decode
// (JSON to a reused Event), decide (today the rule step; models and
// arbitration later) and encode (Action to contract JSON). Nothing here does
// I/O or blocks, so the same code runs in the pipeline, in benchmarks and in
// replays, and everything on the per-event path is allocation-free.
package operators
