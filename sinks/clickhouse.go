package sinks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/meridian/meridian/config"
)

// ClickHouse writes batches to ClickHouse over the native protocol: one
// INSERT per batch naming its columns, values appended column by column.
// It works with 18.16 (Debian's package) and current servers; the tables
// must exist (Migrate creates them).
type ClickHouse struct {
	conn   driver.Conn
	insert [NumTables]string
}

// ClickHouse error codes that mean the schema is missing or old.
const (
	codeNoSuchColumn    = 16
	codeUnknownTable    = 60
	codeUnknownDatabase = 81
)

// NewClickHouse returns a ClickHouse writer for cfg. It does not connect
// until the first write, so a server that is away delays nothing.
func NewClickHouse(cfg config.ClickHouse) (*ClickHouse, error) {
	conn, err := openClickHouse(cfg)
	if err != nil {
		return nil, err
	}
	c := &ClickHouse{conn: conn}
	for t := range NumTables {
		c.insert[t] = insertSQL(cfg.Database, t)
	}
	return c, nil
}

func openClickHouse(cfg config.ClickHouse) (driver.Conn, error) {
	dial := cfg.DialTimeout
	if dial <= 0 {
		dial = 5 * time.Second
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:            cfg.Addr,
		Auth:            clickhouse.Auth{Database: "default", Username: cfg.Username, Password: cfg.Password},
		DialTimeout:     dial,
		ReadTimeout:     writeTimeout,
		MaxOpenConns:    4,
		MaxIdleConns:    2,
		ConnMaxLifetime: time.Hour,
		Compression:     &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
		ClientInfo:      clickhouse.ClientInfo{Products: []struct{ Name, Version string }{{"meridian", "1"}}},
	})
	if err != nil {
		return nil, fmt.Errorf("cannot configure ClickHouse client for %v (analytics.clickhouse): %w", cfg.Addr, err)
	}
	return conn, nil
}

// Write inserts rec into t.
func (c *ClickHouse) Write(ctx context.Context, t Table, rec arrow.RecordBatch) error {
	b, err := c.conn.PrepareBatch(ctx, c.insert[t])
	if err != nil {
		var ex *clickhouse.Exception
		if errors.As(err, &ex) && (ex.Code == codeUnknownTable || ex.Code == codeUnknownDatabase || ex.Code == codeNoSuchColumn) {
			return fmt.Errorf("%w; run `meridian clickhouse migrate` to create or upgrade the tables", err)
		}
		return err
	}
	for i, col := range rec.Columns() {
		v, err := chValues(col)
		if err == nil {
			err = b.Column(i).Append(v)
		}
		if err != nil {
			_ = b.Abort()
			return fmt.Errorf("column %s: %w", rec.ColumnName(i), err)
		}
	}
	return b.Send()
}

// Close closes the connections.
func (c *ClickHouse) Close() error { return c.conn.Close() }

// chValues converts an Arrow column to the slice clickhouse-go appends
// to a column of chType(col.DataType()).
func chValues(col arrow.Array) (any, error) {
	n := col.Len()
	switch a := col.(type) {
	case *array.String:
		out := make([]string, n)
		for i := range out {
			out[i] = a.Value(i)
		}
		return out, nil
	case *array.Binary:
		out := make([]string, n)
		for i := range out {
			out[i] = a.ValueString(i)
		}
		return out, nil
	case *array.Int32:
		return a.Int32Values(), nil
	case *array.Int64:
		return a.Int64Values(), nil
	case *array.Float64:
		return a.Float64Values(), nil
	case *array.Timestamp:
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(a.Value(i))
		}
		return out, nil
	case *array.Boolean:
		out := make([]uint8, n)
		for i := range out {
			if a.Value(i) {
				out[i] = 1
			}
		}
		return out, nil
	case *array.List:
		return chList(a)
	}
	return nil, fmt.Errorf("BUG: no ClickHouse conversion for %s", col.DataType())
}

func chList(a *array.List) (any, error) {
	offs := a.Offsets()
	n := a.Len()
	switch v := a.ListValues().(type) {
	case *array.String:
		out := make([][]string, n)
		for i := range out {
			row := make([]string, 0, offs[i+1]-offs[i])
			for j := offs[i]; j < offs[i+1]; j++ {
				row = append(row, v.Value(int(j)))
			}
			out[i] = row
		}
		return out, nil
	case *array.Float64:
		vals := v.Float64Values()
		out := make([][]float64, n)
		for i := range out {
			out[i] = vals[offs[i]:offs[i+1]:offs[i+1]]
		}
		return out, nil
	case *array.Boolean:
		out := make([][]uint8, n)
		for i := range out {
			row := make([]uint8, offs[i+1]-offs[i])
			for j := range row {
				if v.Value(int(offs[i]) + j) {
					row[j] = 1
				}
			}
			out[i] = row
		}
		return out, nil
	}
	return nil, fmt.Errorf("BUG: no ClickHouse conversion for %s", a.DataType())
}
