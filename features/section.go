package features

import (
	"encoding/binary"
	"math"

	"github.com/meridian/meridian/event"
)

// noBound is the lower bound on query times before any watermark.
const noBound = math.MinInt64

// floorDiv is floor(a/b) for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// sample extracts what ev contributes to f; ok is false when the event
// fails the where condition or lacks the value or the distinct field.
func (f *feature) sample(ev *event.Event) (s sample, ok bool) {
	s.ts = ev.TS
	if f.where != nil && !f.where.Test(ev) {
		return s, false
	}
	if f.value != nil {
		if s.v, ok = f.value.Num(ev); !ok {
			return s, false
		}
	}
	if f.agg == aggDistinct {
		return f.distinctKey(ev, s)
	}
	return s, true
}

func (f *feature) distinctKey(ev *event.Event, s sample) (sample, bool) {
	var b []byte
	switch f.of {
	case ofSession:
		b = ev.SessionID
	case ofSource:
		b = ev.Source
	case ofType:
		b = ev.Type
	case ofAttr:
		a := ev.Attr(f.ofAttr)
		if a == nil {
			return s, false
		}
		switch a.Kind {
		case event.AttrString:
			s.h = hash32('s', a.Str)
		case event.AttrNumber:
			var nb [8]byte
			binary.LittleEndian.PutUint64(nb[:], math.Float64bits(a.Num+0)) // +0 folds -0 into 0
			s.h = hash32('n', nb[:])
		case event.AttrBool:
			s.h = hash32('f', nil)
			if a.Bool {
				s.h = hash32('t', nil)
			}
		default:
			return s, false
		}
		return s, true
	}
	if len(b) == 0 {
		return s, false
	}
	s.h = hash32('s', b)
	return s, true
}

// decode reads a feature section into sc.groups (ascending by key).
func (f *feature) decode(sec []byte, sc *scratch) bool {
	sc.reset()
	if len(sec) == 0 {
		return true
	}
	r := reader{b: sec}
	n := r.count(1)
	if n == 0 || (f.win == winLifetime && n != 1) {
		return false
	}
	var prev int64
	for i := 0; i < n && !r.bad; i++ {
		var g group
		switch f.win {
		case winBucketed:
			g.key = r.varint()
			if i > 0 {
				g.key = addDelta(&r, prev, g.key, 1)
			}
			prev = g.key
			readCell(&r, &g.c, f.agg, g.key*f.bucket, sc)
		case winSession:
			g.key = r.varint()
			if i > 0 {
				g.key = addDelta(&r, prev, g.key, 1)
			}
			g.end = addDelta(&r, g.key, int64(r.uvarint()), 0)
			prev = g.end
			readCell(&r, &g.c, f.agg, g.key, sc)
		default:
			readCell(&r, &g.c, f.agg, 0, sc)
		}
		sc.groups = append(sc.groups, g)
	}
	return !r.bad && len(r.b) == 0
}

// addDelta returns prev+d, failing r unless d >= least and the sum does
// not overflow: keys ascend strictly, a session may end where it starts.
func addDelta(r *reader, prev, d, least int64) int64 {
	if d < least || prev > math.MaxInt64-d {
		r.fail()
		return 0
	}
	return prev + d
}

// appendSection encodes sc.groups as a length-prefixed section.
func (f *feature) appendSection(dst []byte, sc *scratch) []byte {
	b := sc.tmp[:0]
	if len(sc.groups) > 0 {
		b = binary.AppendUvarint(b, uint64(len(sc.groups)))
	}
	var prev int64
	for i := range sc.groups {
		g := &sc.groups[i]
		switch f.win {
		case winBucketed:
			b = appendKey(b, i, g.key, prev)
			prev = g.key
			b = appendCell(b, &g.c, f.agg, g.key*f.bucket, sc)
		case winSession:
			b = appendKey(b, i, g.key, prev)
			b = binary.AppendUvarint(b, uint64(g.end-g.key))
			prev = g.end
			b = appendCell(b, &g.c, f.agg, g.key, sc)
		default:
			b = appendCell(b, &g.c, f.agg, 0, sc)
		}
	}
	sc.tmp = b
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func appendKey(b []byte, i int, key, prev int64) []byte {
	if i == 0 {
		return binary.AppendVarint(b, key)
	}
	return binary.AppendVarint(b, key-prev)
}
