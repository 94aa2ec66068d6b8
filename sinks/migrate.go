package sinks

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/meridian/meridian/config"
)

// SchemaVersion is the schema version this code writes.
const SchemaVersion = 1

// migration is one schema version: statements that are each idempotent
// (IF NOT EXISTS), so a migration interrupted half way is simply run again.
type migration struct {
	version     uint32
	description string
	statements  func(db string, ttlSeconds int64) []string
}

var migrations = []migration{
	{1, "events, decisions, actions, outcomes, transitions, dead_letters", func(db string, ttl int64) []string {
		var out []string
		for t := range NumTables {
			out = append(out, createTable(db, t, ttl))
		}
		return out
	}},
}

// ttlMinVersion is the first ClickHouse release with table TTL.
var ttlMinVersion = [2]uint64{19, 6}

// Migrate creates or upgrades the analytics database cfg.Database: the
// database, a schema_version table, and each migration newer than the
// version recorded there. Running it again is a no-op. The table TTL
// (cfg.TTL) is set on servers that support it (19.6 and later); on older
// ones the tables keep rows until dropped and a warning says so. It
// returns the versions before and after.
func Migrate(ctx context.Context, cfg config.ClickHouse, log *slog.Logger) (from, to uint32, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, err := openClickHouse(cfg)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	sv, err := conn.ServerVersion()
	if err != nil {
		return 0, 0, fmt.Errorf("cannot reach ClickHouse at %v (analytics.clickhouse.addr): %w", cfg.Addr, err)
	}
	db := cfg.Database
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS " + db,
		"CREATE TABLE IF NOT EXISTS " + db + ".schema_version (version UInt32, description String, applied_at DateTime DEFAULT now()) ENGINE = ReplacingMergeTree() ORDER BY version",
	} {
		if err := conn.Exec(ctx, q); err != nil {
			return 0, 0, fmt.Errorf("cannot migrate ClickHouse database %s: %s: %w", db, firstLine(q), err)
		}
	}
	from, err = currentVersion(ctx, conn, db)
	if err != nil {
		return 0, 0, err
	}
	ttl := int64(cfg.TTL.Seconds())
	if ttl > 0 && !versionAtLeast(sv, ttlMinVersion) {
		log.Warn("ClickHouse server has no table TTL; rows are kept until dropped", "server", sv.String(), "ttl", cfg.TTL)
		ttl = 0
	}
	to = from
	for _, m := range migrations {
		if m.version <= from {
			continue
		}
		for _, q := range m.statements(db, ttl) {
			if err := conn.Exec(ctx, q); err != nil {
				return from, to, fmt.Errorf("cannot migrate ClickHouse database %s to version %d: %s: %w", db, m.version, firstLine(q), err)
			}
		}
		if err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s.schema_version (version, description) SELECT %d, '%s'", db, m.version, m.description)); err != nil {
			return from, to, fmt.Errorf("cannot record schema version %d in %s.schema_version: %w", m.version, db, err)
		}
		log.Info("ClickHouse schema migrated", "database", db, "version", m.version, "what", m.description)
		to = m.version
	}
	return from, to, nil
}

func currentVersion(ctx context.Context, conn driver.Conn, db string) (uint32, error) {
	var v uint32
	if err := conn.QueryRow(ctx, "SELECT max(version) FROM "+db+".schema_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("cannot read %s.schema_version: %w", db, err)
	}
	if v > SchemaVersion {
		return v, fmt.Errorf("ClickHouse database %s has schema version %d, newer than this meridian knows (%d); upgrade meridian", db, v, SchemaVersion)
	}
	return v, nil
}

func versionAtLeast(sv *driver.ServerVersion, want [2]uint64) bool {
	v := sv.Version
	return v.Major > want[0] || (v.Major == want[0] && v.Minor >= want[1])
}

func firstLine(q string) string {
	for i := range len(q) {
		if q[i] == '\n' || q[i] == '(' {
			return q[:i]
		}
	}
	return q
}
