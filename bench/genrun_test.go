package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func genFile(t *testing.T, run GenRun) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := RunGenToFile(context.Background(), run, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if lines := int64(bytes.Count(buf.Bytes(), []byte("\n"))); lines != n {
		t.Fatalf("returned %d, wrote %d lines", n, lines)
	}
	return buf.Bytes()
}

func TestRunGenToFile(t *testing.T) {
	run := GenRun{Gen: GenConfig{Seed: 3}, Count: 20_000}
	a, b := genFile(t, run), genFile(t, run)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different files")
	}
	if n := bytes.Count(a, []byte("\n")); n != 20_000 {
		t.Fatalf("%d lines, want 20000", n)
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(a, []byte("\n")), []byte("\n")) {
		if !json.Valid(line) {
			t.Fatalf("line %d is not JSON: %s", i, line)
		}
	}
	run.Gen.Seed = 4
	if bytes.Equal(a, genFile(t, run)) {
		t.Fatal("different seeds gave the same file")
	}
}

func TestRunGenToFileStops(t *testing.T) {
	// 2 s of virtual time at 1000/s.
	if n := bytes.Count(genFile(t, GenRun{Duration: 2 * time.Second}), []byte("\n")); n != 2000 {
		t.Fatalf("duration run wrote %d lines, want 2000", n)
	}
	// The virtual clock starts at Start and advances 1/rate per record.
	start := time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC)
	out := genFile(t, GenRun{Rate: 10, Count: 50, Start: start})
	var r Record
	g := NewGenerator(GenConfig{})
	for i := range 50 {
		g.Next(start.Add(time.Duration(i)*100*time.Millisecond), &r)
	}
	if !bytes.HasSuffix(out, append(r.Value, '\n')) {
		t.Fatal("file mode does not use virtual time Start + i/rate")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := RunGenToFile(ctx, GenRun{}, &bytes.Buffer{}); n != 0 || err != nil {
		t.Fatalf("cancelled run: n=%d err=%v", n, err)
	}
}

var genTopics = []string{"clickstream", "bss", "outcomes"}

func newFakeCluster(t *testing.T) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(12, genTopics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func newClient(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// consumeAll reads want records back and checks keys against customer_id.
func consumeAll(t *testing.T, addrs []string, want int) {
	t.Helper()
	cl := newClient(t, kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(genTopics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := 0
	for got < want && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			var e struct {
				CustomerID string `json:"customer_id"`
			}
			if err := json.Unmarshal(r.Value, &e); err != nil || e.CustomerID != string(r.Key) {
				t.Errorf("record key %q, customer_id %q, err %v", r.Key, e.CustomerID, err)
			}
			got++
		})
	}
	if got != want {
		t.Fatalf("consumed %d records, want %d", got, want)
	}
}

func TestRunGenToKafka(t *testing.T) {
	addrs := newFakeCluster(t)
	cl := newClient(t, kgo.SeedBrokers(addrs...))
	n, err := RunGenToKafka(context.Background(), GenRun{Gen: GenConfig{Seed: 1}, Count: 5000}, cl)
	if err != nil || n != 5000 {
		t.Fatalf("produced %d, err %v; want 5000", n, err)
	}
	consumeAll(t, addrs, 5000)
}

func TestRunGenToKafkaPaced(t *testing.T) {
	addrs := newFakeCluster(t)
	cl := newClient(t, kgo.SeedBrokers(addrs...))
	n, err := RunGenToKafka(context.Background(), GenRun{Gen: GenConfig{Seed: 2}, Rate: 20_000, Count: 1000}, cl)
	if err != nil || n != 1000 {
		t.Fatalf("produced %d, err %v; want 1000", n, err)
	}
	// A duration run stops by itself; how many it produced depends on the machine.
	n, err = RunGenToKafka(context.Background(), GenRun{Rate: 1000, Duration: 100 * time.Millisecond}, cl)
	if err != nil {
		t.Fatalf("duration run produced %d, err %v", n, err)
	}
	consumeAll(t, addrs, 1000+int(n))
}

func TestRunGenToKafkaError(t *testing.T) {
	addrs := newFakeCluster(t)
	// An unknown topic fails the produce once the client gives up on it.
	cl := newClient(t, kgo.SeedBrokers(addrs...), kgo.RecordRetries(1),
		kgo.UnknownTopicRetries(1), kgo.RecordDeliveryTimeout(2*time.Second))
	run := GenRun{Gen: GenConfig{Topics: GenTopics{Clickstream: "missing", BSS: "missing"}}, Count: 100}
	if _, err := RunGenToKafka(context.Background(), run, cl); err == nil {
		t.Fatal("want a produce error for a missing topic")
	}
}

func TestRunGenToKafkaCancel(t *testing.T) {
	addrs := newFakeCluster(t)
	cl := newClient(t, kgo.SeedBrokers(addrs...))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	n, err := RunGenToKafka(ctx, GenRun{Rate: 2000}, cl)
	if err != nil {
		t.Fatalf("cancelled run: n=%d err=%v", n, err)
	}
}

// TestRunGenToKafkaObserved checks that observed actions come back as
// outcome events on the outcomes topic, carrying their decision ids.
func TestRunGenToKafkaObserved(t *testing.T) {
	addrs := newFakeCluster(t)
	cl := newClient(t, kgo.SeedBrokers(addrs...))
	obs := make(chan ObservedAction, 200)
	for i := 0; i < 200; i++ {
		obs <- ObservedAction{CustomerID: fmt.Sprintf("c-%d", i), DecisionID: fmt.Sprintf("d-%016x", i),
			ActionID: "a", Channel: "sms"}
	}
	if _, err := RunGenToKafka(context.Background(), GenRun{Gen: GenConfig{Seed: 3}, Count: 3000, Observed: obs}, cl); err != nil {
		t.Fatal(err)
	}
	rd := newClient(t, kgo.SeedBrokers(addrs...), kgo.ConsumeTopics("outcomes"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	delivered := map[string]bool{}
	for len(delivered) < 150 && ctx.Err() == nil {
		rd.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var e struct {
				Type  string `json:"type"`
				Attrs struct {
					DecisionID string `json:"decision_id"`
				} `json:"attrs"`
			}
			if json.Unmarshal(r.Value, &e) == nil && e.Type == "action_delivered" {
				delivered[e.Attrs.DecisionID] = true
			}
		})
	}
	// 95% of observed actions are delivered: about 190 of 200.
	if len(delivered) < 150 {
		t.Fatalf("%d of 200 observed actions came back as action_delivered", len(delivered))
	}
}
