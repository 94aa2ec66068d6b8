// Command meridian is the real-time decisioning engine: see `meridian help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

// usageError marks a problem with flags or configuration (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"run", "run the pipeline against the Kafka brokers of a config", runCmd},
	{"dev", "run everything on this machine: embedded Kafka, generator, pipeline", devCmd},
	{"gen", "generate the W1 workload to Kafka or to a JSON-lines file", genCmd},
	{"validate", "check a config file without starting anything", validateCmd},
	{"bench", "measure the standard figures and print them as one JSON line", benchCmd},
	{"model", "model tools: `model score` scores a CSV, for parity checks", modelCmd},
	{"clickhouse", "analytics tables: `clickhouse migrate` creates or upgrades them", clickhouseCmd},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil || errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.As(err, new(usageError)):
			fmt.Fprintf(stderr, "meridian %s: %v\n", c.name, err)
			return exitUsage
		default:
			fmt.Fprintf(stderr, "meridian %s: %v\n", c.name, err)
			return exitRuntime
		}
	}
	fmt.Fprintf(stderr, "meridian: unknown command %q; run `meridian help` for the list\n", args[0])
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `meridian: real-time decisioning for customer journeys.

Usage: meridian <command> [flags]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "meridian <command> --help" for a command's flags.
Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
`)
}

// newFlags returns a flag set whose errors and --help go to stderr and
// whose parse errors are usage errors.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("meridian "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: meridian %s\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// isSet reports whether the flag name was given on the command line, for
// flags whose zero value is meaningful and whose default comes from the config.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}
