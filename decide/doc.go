// Package decide is next-best-action decisioning: for a customer and a
// trigger it evaluates the action catalogue's eligibility rules
// (expr-lang expressions compiled once), scores the eligible actions with
// their models (XGBoost and other models.Scorer, or the adaptive
// Beta-Bernoulli bandit), ranks them by propensity x context weight x
// value x weight, applies the contact policy (consent, suppression after
// a dismissal, quiet hours in the customer's zone, frequency caps checked
// and reserved atomically) and the experiment arm, and explains the
// outcome.
//
// An Engine is the compiled configuration: immutable and shared. Each
// task goroutine decides through its own Decider, which owns the scratch
// buffers, and keeps its customers' contact history in a Contacts ledger
// that checkpoints like features.Store. docs/decisioning.md is the user's
// guide.
package decide
