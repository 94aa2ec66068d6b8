package main

import (
	"context"
	"encoding/json"
	"io"

	"github.com/meridian/meridian/bench"
)

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench [--quick] [--config FILE]",
		"Measures the figures of BENCHMARK.md on the W1 workload and prints them as one JSON\n"+
			"line: core throughput and allocations (decode, decide, encode on one core), end-to-end\n"+
			"throughput through an embedded broker against a plain consumer's floor, and the\n"+
			"trigger-to-action latency at a fixed offered load. Progress goes to stderr.", stderr)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded examples/meridian.yaml)")
	quick := fs.Bool("quick", false, "smaller run (200k events, 5 s of latency load); under 60 s on 2 cores")
	rate := fs.Int("latency-rate", 20000, "offered load for the latency figures, events/s")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	res, err := bench.Run(ctx, bench.Config{App: cfg, Quick: *quick, LatencyRate: *rate, Logger: newLogger(stderr)})
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}
