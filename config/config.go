// Package config defines Meridian's YAML configuration, its defaults and its
// validation. Load refuses unknown keys and wrong types with the file, the
// line and what to write instead.
package config

import "time"

// Config is the whole configuration of one Meridian instance.
type Config struct {
	// Brokers are the Kafka bootstrap servers. Empty means "embedded":
	// allowed for `meridian dev`, refused by `meridian run`.
	Brokers []string `yaml:"brokers"`
	// ClientID is the Kafka client id, shown in broker logs and quotas.
	ClientID string `yaml:"client_id"`
	// Group is the consumer group shared by all instances of one pipeline.
	Group     string    `yaml:"group"`
	Kafka     Kafka     `yaml:"kafka"`
	Topics    Topics    `yaml:"topics"`
	EventTime EventTime `yaml:"event_time"`
	Pipeline  Pipeline  `yaml:"pipeline"`
	State     State     `yaml:"state"`
	HTTP      HTTP      `yaml:"http"`
	Features  []Feature `yaml:"features"`
	Profile   Profile   `yaml:"profile"`
	Generator Generator `yaml:"generator"`
	// Reference declares the reference tables decisions look rows up in,
	// and ReferenceCache bounds the rows kept in memory (config/refdata.go).
	Reference      []RefTable `yaml:"reference"`
	ReferenceCache RefCache   `yaml:"reference_cache"`
	// Journeys are the declarative journeys (see config/journeys.go).
	Journeys      []Journey     `yaml:"journeys"`
	JourneyLimits JourneyLimits `yaml:"journey_limits"`
	// Decide is next-best-action decisioning (config/decide.go).
	Decide    Decide    `yaml:"decide"`
	Analytics Analytics `yaml:"analytics"`

	// source is the file the configuration was parsed from, and pos the
	// line and column of every value it set, by key path ("topics.partitions",
	// "decide.actions[2].channel"), so Validate can point at the file.
	source string
	pos    map[string]position
}

// Kafka holds client security settings. Secrets may be written as
// ${ENV_VAR}; Load expands them and refuses unset variables.
type Kafka struct {
	SASL SASL `yaml:"sasl"`
	TLS  bool `yaml:"tls"`
}

// SASL selects a SASL mechanism: "", "plain", "scram-sha-256" or "scram-sha-512".
type SASL struct {
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	Password  string `yaml:"password"`
}

// Topics names the topics Meridian reads and writes.
type Topics struct {
	Inputs     []string `yaml:"inputs"`
	Actions    string   `yaml:"actions"`
	DeadLetter string   `yaml:"dead_letter"`
	// Changelog is the compacted topic tasks checkpoint customer state to.
	// Default: GROUP.changelog, so two pipelines never share one.
	Changelog string `yaml:"changelog"`
	// Learning is the compacted topic every task publishes what its
	// adaptive models learned to, and every instance reads, so learning
	// from one partition reaches all tasks. Default: GROUP.learning.
	Learning string `yaml:"learning"`
	// Partitions is used only when Meridian creates topics (`meridian dev`).
	Partitions int32 `yaml:"partitions"`
}

// EventTime configures the per-partition watermark.
type EventTime struct {
	// AllowedDisorder is subtracted from the highest event time seen to
	// give the watermark.
	AllowedDisorder time.Duration `yaml:"allowed_disorder"`
	// IdleAfter is how long a partition may see no records before the wall
	// clock advances its watermark.
	IdleAfter time.Duration `yaml:"idle_after"`
	// AllowedLateness is how far behind the watermark an event may be and
	// still update features; a later one is counted and changes nothing.
	AllowedLateness time.Duration `yaml:"allowed_lateness"`
}

// Pipeline tunes batching and shutdown.
type Pipeline struct {
	// MaxBatch caps the records one poll fetches and hands to the tasks.
	MaxBatch int `yaml:"max_batch"`
	// ShutdownTimeout bounds how long SIGINT/SIGTERM waits for batches in
	// flight to be produced and their offsets committed.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// SessionTimeout is how long the group waits for a silent instance (a
	// crash) before moving its partitions; it bounds failover time.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// RebalanceTimeout is how long a rebalance waits for members to rejoin.
	RebalanceTimeout time.Duration `yaml:"rebalance_timeout"`
}

// State configures durability: checkpoints to the changelog and the
// delivery guarantee.
type State struct {
	// CheckpointInterval is how often a task writes its changed customers
	// and its input offsets.
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// Delivery is at_least_once or exactly_once.
	Delivery string `yaml:"delivery"`
	// ReadyLag bounds how many input records an instance may be behind and
	// still report ready.
	ReadyLag int64 `yaml:"ready_lag"`
}

// Delivery guarantees.
const (
	AtLeastOnce = "at_least_once"
	ExactlyOnce = "exactly_once"
)

// HTTP configures the operations and API server.
type HTTP struct {
	Addr string `yaml:"addr"`
	// Advertise is the address other instances use to forward requests for
	// customers this instance owns. Default: Addr.
	Advertise string `yaml:"advertise"`
}

// Feature is one windowed feature kept per customer.
type Feature struct {
	// Name is how decisions, journeys and the customer view refer to it.
	Name string `yaml:"name"`
	// Events are the event types the feature reads.
	Events []string `yaml:"events"`
	// Where is an optional condition over the event, e.g.
	// attrs.device == "mobile" && attrs.price > 10.
	Where string `yaml:"where"`
	// Agg is count, sum, avg, min, max, first, last, distinct or
	// time_since_last.
	Agg string `yaml:"agg"`
	// Value is the expression sum, avg, min, max, first and last aggregate,
	// e.g. attrs.price * (attrs.qty ?? 1).
	Value string `yaml:"value"`
	// Of is what distinct counts: session_id, source, type or attrs.NAME.
	Of string `yaml:"of"`
	// Unit is the unit time_since_last reports in. Default 1m (minutes).
	Unit   time.Duration `yaml:"unit"`
	Window Window        `yaml:"window"`
}

// Window says which events of a customer a feature aggregates.
type Window struct {
	// Kind is sliding, tumbling, session or lifetime.
	Kind string `yaml:"kind"`
	// Size is the length of a sliding or tumbling window.
	Size time.Duration `yaml:"size"`
	// Bucket is a sliding window's granularity, at most Size/12 and
	// dividing it. Default Size/12.
	Bucket time.Duration `yaml:"bucket"`
	// Gap ends a session window after this much inactivity.
	Gap time.Duration `yaml:"gap"`
}

// Profile lists the customer attributes kept as their latest value.
type Profile struct {
	Attributes []ProfileAttr `yaml:"attributes"`
	Consent    Consent       `yaml:"consent"`
}

// ProfileAttr keeps the latest value of one attribute from the events
// that carry it.
type ProfileAttr struct {
	Name string `yaml:"name"`
	// Events are the event types that carry the attribute.
	Events []string `yaml:"events"`
	// Attr is the attrs key holding the value. Default: Name.
	Attr string `yaml:"attr"`
	// From overrides Attr for some event types, e.g. plan_changed: to.
	From map[string]string `yaml:"from"`
}

// Consent keeps per-channel consent: granted unless an Event says no.
type Consent struct {
	Event       string   `yaml:"event"`
	ChannelAttr string   `yaml:"channel_attr"`
	GrantedAttr string   `yaml:"granted_attr"`
	Channels    []string `yaml:"channels"`
}

// Generator configures the W1 workload generator (`meridian gen`, `dev`, `bench`).
type Generator struct {
	// Seed makes the generated workload reproducible.
	Seed int64 `yaml:"seed"`
	// Customers is the number of distinct customer ids (>= 1).
	Customers int `yaml:"customers"`
	// Rate is events per second; 0 means as fast as possible for `gen`.
	Rate int `yaml:"rate"`
}

// Default returns the configuration used for every key the file leaves out.
func Default() Config {
	return Config{
		ClientID: "meridian",
		Group:    "meridian",
		Topics: Topics{
			Inputs:     []string{"clickstream", "bss", "outcomes"},
			Actions:    "actions",
			DeadLetter: "meridian.dlq",
			Partitions: 12,
		},
		EventTime: EventTime{AllowedDisorder: 2 * time.Second, IdleAfter: time.Second,
			AllowedLateness: 10 * time.Minute},
		Profile: Profile{Consent: Consent{Event: "consent_changed", ChannelAttr: "channel",
			GrantedAttr: "granted", Channels: []string{"email", "sms", "push", "call_center"}}},
		Pipeline: Pipeline{MaxBatch: 10000, ShutdownTimeout: 30 * time.Second,
			SessionTimeout: 10 * time.Second, RebalanceTimeout: 30 * time.Second},
		State:     State{CheckpointInterval: 5 * time.Second, Delivery: AtLeastOnce, ReadyLag: 10000},
		HTTP:      HTTP{Addr: "127.0.0.1:8080"},
		Generator: Generator{Seed: 1, Customers: 1000000, Rate: 1000},

		ReferenceCache: RefCache{MaxCost: defaultRefMaxCost, MaxCostBytes: 64e6},
		JourneyLimits:  JourneyLimits{MaxActive: 3},
		Decide:         defaultDecide(),
		Analytics:      DefaultAnalytics(),
	}
}
