package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/examples"
	"github.com/meridian/meridian/internal/broker"
	"github.com/meridian/meridian/internal/eventcases"
	"github.com/meridian/meridian/internal/testkit"
	"github.com/meridian/meridian/pipeline"
	"github.com/meridian/meridian/sinks"
)

// inputRecord is one record of the end-to-end input and what it must cause.
type inputRecord struct {
	topic string
	rec   testkit.KV
	// bad is the malformed case, or nil for a good record.
	bad *eventcases.Case
}

func exampleConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse(examples.ConfigName, examples.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// e2eStart is the event time of the first input event: a fixed noon (no
// quiet hours) ahead of the wall clock, so that an idle partition's
// wall-clock watermark neither fires journey timers nor makes an event
// late; the 400 events span under seven minutes, so no timer falls due
// either. What the pipeline decides then depends on each partition's order
// only, which the offline replay reproduces.
var e2eStart = time.Date(2030, 6, 3, 12, 0, 0, 123_000_000, time.UTC)

// buildInput interleaves good events of 40 customers with every malformed
// case, so that each bad record has good ones on both sides. A customer's
// events are all of one type, on one topic: the order between the input
// topics, which is up to the consumer, changes nothing.
func buildInput() []inputRecord {
	types := []string{"page_view", "payment_failed", "product_view", "checkout_start",
		"usage_threshold", "add_to_cart", "ticket_opened", "login"}
	var bads []eventcases.Case
	seen := map[string]bool{}
	for _, c := range eventcases.Malformed() {
		// Over kcat a nil and an empty key are the same record; keep one.
		if id := string(c.Key) + "\x00" + string(c.Value); !seen[id] {
			seen[id] = true
			bads = append(bads, c)
		}
	}
	var in []inputRecord
	base := e2eStart
	for i := 0; i < 400; i++ {
		typ := types[i%len(types)]
		cust := fmt.Sprintf("c-%d", i%40)
		ts := base.Add(time.Duration(i) * time.Second)
		tsJSON := strconv.Quote(ts.Format(time.RFC3339Nano))
		if i%5 == 0 {
			tsJSON = strconv.FormatInt(ts.UnixMilli(), 10)
		}
		topic := "clickstream"
		if typ == "payment_failed" || typ == "usage_threshold" || typ == "ticket_opened" {
			topic = "bss"
		}
		v := fmt.Sprintf(`{"event_id":"e-%d","type":%q,"customer_id":%q,"ts":%s,"source":"test",`+
			`"attrs":{"invoice_id":"inv-%d","amount":%d.5,"reason":"card_declined","cart_value":12.25,`+
			`"metric":"data","pct":90,"ticket_id":"t-%d","category":"billing"}}`, i, typ, cust, tsJSON, i, i, i)
		in = append(in, inputRecord{topic: topic, rec: testkit.KV{Key: []byte(cust), Value: []byte(v)}})
		if i%10 == 5 && i/10 < len(bads) {
			c := bads[i/10]
			in = append(in, inputRecord{topic: "clickstream", rec: testkit.KV{Key: c.Key, Value: c.Value}, bad: &c})
		}
	}
	for j := 40; j < len(bads); j++ { // more cases than slots: append the rest
		c := bads[j]
		in = append(in, inputRecord{topic: "clickstream", rec: testkit.KV{Key: c.Key, Value: c.Value}, bad: &c})
	}
	return in
}

func produceInput(t *testing.T, addr string, in []inputRecord) {
	byTopic := map[string][]testkit.KV{}
	for _, r := range in {
		byTopic[r.topic] = append(byTopic[r.topic], r.rec)
	}
	for topic, recs := range byTopic {
		testkit.KcatProduce(t, addr, topic, recs)
	}
}

// runUntil runs a pipeline until it has processed n records, then stops it
// as SIGTERM would and checks that it stopped cleanly.
func runUntil(t *testing.T, cfg *config.Config, addr string, n uint64) pipeline.Stats {
	t.Helper()
	p, err := pipeline.New(cfg, pipeline.Options{Brokers: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	testkit.WaitFor(t, 60*time.Second, func() bool { return p.Stats().Events >= n },
		func() string { return fmt.Sprintf("processed %+v of %d records", p.Stats(), n) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("pipeline did not stop cleanly: %v", err)
	}
	return p.Stats()
}

func TestEndToEndKcat(t *testing.T) {
	testkit.RequireTool(t, "kcat")
	cfg := exampleConfig(t)
	ctx := context.Background()
	b, err := broker.Start(ctx, broker.Config{Topics: []string{"clickstream", "bss", "outcomes",
		"actions", "meridian.dlq", "actions2", "dlq2"}, Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	addr := b.Addrs()[0]
	in := buildInput()
	produceInput(t, addr, in)

	wantBad := countBad(in)
	if wantBad < 20 {
		t.Fatalf("only %d malformed kinds; the contract test needs at least 20", wantBad)
	}
	// The expected actions: an offline replay of the input as it landed
	// (kcat's partitioner is not Kafka's default, so it is read back).
	want := replayInput(t, cfg, readInput(t, addr, []string{"clickstream", "bss"}, len(in)))

	cfg.Group, cfg.Topics.Partitions = "e2e-1", 4
	st := runUntil(t, cfg, addr, uint64(len(in)))
	if st.Actions != uint64(len(want)) || st.DeadLetters != uint64(wantBad) {
		t.Errorf("stats %+v, want %d actions and %d dead letters", st, len(want), wantBad)
	}
	checkCommitted(t, addr, "e2e-1", []string{"clickstream", "bss"})
	first := testkit.KcatConsume(t, addr, "actions")
	ids1 := checkActions(t, cfg, in, want, first)
	checkDeadLetters(t, addr, "meridian.dlq", in)

	// The same input again, in a second group writing elsewhere: the same decisions.
	cfg2 := *cfg
	cfg2.Group, cfg2.Topics.Actions, cfg2.Topics.DeadLetter = "e2e-2", "actions2", "dlq2"
	cfg2.Topics.Changelog = "e2e-2.changelog" // a pipeline of its own: its own state
	cfg2.Topics.Learning = "e2e-2.learning"
	runUntil(t, &cfg2, addr, uint64(len(in)))
	ids2 := checkActions(t, &cfg2, in, want, testkit.KcatConsume(t, addr, "actions2"))
	if strings.Join(ids1, ",") != strings.Join(ids2, ",") {
		t.Errorf("decision ids differ between two runs over the same input")
	}
}

// readInput reads n records of topics back from the start, to learn the
// partition and offset of each.
func readInput(t *testing.T, addr string, topics []string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n && ctx.Err() == nil {
		recs = append(recs, cl.PollFetches(ctx).Records()...)
	}
	if len(recs) != n {
		t.Fatalf("read back %d input records, want %d", len(recs), n)
	}
	return recs
}

// replayInput runs recs through pipeline.Replay and returns the actions,
// by decision id.
func replayInput(t *testing.T, cfg *config.Config, recs []*kgo.Record) map[string][]byte {
	t.Helper()
	env, err := pipeline.NewEnv(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	want := map[string][]byte{}
	pipeline.Replay(cfg, env, recs, func(_, v []byte) {
		var a struct {
			ID string `json:"decision_id"`
		}
		if err := json.Unmarshal(v, &a); err != nil || want[a.ID] != nil {
			t.Fatalf("replayed action unreadable or repeated (%v): %s", err, v)
		}
		want[a.ID] = bytes.Clone(v)
	})
	return want
}

var (
	decisionIDRe = regexp.MustCompile(`^d-[0-9a-f]{16}$`)
	timestampRe  = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// checkActions checks every action against the contract, the catalogue and
// the input, and that the actions are exactly the replay's (want, by
// decision id), byte for byte; it returns the sorted decision ids.
func checkActions(t *testing.T, cfg *config.Config, in []inputRecord, want map[string][]byte, got []testkit.KV) []string {
	t.Helper()
	catalogue := map[string]config.Action{}
	for _, a := range cfg.Decide.Actions {
		catalogue[a.ID] = a
	}
	byEvent := map[string]inputRecord{}
	for _, r := range in {
		if r.bad == nil {
			var ev struct {
				EventID string `json:"event_id"`
			}
			if err := json.Unmarshal(r.rec.Value, &ev); err != nil {
				t.Fatal(err)
			}
			byEvent[ev.EventID] = r
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d actions on the topic, want the replay's %d", len(got), len(want))
	}
	var ids []string
	seen := map[string]bool{}
	kinds := map[string]int{} // what the actions covered
	for _, kv := range got {
		a := checkActionShape(t, kv)
		if seen[a.DecisionID] {
			t.Errorf("decision %s twice", a.DecisionID)
		}
		seen[a.DecisionID] = true
		if w, ok := want[a.DecisionID]; !ok || !bytes.Equal(w, kv.Value) {
			t.Errorf("action not as replayed:\ngot  %s\nwant %s", kv.Value, w)
		}
		src, ok := byEvent[a.Trigger.EventID]
		if !ok {
			t.Fatalf("action for unknown trigger %q", a.Trigger.EventID)
		}
		cat, ok := catalogue[a.ActionID]
		if !ok || a.Channel != cat.Channel || a.Value != cat.Value || a.Weight != cat.Weight {
			t.Errorf("action %+v does not follow the catalogue's %+v", a, cat)
		}
		if a.Score <= 0 || a.Propensity <= 0 || a.Propensity > 1 {
			t.Errorf("action %s: score %v propensity %v", a.DecisionID, a.Score, a.Propensity)
		}
		if string(kv.Key) != a.CustomerID || string(src.rec.Key) != a.CustomerID {
			t.Errorf("key %q, customer_id %q, input key %q", kv.Key, a.CustomerID, src.rec.Key)
		}
		dec, _ := time.Parse(time.RFC3339, a.DecidedAt)
		exp, _ := time.Parse(time.RFC3339, a.ExpiresAt)
		trig, _ := time.Parse(time.RFC3339, a.Trigger.TS)
		if exp.Sub(dec) != cat.TTL || !dec.Equal(trig) {
			t.Errorf("decided %v, expires %v, trigger %v: want expiry after the action's ttl %v, decided at the trigger's time",
				dec, exp, trig, cat.TTL)
		}
		if (a.Model == nil) != (cat.Model == "") || (a.Model != nil && !strings.HasPrefix(*a.Model, cat.Model+"@") && *a.Model != cat.Model) {
			t.Errorf("action %s model %v, catalogue %q", a.ActionID, a.Model, cat.Model)
		}
		if a.Journey != nil {
			kinds["journey"]++
			if a.Journey.ID != "payment_recovery" || a.Journey.Step == nil || *a.Journey.Step != "selfservice_link" || a.Trigger.Type != "payment_failed" {
				t.Errorf("journey action %s: %s, trigger %s", a.ActionID, kv.Value, a.Trigger.Type)
			}
		}
		if a.Model != nil {
			kinds["model"]++
		}
		kinds[a.ActionID]++
		if a.ActionID == "payment_selfservice_sms" {
			link, _ := a.Payload["link"].(string)
			if !strings.Contains(link, "c="+a.CustomerID) || !strings.Contains(link, "inv=inv-") {
				t.Errorf("payment link %q lacks the customer or invoice: %s", link, kv.Value)
			}
			if _, isNum := a.Payload["amount"].(float64); !isNum {
				t.Errorf("payload amount %v is not a number", a.Payload["amount"])
			}
		}
		ids = append(ids, a.DecisionID)
	}
	for _, k := range []string{"journey", "model", "checkout_nudge_push", "payment_selfservice_sms", "usage_upsell_email", "cart_discount_web"} {
		if kinds[k] == 0 {
			t.Errorf("no action with %s among %v: the input does not exercise it", k, kinds)
		}
	}
	t.Logf("%d actions: %v", len(got), kinds)
	sort.Strings(ids)
	return ids
}

type actionRecord struct {
	DecisionID string  `json:"decision_id"`
	CustomerID string  `json:"customer_id"`
	ActionID   string  `json:"action_id"`
	Channel    string  `json:"channel"`
	Score      float64 `json:"score"`
	Propensity float64 `json:"propensity"`
	Value      float64 `json:"value"`
	Weight     float64 `json:"weight"`
	Journey    *struct {
		ID   string  `json:"id"`
		Step *string `json:"step"`
	} `json:"journey"`
	Experiment *struct {
		ID  string `json:"id"`
		Arm string `json:"arm"`
	} `json:"experiment"`
	Model     *string        `json:"model"`
	Reasons   []string       `json:"reasons"`
	DecidedAt string         `json:"decided_at"`
	ExpiresAt string         `json:"expires_at"`
	Payload   map[string]any `json:"payload"`
	Trigger   struct {
		EventID string `json:"event_id"`
		Type    string `json:"type"`
		TS      string `json:"ts"`
	} `json:"trigger"`
}

// checkActionShape checks that every field of the contract is present with
// its type, and decodes the action.
func checkActionShape(t *testing.T, kv testkit.KV) actionRecord {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(kv.Value, &m); err != nil {
		t.Fatalf("action is not JSON: %v: %s", err, kv.Value)
	}
	// The contract: each field with its JSON kinds ("a|b": either), and
	// the fields of its objects.
	kinds := map[string]string{"decision_id": "string", "customer_id": "string", "action_id": "string",
		"channel": "string", "score": "number", "propensity": "number", "value": "number", "weight": "number",
		"journey": "object|null", "experiment": "object|null", "model": "string|null", "reasons": "array",
		"trigger": "object", "decided_at": "string", "expires_at": "string", "payload": "object"}
	objects := map[string]map[string]string{
		"journey":    {"id": "string", "step": "string|null"},
		"experiment": {"id": "string", "arm": "string"},
		"trigger":    {"event_id": "string", "type": "string", "ts": "string"},
	}
	checkKinds(t, "action", m, kinds, kv.Value)
	for k, fields := range objects {
		if o, ok := m[k].(map[string]any); ok {
			checkKinds(t, "action."+k, o, fields, kv.Value)
		}
	}
	if rs, ok := m["reasons"].([]any); ok {
		for _, r := range rs {
			if _, ok := r.(string); !ok {
				t.Errorf("a reason is %s, want string: %s", jsonKind(r), kv.Value)
			}
		}
	}
	var a actionRecord
	if err := json.Unmarshal(kv.Value, &a); err != nil {
		t.Fatal(err)
	}
	if !decisionIDRe.MatchString(a.DecisionID) {
		t.Errorf("decision_id %q", a.DecisionID)
	}
	for _, ts := range []string{a.DecidedAt, a.ExpiresAt, a.Trigger.TS} {
		if !timestampRe.MatchString(ts) {
			t.Errorf("timestamp %q is not RFC 3339 UTC with milliseconds", ts)
		}
	}
	if a.Trigger.EventID == "" || a.Trigger.Type == "" {
		t.Errorf("trigger incomplete: %+v", a.Trigger)
	}
	return a
}

// checkKinds checks that m has exactly the keys of kinds, each of one of
// its kinds.
func checkKinds(t *testing.T, what string, m map[string]any, kinds map[string]string, rec []byte) {
	t.Helper()
	for k, kind := range kinds {
		v, ok := m[k]
		if !ok {
			t.Errorf("%s lacks %q: %s", what, k, rec)
			continue
		}
		if got := jsonKind(v); !slices.Contains(strings.Split(kind, "|"), got) {
			t.Errorf("%s %q is %s, want %s: %s", what, k, got, kind, rec)
		}
	}
	if len(m) != len(kinds) {
		t.Errorf("%s has %d fields, want %d: %s", what, len(m), len(kinds), rec)
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case bool:
		return "bool"
	}
	return "?"
}

// checkDeadLetters reads the dead-letter topic with franz-go (to compare
// bytes and headers exactly) and matches it against the malformed input.
func checkDeadLetters(t *testing.T, addr, topic string, in []inputRecord) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// Some cases share a value and differ only in the key.
	id := func(k, v []byte) string { return string(k) + "\x00" + string(v) }
	want := map[string]*eventcases.Case{}
	for _, r := range in {
		if r.bad != nil {
			want[id(r.rec.Key, r.rec.Value)] = r.bad
		}
	}
	if n := countBad(in); len(want) != n {
		t.Fatalf("%d malformed records but %d distinct (key, value) pairs", n, len(want))
	}
	n := len(want)
	var got []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for len(got) < n && ctx.Err() == nil {
		got = append(got, cl.PollFetches(ctx).Records()...)
	}
	if len(got) != n {
		t.Fatalf("%d dead letters, want %d", len(got), n)
	}
	for _, r := range got {
		c, ok := want[id(r.Key, r.Value)]
		if !ok {
			t.Errorf("unexpected dead letter: key %q value %q", r.Key, r.Value)
			continue
		}
		delete(want, id(r.Key, r.Value))
		h := map[string]string{}
		for _, x := range r.Headers {
			h[x.Key] = string(x.Value)
		}
		reason := h[sinks.HeaderError]
		if !strings.Contains(reason, c.Reason) || strings.ContainsAny(reason, "\n\r") {
			t.Errorf("case %s: reason %q, want one line containing %q", c.Name, reason, c.Reason)
		}
		if string(r.Key) != string(c.Key) {
			t.Errorf("case %s: key %q, want the original %q", c.Name, r.Key, c.Key)
		}
		if h[sinks.HeaderTopic] != "clickstream" || h[sinks.HeaderPartition] == "" || h[sinks.HeaderOffset] == "" {
			t.Errorf("case %s: source headers %v", c.Name, h)
		}
	}
}

func countBad(in []inputRecord) int {
	n := 0
	for _, r := range in {
		if r.bad != nil {
			n++
		}
	}
	return n
}

// checkCommitted checks that a cleanly stopped group committed every
// partition of topics up to its end: a restart would replay nothing.
func checkCommitted(t *testing.T, addr, group string, topics []string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(end kadm.ListedOffset) {
		if end.Offset == 0 {
			return
		}
		c, ok := committed.Lookup(end.Topic, end.Partition)
		if !ok || c.At != end.Offset {
			t.Errorf("%s[%d]: committed %d, end %d", end.Topic, end.Partition, c.At, end.Offset)
		}
	})
}
