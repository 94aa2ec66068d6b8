package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/internal/broker"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageAndExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "Commands:"},
		{[]string{"help"}, exitOK, "validate"},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"run"}, exitUsage, "--config FILE is required"},
		{[]string{"run", "--nope"}, exitUsage, "flag provided but not defined: -nope"},
		{[]string{"validate", "--config", "/does/not/exist.yaml"}, exitUsage, "no such file"},
		{[]string{"dev", "--help"}, exitOK, "-kafka-addr string"},
		{[]string{"gen", "--count", "5"}, exitUsage, "nowhere to write"},
		{[]string{"dev", "stray"}, exitUsage, `unexpected argument "stray"`},
	} {
		code, out, errs := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(out+errs, tc.want) {
			t.Errorf("meridian %v: exit %d (want %d), output lacks %q:\n%s%s", tc.args, code, tc.code, tc.want, out, errs)
		}
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("topics:\n  partiton: 12\nhttp:\n  addr: [1]\n"), 0o644)
	code, _, errs := runCLI(t, "validate", "--config", bad)
	if code != exitUsage || !strings.Contains(errs, bad+":2:3: unknown key \"partiton\"") ||
		!strings.Contains(errs, bad+":4:9: http.addr must be a string") {
		t.Errorf("bad config: exit %d\n%s", code, errs)
	}
	expr := filepath.Join(dir, "expr.yaml")
	os.WriteFile(expr, []byte("features:\n  - name: big_carts\n    events: [add_to_cart]\n    where: attrs.price >\n    agg: count\n    window: {kind: lifetime}\n"), 0o644)
	code, _, errs = runCLI(t, "validate", "--config", expr)
	if code != exitUsage || !strings.Contains(errs, expr+":4:12: features[0].where: column 14: expected a value") {
		t.Errorf("bad expression: exit %d\n%s", code, errs)
	}
	code, out, errs := runCLI(t, "validate", "--config", "../../examples/meridian.yaml")
	if code != exitOK || !strings.Contains(out, "ok") {
		t.Errorf("example config: exit %d\n%s%s", code, out, errs)
	}
	// It says what the config defines.
	cfg, err := config.Load("../../examples/meridian.yaml")
	if err != nil {
		t.Fatal(err)
	}
	counts := fmt.Sprintf("%d features, %d actions, %d models, %d journeys)", len(cfg.Features),
		len(cfg.Decide.Actions), len(cfg.Decide.Models), len(cfg.Journeys))
	if len(cfg.Features) == 0 || len(cfg.Decide.Actions) == 0 || len(cfg.Decide.Models) == 0 || len(cfg.Journeys) == 0 ||
		!strings.Contains(out, counts) {
		t.Errorf("validate output lacks %q:\n%s", counts, out)
	}
	code, _, errs = runCLI(t, "run", "--config", "../../examples/meridian.yaml")
	if code != exitUsage || !strings.Contains(errs, "brokers is empty") {
		t.Errorf("run without brokers: exit %d\n%s", code, errs)
	}
}

var liveRe = regexp.MustCompile(`^\s*\d+s\s+events/s\s+\d+\s+actions/s`)

var summaryRe = regexp.MustCompile(`summary: [0-9.]+s, events (\d+) \(\d+/s\), actions (\d+) \(\d+/s\), dead letters (\d+), customers (\d+)`)

func TestDevDuration(t *testing.T) {
	t.Chdir(t.TempDir()) // dev writes its analytics under ./meridian-data
	code, out, errs := runCLI(t, "dev", "--duration", "3s", "--rate", "2000",
		"--kafka-addr", "127.0.0.1:0", "--http", "127.0.0.1:0")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	m := summaryRe.FindStringSubmatch(out)
	if m == nil || m[1] == "0" || m[2] == "0" {
		t.Fatalf("no summary with events and actions:\n%s", out)
	}
	if !liveRe.MatchString(strings.Split(out, "\n")[2]) || !strings.Contains(out, "embedded Kafka broker at 127.0.0.1:") {
		t.Errorf("no live line or broker address:\n%s", out)
	}
}

// TestSIGTERMStopsCleanly runs the real binary and stops it with SIGTERM
// while the generator is producing: it must exit 0 after draining.
func TestSIGTERMStopsCleanly(t *testing.T) {
	cmd := exec.Command(meridianBinary(t), "dev", "--rate", "5000", "--kafka-addr", "127.0.0.1:0", "--http", "127.0.0.1:0")
	cmd.Dir = t.TempDir() // dev writes its analytics under ./meridian-data
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var lines []string
	deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if liveRe.MatchString(sc.Text()) && !strings.Contains(sc.Text(), "(events 0,") {
			break // events are flowing
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	err := cmd.Wait()
	all := strings.Join(lines, "\n")
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s\n%s", err, all, stderr.String())
	}
	if !summaryRe.MatchString(all) || !strings.Contains(stderr.String(), "stopped cleanly") {
		t.Errorf("no summary or clean stop:\n%s\n%s", all, stderr.String())
	}
}

// TestDevDataDirKeepsTopicsAndOffsets restarts dev on the same data dir:
// the topics still hold every record, across the two runs each was
// processed exactly once (the second run resumes from the committed
// offsets; it only sees what the first had not polled when it stopped),
// and the second run holds every customer of the first (restored from the
// changelog).
func TestDevDataDirKeepsTopicsAndOffsets(t *testing.T) {
	dir := t.TempDir()
	dev := func(rate string) (events, customers int) {
		code, out, errs := runCLI(t, "dev", "--duration", "2s", "--rate", rate, "--data-dir", dir,
			"--kafka-addr", "127.0.0.1:0", "--http", "127.0.0.1:0")
		m := summaryRe.FindStringSubmatch(out)
		if code != exitOK || m == nil {
			t.Fatalf("dev --rate %s: exit %d\n%s%s", rate, code, out, errs)
		}
		n, _ := strconv.Atoi(m[1])
		c, _ := strconv.Atoi(m[4])
		return n, c
	}
	first, customers := dev("2000")
	if first == 0 || customers == 0 {
		t.Fatalf("first run processed %d events for %d customers", first, customers)
	}
	again, restored := dev("0")
	if restored < customers {
		t.Errorf("after the restart the tasks hold %d customers, the first run ended with %d", restored, customers)
	}
	b, err := broker.Start(context.Background(), broker.Config{DataDir: dir, Topics: []string{"clickstream"}, Partitions: 12})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), "clickstream", "bss", "outcomes")
	if err != nil {
		t.Fatal(err)
	}
	var kept int64
	ends.Each(func(o kadm.ListedOffset) { kept += o.Offset })
	if kept != int64(first+again) {
		t.Errorf("topics hold %d records; the runs processed %d + %d", kept, first, again)
	}
}
