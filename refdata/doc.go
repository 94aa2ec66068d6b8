// Package refdata looks up rows of reference tables (a product catalogue,
// tariff plans, store locations) by key, for decisions that need more
// than the event and the customer's features.
//
// Tables puts one cost-bounded cache (github.com/dgraph-io/ristretto/v2)
// in front of every table's Source. A Source loads one row by key: File
// reads a CSV or JSON lines file declared in the config; a source backed
// by a database table (ClickHouse) fits the same interface. A lookup never
// fails a decision: a missing table, a missing key and a source error all
// answer "no row", and Stats counts each.
//
// The cache holds rows only while they earn their place: memory is bound
// by reference_cache.max_cost however large the tables are. It is not for
// state that must not be evicted (customer state lives in features).
package refdata
