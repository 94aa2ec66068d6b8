package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/bench"
	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/pipeline"
)

func genCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gen [flags] (--out FILE | --brokers HOST:PORT,...)",
		"Generates the W1 workload of BENCHMARK.md: Zipf-distributed customers, funnel-shaped\n"+
			"sessions, BSS events, disorder and late events. Deterministic for a seed. Writes to\n"+
			"Kafka (the config's brokers, or --brokers) at --rate events/s or as fast as it can\n"+
			"(--rate 0), or to a JSON-lines file (--out; virtual time, byte-identical per seed).", stderr)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded examples/meridian.yaml)")
	out := fs.String("out", "", "write JSON lines to this file (- for stdout) instead of Kafka")
	brokers := fs.String("brokers", "", "comma-separated Kafka brokers (default: brokers of the config)")
	rate := fs.Int("rate", 0, "events per second; 0 = as fast as possible (default: generator.rate of the config, 1000 in the example)")
	count := fs.Int64("count", 0, "stop after this many events (0 = no limit)")
	duration := fs.Duration("duration", 0, "stop after this long (0 = no limit)")
	seed := fs.Int64("seed", 0, "random seed (default: generator.seed of the config)")
	customers := fs.Int("customers", 0, "number of customer ids (default: generator.customers of the config)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	run := bench.GenRun{Gen: genConfig(cfg), Rate: *rate, Count: *count, Duration: *duration}
	if !isSet(fs, "rate") {
		run.Rate = cfg.Generator.Rate
	}
	if run.Rate < 0 {
		return usagef("--rate must not be negative")
	}
	if *seed != 0 {
		run.Gen.Seed = *seed
	}
	if *customers < 0 {
		return usagef("--customers must be positive")
	}
	if *customers > 0 {
		run.Gen.Customers = *customers
	}
	if *out != "" {
		if run.Count == 0 && run.Duration == 0 {
			return usagef("writing to a file needs --count or --duration")
		}
		return genToFile(ctx, run, *out, stdout, stderr)
	}
	seeds := cfg.Brokers
	if *brokers != "" {
		seeds = strings.Split(*brokers, ",")
	}
	if len(seeds) == 0 {
		return usagef("nowhere to write: give --out FILE, --brokers HOST:PORT, or brokers in the config")
	}
	return genToKafka(ctx, cfg, run, seeds, stderr)
}

func genToFile(ctx context.Context, run bench.GenRun, path string, stdout, stderr io.Writer) error {
	w := stdout
	if path != "-" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	n, err := bench.RunGenToFile(ctx, run, bw)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	fmt.Fprintf(stderr, "wrote %d events to %s\n", n, path)
	return nil
}

// newProducer is a client for generated load: the config's security
// settings, brokers as given, and a little linger to batch.
func newProducer(cfg *config.Config, brokers []string) (*kgo.Client, []kgo.Opt, error) {
	opts, err := pipeline.KafkaOpts(cfg, brokers...)
	if err != nil {
		return nil, nil, err
	}
	cl, err := kgo.NewClient(append(opts, kgo.ProducerLinger(5*time.Millisecond))...)
	return cl, opts, err
}

func genToKafka(ctx context.Context, cfg *config.Config, run bench.GenRun, brokers []string, stderr io.Writer) error {
	cl, _, err := newProducer(cfg, brokers)
	if err != nil {
		return err
	}
	defer cl.Close()
	start := time.Now()
	n, err := bench.RunGenToKafka(ctx, run, cl)
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stderr, "produced %d events in %.1fs (%.0f/s)\n", n, secs, float64(n)/secs)
	if err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
