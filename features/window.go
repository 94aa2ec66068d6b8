package features

import (
	"math"
	"slices"
)

// apply adds a sample to the decoded groups of f and drops the groups no
// query as of lo or later can see. lo is the earliest time queries may ask
// about (the watermark minus the allowed lateness), or noBound.
func (f *feature) apply(s sample, lo int64, sc *scratch) {
	switch f.win {
	case winBucketed:
		f.applyBucket(s, lo, sc)
	case winSession:
		f.applySession(s, sc)
	default:
		if len(sc.groups) == 0 {
			sc.groups = append(sc.groups, group{})
			initCell(&sc.groups[0].c, s, sc, f.agg)
		} else {
			addCell(&sc.groups[0].c, s, sc, f.agg)
		}
	}
	f.expire(lo, sc)
}

// expired is the last bucket id that no query as of lo or later covers.
func (f *feature) expired(lo int64) int64 {
	if lo == noBound {
		return noBound
	}
	return subSat(floorDiv(lo, f.bucket), f.span)
}

func (f *feature) applyBucket(s sample, lo int64, sc *scratch) {
	k := floorDiv(s.ts, f.bucket)
	if k <= f.expired(lo) {
		return
	}
	i, found := slices.BinarySearchFunc(sc.groups, k, func(g group, k int64) int {
		switch {
		case g.key < k:
			return -1
		case g.key > k:
			return 1
		}
		return 0
	})
	if found {
		addCell(&sc.groups[i].c, s, sc, f.agg)
		return
	}
	sc.groups = slices.Insert(sc.groups, i, group{key: k})
	initCell(&sc.groups[i].c, s, sc, f.agg)
}

// applySession adds s to the session it falls in, merging the sessions it
// bridges (those within gap of it), or starts a new session.
func (f *feature) applySession(s sample, sc *scratch) {
	gs := sc.groups
	i := 0
	for i < len(gs) && gs[i].end < subSat(s.ts, f.gap) {
		i++
	}
	j := i
	for j < len(gs) && gs[j].key <= addSat(s.ts, f.gap) {
		j++
	}
	if i == j {
		sc.groups = slices.Insert(gs, i, group{key: s.ts, end: s.ts})
		initCell(&sc.groups[i].c, s, sc, f.agg)
		return
	}
	g := &gs[i]
	for k := i + 1; k < j; k++ {
		mergeCell(&g.c, &gs[k].c, sc, f.agg)
		g.end = max(g.end, gs[k].end)
	}
	addCell(&g.c, s, sc, f.agg)
	g.key, g.end = min(g.key, s.ts), max(g.end, s.ts)
	sc.groups = slices.Delete(gs, i+1, j)
}

// expire drops groups that no query as of lo or later can see: buckets
// wholly before every such window, and sessions that ended more than a gap
// before lo (an event at or after lo can no longer extend them, and such a
// query finds them over).
func (f *feature) expire(lo int64, sc *scratch) {
	if lo == noBound {
		return
	}
	n := 0
	switch f.win {
	case winBucketed:
		last := f.expired(lo)
		for n < len(sc.groups) && sc.groups[n].key <= last {
			n++
		}
	case winSession:
		for n < len(sc.groups) && sc.groups[n].end < subSat(lo, f.gap) {
			n++
		}
	}
	if n > 0 {
		sc.groups = slices.Delete(sc.groups, 0, n)
	}
}

// query returns the value of f as of now from its decoded groups.
func (f *feature) query(now int64, sc *scratch) float64 {
	gs := sc.groups
	switch f.win {
	case winBucketed:
		nb := floorDiv(now, f.bucket)
		i := 0
		for i < len(gs) && gs[i].key <= subSat(nb, f.span) {
			i++
		}
		j := i
		for j < len(gs) && gs[j].key <= nb {
			j++
		}
		gs = gs[i:j]
	case winSession:
		if len(gs) > 0 {
			gs = gs[len(gs)-1:]
			if gs[0].end < subSat(now, f.gap) {
				gs = nil
			}
		}
	}
	if len(gs) == 0 {
		return result(f, nil, false, 0, now)
	}
	acc, agg := gs[0].c, f.agg
	if agg == aggDistinct {
		agg = aggCount // sets are counted below, not merged
	}
	for k := 1; k < len(gs); k++ {
		mergeCell(&acc, &gs[k].c, sc, agg)
	}
	distinct := 0
	if f.agg == aggDistinct {
		distinct = sc.distinctCount(gs)
	}
	return result(f, &acc, true, distinct, now)
}

// subSat is a-b for b >= 0, saturating at math.MinInt64.
func subSat(a, b int64) int64 {
	if a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}

// addSat is a+b for b >= 0, saturating at math.MaxInt64.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
