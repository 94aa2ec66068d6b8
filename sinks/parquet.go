package sinks

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Parquet writes each batch as Parquet files under
// DIR/TABLE/dt=YYYY-MM-DD/hour=HH/part-SEQ.parquet (UTC, by the row's time
// column; a batch spanning hours becomes one file per hour). A file is
// written under a hidden temp name and renamed, so readers (DuckDB,
// pyarrow, Spark, ClickHouse's file()) never see half a file. SEQ is the
// start time of the writer in ns and a counter, so names never collide
// across restarts.
type Parquet struct {
	dir   string
	start int64
	seq   atomic.Uint64
	props *parquet.WriterProperties
}

// NewParquet returns a Parquet writer under dir, creating it.
func NewParquet(dir string) (*Parquet, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create analytics dir (analytics.dir): %w", err)
	}
	return &Parquet{dir: dir, start: time.Now().UnixNano(),
		props: parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd),
			parquet.WithCreatedBy("meridian"))}, nil
}

// Write writes rec as one file per hour it spans.
func (p *Parquet) Write(ctx context.Context, t Table, rec arrow.RecordBatch) error {
	idx := rec.Schema().FieldIndices(timeColumn[t])
	if len(idx) != 1 {
		return fmt.Errorf("BUG: %s batch has no column %s", t, timeColumn[t])
	}
	times := rec.Column(idx[0]).(*array.Timestamp)
	n := int(rec.NumRows())
	for lo := 0; lo < n; {
		hour := hourOf(times.Value(lo))
		hi := lo + 1
		for hi < n && hourOf(times.Value(hi)) == hour {
			hi++
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		part := rec.NewSlice(int64(lo), int64(hi))
		err := p.writeFile(t, hour, part)
		part.Release()
		if err != nil {
			return err
		}
		lo = hi
	}
	return nil
}

func hourOf(ns arrow.Timestamp) int64 { return int64(ns) / int64(time.Hour) }

func (p *Parquet) writeFile(t Table, hour int64, rec arrow.RecordBatch) error {
	h := time.Unix(hour*3600, 0).UTC()
	dir := filepath.Join(p.dir, t.String(), h.Format("dt=2006-01-02"), h.Format("hour=15"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := fmt.Sprintf("part-%d-%06d.parquet", p.start, p.seq.Add(1))
	tmp := filepath.Join(dir, "."+name+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	err = p.encode(f, rec)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("cannot write %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

func (p *Parquet) encode(f *os.File, rec arrow.RecordBatch) error {
	// writerOnly hides f's Close: the parquet writer closes a sink that has
	// one, and f must stay open for Sync.
	w, err := pqarrow.NewFileWriter(rec.Schema(), writerOnly{f}, p.props,
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return err
	}
	if err := w.Write(rec); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

type writerOnly struct{ io.Writer }

// Close does nothing: every file is complete when Write returns.
func (p *Parquet) Close() error { return nil }
