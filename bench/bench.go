package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/internal/broker"
	"github.com/meridian/meridian/operators"
	"github.com/meridian/meridian/pipeline"
)

// Config sizes a benchmark run. Zero fields take the defaults of Full or,
// with Quick, of the quick run.
type Config struct {
	App         *config.Config
	Quick       bool
	CoreEvents  int
	E2EEvents   int
	LatencyRate int
	LatencyFor  time.Duration
	// StateCustomers is how many customers state_bytes_per_customer fills.
	StateCustomers int
	Logger         *slog.Logger
}

func (c Config) withDefaults() Config {
	core, e2e, lat := 1_000_000, 1_000_000, 30*time.Second
	if c.Quick {
		core, e2e, lat = 200_000, 200_000, 5*time.Second
	}
	if c.CoreEvents == 0 {
		c.CoreEvents = core
	}
	if c.E2EEvents == 0 {
		c.E2EEvents = e2e
	}
	if c.StateCustomers == 0 {
		// 1M in the quick run too: at fewer customers the heap difference
		// is small enough for GC noise to swamp it (100k read 38 B/customer).
		c.StateCustomers = 1_000_000
	}
	if c.LatencyRate == 0 {
		c.LatencyRate = 20_000
	}
	if c.LatencyFor == 0 {
		c.LatencyFor = lat
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Result holds the figures of ../shared/BENCHMARK.md, with the sizes that
// produced them.
type Result struct {
	CoreEventsPerSecPerCore float64 `json:"core_events_per_sec_per_core"`
	CoreAllocsPerEvent      float64 `json:"core_allocs_per_event"`
	E2EEventsPerSec         float64 `json:"e2e_events_per_sec"`
	KafkaFloorEventsPerSec  float64 `json:"kafka_floor_events_per_sec"`
	E2EVsFloor              float64 `json:"e2e_vs_floor"`
	LatencyP50Ms            float64 `json:"latency_p50_ms"`
	LatencyP99Ms            float64 `json:"latency_p99_ms"`
	LatencyP999Ms           float64 `json:"latency_p999_ms"`
	StateBytesPerCustomer   float64 `json:"state_bytes_per_customer"`
	StateCustomers          int     `json:"state_customers"`
	RestoreSeconds          float64 `json:"restore_seconds"`
	RestoredCustomers       int     `json:"restored_customers"`
	DecideAPIP50Ms          float64 `json:"decide_api_p50_ms"`
	DecideAPIP99Ms          float64 `json:"decide_api_p99_ms"`
	DecideAPIPerSec         float64 `json:"decide_api_requests_per_sec"`
	DecideAPIWorkers        int     `json:"decide_api_concurrency"`
	DecideAPIErrors         int     `json:"decide_api_errors"`
	LatencySamples          int     `json:"latency_samples"`
	CoreEvents              int     `json:"core_events"`
	E2EEvents               int     `json:"e2e_events"`
	LatencyRate             int     `json:"latency_offered_events_per_sec"`
	LatencySeconds          float64 `json:"latency_seconds"`
	Quick                   bool    `json:"quick"`
	GoMaxProcs              int     `json:"gomaxprocs"`
}

// Run measures every figure in turn.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg = cfg.withDefaults()
	r := Result{CoreEvents: cfg.CoreEvents, E2EEvents: cfg.E2EEvents, LatencyRate: cfg.LatencyRate,
		LatencySeconds: cfg.LatencyFor.Seconds(), Quick: cfg.Quick, GoMaxProcs: runtime.GOMAXPROCS(0)}
	var err error
	// First, on a heap nothing else has used: the other phases leave
	// embedded brokers whose memory is released asynchronously, which
	// would be counted against the store (a run read 68 bytes instead of
	// ~163).
	cfg.Logger.Info("bench: state bytes per customer", "customers", cfg.StateCustomers)
	if r.StateBytesPerCustomer, r.StateCustomers, err = RunStateBytes(cfg.App, cfg.StateCustomers); err != nil {
		return r, err
	}
	cfg.Logger.Info("bench: core (decode, features, decide, encode; GOMAXPROCS=1)", "events", cfg.CoreEvents)
	if r.CoreEventsPerSecPerCore, r.CoreAllocsPerEvent, err = RunCore(cfg.App, cfg.CoreEvents); err != nil {
		return r, err
	}
	cfg.Logger.Info("bench: end to end and Kafka floor", "events", cfg.E2EEvents)
	if r.E2EEventsPerSec, r.KafkaFloorEventsPerSec, err = RunE2E(ctx, cfg.App, cfg.E2EEvents); err != nil {
		return r, err
	}
	r.E2EVsFloor = r.E2EEventsPerSec / r.KafkaFloorEventsPerSec
	cfg.Logger.Info("bench: latency at a fixed offered load", "rate", cfg.LatencyRate, "for", cfg.LatencyFor)
	lat, err := RunLatency(ctx, cfg.App, cfg.LatencyRate, cfg.LatencyFor)
	if err != nil {
		return r, err
	}
	r.LatencySamples = len(lat)
	cfg.Logger.Info("bench: restore from the changelog", "customers", cfg.StateCustomers)
	if r.RestoreSeconds, r.RestoredCustomers, err = RunRestore(ctx, cfg.App, cfg.StateCustomers); err != nil {
		return r, err
	}
	r.LatencyP50Ms, r.LatencyP99Ms, r.LatencyP999Ms = quantileMs(lat, 0.5), quantileMs(lat, 0.99), quantileMs(lat, 0.999)
	apiFor := 20 * time.Second
	if cfg.Quick {
		apiFor = 5 * time.Second
	}
	r.DecideAPIWorkers = 16
	cfg.Logger.Info("bench: POST /v1/decide under concurrent load", "clients", r.DecideAPIWorkers, "for", apiFor)
	da, err := RunDecideAPI(ctx, cfg.App, 100_000, r.DecideAPIWorkers, apiFor)
	if err != nil {
		return r, err
	}
	r.DecideAPIP50Ms, r.DecideAPIP99Ms, r.DecideAPIPerSec, r.DecideAPIErrors = da.P50Ms, da.P99Ms, da.PerSec, da.Errors
	return r, nil
}

// genConfigOf maps the application config onto the generator's.
func genConfigOf(app *config.Config) GenConfig {
	g := GenConfig{Seed: app.Generator.Seed, Customers: app.Generator.Customers}
	if in := app.Topics.Inputs; len(in) >= 3 {
		g.Topics = GenTopics{Clickstream: in[0], BSS: in[1], Outcomes: in[2]}
	}
	return g
}

// generate returns n W1 records in memory, a millisecond of virtual time apart
// per 20 records.
func generate(app *config.Config, n int) []Record {
	g := NewGenerator(genConfigOf(app))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]Record, n)
	for i := range out {
		var r Record
		g.Next(start.Add(time.Duration(i)*50*time.Microsecond), &r)
		out[i] = Record{Topic: r.Topic, Key: append([]byte(nil), r.Key...), Value: append([]byte(nil), r.Value...), TS: r.TS}
	}
	return out
}

// RunCore measures the per-event steps on records already in memory, on one
// core after a warm-up: events per second and heap allocations per event.
// The first half of the records warms the feature store up (customers
// arrive, buffers grow); the second half is measured. W1 keeps bringing new
// customers, whose first event interns their id: that cost is in the figure.
func RunCore(app *config.Config, n int) (eventsPerSec, allocsPerEvent float64, err error) {
	proc, err := newProcessor(app)
	if err != nil {
		return 0, 0, err
	}
	recs := generate(app, 2*n)
	disorder := int64(app.EventTime.AllowedDisorder)
	maxTS := int64(math.MinInt64)
	var out operators.Output
	pass := func(rs []Record) {
		for i := range rs {
			wm := maxTS - disorder
			if maxTS == math.MinInt64 {
				wm = math.MinInt64
			}
			out.Reset()
			if err := proc.Process(rs[i].Key, rs[i].Value, wm, &out); err == nil {
				maxTS = max(maxTS, proc.Event().TS)
			}
		}
	}
	pass(recs[:n])
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	pass(recs[n:])
	el := time.Since(start)
	runtime.ReadMemStats(&after)
	return float64(n) / el.Seconds(), float64(after.Mallocs-before.Mallocs) / float64(n), nil
}

// newProcessor is one task's per-event steps on the application config.
func newProcessor(app *config.Config) (*operators.Processor, error) {
	env, err := pipeline.NewEnv(app, nil)
	if err != nil {
		return nil, err
	}
	return operators.NewProcessor(&env.Env, nil), nil
}

// RunE2E produces n W1 records to a fresh embedded broker, then times a
// plain franz-go consumer group reading them (the floor) and the pipeline
// consuming them and producing its actions.
func RunE2E(ctx context.Context, app *config.Config, n int) (e2e, floor float64, err error) {
	b, err := startBroker(ctx, app)
	if err != nil {
		return 0, 0, err
	}
	defer b.Close()
	if err := produceAll(ctx, b.Addrs(), generate(app, n)); err != nil {
		return 0, 0, err
	}
	if floor, err = consumeFloor(ctx, b.Addrs(), app.Topics.Inputs, n); err != nil {
		return 0, 0, err
	}
	cfg := *app
	cfg.Group = "bench-e2e"
	p, err := pipeline.New(&cfg, pipeline.Options{Brokers: b.Addrs()})
	if err != nil {
		return 0, 0, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- p.Run(runCtx) }()
	for p.Stats().Events < uint64(n) {
		select {
		case err := <-done:
			cancel()
			return 0, 0, fmt.Errorf("pipeline stopped early: %v", err)
		case <-ctx.Done():
			cancel()
			return 0, 0, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	el := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		return 0, 0, err
	}
	return float64(n) / el.Seconds(), floor, nil
}

func startBroker(ctx context.Context, app *config.Config) (*broker.Broker, error) {
	topics := append(append([]string{}, app.Topics.Inputs...), app.Topics.Actions, app.Topics.DeadLetter)
	return broker.Start(ctx, broker.Config{Topics: topics, Partitions: app.Topics.Partitions})
}

func produceAll(ctx context.Context, brokers []string, recs []Record) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(5*time.Millisecond),
		kgo.MaxBufferedRecords(100_000))
	if err != nil {
		return err
	}
	defer cl.Close()
	var (
		mu    sync.Mutex
		first error
	)
	for i := range recs {
		cl.Produce(ctx, &kgo.Record{Topic: recs[i].Topic, Key: recs[i].Key, Value: recs[i].Value},
			func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			})
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	return first
}

func consumeFloor(ctx context.Context, brokers, topics []string, n int) (float64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup("bench-floor"),
		kgo.ConsumeTopics(topics...), kgo.Balancers(kgo.RangeBalancer()),
		kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	start := time.Now()
	got := 0
	for got < n {
		fs := cl.PollRecords(ctx, 10_000)
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		got += fs.NumRecords()
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// RunLatency offers W1 at rate events/s for d to a fresh embedded broker with
// the pipeline running, and returns, for every action, the time from its
// trigger event's produce call to the action's arrival at a consumer.
func RunLatency(ctx context.Context, app *config.Config, rate int, d time.Duration) ([]time.Duration, error) {
	b, err := startBroker(ctx, app)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	cfg := *app
	cfg.Group = "bench-latency"
	p, err := pipeline.New(&cfg, pipeline.Options{Brokers: b.Addrs()})
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	sent := &sentTimes{at: make(map[string]time.Time)}
	lat := make(chan []time.Duration, 1)
	consumerCtx, stopConsumer := context.WithCancel(ctx)
	go func() { lat <- consumeActions(consumerCtx, b.Addrs(), app.Topics.Actions, sent) }()
	err = offerLoad(ctx, b.Addrs(), app, rate, d, sent)
	time.Sleep(time.Second) // let the last actions arrive
	stopConsumer()
	samples := <-lat
	cancel()
	if rerr := <-done; err == nil {
		err = rerr
	}
	return samples, err
}

// sentTimes maps trigger event ids to their produce time.
type sentTimes struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (s *sentTimes) put(id string, t time.Time) {
	s.mu.Lock()
	s.at[id] = t
	s.mu.Unlock()
}

func (s *sentTimes) get(id string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.at[id]
	return t, ok
}

func offerLoad(ctx context.Context, brokers []string, app *config.Config, rate int, d time.Duration, sent *sentTimes) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	g := NewGenerator(genConfigOf(app))
	var (
		dec  operators.Decoder
		ev   event.Event
		rec  Record
		n    int
		tick = time.NewTicker(5 * time.Millisecond)
	)
	defer tick.Stop()
	start := time.Now()
	for now := start; now.Sub(start) < d; now = <-tick.C {
		due := int(now.Sub(start).Seconds() * float64(rate))
		for ; n < due; n++ {
			g.Next(now, &rec)
			key, val := append([]byte(nil), rec.Key...), append([]byte(nil), rec.Value...)
			// Every event is timed; an action names the event that triggered
			// it (journey timers name none and are not timed).
			if dec.Decode(key, val, &ev) == nil {
				sent.put(string(ev.EventID), time.Now())
			}
			cl.Produce(ctx, &kgo.Record{Topic: rec.Topic, Key: key, Value: val}, nil)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return cl.Flush(ctx)
}

func consumeActions(ctx context.Context, brokers []string, topic string, sent *sentTimes) []time.Duration {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		return nil
	}
	defer cl.Close()
	var out []time.Duration
	var a struct {
		Trigger struct {
			EventID string `json:"event_id"`
		} `json:"trigger"`
	}
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		arrived := time.Now()
		fs.EachRecord(func(r *kgo.Record) {
			if json.Unmarshal(r.Value, &a) != nil {
				return
			}
			if t, ok := sent.get(a.Trigger.EventID); ok {
				out = append(out, arrived.Sub(t))
			}
		})
	}
	return out
}

// quantileMs returns the q-quantile of ds in milliseconds (exact, from all
// samples; nearest rank).
func quantileMs(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s))+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i]) / float64(time.Millisecond)
}
