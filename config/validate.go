package config

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// channels are the channels an action may be sent on.
var channels = []string{"email", "sms", "push", "web", "app", "call_center"}

// saslMechanisms are the accepted values of kafka.sasl.mechanism; "" means
// no SASL.
var saslMechanisms = []string{"", "plain", "scram-sha-256", "scram-sha-512"}

var eventTypeRE = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,63}$`)

// checker collects semantic errors, placing each at the value it blames
// when that value came from the file.
type checker struct {
	c    *Config
	errs Errors
}

// fail reports a problem with the value at path. A value the file did not
// set is placed at its nearest enclosing key that the file did set.
func (k *checker) fail(path, format string, args ...any) {
	e := &Error{File: k.c.source, Path: path, Msg: fmt.Sprintf(format, args...)}
	for p := path; p != ""; p = parent(p) {
		if pos, ok := k.c.pos[p]; ok {
			e.Line, e.Col = pos.line, pos.col
			break
		}
	}
	k.errs = append(k.errs, e)
}

// parent strips the last key or index: decide.actions[2].channel ->
// decide.actions[2] -> decide.actions.
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// Validate checks the values of c against each other and their ranges. Its
// errors (a *Errors) carry file:line:col for values that came from a file.
// It also fills the defaults that derive from other values: the changelog
// topic (GROUP.changelog), a sliding
// window's bucket (size/12), time_since_last's unit (1m) and a profile
// attribute's attrs key (its name).
func (c *Config) Validate() error {
	k := &checker{c: c}
	k.brokers()
	k.nonEmpty("client_id", c.ClientID)
	k.nonEmpty("group", c.Group)
	k.sasl()
	k.topics()
	k.timing()
	k.address("http.addr", c.HTTP.Addr, false)
	if c.HTTP.Advertise != "" {
		k.address("http.advertise", c.HTTP.Advertise, true)
	}
	k.state()
	k.features()
	k.profile()
	k.reference()
	k.journeys()
	k.decide()
	k.analytics()
	if c.Generator.Customers < 1 {
		k.fail("generator.customers", "generator.customers must be at least 1, got %d; write e.g. customers: 1000000", c.Generator.Customers)
	}
	if c.Generator.Rate < 0 {
		k.fail("generator.rate", "generator.rate must be 0 (as fast as possible) or more, got %d; write e.g. rate: 1000", c.Generator.Rate)
	}
	return finish(k.errs)
}

// withHint is "; " and the hint for path, or "" when there is none.
func withHint(path string) string {
	if h := hint(path); h != "" {
		return "; " + h
	}
	return ""
}

func (k *checker) nonEmpty(path, v string) bool {
	if strings.TrimSpace(v) == "" {
		k.fail(path, "%s must not be empty%s", path, withHint(path))
		return false
	}
	return true
}

func (k *checker) brokers() {
	for i, b := range k.c.Brokers {
		k.address(fmt.Sprintf("brokers[%d]", i), b, true)
	}
}

// address checks a host:port. needHost refuses an empty host (":9092").
func (k *checker) address(path, addr string, needHost bool) {
	host, port, err := net.SplitHostPort(addr)
	if err == nil {
		p, perr := strconv.ParseUint(port, 10, 16)
		switch {
		case perr != nil || (needHost && p == 0):
			err = fmt.Errorf("bad port")
		case needHost && host == "":
			err = fmt.Errorf("no host")
		}
	}
	if err != nil {
		k.fail(path, "%s: %q is not host:port; %s", path, addr, hint(path))
	}
}

func (k *checker) sasl() {
	s := k.c.Kafka.SASL
	if !slices.Contains(saslMechanisms, s.Mechanism) {
		k.fail("kafka.sasl.mechanism", "kafka.sasl.mechanism: %q is not supported; write one of plain, scram-sha-256 or scram-sha-512, or leave it out for no SASL", s.Mechanism)
		return
	}
	if s.Mechanism == "" {
		return
	}
	for _, f := range []struct{ key, v string }{{"username", s.Username}, {"password", s.Password}} {
		if f.v == "" {
			path := "kafka.sasl." + f.key
			k.fail(path, "%s is required when kafka.sasl.mechanism is set; %s", path, hint(path))
		}
	}
}

func (k *checker) topics() {
	t := k.c.Topics
	if len(t.Inputs) == 0 {
		k.fail("topics.inputs", "topics.inputs must list at least one topic; %s", hint("topics.inputs"))
	}
	seen := make(map[string]int, len(t.Inputs))
	for i, in := range t.Inputs {
		path := fmt.Sprintf("topics.inputs[%d]", i)
		if !k.nonEmpty(path, in) {
			continue
		}
		if j, dup := seen[in]; dup {
			k.fail(path, "%s: %q is already listed as topics.inputs[%d]; remove one", path, in, j)
			continue
		}
		seen[in] = i
	}
	k.outputTopic("topics.actions", t.Actions, seen)
	if k.outputTopic("topics.dead_letter", t.DeadLetter, seen) && t.DeadLetter == t.Actions {
		k.fail("topics.dead_letter", "topics.dead_letter: %q is also the actions topic; use a topic of its own, e.g. dead_letter: meridian.dlq", t.DeadLetter)
	}
	if t.Changelog == "" && k.c.Group != "" {
		k.c.Topics.Changelog = k.c.Group + ".changelog"
		t.Changelog = k.c.Topics.Changelog
	}
	if k.outputTopic("topics.changelog", t.Changelog, seen) && (t.Changelog == t.Actions || t.Changelog == t.DeadLetter) {
		k.fail("topics.changelog", "topics.changelog: %q is also an output topic; the changelog needs a compacted topic of its own, e.g. changelog: meridian.changelog", t.Changelog)
	}
	if t.Learning == "" && k.c.Group != "" {
		k.c.Topics.Learning = k.c.Group + ".learning"
		t.Learning = k.c.Topics.Learning
	}
	if k.outputTopic("topics.learning", t.Learning, seen) && (t.Learning == t.Actions || t.Learning == t.DeadLetter || t.Learning == t.Changelog) {
		k.fail("topics.learning", "topics.learning: %q is also an output topic; adaptive models need a compacted topic of their own, e.g. learning: meridian.learning", t.Learning)
	}
	if t.Partitions < 1 || t.Partitions > 10000 {
		k.fail("topics.partitions", "topics.partitions must be between 1 and 10000, got %d; write e.g. partitions: 12", t.Partitions)
	}
}

// outputTopic checks a topic Meridian writes: set, and not one it reads.
func (k *checker) outputTopic(path, topic string, inputs map[string]int) bool {
	if !k.nonEmpty(path, topic) {
		return false
	}
	if i, ok := inputs[topic]; ok {
		k.fail(path, "%s: %q is also topics.inputs[%d], so Meridian would read what it writes; %s", path, topic, i, hint(path))
		return false
	}
	return true
}

func (k *checker) timing() {
	et, p := k.c.EventTime, k.c.Pipeline
	if et.AllowedDisorder < 0 || et.AllowedDisorder > time.Hour {
		k.fail("event_time.allowed_disorder", "event_time.allowed_disorder must be between 0s and 1h, got %s; write e.g. allowed_disorder: 2s", et.AllowedDisorder)
	}
	k.positive("event_time.idle_after", et.IdleAfter)
	if p.MaxBatch < 1 || p.MaxBatch > 1_000_000 {
		k.fail("pipeline.max_batch", "pipeline.max_batch must be between 1 and 1000000, got %d; write e.g. max_batch: 10000", p.MaxBatch)
	}
	k.positive("pipeline.shutdown_timeout", p.ShutdownTimeout)
}

func (k *checker) positive(path string, d time.Duration) {
	if d <= 0 {
		k.fail(path, "%s must be greater than 0, got %s%s", path, d, withHint(path))
	}
}

func (k *checker) groupTimeouts() {
	pl := k.c.Pipeline
	if pl.SessionTimeout < time.Second || pl.SessionTimeout > 30*time.Minute {
		k.fail("pipeline.session_timeout", "pipeline.session_timeout must be between 1s and 30m, got %v; write e.g. session_timeout: 10s", pl.SessionTimeout)
	}
	if pl.RebalanceTimeout < time.Second || pl.RebalanceTimeout > 30*time.Minute {
		k.fail("pipeline.rebalance_timeout", "pipeline.rebalance_timeout must be between 1s and 30m, got %v; write e.g. rebalance_timeout: 30s", pl.RebalanceTimeout)
	}
}

func (k *checker) state() {
	k.groupTimeouts()
	s := k.c.State
	if s.CheckpointInterval < 10*time.Millisecond || s.CheckpointInterval > time.Hour {
		k.fail("state.checkpoint_interval", "state.checkpoint_interval must be between 10ms and 1h, got %v; write e.g. checkpoint_interval: 5s", s.CheckpointInterval)
	}
	if s.Delivery != AtLeastOnce && s.Delivery != ExactlyOnce {
		k.fail("state.delivery", "state.delivery: %q is not a delivery guarantee; write at_least_once or exactly_once", s.Delivery)
	}
	if s.ReadyLag < 0 {
		k.fail("state.ready_lag", "state.ready_lag must be 0 or more records, got %d; write e.g. ready_lag: 10000", s.ReadyLag)
	}
}
