package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/meridian/meridian/api"
	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/examples"
	"github.com/meridian/meridian/internal/metrics"
	"github.com/meridian/meridian/pipeline"
)

// loadConfig loads path, or the embedded example config when path is
// empty. Any problem is a usage error (exit 2).
func loadConfig(path string) (*config.Config, error) {
	cfg, err := parseConfig(path)
	if err == nil {
		err = compiles(cfg)
	}
	if err != nil {
		return nil, usageError{fmt.Errorf("invalid configuration:\n%w", err)}
	}
	return cfg, nil
}

// parseConfig reads and validates path, or the embedded example when path
// is empty or names it.
func parseConfig(path string) (*config.Config, error) {
	if path == "" || path == examples.ConfigName {
		return config.Parse(examples.ConfigName, examples.Config)
	}
	return config.Load(path)
}

// compiles checks what only compiling finds: feature and eligibility
// expressions, journey conditions, payload templates, model and reference
// files.
func compiles(cfg *config.Config) error {
	env, err := pipeline.NewEnv(cfg, nil)
	if err != nil {
		return err
	}
	env.Close()
	return nil
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run --config FILE [--http HOST:PORT]",
		"Runs the pipeline against the Kafka cluster named by the config's brokers: consumes the\n"+
			"input topics in the config's consumer group, keeps features, runs journeys, decides and\n"+
			"produces actions and dead letters, writes analytics (analytics.sink), and serves\n"+
			"/healthz, /readyz, /metrics, GET /v1/customers/{id} and POST /v1/decide.\n"+
			"SIGHUP (or POST /v1/admin/reload) reloads models, catalogue, contact policy and\n"+
			"experiments from the config file; a file that does not load is refused and the running\n"+
			"ones stay. SIGINT or SIGTERM finishes the batches in flight, commits their offsets and\n"+
			"exits 0.", stderr)
	cfgPath := fs.String("config", "", "configuration file (required)")
	httpAddr := fs.String("http", "", "HTTP listen address (default: http.addr of the config)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" {
		return usagef("--config FILE is required; start from examples/meridian.yaml")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if len(cfg.Brokers) == 0 {
		return usagef("%s: brokers is empty; list your Kafka bootstrap servers (brokers: [\"kafka-1:9092\"]), or use `meridian dev` for an embedded broker", *cfgPath)
	}
	if *httpAddr != "" {
		cfg.HTTP.Addr = *httpAddr
	}
	return serve(ctx, cfg, nil, newLogger(stderr), nil)
}

// serve runs the HTTP server and the pipeline until ctx is done. brokers
// overrides the config's (embedded broker). onStart, if set, is called once
// both are up, with the pipeline and the HTTP address.
func serve(ctx context.Context, cfg *config.Config, brokers []string, log *slog.Logger,
	onStart func(p *pipeline.Pipeline, httpAddr string)) error {
	reg := metrics.NewRegistry()
	// The server binds first, so that its real address (port 0 resolved)
	// is what the instance advertises to the others.
	srv, err := api.New(api.Config{Addr: cfg.HTTP.Addr, Registry: reg, Logger: log})
	if err != nil {
		return err
	}
	env, err := pipeline.NewEnv(cfg, nil)
	if err != nil {
		srv.Close()
		return usageError{err}
	}
	defer env.Close()
	referenceMetrics(env, reg)
	rows, err := startAnalytics(cfg, reg, log)
	if err != nil {
		srv.Close()
		return err
	}
	defer closeAnalytics(rows, log)
	p, err := pipeline.New(cfg, pipeline.Options{Logger: log, Registry: reg, Brokers: brokers,
		Advertise: cmp.Or(cfg.HTTP.Advertise, srv.Addr()), Env: env, Analytics: rows})
	if err != nil {
		srv.Close()
		return usageError{err}
	}
	reload := reloader(cfg.Source(), env, log)
	srv.Attach(p.Ready, p, p, reload)
	stopHUP := onHangup(reload, log)
	defer stopHUP()
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve() }()
	log.Info("meridian started", "http", srv.Addr(), "inputs", cfg.Topics.Inputs, "group", cfg.Group)
	if onStart != nil {
		onStart(p, srv.Addr())
	}
	runErr := p.Run(ctx)
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("HTTP shutdown", "err", err)
	}
	if err := <-httpErr; err != nil && runErr == nil {
		runErr = err
	}
	if runErr == nil {
		log.Info("meridian stopped cleanly: batches in flight finished and offsets committed")
	}
	return runErr
}

// reloader re-reads the configuration file and replaces the decisioning
// engine (models, catalogue, contact policy, experiments, reference
// tables) at once; on any error the running one stays.
func reloader(source string, env *pipeline.Env, log *slog.Logger) api.Reloader {
	return func(context.Context) (string, error) {
		cfg, err := parseConfig(source)
		if err == nil {
			var summary string
			if summary, err = env.Reload(cfg); err == nil {
				log.Info("reloaded decisioning", "config", source, "loaded", summary)
				return summary, nil
			}
		}
		log.Error("reload refused; the running models and catalogue stay", "config", source, "err", err)
		return "", err
	}
}

// onHangup reloads on SIGHUP until the returned stop is called.
func onHangup(reload api.Reloader, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				log.Info("SIGHUP: reloading decisioning")
				_, _ = reload(context.Background())
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}

func validateCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("validate --config FILE",
		"Checks a configuration file (unknown keys, wrong types, values out of range, unset\n"+
			"${ENV} variables) without connecting to anything. Prints every problem with\n"+
			"file:line:column and what to write instead; exits 0 if valid, 2 if not.", stderr)
	cfgPath := fs.String("config", "", "configuration file (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" {
		return usagef("--config FILE is required")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	brokers := "none (embedded broker; `meridian dev` only)"
	if len(cfg.Brokers) > 0 {
		brokers = fmt.Sprint(cfg.Brokers)
	}
	fmt.Fprintf(stdout, "%s: ok (brokers %s, inputs %v, actions topic %q, dead letters %q, %d features, %d actions, %d models, %d journeys)\n",
		*cfgPath, brokers, cfg.Topics.Inputs, cfg.Topics.Actions, cfg.Topics.DeadLetter, len(cfg.Features),
		len(cfg.Decide.Actions), len(cfg.Decide.Models), len(cfg.Journeys))
	return nil
}
