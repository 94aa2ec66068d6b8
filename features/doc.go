// Package features keeps declarative windowed features per customer: the
// state a task owns for its customers, updated on every event and read as
// a vector by decisions.
//
// A Set is the compiled definitions (config features and profile), shared
// by all tasks. A Store is one task's customers; it is used by that task's
// goroutine only and has no locks.
//
// # Semantics
//
// Features are evaluated as of now, a time on the task's event-time clock
// given by the caller (Unix ns). A feature's events are the events of its
// types that pass its where condition and, for value aggregations, have a
// value (for distinct, have the counted field).
//
//   - Sliding window of size W, bucket B: the events with floor(ts/B) in
//     (floor(now/B) - W/B, floor(now/B)]: exact at bucket granularity;
//     later buckets are excluded, later events in now's bucket are not.
//   - Tumbling window of size W: the events in [floor(now/W)*W, +W).
//   - Session window with gap G: the events of the latest session (events
//     in event-time order; one more than G after the previous starts a new
//     session) if now - its last event <= G; else none.
//   - Lifetime: all events.
//
// Aggregations: count; sum, avg, min, max of the value; first and last
// (the value of the earliest and the latest event by event time; ties go
// to the first arrival for first and the latest arrival for last);
// distinct (the number of distinct values of the counted field: exact up
// to collisions of 32-bit hashes, see below); time_since_last ((now -
// latest event time)/unit). A feature with no events is null (NaN), except
// count and sum, which are 0.
//
// Profile attributes keep their latest value by event time (ties: the
// latest arrival), from the listed types; strings, numbers and bools are
// kept, null and arrays ignored. Consent is granted per channel unless the
// latest consent event of that channel has granted == false.
//
// # Lateness and the time of queries
//
// An event more than the allowed lateness behind the watermark given to
// Update is Late: counted, and it changes nothing. Every other event
// updates state exactly, wherever it falls in time. Updates drop the
// buckets and sessions that no query as of lo = watermark - lateness or
// later can see, so Vector and View are exact for any now >= lo of the
// latest Update (a task's clock never goes behind its watermark, and an
// accepted event's time is at least lo).
//
// # Encoding
//
// A customer is a fixed-size entry (no Go pointers: the collector never
// scans them) in a slice, found through an open-addressing table of entry
// indexes keyed by a hash of the id, and a record in a per-store byte
// arena: the id, then one length-prefixed section per feature and one for
// the profile. A section lists only non-empty groups (buckets, sessions or
// the lifetime cell) with varint, delta-coded keys, and per group only the
// fields its aggregation needs (a varint count, float64 sums, times as
// varints relative to the group). Distinct keeps per group the sorted set
// of 32-bit FNV-1a hashes of the values: the count is exact unless two
// values collide, with probability about k²/2^33 for k values (1e-4 for
// 1,000 values), and then one low. An update rewrites only the sections
// of the features that read the event; a record that outgrows its slot
// moves to the end of the arena, and the arena is compacted when more
// than half of it is garbage. AppendCustomer writes the same sections
// after a version byte, a fingerprint of the definitions and the latest
// event time.
//
// # Eviction
//
// Evict drops customers whose latest event is older than now - Horizon,
// the longest finite window plus the lateness (30 days plus the lateness
// if all windows are lifetime). Their lifetime state (time_since_last,
// lifetime aggregates, profile, consent) is lost with them: a customer
// idle for longer than the horizon comes back empty.
package features
