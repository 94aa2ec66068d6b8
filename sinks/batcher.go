package sinks

import (
	"math"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Batcher builds the Arrow batches of one pipeline task. It is not safe
// for concurrent use: each task goroutine has its own, from
// Sink.NewBatcher. A table's batch goes to the Sink when it reaches the
// configured rows or bytes; Flush hands over every table's rows, and
// MaybeFlush those older than the flush interval. Appending copies the
// row's bytes into reused column builders and does not allocate per row
// once the builders have grown to a batch's size.
type Batcher struct {
	sink     *Sink // nil: sink none, appends are dropped
	maxRows  int
	maxBytes int
	interval time.Duration
	// sample: keep an event when its hash is below sampleMax; all when
	// sampleAll.
	sampleAll bool
	sampleMax uint64
	tables    [NumTables]tableBuilder
	ev        eventCols
	de        decisionCols
	ac        actionCols
	oc        outcomeCols
	tr        transitionCols
	dl        deadLetterCols
}

// tableBuilder is the state shared by every table's builders.
type tableBuilder struct {
	rb    *array.RecordBuilder
	rows  int
	bytes int
	first time.Time // when the batch got its first row (MaybeFlush)
	// dataLens are the byte lengths of the variable-width columns (and list
	// values) of the last batch, to size the next one.
	dataLens []int
}

// appendDataLens appends the data lengths of f's variable-width buffers.
func appendDataLens(lens []int, f array.Builder) []int {
	switch f := f.(type) {
	case *array.StringBuilder:
		return append(lens, f.DataLen())
	case *array.BinaryBuilder:
		return append(lens, f.DataLen())
	case *array.ListBuilder:
		lens = append(lens, f.ValueBuilder().Len())
		return appendDataLens(lens, f.ValueBuilder())
	}
	return lens
}

// reserveData reserves in f what lens[i:] recorded, returning the next i.
func reserveData(f array.Builder, lens []int, i int) int {
	switch f := f.(type) {
	case *array.StringBuilder:
		f.ReserveData(lens[i])
		return i + 1
	case *array.BinaryBuilder:
		f.ReserveData(lens[i])
		return i + 1
	case *array.ListBuilder:
		f.ValueBuilder().Reserve(lens[i])
		return reserveData(f.ValueBuilder(), lens, i+1)
	}
	return i
}

func newBatcher(s *Sink, maxRows, maxBytes int, interval time.Duration, sample float64) *Batcher {
	b := &Batcher{sink: s, maxRows: maxRows, maxBytes: maxBytes, interval: interval,
		sampleAll: sample >= 1}
	if sample > 0 && sample < 1 {
		b.sampleMax = uint64(sample * math.MaxUint64)
	}
	mem := memory.DefaultAllocator
	for t := range NumTables {
		b.tables[t].rb = array.NewRecordBuilder(mem, schemas[t])
		b.tables[t].rb.Reserve(min(maxRows, 1<<16))
	}
	b.ev.bind(b.tables[Events].rb)
	b.de.bind(b.tables[Decisions].rb)
	b.ac.bind(b.tables[Actions].rb)
	b.oc.bind(b.tables[Outcomes].rb)
	b.tr.bind(b.tables[Transitions].rb)
	b.dl.bind(b.tables[DeadLetters].rb)
	return b
}

// sampled reports whether the event (customer, event) is recorded: a
// fixed hash (FNV-1a, mixed), so every instance and every replay chooses
// the same events.
func (b *Batcher) sampled(customer, event []byte) bool {
	if b.sampleAll {
		return true
	}
	if b.sampleMax == 0 {
		return false
	}
	return sampleHash(customer, event) < b.sampleMax
}

func sampleHash(customer, event []byte) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for _, c := range customer {
		h = (h ^ uint64(c)) * prime
	}
	h = (h ^ 0xff) * prime
	for _, c := range event {
		h = (h ^ uint64(c)) * prime
	}
	// FNV's high bits mix poorly for short keys; finish like splitmix64.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// added counts a row of t of about n bytes and hands the batch over when
// it is full.
func (b *Batcher) added(t Table, n int) {
	tb := &b.tables[t]
	if tb.rows == 0 && b.interval > 0 {
		tb.first = time.Now()
	}
	tb.rows++
	tb.bytes += n
	if tb.rows >= b.maxRows || tb.bytes >= b.maxBytes {
		b.flushTable(t)
	}
}

// Flush hands every table's rows to the Sink. The pipeline calls it at
// checkpoints and on an idle tick.
func (b *Batcher) Flush() {
	for t := range NumTables {
		b.flushTable(t)
	}
}

// MaybeFlush hands over the tables whose oldest row is older than the
// flush interval at now.
func (b *Batcher) MaybeFlush(now time.Time) {
	for t := range NumTables {
		if tb := &b.tables[t]; tb.rows > 0 && now.Sub(tb.first) >= b.interval {
			b.flushTable(t)
		}
	}
}

func (b *Batcher) flushTable(t Table) {
	tb := &b.tables[t]
	if tb.rows == 0 {
		return
	}
	rows := tb.rows
	lens := tb.dataLens[:0]
	for _, f := range tb.rb.Fields() {
		lens = appendDataLens(lens, f)
	}
	rec := tb.rb.NewRecordBatch()
	tb.rows, tb.bytes = 0, 0
	// Size the next batch like this one: the builders start with room for
	// the rows and their bytes instead of growing (and copying) by doubling.
	tb.rb.Reserve(min(max(rows, 64), b.maxRows, 1<<16))
	i := 0
	for _, f := range tb.rb.Fields() {
		i = reserveData(f, lens, i)
	}
	tb.dataLens = lens
	b.sink.submit(t, rec)
}

// Pending is the number of rows of t not yet handed to the Sink.
func (b *Batcher) Pending(t Table) int { return b.tables[t].rows }

// bytesOf views s as bytes without copying; the builders only read it.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func appendStr(sb *array.StringBuilder, s string) { sb.BinaryBuilder.Append(bytesOf(s)) }

func appendBytes(sb *array.StringBuilder, p []byte) { sb.BinaryBuilder.Append(p) }

func ts(v int64) arrow.Timestamp { return arrow.Timestamp(v) }
