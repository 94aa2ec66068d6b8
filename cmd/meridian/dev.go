package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/bench"
	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/internal/broker"
	"github.com/meridian/meridian/pipeline"
)

type devFlags struct {
	config, kafkaAddr, httpAddr, dataDir string
	duration                             time.Duration
	rate                                 int
}

func devCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dev [flags]",
		"Runs Meridian on this machine with nothing else installed: an embedded Kafka broker\n"+
			"(topics created with the config's partition count), the W1 generator and the\n"+
			"pipeline. Prints a live line every second and a summary at the end. Attach any\n"+
			"Kafka client to the printed broker address, e.g.\n"+
			"  kcat -b 127.0.0.1:9092 -C -t actions", stderr)
	var f devFlags
	fs.StringVar(&f.config, "config", "", "configuration file (default: the embedded examples/meridian.yaml)")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long and exit 0 with the summary (0 = until SIGINT/SIGTERM)")
	fs.IntVar(&f.rate, "rate", 0, "generated events per second; 0 = none, only what other producers send (default: generator.rate of the config, 1000 in the example)")
	fs.StringVar(&f.kafkaAddr, "kafka-addr", "127.0.0.1:9092", "HOST:PORT where the embedded broker listens (port 0 = any free port)")
	fs.StringVar(&f.httpAddr, "http", "", "HTTP listen address (default: http.addr of the config)")
	fs.StringVar(&f.dataDir, "data-dir", "", "the broker's data dir, and the analytics files' (DIR/analytics, DIR/spool); a restart with the same dir keeps topics and offsets (default: broker in memory, analytics under meridian-data/)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(f.config)
	if err != nil {
		return err
	}
	if f.httpAddr != "" {
		cfg.HTTP.Addr = f.httpAddr
	}
	if !isSet(fs, "rate") {
		f.rate = cfg.Generator.Rate
	}
	if f.rate < 0 {
		return usagef("--rate must not be negative")
	}
	if f.duration < 0 {
		return usagef("--duration must not be negative")
	}
	return runDev(ctx, cfg, f, stdout, stderr)
}

func runDev(ctx context.Context, cfg *config.Config, f devFlags, stdout, stderr io.Writer) error {
	if len(cfg.Brokers) > 0 {
		fmt.Fprintf(stderr, "meridian dev: the config lists brokers %v; dev ignores them and uses its embedded broker\n", cfg.Brokers)
	}
	if f.dataDir != "" {
		// With a data dir, the analytics files and spool go there too (when
		// the config leaves them at their defaults), so one dir holds the run.
		def := config.DefaultAnalytics()
		if cfg.Analytics.Dir == def.Dir {
			cfg.Analytics.Dir = filepath.Join(f.dataDir, "analytics")
		}
		if cfg.Analytics.Spool.Dir == def.Spool.Dir {
			cfg.Analytics.Spool.Dir = filepath.Join(f.dataDir, "spool")
		}
	}
	topics := append(append([]string{}, cfg.Topics.Inputs...), cfg.Topics.Actions, cfg.Topics.DeadLetter)
	b, err := broker.Start(ctx, broker.Config{Addr: f.kafkaAddr, DataDir: f.dataDir,
		Topics: topics, Partitions: cfg.Topics.Partitions})
	if err != nil {
		return err
	}
	defer b.Close()
	addrs := b.Addrs()
	fmt.Fprintf(stdout, "embedded Kafka broker at %s (topics %s, %d partitions); attach with: kcat -b %s -L\n",
		strings.Join(addrs, ","), strings.Join(topics, ", "), cfg.Topics.Partitions, addrs[0])
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	log := newLogger(stderr)
	// The generator and the live line stop with the pipeline, also when it
	// fails.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	genErr := make(chan error, 1)
	start := time.Now()
	var pl *pipeline.Pipeline
	err = serve(ctx, cfg, addrs, log, func(p *pipeline.Pipeline, httpAddr string) {
		pl = p
		fmt.Fprintf(stdout, "HTTP on http://%s (/healthz /readyz /metrics /v1/customers/{id} POST /v1/decide); generator at %d events/s\n", httpAddr, f.rate)
		if f.rate > 0 {
			wg.Add(1)
			go func() { defer wg.Done(); genErr <- generate(ctx, cfg, addrs, f.rate) }()
		}
		wg.Add(1)
		go func() { defer wg.Done(); printLive(ctx, p, stdout) }()
	})
	stop()
	wg.Wait()
	if pl != nil {
		printSummary(stdout, pl.Stats(), time.Since(start))
	}
	select {
	case gerr := <-genErr:
		if gerr != nil && err == nil && ctx.Err() == nil {
			err = fmt.Errorf("generator: %w", gerr)
		}
	default:
	}
	return err
}

// printSummary prints the totals once the pipeline has drained.
func printSummary(w io.Writer, s pipeline.Stats, d time.Duration) {
	secs := d.Seconds()
	fmt.Fprintf(w, "summary: %.1fs, events %d (%.0f/s), actions %d (%.0f/s), dead letters %d, customers %d\n",
		secs, s.Events, float64(s.Events)/secs, s.Actions, float64(s.Actions)/secs, s.DeadLetters, s.Customers)
}

func printLive(ctx context.Context, p *pipeline.Pipeline, w io.Writer) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	prev, prevT, start := p.Stats(), time.Now(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			s := p.Stats()
			dt := now.Sub(prevT).Seconds()
			fmt.Fprintf(w, "%5.0fs  events/s %7.0f  actions/s %6.0f  dead letters %d  (events %d, actions %d)\n",
				now.Sub(start).Seconds(), float64(s.Events-prev.Events)/dt,
				float64(s.Actions-prev.Actions)/dt, s.DeadLetters, s.Events, s.Actions)
			prev, prevT = s, now
		}
	}
}

// generate runs the W1 generator against the brokers until ctx is done,
// playing the channels too: actions read back from the actions topic come
// back as outcome events (delivered, opened, clicked, converted).
func generate(ctx context.Context, cfg *config.Config, brokers []string, rate int) error {
	cl, opts, err := newProducer(cfg, brokers)
	if err != nil {
		return err
	}
	defer cl.Close()
	observed := make(chan bench.ObservedAction, 10_000)
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan error, 1)
	go func() { watched <- watchActions(watchCtx, opts, cfg.Topics.Actions, observed) }()
	_, err = bench.RunGenToKafka(ctx, bench.GenRun{Gen: genConfig(cfg), Rate: rate, Observed: observed}, cl)
	stopWatch()
	if werr := <-watched; err == nil {
		err = werr
	}
	return err
}

// watchActions reads new actions and offers them to the generator; when it
// falls behind, actions are skipped rather than slowing anything down.
func watchActions(ctx context.Context, opts []kgo.Opt, topic string, out chan<- bench.ObservedAction) error {
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	var a struct {
		DecisionID string `json:"decision_id"`
		CustomerID string `json:"customer_id"`
		ActionID   string `json:"action_id"`
		Channel    string `json:"channel"`
	}
	for ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if json.Unmarshal(r.Value, &a) != nil {
				return
			}
			select {
			case out <- bench.ObservedAction{CustomerID: a.CustomerID, DecisionID: a.DecisionID,
				ActionID: a.ActionID, Channel: a.Channel}:
			default:
			}
		})
	}
	return nil
}

// genConfig maps the config's generator section and input topics (in the
// order clickstream, bss, outcomes) onto the generator's.
func genConfig(cfg *config.Config) bench.GenConfig {
	g := bench.GenConfig{Seed: cfg.Generator.Seed, Customers: cfg.Generator.Customers}
	if in := cfg.Topics.Inputs; len(in) >= 3 {
		g.Topics = bench.GenTopics{Clickstream: in[0], BSS: in[1], Outcomes: in[2]}
	}
	return g
}
