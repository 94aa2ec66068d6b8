// Package journeys runs declarative customer journeys (config.Journey) on
// event time.
//
// An Engine is the compiled journeys of a configuration, immutable and
// shared. Each task owns a State: the journey instances of its customers,
// their re-entry history, and a min-heap of timers by due time. The task
// calls OnEvent for each event and Advance with its watermark; timers fire
// when the watermark passes them, at their due time, so the same events
// and watermarks replayed give the same transitions, decision trigger ids
// and instance ids. On an idle partition the pipeline advances the
// watermark with the wall clock, and timers still fire.
//
// Decide and send steps call the caller's Actor (the decisioning engine);
// conditions read the event and the caller's Facts (features, profile).
// Every step change is a Transition for analytics; a goal event within the
// conversion window of entry is a GoalCredit to the instance's last action.
//
// State is durable like features.Store: AppendCustomer, RestoreCustomer,
// Delete, Dirty and ClearDirty with the same semantics, in a compact
// versioned encoding that names journeys and steps by id, so that state
// written under another configuration loses only what no longer exists.
//
// See docs/journeys.md for the YAML and the semantics.
package journeys
