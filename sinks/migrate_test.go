package sinks

import (
	"context"
	"strings"
	"testing"

	"github.com/meridian/meridian/internal/chtest"
)

func TestMigrateTwiceIsANoop(t *testing.T) {
	srv := chtest.Start(t)
	cfg := testConfig(t, srv.Addr())
	ctx := context.Background()
	from, to, err := Migrate(ctx, cfg.ClickHouse, nil)
	if err != nil || from != 0 || to != SchemaVersion {
		t.Fatalf("first migrate: %d -> %d, %v; want 0 -> %d", from, to, err, SchemaVersion)
	}
	conn := dial(t, srv.Addr())
	tables := func() string {
		rows, err := conn.Query(ctx, "SELECT name FROM system.tables WHERE database = 'mtest' ORDER BY name")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		return strings.Join(names, ",")
	}
	const want = "actions,dead_letters,decisions,events,outcomes,schema_version,transitions"
	if got := tables(); got != want {
		t.Fatalf("tables %s, want %s", got, want)
	}
	from, to, err = Migrate(ctx, cfg.ClickHouse, nil)
	if err != nil || from != SchemaVersion || to != SchemaVersion {
		t.Fatalf("second migrate: %d -> %d, %v; want a no-op at %d", from, to, err, SchemaVersion)
	}
	if n := count(t, conn, "SELECT count() FROM mtest.schema_version"); n != 1 {
		t.Errorf("schema_version has %d rows after two migrates, want 1", n)
	}
	if got := tables(); got != want {
		t.Errorf("tables changed by a second migrate: %s", got)
	}
	// Every table's engine keeps the dedup key.
	var engine string
	if err := conn.QueryRow(ctx, "SELECT engine FROM system.tables WHERE database = 'mtest' AND name = 'decisions'").Scan(&engine); err != nil || engine != "ReplacingMergeTree" {
		t.Errorf("decisions engine %q, %v", engine, err)
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	srv := chtest.Start(t)
	cfg := testConfig(t, srv.Addr())
	ctx := context.Background()
	if _, _, err := Migrate(ctx, cfg.ClickHouse, nil); err != nil {
		t.Fatal(err)
	}
	conn := dial(t, srv.Addr())
	if err := conn.Exec(ctx, "INSERT INTO mtest.schema_version (version, description) SELECT 99, 'future'"); err != nil {
		t.Fatal(err)
	}
	_, _, err := Migrate(ctx, cfg.ClickHouse, nil)
	if err == nil || !strings.Contains(err.Error(), "upgrade meridian") {
		t.Fatalf("migrate over a newer schema: %v, want an error asking to upgrade meridian", err)
	}
}

func TestMigrateServerAway(t *testing.T) {
	cfg := testConfig(t, "127.0.0.1:1")
	_, _, err := Migrate(context.Background(), cfg.ClickHouse, nil)
	if err == nil || !strings.Contains(err.Error(), "analytics.clickhouse.addr") {
		t.Fatalf("migrate with no server: %v, want an error naming analytics.clickhouse.addr", err)
	}
}

func TestCreateTableTTLOnlyWhenAsked(t *testing.T) {
	if q := createTable("m", Decisions, 0); strings.Contains(q, "TTL") {
		t.Errorf("TTL without ttl:\n%s", q)
	}
	q := createTable("m", Decisions, 86400)
	if !strings.Contains(q, "TTL decided_at + INTERVAL 86400 SECOND") || !strings.Contains(q, "ORDER BY decision_id") {
		t.Errorf("decisions DDL:\n%s", q)
	}
}
