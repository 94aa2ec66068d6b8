package features

import (
	"encoding/binary"
	"math"
)

// cell is the aggregate of the events of one group (a bucket, a session,
// or a lifetime). Only the fields of the feature's aggregation are kept in
// the encoding; a decoded cell always has n >= 1.
type cell struct {
	n        uint64
	sum      float64
	min, max float64
	fts, lts int64 // earliest and latest event time
	fv, lv   float64
	hOff     int32 // distinct set: hashes[hOff:hOff+hLen] of the decoder's pool
	hLen     int32
}

// group is a cell with its key: a bucket id (floor(ts/bucket)), a
// session's [key, end] time range, or 0 for a lifetime.
type group struct {
	key int64
	end int64
	c   cell
}

// sample is what one event contributes to a feature.
type sample struct {
	ts int64
	v  float64
	h  uint32
}

// initCell sets c from its first event.
func initCell(c *cell, s sample, sc *scratch, agg aggKind) {
	*c = cell{n: 1, sum: s.v, min: s.v, max: s.v, fts: s.ts, lts: s.ts, fv: s.v, lv: s.v}
	if agg == aggDistinct {
		c.hOff, c.hLen = sc.newSet(s.h)
	}
}

// addCell adds an event to a non-empty cell. Ties in event time keep the
// first arrival for first and take the latest arrival for last.
func addCell(c *cell, s sample, sc *scratch, agg aggKind) {
	c.n++
	c.sum += s.v
	c.min = math.Min(c.min, s.v)
	c.max = math.Max(c.max, s.v)
	if s.ts < c.fts {
		c.fts, c.fv = s.ts, s.v
	}
	if s.ts >= c.lts {
		c.lts, c.lv = s.ts, s.v
	}
	if agg == aggDistinct {
		c.hOff, c.hLen = sc.insert(c.hOff, c.hLen, s.h)
	}
}

// mergeCell adds b into a, where b's events are later in time than a's
// (groups never overlap in time).
func mergeCell(a *cell, b *cell, sc *scratch, agg aggKind) {
	a.n += b.n
	a.sum += b.sum
	a.min = math.Min(a.min, b.min)
	a.max = math.Max(a.max, b.max)
	if b.fts < a.fts {
		a.fts, a.fv = b.fts, b.fv
	}
	if b.lts >= a.lts {
		a.lts, a.lv = b.lts, b.lv
	}
	if agg == aggDistinct {
		a.hOff, a.hLen = sc.union(a.hOff, a.hLen, b.hOff, b.hLen)
	}
}

// result is the feature value of an aggregate; ok false means no data.
func result(f *feature, c *cell, ok bool, distinct int, now int64) float64 {
	switch {
	case !ok && (f.agg == aggCount || f.agg == aggSum):
		return 0
	case !ok:
		return math.NaN()
	}
	switch f.agg {
	case aggCount:
		return float64(c.n)
	case aggSum:
		return c.sum
	case aggAvg:
		return c.sum / float64(c.n)
	case aggMin:
		return c.min
	case aggMax:
		return c.max
	case aggFirst:
		return c.fv
	case aggLast:
		return c.lv
	case aggDistinct:
		return float64(distinct)
	}
	return float64(now-c.lts) / float64(f.unit)
}

// appendCell encodes the fields of c that agg needs; times are relative to
// base (a bucket's start, a session's start, or 0).
func appendCell(b []byte, c *cell, agg aggKind, base int64, sc *scratch) []byte {
	switch agg {
	case aggCount:
		b = binary.AppendUvarint(b, c.n)
	case aggSum:
		b = appendF64(b, c.sum)
	case aggAvg:
		b = appendF64(binary.AppendUvarint(b, c.n), c.sum)
	case aggMin:
		b = appendF64(b, c.min)
	case aggMax:
		b = appendF64(b, c.max)
	case aggFirst:
		b = appendF64(binary.AppendVarint(b, c.fts-base), c.fv)
	case aggLast:
		b = appendF64(binary.AppendVarint(b, c.lts-base), c.lv)
	case aggDistinct:
		b = binary.AppendUvarint(b, uint64(c.hLen))
		for _, h := range sc.set(c.hOff, c.hLen) {
			b = binary.LittleEndian.AppendUint32(b, h)
		}
	case aggSince:
		b = binary.AppendVarint(b, c.lts-base)
	}
	return b
}

// readCell decodes what appendCell wrote, filling the fields it did not
// keep so that merging and results work: a cell has at least one event.
func readCell(r *reader, c *cell, agg aggKind, base int64, sc *scratch) {
	*c = cell{n: 1}
	switch agg {
	case aggCount:
		c.n = r.uvarint()
		if c.n == 0 {
			r.fail()
		}
	case aggSum:
		c.sum = r.f64()
	case aggAvg:
		c.n = r.uvarint()
		c.sum = r.f64()
		if c.n == 0 {
			r.fail()
		}
	case aggMin:
		c.min = r.f64()
	case aggMax:
		c.max = r.f64()
	case aggFirst:
		c.fts = base + r.varint()
		c.fv = r.f64()
	case aggLast:
		c.lts = base + r.varint()
		c.lv = r.f64()
	case aggDistinct:
		c.hOff, c.hLen = sc.readSet(r)
	case aggSince:
		c.lts = base + r.varint()
	}
}

func appendF64(b []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}
