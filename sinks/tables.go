package sinks

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Table is one analytics table.
type Table uint8

// The analytics tables. Their names are the ClickHouse table names and the
// Parquet directory names.
const (
	Events Table = iota
	Decisions
	Actions
	Outcomes
	Transitions
	DeadLetters
	// NumTables is the number of tables, for arrays indexed by Table.
	NumTables
)

var tableNames = [NumTables]string{"events", "decisions", "actions", "outcomes", "transitions", "dead_letters"}

// String is the table's name.
func (t Table) String() string {
	if t < NumTables {
		return tableNames[t]
	}
	return fmt.Sprintf("table(%d)", t)
}

// tableByName is the Table called name.
func tableByName(name string) (Table, bool) {
	for t, n := range tableNames {
		if n == name {
			return Table(t), true
		}
	}
	return 0, false
}

var (
	tsType   = &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}
	str      = arrow.BinaryTypes.String
	bin      = arrow.BinaryTypes.Binary
	i32      = arrow.PrimitiveTypes.Int32
	i64      = arrow.PrimitiveTypes.Int64
	f64      = arrow.PrimitiveTypes.Float64
	boolean  = arrow.FixedWidthTypes.Boolean
	strList  = arrow.ListOf(arrow.BinaryTypes.String)
	f64List  = arrow.ListOf(arrow.PrimitiveTypes.Float64)
	boolList = arrow.ListOf(arrow.FixedWidthTypes.Boolean)
)

func fields(spec ...any) *arrow.Schema {
	fs := make([]arrow.Field, 0, len(spec)/2)
	for i := 0; i < len(spec); i += 2 {
		fs = append(fs, arrow.Field{Name: spec[i].(string), Type: spec[i+1].(arrow.DataType)})
	}
	return arrow.NewSchema(fs, nil)
}

// schemas are the Arrow schemas of the tables: the same column names in
// Parquet and ClickHouse. Times are timestamp[ns, UTC] in Arrow and Parquet
// and Int64 nanoseconds in ClickHouse, which adds a DateTime column for
// each (see chTimes) so that 18.16, which has no DateTime64, can partition
// and filter by time.
var schemas = [NumTables]*arrow.Schema{
	Events: fields("ts_ns", tsType, "customer_id", str, "event_id", str, "type", str,
		"source", str, "session_id", str, "topic", str, "kafka_partition", i32,
		"kafka_offset", i64, "attrs", str),
	Decisions: fields("decision_id", str, "customer_id", str, "decided_at_ns", tsType,
		"origin", str, "trigger_type", str, "trigger_event_id", str, "journey", str,
		"step", str, "channel", str, "action_id", str, "reason", str, "score", f64,
		"propensity", f64, "value", f64, "weight", f64, "probability", f64,
		"experiment", str, "arm", str, "model", str, "reasons", strList,
		"candidate_action_id", strList, "candidate_eligible", boolList,
		"candidate_propensity", f64List, "candidate_score", f64List,
		"candidate_blocked", strList, "latency_ns", i64),
	Actions: fields("decision_id", str, "customer_id", str, "action_id", str, "channel", str,
		"score", f64, "propensity", f64, "value", f64, "weight", f64, "journey", str,
		"step", str, "experiment", str, "arm", str, "model", str, "decided_at_ns", tsType,
		"expires_at_ns", tsType, "payload", str),
	Outcomes: fields("ts_ns", tsType, "customer_id", str, "event_id", str, "decision_id", str,
		"action_id", str, "channel", str, "outcome", str, "value", f64),
	Transitions: fields("ts_ns", tsType, "customer_id", str, "journey", str, "instance", str,
		"from_step", str, "to_step", str, "cause", str, "cause_id", str, "decision_id", str),
	DeadLetters: fields("at_ns", tsType, "topic", str, "kafka_partition", i32, "kafka_offset", i64,
		"key", bin, "error", str, "value", bin),
}

// Schema is the Arrow schema of t's batches.
func Schema(t Table) *arrow.Schema { return schemas[t] }

// timeColumn is the column that places a row in a Parquet hour partition
// and a ClickHouse month partition.
var timeColumn = [NumTables]string{"ts_ns", "decided_at_ns", "decided_at_ns", "ts_ns", "ts_ns", "at_ns"}

// tableDDL is how each table is stored in ClickHouse: ReplacingMergeTree
// whose sorting key is the row's dedup key, so a retried insert or a
// replayed decision collapses into one row (queries use FINAL).
var tableDDL = [NumTables]struct{ orderBy, comment string }{
	Events:      {"(customer_id, event_id)", "input events (all or a sample)"},
	Decisions:   {"decision_id", "every decision, also those that chose nothing"},
	Actions:     {"decision_id", "actions sent to channels"},
	Outcomes:    {"(customer_id, event_id)", "outcomes reported by channels"},
	Transitions: {"(customer_id, instance, from_step, to_step, ts_ns)", "journey steps"},
	DeadLetters: {"(topic, kafka_partition, kafka_offset)", "input records that could not be processed"},
}

// chType is the ClickHouse type of an Arrow type, using only types that
// 18.16 and current servers both know.
func chType(dt arrow.DataType) string {
	switch dt.ID() {
	case arrow.STRING, arrow.BINARY:
		return "String"
	case arrow.INT32:
		return "Int32"
	case arrow.INT64, arrow.TIMESTAMP:
		return "Int64"
	case arrow.FLOAT64:
		return "Float64"
	case arrow.BOOL:
		return "UInt8"
	case arrow.LIST:
		return "Array(" + chType(dt.(*arrow.ListType).Elem()) + ")"
	}
	panic("BUG: no ClickHouse type for " + dt.String())
}

// chTimeName is the DateTime column ClickHouse derives from a *_ns column.
func chTimeName(col string) string { return strings.TrimSuffix(col, "_ns") }

// createTable is the CREATE TABLE statement of t in db. ttlSeconds > 0
// adds a table TTL (only for servers that support it).
func createTable(db string, t Table, ttlSeconds int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s.%s (\n", db, t)
	for _, f := range schemas[t].Fields() {
		fmt.Fprintf(&b, "    %s %s,\n", f.Name, chType(f.Type))
		if f.Type.ID() == arrow.TIMESTAMP {
			fmt.Fprintf(&b, "    %s DateTime('UTC') DEFAULT toDateTime(intDiv(%s, 1000000000), 'UTC'),\n", chTimeName(f.Name), f.Name)
		}
	}
	s := strings.TrimSuffix(b.String(), ",\n") + "\n)"
	tc := chTimeName(timeColumn[t])
	s += fmt.Sprintf(" ENGINE = ReplacingMergeTree()\nPARTITION BY toYYYYMM(%s)\nORDER BY %s", tc, tableDDL[t].orderBy)
	if ttlSeconds > 0 {
		s += fmt.Sprintf("\nTTL %s + INTERVAL %d SECOND", tc, ttlSeconds)
	}
	return s
}

// insertSQL is the INSERT of t's Arrow columns, naming every column.
func insertSQL(db string, t Table) string {
	names := make([]string, 0, schemas[t].NumFields())
	for _, f := range schemas[t].Fields() {
		names = append(names, f.Name)
	}
	return fmt.Sprintf("INSERT INTO %s.%s (%s)", db, t, strings.Join(names, ", "))
}
