package config

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// env is a fixed environment for ParseWithEnv.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// noEnv is an environment with no variables set.
var noEnv = env(nil)

// errLines returns the messages of err, one per problem.
func errLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var es *Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, not *Errors: %v", err, err)
	}
	if es.Error() != err.Error() || len(*es) == 0 {
		t.Fatalf("bad *Errors: %v", err)
	}
	out := make([]string, len(*es))
	for i, e := range *es {
		out[i] = e.Error()
	}
	return out
}

func checkErrs(t *testing.T, got error, want []string) {
	t.Helper()
	lines := errLines(t, got)
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestParseErrors covers each kind of error Parse reports, with the exact
// message, file, line and column.
func TestParseErrors(t *testing.T) {
	f := func(name, data string, want ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			t.Helper()
			cfg, err := ParseWithEnv("meridian.yaml", []byte(data), noEnv)
			if cfg != nil {
				t.Errorf("config returned with errors")
			}
			checkErrs(t, err, want)
		})
	}
	// Unknown keys.
	f("unknown key, close", "topics:\n  inputs: [a]\n  partiton: 3\n",
		`meridian.yaml:3:3: unknown key "partiton" in topics; did you mean "partitions"? valid keys: inputs, actions, dead_letter, changelog, learning, partitions`)
	f("unknown key, far", "http:\n  port: 8080\n",
		`meridian.yaml:2:3: unknown key "port" in http; valid keys: addr, advertise`)
	f("unknown key, top level", "client-id: x\n",
		`meridian.yaml:1:1: unknown key "client-id" at top level; did you mean "client_id"? valid keys: brokers, client_id, group, kafka, topics, event_time, pipeline, state, http, features, profile, generator, reference, reference_cache, journeys, journey_limits, decide, analytics`)
	f("unknown key in action", "decide:\n  actions:\n    - id: a\n      channel: sms\n      chanel: sms\n",
		`meridian.yaml:5:7: unknown key "chanel" in decide.actions[0]; did you mean "channel"? valid keys: id, channel, on, eligible, model, output, context_weight, value, weight, ttl, payload`)

	// Wrong types.
	f("string got sequence", "http:\n  addr: [127.0.0.1, 8080]\n",
		`meridian.yaml:2:9: http.addr must be a string, got a sequence; write e.g. addr: 127.0.0.1:8080`)
	f("mapping got integer", "topics: 5\n",
		`meridian.yaml:1:9: topics must be a mapping, got an integer; write e.g. topics: {partitions: 12}`)
	f("list got string", "brokers: localhost:9092\n",
		`meridian.yaml:1:10: brokers must be a list, got a string; write e.g. brokers: [localhost:9092]`)
	f("list item got mapping", "topics:\n  inputs:\n    - {name: a}\n",
		`meridian.yaml:3:7: topics.inputs[0] must be a string, got a mapping; write e.g. - clickstream`)
	f("integer", "topics:\n  partitions: twelve\n",
		`meridian.yaml:2:15: topics.partitions: "twelve" is not an integer; write e.g. partitions: 12`)
	f("integer out of range", "topics:\n  partitions: 3000000000\n",
		`meridian.yaml:2:15: topics.partitions: "3000000000" is out of range; write e.g. partitions: 12`)
	f("integer got float", "generator: {customers: 1.5}\n",
		`meridian.yaml:1:24: generator.customers: "1.5" is not an integer; write e.g. customers: 1000000`)
	f("number", "decide:\n  actions:\n    - {id: a, channel: sms, value: high}\n",
		`meridian.yaml:3:36: decide.actions[0].value: "high" is not a number; write e.g. value: 2.5`)
	f("number not finite", "decide:\n  actions:\n    - {id: a, channel: sms, weight: NaN}\n",
		`meridian.yaml:3:37: decide.actions[0].weight: "NaN" is not a number; write e.g. weight: 1.0`)
	f("bool", "kafka:\n  tls: maybe\n",
		`meridian.yaml:2:8: kafka.tls: "maybe" is not true or false; write e.g. tls: true`)
	f("duration", "event_time:\n  allowed_disorder: 2 secs\n",
		`meridian.yaml:2:21: event_time.allowed_disorder: "2 secs" is not a duration; write e.g. 2s, 500ms or 24h`)
	f("duration without unit", "pipeline:\n  shutdown_timeout: 30\n",
		`meridian.yaml:2:21: pipeline.shutdown_timeout: "30" is not a duration; write e.g. 2s, 500ms or 24h`)
	f("duration got mapping", "event_time:\n  idle_after: {s: 1}\n",
		`meridian.yaml:2:15: event_time.idle_after must be a duration, got a mapping; write e.g. idle_after: 1s`)
	f("payload value got list", "decide:\n  actions:\n    - id: a\n      channel: sms\n      payload:\n        sku: [1, 2]\n",
		`meridian.yaml:6:14: decide.actions[0].payload.sku must be a string, got a sequence; write e.g. sku: "{attrs.sku}"`)
	f("actions got mapping", "decide:\n  actions:\n    id: a\n",
		`meridian.yaml:3:5: decide.actions must be a list, got a mapping; write e.g. actions: [{id: checkout_nudge_push, channel: push, on: [checkout_start]}]`)
	f("file not a mapping", "- brokers\n",
		`meridian.yaml:1:1: the file must be a mapping, got a sequence; write e.g. brokers: [localhost:9092]`)

	// Keys and YAML structure.
	f("duplicate key", "topics:\n  partitions: 12\n  partitions: 24\n",
		`meridian.yaml:3:3: duplicate key "partitions" in topics (first at line 2); remove one`)
	f("duplicate payload key", "decide:\n  actions:\n    - id: a\n      channel: sms\n      payload: {x: a, x: b}\n",
		`meridian.yaml:5:23: duplicate key "x" in decide.actions[0].payload (first at line 5); remove one`)
	f("key not a name", "topics:\n  [a]: b\n",
		`meridian.yaml:2:3: keys in topics must be names, got a sequence; write e.g. name: value`)
	f("syntax", "topics:\n  inputs: [a\n  actions: b\n",
		`meridian.yaml:2:3: invalid YAML: did not find expected ',' or ']'; check the indentation, and quote values that contain ": " or start with {, [, *, &, !, %, @ or `+"`")
	f("tab", "http:\n\taddr: 127.0.0.1:8080\n",
		`meridian.yaml:2:1: invalid YAML: found character that cannot start any token; YAML does not allow tabs for indentation; use spaces`)
	f("bad indentation", "kafka:\n  tls: true\n sasl: {}\n",
		`meridian.yaml:3:2: invalid YAML: did not find expected key; check the indentation, and quote values that contain ": " or start with {, [, *, &, !, %, @ or `+"`")
	f("syntax in second document", "group: a\n---\ngroup: 'b\n",
		`meridian.yaml:3:1: invalid YAML: found unexpected end of stream; check the indentation, and quote values that contain ": " or start with {, [, *, &, !, %, @ or `+"`")
	f("two documents", "group: a\n---\ngroup: b\n",
		`meridian.yaml:2:1: a config file holds one YAML document; remove the second --- and what follows`)

	// Environment variables.
	f("unset variable", "kafka:\n  sasl:\n    mechanism: plain\n    username: u\n    password: ${KAFKA_PASSWORD}\n",
		`meridian.yaml:5:15: KAFKA_PASSWORD is not set; export it or write the value`)
	f("bad variable name", "group: ${1X}\n",
		`meridian.yaml:1:8: ${1X} is not a variable reference; names are letters, digits and _, e.g. ${KAFKA_PASSWORD}; write $$ for a literal $`)
	f("unterminated variable", "group: a${B\n",
		`meridian.yaml:1:8: unterminated ${ in "${B"; write ${NAME}, or $$ for a literal $`)
}

// TestValidateErrors covers each semantic check, with its position.
func TestValidateErrors(t *testing.T) {
	f := func(name, data string, want ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			t.Helper()
			_, err := ParseWithEnv("m.yaml", []byte(data), noEnv)
			checkErrs(t, err, want)
		})
	}
	f("broker", "brokers: [kafka-1:9092, kafka-2, ':9092']\n",
		`m.yaml:1:25: brokers[1]: "kafka-2" is not host:port; write e.g. - localhost:9092`,
		`m.yaml:1:34: brokers[2]: ":9092" is not host:port; write e.g. - localhost:9092`)
	f("client_id", "client_id: ''\n", `m.yaml:1:12: client_id must not be empty; write e.g. client_id: meridian`)
	f("group", "group: ' '\n", `m.yaml:1:8: group must not be empty; write e.g. group: meridian`)
	f("inputs empty", "topics:\n  inputs: []\n",
		`m.yaml:2:3: topics.inputs must list at least one topic; write e.g. inputs: [clickstream, bss, outcomes]`)
	f("inputs duplicate", "topics:\n  inputs: [a, b, a, '']\n",
		`m.yaml:2:18: topics.inputs[2]: "a" is already listed as topics.inputs[0]; remove one`,
		`m.yaml:2:21: topics.inputs[3] must not be empty; write e.g. - clickstream`)
	f("actions is input", "topics:\n  inputs: [a]\n  actions: a\n",
		`m.yaml:3:12: topics.actions: "a" is also topics.inputs[0], so Meridian would read what it writes; write e.g. actions: actions`)
	f("dead letter is input", "topics:\n  inputs: [a]\n  dead_letter: a\n",
		`m.yaml:3:16: topics.dead_letter: "a" is also topics.inputs[0], so Meridian would read what it writes; write e.g. dead_letter: meridian.dlq`)
	f("dead letter is actions", "topics:\n  dead_letter: actions\n",
		`m.yaml:2:16: topics.dead_letter: "actions" is also the actions topic; use a topic of its own, e.g. dead_letter: meridian.dlq`)
	f("topic empty", "topics:\n  actions: ''\n", `m.yaml:2:12: topics.actions must not be empty; write e.g. actions: actions`)
	f("partitions", "topics:\n  partitions: 10001\n",
		`m.yaml:2:15: topics.partitions must be between 1 and 10000, got 10001; write e.g. partitions: 12`)
	f("allowed_disorder", "event_time:\n  allowed_disorder: -1s\n",
		`m.yaml:2:21: event_time.allowed_disorder must be between 0s and 1h, got -1s; write e.g. allowed_disorder: 2s`)
	f("allowed_disorder days", "event_time:\n  allowed_disorder: 1d\n",
		`m.yaml:2:21: event_time.allowed_disorder must be between 0s and 1h, got 24h0m0s; write e.g. allowed_disorder: 2s`)
	f("idle_after", "event_time:\n  idle_after: 0s\n",
		`m.yaml:2:15: event_time.idle_after must be greater than 0, got 0s; write e.g. idle_after: 1s`)
	f("max_batch", "pipeline:\n  max_batch: 1_000_001\n",
		`m.yaml:2:14: pipeline.max_batch must be between 1 and 1000000, got 1000001; write e.g. max_batch: 10000`)
	f("shutdown_timeout", "pipeline:\n  shutdown_timeout: 0s\n",
		`m.yaml:2:21: pipeline.shutdown_timeout must be greater than 0, got 0s; write e.g. shutdown_timeout: 30s`)
	f("http addr", "http:\n  addr: 8080\n",
		`m.yaml:2:9: http.addr: "8080" is not host:port; write e.g. addr: 127.0.0.1:8080`)
	f("sasl mechanism", "kafka:\n  sasl: {mechanism: SCRAM}\n",
		`m.yaml:2:21: kafka.sasl.mechanism: "SCRAM" is not supported; write one of plain, scram-sha-256 or scram-sha-512, or leave it out for no SASL`)
	f("sasl credentials", "kafka:\n  sasl:\n    mechanism: scram-sha-512\n",
		`m.yaml:2:3: kafka.sasl.username is required when kafka.sasl.mechanism is set; write e.g. username: meridian`,
		`m.yaml:2:3: kafka.sasl.password is required when kafka.sasl.mechanism is set; write e.g. password: ${KAFKA_PASSWORD}`)
	f("generator", "generator:\n  customers: 0\n  rate: -1\n",
		`m.yaml:2:14: generator.customers must be at least 1, got 0; write e.g. customers: 1000000`,
		`m.yaml:3:9: generator.rate must be 0 (as fast as possible) or more, got -1; write e.g. rate: 1000`)
}

// TestAllErrorsAtOnce checks that parse and validation errors are reported
// together, in file order, without repeats for values that did not decode.
func TestAllErrorsAtOnce(t *testing.T) {
	_, err := Load("testdata/bad_many.yaml")
	checkErrs(t, err, []string{
		`testdata/bad_many.yaml:2:25: brokers[1]: "kafka-2" is not host:port; write e.g. - localhost:9092`,
		`testdata/bad_many.yaml:3:12: client_id must not be empty; write e.g. client_id: meridian`,
		`testdata/bad_many.yaml:5:30: topics.inputs[2]: "clickstream" is already listed as topics.inputs[0]; remove one`,
		`testdata/bad_many.yaml:6:12: topics.actions: "clickstream" is also topics.inputs[0], so Meridian would read what it writes; write e.g. actions: actions`,
		`testdata/bad_many.yaml:7:3: unknown key "partiton" in topics; did you mean "partitions"? valid keys: inputs, actions, dead_letter, changelog, learning, partitions`,
		`testdata/bad_many.yaml:9:21: event_time.allowed_disorder: "2 secs" is not a duration; write e.g. 2s, 500ms or 24h`,
		`testdata/bad_many.yaml:10:15: event_time.idle_after must be greater than 0, got 0s; write e.g. idle_after: 1s`,
		`testdata/bad_many.yaml:12:9: http.addr must be a string, got a sequence; write e.g. addr: 127.0.0.1:8080`,
		`testdata/bad_many.yaml:15:16: kafka.sasl.mechanism: "scram" is not supported; write one of plain, scram-sha-256 or scram-sha-512, or leave it out for no SASL`,
		`testdata/bad_many.yaml:16:15: KAFKA_PASSWORD is not set; export it or write the value`,
		`testdata/bad_many.yaml:22:14: decide.actions[0].value: "lots" is not a number; write e.g. value: 2.5`,
		`testdata/bad_many.yaml:24:15: decide.actions[0].payload.link must be a string, got a sequence; write e.g. link: "{attrs.sku}"`,
		`testdata/bad_many.yaml:25:7: decide.actions[1].channel must not be empty; write one of email, sms, push, web, app, call_center`,
		`testdata/bad_many.yaml:25:11: decide.actions[1].id: "pay" is already the id of decide.actions[0]; action ids must be unique`,
		`testdata/bad_many.yaml:26:12: decide.actions[1].on[0]: "Payment-Failed" is not an event type (a lower-case letter, then up to 63 of a-z, 0-9, _ and .); write e.g. on: [checkout_start]`,
		`testdata/bad_many.yaml:27:12: decide.actions[1].ttl: "1 day" is not a duration; write e.g. 2s, 500ms or 24h`,
		`testdata/bad_many.yaml:28:7: unknown key "chanel" in decide.actions[1]; did you mean "channel"? valid keys: id, channel, on, eligible, model, output, context_weight, value, weight, ttl, payload`,
		`testdata/bad_many.yaml:30:14: generator.customers must be at least 1, got 0; write e.g. customers: 1000000`,
	})
}

// TestTestdata loads the other bad files in testdata.
func TestTestdata(t *testing.T) {
	f := func(file string, want ...string) {
		t.Helper()
		_, err := Load("testdata/" + file)
		checkErrs(t, err, want)
	}
	f("bad_duplicate.yaml",
		`testdata/bad_duplicate.yaml:4:3: duplicate key "partitions" in topics (first at line 2); remove one`)
	f("bad_syntax.yaml",
		`testdata/bad_syntax.yaml:2:3: invalid YAML: did not find expected ',' or ']'; check the indentation, and quote values that contain ": " or start with {, [, *, &, !, %, @ or `+"`")
	f("bad_tabs.yaml",
		`testdata/bad_tabs.yaml:2:1: invalid YAML: found character that cannot start any token; YAML does not allow tabs for indentation; use spaces`)
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such-file.yaml")
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "testdata/no-such-file.yaml") {
		t.Fatalf("err = %v", err)
	}
}

func TestEnvExpansion(t *testing.T) {
	f := func(value string, vars map[string]string, want string) {
		t.Helper()
		cfg, err := ParseWithEnv("m.yaml", []byte("client_id: "+value+"\n"), env(vars))
		if err != nil {
			t.Fatalf("%s: %v", value, err)
		}
		if cfg.ClientID != want {
			t.Errorf("%s: client_id = %q, want %q", value, cfg.ClientID, want)
		}
	}
	f("${ID}", map[string]string{"ID": "m-1"}, "m-1")
	f("'pre-${ID}-${N}'", map[string]string{"ID": "m", "N": "2"}, "pre-m-2")
	f("a$$b", nil, "a$b")
	f("'$$${ID}'", map[string]string{"ID": "x"}, "$x")
	f("a$b", nil, "a$b")
	f("cost$", nil, "cost$")
	f("'${ID}$'", map[string]string{"ID": "x"}, "x$")
	f("x${EMPTY}y", map[string]string{"EMPTY": ""}, "xy")
	f("'${A}'", map[string]string{"A": "${B}"}, "${B}") // not expanded twice

	// Variables in typed values, and in secrets.
	data := "topics:\n  partitions: ${P}\nkafka:\n  tls: ${TLS}\n  sasl:\n    mechanism: plain\n    username: ${USER}\n    password: ${KAFKA_PASSWORD}\n"
	cfg, err := ParseWithEnv("m.yaml", []byte(data), env(map[string]string{
		"P": "6", "TLS": "true", "USER": "svc", "KAFKA_PASSWORD": "s3cr$t"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Topics.Partitions != 6 || !cfg.Kafka.TLS || cfg.Kafka.SASL.Username != "svc" || cfg.Kafka.SASL.Password != "s3cr$t" {
		t.Errorf("got %+v %+v", cfg.Topics, cfg.Kafka)
	}

	// Every unset variable is reported, and Parse reads the real environment.
	_, err = ParseWithEnv("m.yaml", []byte("group: ${A}-${B}\n"), noEnv)
	checkErrs(t, err, []string{
		"m.yaml:1:8: A is not set; export it or write the value",
		"m.yaml:1:8: B is not set; export it or write the value",
	})
	t.Setenv("MERIDIAN_TEST_GROUP", "from-env")
	if cfg, err := Parse("m.yaml", []byte("group: ${MERIDIAN_TEST_GROUP}\n")); err != nil || cfg.Group != "from-env" {
		t.Errorf("Parse: %v, %v", cfg, err)
	}
}

// TestDefaults checks that keys left out, or left empty, keep their
// defaults, and that lists replace default lists.
func TestDefaults(t *testing.T) {
	for _, data := range []string{"", "---\n", "# nothing\n", "topics:\nkafka: ~\n"} {
		cfg, err := ParseWithEnv("m.yaml", []byte(data), noEnv)
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		want := derivedDefault()
		if !reflect.DeepEqual(withoutPos(cfg), want) {
			t.Errorf("%q: got %+v, want defaults", data, cfg)
		}
		if cfg.Source() != "m.yaml" {
			t.Errorf("Source() = %q", cfg.Source())
		}
	}

	data := "topics:\n  inputs: [events]\n  partitions:\nevent_time:\n  idle_after: 5s\ndecide:\n  actions:\n    - {id: a, channel: sms}\n    - {id: b, channel: sms, on: [e], weight: 2, ttl: 7d}\n"
	cfg, err := ParseWithEnv("m.yaml", []byte(data), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := derivedDefault()
	want.Topics.Inputs = []string{"events"}
	want.EventTime.IdleAfter = 5 * time.Second
	want.Decide.Actions = []Action{
		{ID: "a", Channel: "sms", Weight: 1, TTL: 24 * time.Hour},
		{ID: "b", Channel: "sms", On: []string{"e"}, Weight: 2, TTL: 7 * 24 * time.Hour},
	}
	if got := withoutPos(cfg); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}

// withoutPos returns the exported part of cfg, for comparison with Default.
func withoutPos(cfg *Config) Config {
	c := *cfg
	c.source, c.pos = "", nil
	return c
}

func TestDurations(t *testing.T) {
	f := func(s string, want time.Duration) {
		t.Helper()
		cfg, err := ParseWithEnv("m.yaml", []byte("pipeline:\n  shutdown_timeout: "+s+"\n"), noEnv)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if got := cfg.Pipeline.ShutdownTimeout; got != want {
			t.Errorf("%s = %v, want %v", s, got, want)
		}
	}
	f("500ms", 500*time.Millisecond)
	f("2s", 2*time.Second)
	f("1h30m", 90*time.Minute)
	f("24h", 24*time.Hour)
	f("7d", 7*24*time.Hour)
	f("1d12h", 36*time.Hour)
	f("1.5d", 36*time.Hour)
	f("+2d", 48*time.Hour)
	f("'1d'", 24*time.Hour)

	for _, bad := range []string{"2", "2 secs", "d", "1d-2h", "1dd", "1e9d", "-", "1y"} {
		_, err := parseDuration(bad)
		if err == nil {
			t.Errorf("parseDuration(%q) succeeded", bad)
		}
	}
	if d, err := parseDuration("-1d"); err != nil || d != -24*time.Hour {
		t.Errorf("-1d = %v, %v", d, err)
	}
}

// TestAliasesAndMerge checks that anchors, aliases and << merge keys work,
// with written keys overriding merged ones.
func TestAliasesAndMerge(t *testing.T) {
	data := `decide:
  actions:
    - &sms
      id: a
      channel: sms
      on: [payment_failed]
      payload: &p {amount: "{attrs.amount}"}
    - <<: *sms
      id: b
      value: 2
      payload: *p
`
	cfg, err := ParseWithEnv("m.yaml", []byte(data), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Decide.Actions[1]
	if b.ID != "b" || !reflect.DeepEqual(b.On, []string{"payment_failed"}) || b.Channel != "sms" || b.Value != 2 || b.Payload["amount"] != "{attrs.amount}" {
		t.Errorf("merged action = %+v", b)
	}
	_, err = ParseWithEnv("m.yaml", []byte("topics:\n  <<: [1]\n"), noEnv)
	checkErrs(t, err, []string{`m.yaml:2:8: << in topics must merge a mapping, got an integer; write e.g. <<: *defaults`})
}

// TestExample checks that the example used by `meridian dev`, the generator
// and the benchmark loads, validates and says what the docs say.
func TestExample(t *testing.T) {
	cfg, err := Load("../examples/meridian.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Brokers) != 0 || cfg.HTTP.Addr != "127.0.0.1:8080" || cfg.Generator != (Generator{Seed: 1, Customers: 1000000, Rate: 1000}) {
		t.Errorf("example = %+v", cfg)
	}
	d := derivedDefault()
	if !reflect.DeepEqual(cfg.Topics, d.Topics) || cfg.EventTime != d.EventTime || cfg.Pipeline != d.Pipeline {
		t.Errorf("example topics, event_time or pipeline differ from the defaults")
	}
	// The actions that open a decision on an event (docs/decisioning.md).
	type on struct {
		channel, model string
		on             []string
		value          float64
		ttl            time.Duration
	}
	wantOn := map[string]on{
		"cart_discount_web":           {"web", "adaptive", []string{"add_to_cart", "product_view"}, 1.2, 2 * time.Hour},
		"checkout_nudge_push":         {"push", "", []string{"checkout_start"}, 1.5, time.Hour},
		"checkout_help_web":           {"web", "adaptive", []string{"checkout_start"}, 1, time.Hour},
		"browse_recommendation_email": {"email", "adaptive", []string{"product_view"}, 0.8, 48 * time.Hour},
		"browse_banner_web":           {"web", "adaptive", []string{"product_view"}, 0.5, 30 * time.Minute},
		"app_install_banner_web":      {"web", "adaptive", []string{"login"}, 0.4, 30 * time.Minute},
		"payment_reminder_push":       {"push", "", []string{"invoice_issued"}, 1, 72 * time.Hour},
		"usage_upsell_email":          {"email", "", []string{"usage_threshold"}, 2, 72 * time.Hour},
		"usage_upsell_app":            {"app", "adaptive", []string{"usage_threshold"}, 2, 72 * time.Hour},
		"kyc_complete_app":            {"app", "", []string{"account_opened"}, 0.5, 168 * time.Hour},
		"welcome_email":               {"email", "", []string{"kyc_verified"}, 1, 168 * time.Hour},
	}
	actions := map[string]Action{}
	for _, a := range cfg.Decide.Actions {
		actions[a.ID] = a
		if len(a.On) == 0 {
			continue
		}
		w, ok := wantOn[a.ID]
		if !ok {
			t.Errorf("action %s opens on %v, not listed here", a.ID, a.On)
			continue
		}
		if a.Channel != w.channel || a.Model != w.model || !reflect.DeepEqual(a.On, w.on) || a.Value != w.value || a.TTL != w.ttl {
			t.Errorf("action %s = %+v", a.ID, a)
		}
		delete(wantOn, a.ID)
	}
	for id := range wantOn {
		t.Errorf("action %s is missing or has no on", id)
	}
	if a := actions["payment_selfservice_sms"]; a.Channel != "sms" || a.Weight != 1 || a.TTL != 24*time.Hour ||
		a.Payload["link"] != "https://pay.example.com/self-service?c={customer_id}&inv={attrs.invoice_id}" {
		t.Errorf("payment_selfservice_sms = %+v", a)
	}
	// The journeys, their triggers and first steps.
	type journey struct {
		trigger string
		steps   []string
	}
	wantJ := map[string]journey{
		"cart_abandonment": {"add_to_cart", []string{"wait_30m", "reminder", "wait_24h", "offer"}},
		"payment_recovery": {"payment_failed", []string{"selfservice_link", "wait_48h", "callback"}},
		"onboarding":       {"account_opened", []string{"wait_kyc", "kyc_reminder", "wait_reminded"}},
	}
	if len(cfg.Journeys) != len(wantJ) {
		t.Errorf("%d journeys, want %d", len(cfg.Journeys), len(wantJ))
	}
	for _, j := range cfg.Journeys {
		var steps []string
		for _, st := range j.Steps {
			steps = append(steps, st.ID)
		}
		if w := wantJ[j.ID]; j.Trigger.Event != w.trigger || !reflect.DeepEqual(steps, w.steps) {
			t.Errorf("journey %s: trigger %s, steps %v", j.ID, j.Trigger.Event, steps)
		}
		for _, st := range j.Steps {
			for _, a := range append(slices.Clone(st.Decide.Actions), st.Send) {
				if _, ok := actions[a]; a != "" && !ok {
					t.Errorf("journey %s step %s names %q, not in decide.actions", j.ID, st.ID, a)
				}
			}
		}
	}
	if st := cfg.Journeys[0].Steps; st[0].Wait.For != 30*time.Minute {
		t.Errorf("cart_abandonment waits %v, want 30m", st[0].Wait.For)
	}
	if st := cfg.Journeys[1].Steps; st[0].Send != "payment_selfservice_sms" || st[1].Wait.For != 48*time.Hour || st[2].Send != "payment_callback" {
		t.Errorf("payment_recovery steps = %+v", st)
	}
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
}

// TestValidateInCode checks Validate on configs built in code: no
// positions, and the defaults are valid.
func TestValidateInCode(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c.Topics.Partitions = 0
	c.Decide.Actions = []Action{{ID: "a", Channel: "sms", Value: -1, TTL: -time.Hour}}
	checkErrs(t, c.Validate(), []string{
		"topics.partitions must be between 1 and 10000, got 0; write e.g. partitions: 12",
		"decide.actions[0].value must be 0 or more, got -1; write e.g. value: 2.5",
		"decide.actions[0].ttl must be greater than 0, got -1h0m0s; write e.g. ttl: 24h",
	})
}

func TestRedacted(t *testing.T) {
	cfg, err := ParseWithEnv("m.yaml", []byte("kafka:\n  sasl: {mechanism: plain, username: u, password: '${PW}'}\n"),
		env(map[string]string{"PW": "hunter2"}))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Redacted()
	if r.Kafka.SASL.Password != "***" || r.Kafka.SASL.Username != "u" || r.Source() != "m.yaml" {
		t.Errorf("redacted sasl = %+v", r.Kafka.SASL)
	}
	r.Brokers = append(r.Brokers[:0], "changed:9092")
	r.Topics.Inputs[0] = "changed"
	if cfg.Kafka.SASL.Password != "hunter2" || len(cfg.Brokers) != 0 || cfg.Topics.Inputs[0] != "clickstream" {
		t.Errorf("Redacted shares state with the original")
	}
	if d := Default(); d.Redacted().Kafka.SASL.Password != "" {
		t.Errorf("an empty password is redacted")
	}
}

func TestClosest(t *testing.T) {
	f := func(s, want string) {
		t.Helper()
		if got := closest(s, []string{"inputs", "actions", "dead_letter", "partitions", "id", "client_id"}); got != want {
			t.Errorf("closest(%q) = %q, want %q", s, got, want)
		}
	}
	f("partiton", "partitions")
	f("Partitions", "partitions")
	f("deadLetter", "dead_letter")
	f("input", "inputs")
	f("clientid", "client_id")
	f("x", "")
	f("zzzzzz", "")
}

// FuzzParse checks that no input makes Parse panic, and that every error
// from a file has a position.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"../examples/meridian.yaml", "testdata/bad_many.yaml", "testdata/bad_duplicate.yaml", "testdata/bad_syntax.yaml", "testdata/bad_tabs.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{"", "a: &a [*a]", "topics: {<<: {partitions: 3}}", "decide: {actions: [{ttl: 1d, payload: {a: '{attrs.x}'}}]}", "group: ${X}$$${Y", "x: !!binary aGk="} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseWithEnv("f.yaml", data, env(map[string]string{"X": "1"}))
		if err == nil {
			if cfg == nil || cfg.Validate() != nil {
				t.Fatalf("accepted config is nil or invalid")
			}
			return
		}
		for _, e := range errLines(t, err) {
			if !strings.HasPrefix(e, "f.yaml:") || strings.HasPrefix(e, "f.yaml:0:") {
				t.Fatalf("error without a position: %q", e)
			}
		}
	})
}

// derivedDefault is Default with the values Validate derives from others.
func derivedDefault() Config {
	d := Default()
	d.Topics.Changelog = d.Group + ".changelog"
	d.Topics.Learning = d.Group + ".learning"
	return d
}
