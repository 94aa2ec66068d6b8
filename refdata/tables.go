package refdata

import (
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"sync/atomic"

	"github.com/dgraph-io/ristretto/v2"
)

// Source loads the rows of one table by key. Load returns the row and
// true, or false when the table has no row with that key; an error means
// the answer is unknown (the store is unreachable, the row is corrupt) and
// is not cached, so the next lookup asks again. A Source must be safe for
// concurrent use. The row it returns is shared by every lookup that the
// cache answers with it: neither the Source nor callers may modify it.
type Source interface {
	Load(key string) (map[string]any, bool, error)
}

// Sizer is implemented by a Source that knows how many rows it has; the
// cache sizes its admission counters from it.
type Sizer interface {
	Len() int
}

// Table names a Source for New.
type Table struct {
	Name   string
	Source Source
}

// Tables answers lookups in named reference tables through one
// cost-bounded cache shared by all of them, in front of each table's
// Source. It is safe for concurrent use. Close it to stop the cache's
// goroutines.
type Tables struct {
	cache   *ristretto.Cache[uint64, *entry]
	byName  map[string]*table
	order   []*table
	maxCost int64
	// unknown counts lookups in a table that does not exist.
	unknown atomic.Uint64
	evicted atomic.Uint64
}

// table is one table's source and counters.
type table struct {
	name string
	src  Source
	seed maphash.Seed // per table, so equal keys of two tables differ
	counters
	lastErr atomic.Pointer[string]
}

// counters are a table's lookup outcomes; see Stats.
type counters struct {
	hits, misses, errors, cacheHits, loads atomic.Uint64
}

// entry is one cached row. The cache is keyed by a 64-bit hash of (table,
// key); entry keeps both so that a hash collision is a miss, never another
// row. A nil row caches "no such key", so a Source is asked once per
// absent key, not once per lookup.
type entry struct {
	table *table
	key   string
	row   map[string]any
}

// avgRowCost is the row cost assumed when sizing the cache's counters.
const avgRowCost = 256

// New returns Tables over the given sources with a cache holding rows of
// at most maxCost bytes in all (as estimated by the row cost; see
// docs/models.md). Table names must be unique and non-empty.
func New(maxCost int64, tables ...Table) (*Tables, error) {
	if maxCost <= 0 {
		return nil, fmt.Errorf("reference cache: max cost %d must be greater than 0", maxCost)
	}
	t := &Tables{byName: make(map[string]*table, len(tables)), maxCost: maxCost}
	rows := int64(0)
	for _, tb := range tables {
		switch {
		case tb.Name == "":
			return nil, errors.New("reference table with no name")
		case tb.Source == nil:
			return nil, fmt.Errorf("reference table %q has no source", tb.Name)
		case t.byName[tb.Name] != nil:
			return nil, fmt.Errorf("reference table %q declared twice", tb.Name)
		}
		x := &table{name: tb.Name, src: tb.Source, seed: maphash.MakeSeed()}
		t.byName[tb.Name] = x
		t.order = append(t.order, x)
		if s, ok := tb.Source.(Sizer); ok {
			rows += int64(s.Len())
		} else {
			rows += maxCost / avgRowCost
		}
	}
	items := max(min(rows, maxCost/avgRowCost), 100)
	cache, err := ristretto.NewCache(&ristretto.Config[uint64, *entry]{
		NumCounters:        10 * items, // ristretto's advice: 10x the items it will hold
		MaxCost:            maxCost,
		BufferItems:        64,
		IgnoreInternalCost: true, // rowCost counts the entry itself
		KeyToHash:          func(k uint64) (uint64, uint64) { return k, 0 },
		OnEvict:            func(*ristretto.Item[*entry]) { t.evicted.Add(1) },
	})
	if err != nil {
		return nil, fmt.Errorf("BUG: reference cache: %w", err)
	}
	t.cache = cache
	return t, nil
}

// Lookup returns the row of table with the given key. A table that does
// not exist, a key the table does not have and an error of the table's
// Source all return false: a lookup never stops a decision; Stats counts
// each outcome. The row must not be modified. Lookup does not allocate
// when the cache holds the row (or holds that the key is absent).
func (t *Tables) Lookup(table, key string) (map[string]any, bool) {
	tb := t.byName[table]
	if tb == nil {
		t.unknown.Add(1)
		return nil, false
	}
	h := maphash.String(tb.seed, key)
	if e, ok := t.cache.Get(h); ok && e.table == tb && e.key == key {
		tb.cacheHits.Add(1)
		return tb.result(e.row)
	}
	tb.loads.Add(1)
	row, found, err := tb.src.Load(key)
	if err != nil {
		tb.errors.Add(1)
		tb.misses.Add(1)
		msg := fmt.Sprintf("table %s, key %q: %v", tb.name, key, err)
		tb.lastErr.Store(&msg)
		return nil, false
	}
	if !found {
		row = nil
	}
	// The key may live in a buffer the caller reuses: keep a copy.
	e := &entry{table: tb, key: strings.Clone(key), row: row}
	t.cache.Set(h, e, rowCost(e.key, row))
	return tb.result(row)
}

func (tb *table) result(row map[string]any) (map[string]any, bool) {
	if row == nil {
		tb.misses.Add(1)
		return nil, false
	}
	tb.hits.Add(1)
	return row, true
}

// Wait blocks until the rows that lookups have loaded are in the cache
// (ristretto admits them asynchronously); for tests and benchmarks.
func (t *Tables) Wait() { t.cache.Wait() }

// Close stops the cache. Lookups after Close still answer, from the
// sources. Close is idempotent.
func (t *Tables) Close() error {
	t.cache.Close()
	return nil
}

// Names returns the tables' names in the order given to New.
func (t *Tables) Names() []string {
	names := make([]string, len(t.order))
	for i, tb := range t.order {
		names[i] = tb.name
	}
	return names
}

// Stats are lookup counters, for metrics. Hits and Misses are what Lookup
// returned (Misses include Errors and lookups in unknown tables);
// CacheHits and Loads say where the answer came from.
type Stats struct {
	// Hits are lookups that returned a row.
	Hits uint64
	// Misses are lookups that returned none: no such table or key, or an
	// error of the source.
	Misses uint64
	// Errors are source errors (each also a miss).
	Errors uint64
	// CacheHits are lookups the cache answered (with a row or with "no
	// such key"); Loads are lookups that asked the source.
	CacheHits, Loads uint64
	// UnknownTable counts lookups in tables that do not exist (all
	// tables' Stats only).
	UnknownTable uint64
	// Cost is the estimated bytes the cache holds now and MaxCost its
	// bound; Evicted counts rows evicted to stay within it (all tables'
	// Stats only).
	Cost, MaxCost int64
	Evicted       uint64
	// LastError describes the latest source error, or is empty (one
	// table's Stats only).
	LastError string
}

// CacheHitRatio is CacheHits over the lookups that reached a table, or 0
// before any.
func (s Stats) CacheHitRatio() float64 {
	if n := s.CacheHits + s.Loads; n > 0 {
		return float64(s.CacheHits) / float64(n)
	}
	return 0
}

// Stats returns the counters of all tables together.
func (t *Tables) Stats() Stats {
	var s Stats
	for _, tb := range t.order {
		s.add(tb)
	}
	s.UnknownTable = t.unknown.Load()
	s.Misses += s.UnknownTable
	s.MaxCost = t.cache.MaxCost()
	s.Cost = s.MaxCost - t.cache.RemainingCost()
	s.Evicted = t.evicted.Load()
	return s
}

// TableStats returns one table's counters, and false for a table that
// does not exist.
func (t *Tables) TableStats(name string) (Stats, bool) {
	tb := t.byName[name]
	if tb == nil {
		return Stats{}, false
	}
	var s Stats
	s.add(tb)
	if p := tb.lastErr.Load(); p != nil {
		s.LastError = *p
	}
	return s, true
}

func (s *Stats) add(tb *table) {
	s.Hits += tb.hits.Load()
	s.Misses += tb.misses.Load()
	s.Errors += tb.errors.Load()
	s.CacheHits += tb.cacheHits.Load()
	s.Loads += tb.loads.Load()
}

// entryOverhead approximates the bytes of an entry, its map header and
// the cache's bookkeeping for it.
const entryOverhead = 160

// rowCost estimates the bytes a cached row keeps alive: the entry, the key
// and each field's name and value (strings by length, numbers and bools as
// 8 bytes, nested values by their estimated size).
func rowCost(key string, row map[string]any) int64 {
	n := int64(entryOverhead + len(key))
	for k, v := range row {
		n += 48 + int64(len(k)) + valueCost(v) // map slot, string and interface headers
	}
	return n
}

func valueCost(v any) int64 {
	switch x := v.(type) {
	case string:
		return int64(len(x))
	case []any:
		n := int64(24)
		for _, e := range x {
			n += 16 + valueCost(e)
		}
		return n
	case map[string]any:
		return rowCost("", x) - entryOverhead + 48
	}
	return 8
}
