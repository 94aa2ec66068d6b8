// Package operators holds the steps a task runs on every event: decode
// (JSON to a reused Event), featurize (features.Store), journeys (fire the
// timers the watermark passed, then step the customer's instances), decide
// (the decide engine, for the journeys' steps, the catalogue's `on` events
// and API requests), encode (Action to contract JSON) and the analytics rows
// of each. Nothing here does I/O or blocks, so the same code runs in the
// pipeline, in benchmarks and in replays (pipeline.Replay), and the
// per-event path allocates nothing in steady state.
package operators
