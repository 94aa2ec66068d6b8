package sinks

// The row types below are what the pipeline fills on the hot path, one
// reused value per kind. []byte fields alias buffers valid only during the
// Append call; the Batcher copies them into its column builders.

// EventRow is one input event (all of them, or the configured sample).
type EventRow struct {
	TS                                           int64 // event time, Unix ns
	CustomerID, EventID, Type, Source, SessionID []byte
	Topic                                        string
	Partition                                    int32
	Offset                                       int64
	Attrs                                        []byte // raw JSON object, may be empty
}

// Candidate is one action a decision considered.
type Candidate struct {
	ActionID          string
	Eligible          bool
	Propensity, Score float64
	// Blocked is "" or why the candidate could not be chosen: capped,
	// quiet_hours, no_consent, suppressed, ineligible.
	Blocked string
}

// DecisionRow is one decision, also one that chose nothing.
type DecisionRow struct {
	DecisionID, CustomerID      []byte
	DecidedAt                   int64  // Unix ns
	Origin                      string // event, journey or api
	TriggerType, TriggerEventID []byte
	Journey, Step, Channel      string
	ActionID                    string // "" = none
	// Reason is chosen, no_eligible_action, capped, quiet_hours,
	// no_consent, suppressed or control_arm.
	Reason                                        string
	Score, Propensity, Value, Weight, Probability float64
	Experiment, Arm, Model                        string
	Reasons                                       []string
	Candidates                                    []Candidate
	LatencyNs                                     int64
}

// ActionRow is one action sent to a channel.
type ActionRow struct {
	DecisionID, CustomerID           []byte
	ActionID, Channel                string
	Score, Propensity, Value, Weight float64
	Journey, Step, Experiment, Arm   string
	Model                            string
	DecidedAt, ExpiresAt             int64  // Unix ns
	Payload                          []byte // JSON object
}

// OutcomeRow is one outcome a channel reported for an action.
type OutcomeRow struct {
	TS                                                 int64 // Unix ns
	CustomerID, EventID, DecisionID, ActionID, Channel []byte
	// Outcome is delivered, opened, clicked, converted, dismissed or failed.
	Outcome string
	Value   float64
}

// TransitionRow is one step of a customer's journey instance.
type TransitionRow struct {
	TS                          int64 // Unix ns
	CustomerID                  []byte
	Journey, Instance, From, To string
	// Cause is the event type, "timer", "exit", "goal" or "entry".
	Cause      string
	CauseID    []byte
	DecisionID []byte
}

// DeadLetterRow is one input record that could not be processed.
type DeadLetterRow struct {
	At        int64 // wall clock, Unix ns
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Error     string
	Value     []byte // the first 4 KiB
}
