package features

import (
	"encoding/binary"
	"math"

	"github.com/meridian/meridian/event"
)

// Outcome is what Update did with an event.
type Outcome uint8

// The outcomes of Update.
const (
	// Applied: the event updated the customer's state (it may have been
	// filtered out by every feature's where; the customer still exists).
	Applied Outcome = iota
	// Late: the event was more than the allowed lateness behind the
	// watermark; it is counted and changes nothing.
	Late
	// Ignored: no feature or profile attribute reads the event's type.
	Ignored
)

// String returns the outcome's name, for metrics labels.
func (o Outcome) String() string {
	switch o {
	case Applied:
		return "applied"
	case Late:
		return "late"
	case Ignored:
		return "ignored"
	}
	return "unknown"
}

// Stats are a store's running totals.
type Stats struct {
	Customers int    // customers held now
	Updates   uint64 // events applied
	Late      uint64 // events refused as late
	Ignored   uint64 // events of types nothing reads
	Evicted   uint64 // customers dropped by Evict
	Bytes     int    // arena bytes, including garbage not yet compacted
}

// Store holds the feature state of one task's customers. It is not safe
// for concurrent use: the task that owns the customers owns the store.
type Store struct {
	set     *Set
	tab     table
	custs   []customer
	free    []uint32
	arena   []byte
	garbage int
	stats   Stats

	dirty   []uint32 // entries changed since ClearDirty
	gone    []byte   // ids removed since ClearDirty, each uvarint-length-prefixed
	rec     []byte   // the record being built
	sc      scratch
	prof    profile
	empty   []byte // the sections of a customer with no state
	dropped uint64 // sections found corrupt in the arena (a BUG; kept for tests)
}

// NewStore returns an empty store for the features of set.
func NewStore(set *Set) *Store {
	st := &Store{set: set, tab: newTable()}
	st.empty = make([]byte, len(set.feats)+1) // every section empty: length 0
	return st
}

// lookup returns the entry index of id, or -1.
func (st *Store) lookup(id []byte) (slot, idx int) {
	slot, found := st.find(id, st.tab.hash(id))
	if !found {
		return slot, -1
	}
	return slot, int(st.tab.slots[slot]) - 1
}

// lookupOrCreate returns the entry of id, creating an empty customer.
func (st *Store) lookupOrCreate(id []byte) int {
	h := st.tab.hash(id)
	slot, found := st.find(id, h)
	if found {
		return int(st.tab.slots[slot]) - 1
	}
	idx := st.newEntry()
	c := &st.custs[idx]
	c.hash, c.last = h, math.MinInt64
	rec := binary.AppendUvarint(st.rec[:0], uint64(len(id)))
	rec = append(append(rec, id...), st.empty...)
	st.rec = rec
	st.place(c, rec)
	st.insertSlot(slot, idx)
	st.stats.Customers++
	return idx
}

// sections returns the record of c after the id.
func (st *Store) sections(c *customer) (id, secs []byte) {
	rec := st.arena[c.off : c.off+int(c.size)]
	n, k := binary.Uvarint(rec)
	if k <= 0 || n > uint64(len(rec)-k) {
		return nil, nil
	}
	return rec[k : k+int(n)], rec[k+int(n):]
}

// nextSection splits the first length-prefixed section off secs.
func nextSection(secs []byte) (sec, rest []byte) {
	n, k := binary.Uvarint(secs)
	if k <= 0 || n > uint64(len(secs)-k) {
		return nil, nil
	}
	return secs[k : k+int(n)], secs[k+int(n):]
}

// Update applies ev, which the caller has decoded, given the task's
// current watermark (Unix ns; math.MinInt64 before the first). Events more
// than the allowed lateness behind the watermark are counted as Late and
// change nothing; events within it update state exactly, wherever they
// fall. Update does not allocate once the store has warmed up.
func (st *Store) Update(ev *event.Event, watermark int64) Outcome {
	r := st.set.routes[string(ev.Type)]
	if r == nil {
		st.stats.Ignored++
		return Ignored
	}
	lo := int64(noBound)
	if watermark != math.MinInt64 {
		lo = subSat(watermark, st.set.lateness)
		if ev.TS < lo {
			st.stats.Late++
			return Late
		}
	}
	idx := st.lookupOrCreate(ev.CustomerID)
	c := &st.custs[idx]
	id, secs := st.sections(c)
	rec := binary.AppendUvarint(st.rec[:0], uint64(len(id)))
	rec = append(rec, id...)
	next := 0 // index into r.feats
	for i := range st.set.feats {
		var sec []byte
		sec, secs = nextSection(secs)
		if next < len(r.feats) && r.feats[next] == i {
			next++
			rec = st.updateFeature(rec, &st.set.feats[i], sec, ev, lo)
			continue
		}
		rec = appendRaw(rec, sec)
	}
	sec, _ := nextSection(secs)
	rec = st.updateProfile(rec, sec, r, ev)
	st.rec = rec
	st.place(c, rec)
	c.last = max(c.last, ev.TS)
	st.markDirty(idx)
	st.stats.Updates++
	return Applied
}

func appendRaw(dst, sec []byte) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(sec))), sec...)
}

func (st *Store) updateFeature(dst []byte, f *feature, sec []byte, ev *event.Event, lo int64) []byte {
	s, ok := f.sample(ev)
	if !ok {
		return appendRaw(dst, sec)
	}
	if !f.decode(sec, &st.sc) {
		st.dropped++
		st.sc.reset()
	}
	f.apply(s, lo, &st.sc)
	return f.appendSection(dst, &st.sc)
}

func (st *Store) updateProfile(dst, sec []byte, r *route, ev *event.Event) []byte {
	if len(r.attrs) == 0 && !r.consent {
		return appendRaw(dst, sec)
	}
	if !st.prof.decode(st.set, sec) {
		st.dropped++
		st.prof.reset(st.set)
	}
	st.prof.update(st.set, r, ev)
	dst, st.sc.tmp = st.prof.append(dst, st.sc.tmp)
	return dst
}

func (st *Store) markDirty(idx int) {
	c := &st.custs[idx]
	c.dirty = true
	if !c.inList {
		c.inList = true
		st.dirty = append(st.dirty, uint32(idx))
	}
}

// Vector appends the feature values of a customer as of now (Unix ns, at
// or after the watermark minus the allowed lateness of the latest Update)
// to dst[:0], in Names order; math.NaN() is a missing value. ok is false
// for an unknown customer. It does not allocate when dst has room.
func (st *Store) Vector(customerID []byte, now int64, dst []float64) ([]float64, bool) {
	dst = dst[:0]
	_, idx := st.lookup(customerID)
	if idx < 0 {
		return dst, false
	}
	_, secs := st.sections(&st.custs[idx])
	for i := range st.set.feats {
		var sec []byte
		sec, secs = nextSection(secs)
		dst = append(dst, st.value(&st.set.feats[i], sec, now))
	}
	return dst, true
}

func (st *Store) value(f *feature, sec []byte, now int64) float64 {
	if !f.decode(sec, &st.sc) {
		st.dropped++
		st.sc.reset()
	}
	return f.query(now, &st.sc)
}
