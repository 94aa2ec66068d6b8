package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/bench"
	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/features"
	"github.com/meridian/meridian/internal/broker"
	"github.com/meridian/meridian/internal/testkit"
	"github.com/meridian/meridian/operators"
	"github.com/meridian/meridian/pipeline"
)

// cluster is several `meridian run` processes in one group over an embedded
// broker that lives in the test process, so that killing an instance
// loses nothing but that instance.
type cluster struct {
	t        *testing.T
	b        *broker.Broker
	addr     string
	cfgPath  string
	cfg      *config.Config
	dir      string
	mu       sync.Mutex
	procs    map[int]*exec.Cmd
	ports    map[int]int
	delivery string
}

func newCluster(t *testing.T, delivery string) *cluster {
	t.Helper()
	b, err := broker.Start(context.Background(), broker.Config{Partitions: 12,
		Topics: []string{"events", "actions", "meridian.dlq"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	c := &cluster{t: t, b: b, addr: b.Addrs()[0], dir: t.TempDir(), procs: map[int]*exec.Cmd{},
		ports: map[int]int{}, delivery: delivery}
	example, err := os.ReadFile("../../examples/meridian.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yaml := string(example)
	for old, repl := range map[string]string{
		"brokers: []": fmt.Sprintf("brokers: [%q]", c.addr),
		// One input topic: a partition's order is then the order the load
		// produced it in (ordering across topics is up to the consumer),
		// so the offline replay gives exactly the live decisions.
		"inputs: [clickstream, bss, outcomes]": "inputs: [events]",
		"checkpoint_interval: 5s":              "checkpoint_interval: 200ms",
		"delivery: at_least_once":              "delivery: " + delivery,
		"shutdown_timeout: 30s":                "shutdown_timeout: 10s",
	} {
		if !strings.Contains(yaml, old) {
			t.Fatalf("examples/meridian.yaml no longer contains %q", old)
		}
		yaml = strings.Replace(yaml, old, repl, 1)
	}
	// The model and reference files the config names, beside it.
	if err := os.CopyFS(c.dir, os.DirFS("../../examples")); err != nil {
		t.Fatal(err)
	}
	c.cfgPath = filepath.Join(c.dir, "meridian.yaml")
	if err := os.WriteFile(c.cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if c.cfg, err = config.Load(c.cfgPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, p := range c.procs {
			p.Process.Kill()
			p.Wait()
		}
		if t.Failed() || os.Getenv("MERIDIAN_TEST_LOGS") != "" {
			logs, _ := filepath.Glob(filepath.Join(c.dir, "instance-*.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				t.Logf("%s (last 6000 bytes):\n%s", filepath.Base(l), b[max(0, len(b)-6000):])
			}
		}
	})
	return c
}

// start runs instance i on its own fixed port (kept across restarts, as a
// restarted pod keeps its address) and waits for /healthz.
func (c *cluster) start(i int) {
	c.t.Helper()
	c.mu.Lock()
	if c.ports[i] == 0 {
		c.ports[i] = freePort(c.t)
	}
	port := c.ports[i]
	c.mu.Unlock()
	logf, err := os.OpenFile(filepath.Join(c.dir, fmt.Sprintf("instance-%d.log", i)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(meridianBinary(c.t), "run", "--config", c.cfgPath, "--http", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Dir = c.dir // analytics files go under ./meridian-data
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.procs[i] = cmd
	c.mu.Unlock()
	testkit.WaitFor(c.t, 30*time.Second, func() bool {
		code, _ := httpGet(c.t, c.url(i, "/healthz"))
		return code == 200
	}, func() string { return fmt.Sprintf("instance %d never answered /healthz; see %s", i, c.dir) })
}

func (c *cluster) url(i int, path string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("http://127.0.0.1:%d%s", c.ports[i], path)
}

// waitOwning waits until each instance owns partitions (the group settled).
func (c *cluster) waitOwning(instances ...int) {
	c.t.Helper()
	testkit.WaitFor(c.t, 90*time.Second, func() bool {
		for _, i := range instances {
			_, body := httpGet(c.t, c.url(i, "/metrics"))
			if !regexp.MustCompile(`(?m)^meridian_tasks [1-9]`).Match(body) {
				return false
			}
		}
		return true
	}, func() string {
		return fmt.Sprintf("instances %v never all owned partitions; logs in %s", instances, c.dir)
	})
}

// kill stops instance i with SIGKILL: no checkpoint, no commit, no goodbye.
func (c *cluster) kill(i int) {
	c.mu.Lock()
	p := c.procs[i]
	delete(c.procs, i)
	c.mu.Unlock()
	p.Process.Signal(syscall.SIGKILL)
	p.Wait()
}

// stop stops instance i with SIGTERM and expects a clean exit.
func (c *cluster) stop(i int) {
	c.t.Helper()
	c.mu.Lock()
	p := c.procs[i]
	delete(c.procs, i)
	c.mu.Unlock()
	p.Process.Signal(syscall.SIGTERM)
	if err := p.Wait(); err != nil {
		c.t.Errorf("instance %d did not stop cleanly: %v (see %s)", i, err, c.dir)
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// load produces W1 to the input topic at rate events/s for d of wall
// time (customers drawn from a small population so that they build real
// state), and returns the event-time span it covered. Event time starts
// at the wall clock and runs speed times faster: ahead of the wall clock,
// an idle partition's watermark never moves by it, and with speed > 1
// journey timers (cart_abandonment waits 30 minutes) fall due during the
// run.
func (c *cluster) load(rate int, d time.Duration, speed int) time.Duration {
	c.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addr))
	if err != nil {
		c.t.Fatal(err)
	}
	defer cl.Close()
	topic := c.cfg.Topics.Inputs[0]
	g := bench.NewGenerator(bench.GenConfig{Seed: 7, Customers: 3000,
		Topics: bench.GenTopics{Clickstream: topic, BSS: topic, Outcomes: topic}})
	var mu sync.Mutex
	var produceErr error
	ctx := context.Background()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start, sent := time.Now(), 0
	var el time.Duration
	for el = time.Since(start); el < d; el = time.Since(start) {
		virtual := start.Add(el * time.Duration(speed))
		for due := int(el.Seconds() * float64(rate)); sent < due; sent++ {
			var r bench.Record
			g.Next(virtual, &r)
			cl.Produce(ctx, &kgo.Record{Topic: r.Topic, Key: bytes.Clone(r.Key), Value: bytes.Clone(r.Value)},
				func(_ *kgo.Record, err error) {
					mu.Lock()
					defer mu.Unlock()
					if err != nil && produceErr == nil {
						produceErr = err
					}
				})
		}
		<-tick.C
	}
	if err := cl.Flush(ctx); err != nil {
		c.t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if produceErr != nil {
		c.t.Fatal(produceErr)
	}
	return el * time.Duration(speed)
}

// waitDrained waits until the group has committed every input record and
// every running instance reports ready.
func (c *cluster) waitDrained(instances ...int) {
	c.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addr))
	if err != nil {
		c.t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var lag int64
	testkit.WaitFor(c.t, 90*time.Second, func() bool {
		l, err := adm.Lag(context.Background(), c.cfg.Group)
		g, ok := l[c.cfg.Group]
		if err != nil || !ok || g.Error() != nil {
			return false
		}
		lag = g.Lag.Total()
		if lag != 0 {
			return false
		}
		for _, i := range instances {
			if code, _ := httpGet(c.t, c.url(i, "/readyz")); code != 200 {
				return false
			}
		}
		return true
	}, func() string { return fmt.Sprintf("group lag %d; logs in %s", lag, c.dir) })
}

// inputLog reads every input record, in offset order per partition.
func (c *cluster) inputLog() []*kgo.Record {
	c.t.Helper()
	return readAll(c.t, c.addr, false, c.cfg.Topics.Inputs...)
}

func readAll(t *testing.T, addr string, committed bool, topics ...string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	list := adm.ListEndOffsets
	if committed {
		list = adm.ListCommittedOffsets
	}
	ends, err := list(context.Background(), topics...)
	cl.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			if want[o.Topic] == nil {
				want[o.Topic] = map[int32]int64{}
			}
			want[o.Topic][o.Partition] = o.Offset
		}
	})
	opts := []kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100 * time.Millisecond)}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	}
	rd, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var out []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(want) > 0 && ctx.Err() == nil {
		rd.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
			if end, ok := want[r.Topic][r.Partition]; ok && r.Offset+1 >= end {
				delete(want[r.Topic], r.Partition)
				if len(want[r.Topic]) == 0 {
					delete(want, r.Topic)
				}
			}
		})
	}
	if len(want) > 0 {
		t.Fatalf("could not read %v to their end", want)
	}
	return out
}

// checkDecisions compares the actions topic with the decisions an offline
// replay of the input log gives (pipeline.Replay, the backtest): none
// missing, none unexpected, every copy byte-identical, and with once set,
// each exactly once. That covers the journeys' timers: none lost, none
// fired twice or at another point of the input. It returns how many of
// the expected decisions came from a journey step after a wait (a timer).
func (c *cluster) checkDecisions(log []*kgo.Record, once bool) (timers int) {
	c.t.Helper()
	env, err := pipeline.NewEnv(c.cfg, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	defer env.Close()
	want := map[string][]byte{}
	journeys := 0
	pipeline.Replay(c.cfg, env, log, func(_, act []byte) {
		id := string(act[len(`{"decision_id":"`):][:operators.DecisionIDLen])
		if prev, ok := want[id]; ok {
			c.t.Errorf("decision %s twice in the replay:\n%s\n%s", id, prev, act)
		}
		want[id] = bytes.Clone(act)
		var a struct {
			Journey *struct{ ID, Step string } `json:"journey"`
		}
		if err := json.Unmarshal(act, &a); err != nil {
			c.t.Fatalf("replayed action is not JSON: %v: %s", err, act)
		}
		if a.Journey != nil {
			journeys++
			if a.Journey.Step != "selfservice_link" { // the one step that follows no wait
				timers++
			}
		}
	})
	got := map[string]int{}
	dups := 0
	for _, r := range readAll(c.t, c.addr, once, c.cfg.Topics.Actions) {
		id := string(r.Value[len(`{"decision_id":"`):][:operators.DecisionIDLen])
		if !bytes.Equal(want[id], r.Value) {
			c.t.Errorf("action %s differs from the decision the input implies:\n got %s\nwant %s", id, r.Value, want[id])
		}
		got[id]++
		if got[id] > 1 {
			dups++
		}
	}
	missing := 0
	for id := range want {
		if got[id] == 0 {
			missing++
		}
	}
	c.t.Logf("%d decisions expected (%d by journeys, %d after a timer), %d on the topic, %d duplicate copies",
		len(want), journeys, timers, len(got), dups)
	if missing > 0 {
		c.t.Errorf("%d of %d decisions are missing from the actions topic", missing, len(want))
	}
	if once && dups > 0 {
		c.t.Errorf("exactly_once: %d decisions appear more than once to a read_committed consumer", dups)
	}
	if len(want) < 50 {
		c.t.Errorf("only %d decisions: the load is too small to test anything", len(want))
	}
	return timers
}

// checkFeatures compares the customer view of customers (read through
// instance i, which forwards to the owner) with a brute-force
// recomputation from the input log.
func (c *cluster) checkFeatures(log []*kgo.Record, i int) {
	c.t.Helper()
	set, err := features.NewSet(c.cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	events := map[string][]*event.Event{}
	var dec operators.Decoder
	for _, r := range log {
		ev := new(event.Event)
		if dec.Decode(r.Key, r.Value, ev) == nil {
			events[string(ev.CustomerID)] = append(events[string(ev.CustomerID)], cloneEvent(ev))
		}
	}
	ids := make([]string, 0, len(events))
	for id := range events {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool { return len(events[ids[a]]) > len(events[ids[b]]) })
	sample := append([]string{}, ids[:min(25, len(ids))]...)
	for k := 25; k < len(ids) && len(sample) < 60; k += len(ids) / 35 {
		sample = append(sample, ids[k])
	}
	for _, id := range sample {
		// Brute force: the customer's whole log into a fresh store, nothing
		// late (W1's disorder is within the lateness). A customer with no
		// event a feature reads has no state, and must be a 404.
		st := features.NewStore(set)
		for _, ev := range events[id] {
			st.Update(ev, math.MinInt64)
		}
		_, hasState := st.Vector([]byte(id), 0, nil)
		code, body := c.customerView(i, id)
		switch {
		case !hasState && code == 404:
			continue
		case !hasState || code != 200:
			c.t.Errorf("customer %s (partition %d, state expected: %v): %d %s; held by instances %v", id,
				pipeline.PartitionOf([]byte(id), int(c.cfg.Topics.Partitions)), hasState, code, body, c.holders(id))
			continue
		}
		var v view
		if err := json.Unmarshal(body, &v); err != nil {
			c.t.Fatal(err)
		}
		want, _ := st.Vector([]byte(id), v.AsOf.UnixNano(), nil)
		for k, name := range set.Names() {
			got := v.Features[name]
			switch {
			case math.IsNaN(want[k]) && got == nil:
			case got == nil || math.Abs(*got-want[k]) > 1e-9*math.Max(1, math.Abs(want[k])):
				c.t.Errorf("customer %s feature %s = %v, brute force %v", id, name, deref(got), want[k])
			}
		}
	}
}

// customerView reads a customer's view through instance i; 502 and 503
// mean "the group is moving, retry", as a client would.
func (c *cluster) customerView(i int, id string) (int, []byte) {
	var code int
	var body []byte
	for try := 0; try < 50; try++ {
		if code, body = httpGet(c.t, c.url(i, "/v1/customers/"+id)); code != 502 && code != 503 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return code, body
}

// holders asks every running instance for the customer as a forwarded
// request, so that each answers only for itself, and lists which hold it.
func (c *cluster) holders(id string) []string {
	c.mu.Lock()
	ports := make(map[int]int, len(c.procs))
	for i := range c.procs {
		ports[i] = c.ports[i]
	}
	c.mu.Unlock()
	var out []string
	for i, port := range ports {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/v1/customers/%s", port, id), nil)
		req.Header.Set("X-Meridian-Forwarded", "1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out = append(out, fmt.Sprintf("%d:%d:%.60s", i, resp.StatusCode, b))
	}
	return out
}

func cloneEvent(e *event.Event) *event.Event {
	c := &event.Event{EventID: bytes.Clone(e.EventID), Type: bytes.Clone(e.Type), CustomerID: bytes.Clone(e.CustomerID),
		TS: e.TS, Source: bytes.Clone(e.Source), SessionID: bytes.Clone(e.SessionID)}
	for _, a := range e.Attrs {
		a.Key, a.Str = bytes.Clone(a.Key), bytes.Clone(a.Str)
		c.Attrs = append(c.Attrs, a)
	}
	return c
}

// crashTest runs three instances under W1 load, kills instance 0 with
// SIGKILL three times and restarts it, then checks decisions and features.
// Event time runs 300 times faster than the wall clock (an hour in 12 s),
// so that journey timers fire throughout, across the crashes.
func crashTest(t *testing.T, delivery string) {
	c := newCluster(t, delivery)
	for i := 0; i < 3; i++ {
		c.start(i)
	}
	c.waitOwning(0, 1, 2)
	done := make(chan struct{})
	go func() { defer close(done); c.load(2000, 12*time.Second, 300) }()
	for k := 0; k < 3; k++ {
		time.Sleep(time.Second)
		c.kill(0)
		time.Sleep(500 * time.Millisecond)
		c.start(0)
		c.waitOwning(0, 1, 2)
	}
	<-done
	c.waitDrained(0, 1, 2)
	log := c.inputLog()
	if timers := c.checkDecisions(log, delivery == config.ExactlyOnce); timers == 0 {
		t.Error("no journey timer fired: the test does not check that none is lost or fired twice")
	}
	c.checkFeatures(log, 1)
	for i := 0; i < 3; i++ {
		c.stop(i)
	}
}

func TestCrashAtLeastOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three instances under load for about 20 s")
	}
	crashTest(t, config.AtLeastOnce)
}

func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three instances under load for about 20 s")
	}
	crashTest(t, config.ExactlyOnce)
}

// TestRebalanceUnderLoad: a fourth instance joins three under load and
// leaves again; no event is lost and features stay exact.
func TestRebalanceUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four instances under load")
	}
	c := newCluster(t, config.AtLeastOnce)
	for i := 0; i < 3; i++ {
		c.start(i)
	}
	c.waitOwning(0, 1, 2)
	done := make(chan struct{})
	go func() { defer close(done); c.load(2000, 8*time.Second, 1) }()
	time.Sleep(time.Second)
	c.start(3)
	c.waitOwning(0, 1, 2, 3)
	time.Sleep(time.Second)
	c.stop(3)
	<-done
	c.waitDrained(0, 1, 2)
	log := c.inputLog()
	c.checkDecisions(log, false)
	c.checkFeatures(log, 2)
	for i := 0; i < 3; i++ {
		c.stop(i)
	}
}
