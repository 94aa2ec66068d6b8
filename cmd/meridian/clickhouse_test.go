package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meridian/meridian/internal/chtest"
)

func TestClickHouseMigrateCmd(t *testing.T) {
	srv := chtest.Start(t)
	cfgPath := filepath.Join(t.TempDir(), "m.yaml")
	cfgText := "analytics:\n  sink: clickhouse\n  clickhouse:\n    addr: [" + srv.Addr() + "]\n    database: analytics_test\n"
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "clickhouse", "migrate", "--config", cfgPath)
	if code != exitOK || !strings.Contains(out, "database analytics_test: schema version 0 -> 1") {
		t.Fatalf("first migrate: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "clickhouse", "migrate", "--config", cfgPath)
	if code != exitOK || !strings.Contains(out, "schema version 1, up to date") {
		t.Fatalf("second migrate: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

func TestClickHouseMigrateCmdErrors(t *testing.T) {
	code, _, errOut := runCLI(t, "clickhouse", "drop")
	if code != exitUsage || !strings.Contains(errOut, "the one there is: migrate") {
		t.Errorf("unknown subcommand: exit %d, %s", code, errOut)
	}
	cfgPath := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(cfgPath, []byte("analytics:\n  clickhouse:\n    addr: [127.0.0.1:1]\n    dial_timeout: 200ms\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "clickhouse", "migrate", "--config", cfgPath)
	if code != exitRuntime || !strings.Contains(errOut, "cannot reach ClickHouse") {
		t.Errorf("no server: exit %d, %s", code, errOut)
	}
}
