package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/meridian/meridian/sinks"
)

// clickhouseCmd runs the ClickHouse tools: `clickhouse migrate`.
func clickhouseCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "migrate" {
		fmt.Fprint(stderr, "Usage: meridian clickhouse migrate [--config FILE]\n")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return usagef("unknown clickhouse subcommand; the one there is: migrate")
	}
	fs := newFlags("clickhouse migrate [--config FILE]",
		"Creates or upgrades the analytics tables in ClickHouse (analytics.clickhouse in the\n"+
			"config): the database, a schema_version table, and every schema version newer than\n"+
			"the one recorded. Running it again changes nothing, so run it on every deploy.\n"+
			"Works with ClickHouse 18.16 and current releases. docs/analytics.md lists the tables.", stderr)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded example)")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ch := cfg.Analytics.ClickHouse
	from, to, err := sinks.Migrate(ctx, ch, log)
	if err != nil {
		return err
	}
	if from == to {
		fmt.Fprintf(stdout, "ClickHouse %v database %s: schema version %d, up to date\n", ch.Addr, ch.Database, to)
		return nil
	}
	fmt.Fprintf(stdout, "ClickHouse %v database %s: schema version %d -> %d\n", ch.Addr, ch.Database, from, to)
	return nil
}
