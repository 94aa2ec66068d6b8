package refdata

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// mapSource is a Source over a map that counts its loads and can fail.
type mapSource struct {
	rows  map[string]map[string]any
	loads atomic.Int64
	fail  atomic.Bool
}

func (m *mapSource) Load(key string) (map[string]any, bool, error) {
	m.loads.Add(1)
	if m.fail.Load() {
		return nil, false, errors.New("store unreachable")
	}
	r, ok := m.rows[key]
	return r, ok, nil
}

func newMapSource(n int) *mapSource {
	m := &mapSource{rows: map[string]map[string]any{}}
	for i := range n {
		m.rows[fmt.Sprint("k", i)] = map[string]any{"id": fmt.Sprint("k", i), "price": float64(i)}
	}
	return m
}

func newTables(t testing.TB, maxCost int64, tables ...Table) *Tables {
	t.Helper()
	tb, err := New(maxCost, tables...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	return tb
}

func TestLookupCountsHitsAndMisses(t *testing.T) {
	src := newMapSource(10)
	tb := newTables(t, 1<<20, Table{"sku", src})

	row, ok := tb.Lookup("sku", "k3")
	if !ok || row["price"] != 3.0 {
		t.Fatalf("Lookup(k3) = %v, %v", row, ok)
	}
	tb.Wait()
	for range 4 {
		if row, ok := tb.Lookup("sku", "k3"); !ok || row["id"] != "k3" {
			t.Fatalf("cached Lookup(k3) = %v, %v", row, ok)
		}
	}
	if _, ok := tb.Lookup("sku", "nope"); ok {
		t.Fatal("absent key found")
	}
	tb.Wait()
	if _, ok := tb.Lookup("sku", "nope"); ok {
		t.Fatal("absent key found in the cache")
	}
	if _, ok := tb.Lookup("colour", "k3"); ok {
		t.Fatal("unknown table answered")
	}
	s := tb.Stats()
	want := Stats{Hits: 5, Misses: 3, CacheHits: 5, Loads: 2, UnknownTable: 1}
	if s.Hits != want.Hits || s.Misses != want.Misses || s.CacheHits != want.CacheHits ||
		s.Loads != want.Loads || s.UnknownTable != want.UnknownTable || s.Errors != 0 {
		t.Errorf("stats %+v, want %+v", s, want)
	}
	if got := src.loads.Load(); got != 2 {
		t.Errorf("source loaded %d times, want 2 (k3 once, the absent key once)", got)
	}
	if r := s.CacheHitRatio(); r != 5.0/7 {
		t.Errorf("hit ratio %v, want 5/7", r)
	}
	if s.Cost <= 0 || s.Cost > s.MaxCost {
		t.Errorf("cost %d of max %d", s.Cost, s.MaxCost)
	}
}

func TestSourceErrorIsACountedMiss(t *testing.T) {
	src := newMapSource(3)
	tb := newTables(t, 1<<20, Table{"sku", src})
	src.fail.Store(true)
	for range 3 {
		if _, ok := tb.Lookup("sku", "k1"); ok {
			t.Fatal("lookup answered while the source fails")
		}
		tb.Wait()
	}
	s, _ := tb.TableStats("sku")
	if s.Errors != 3 || s.Misses != 3 || s.Loads != 3 || s.Hits != 0 {
		t.Errorf("stats %+v: want 3 errors, each a miss and a load (errors are not cached)", s)
	}
	if !strings.Contains(s.LastError, "store unreachable") || !strings.Contains(s.LastError, `"k1"`) {
		t.Errorf("last error %q", s.LastError)
	}
	src.fail.Store(false)
	if _, ok := tb.Lookup("sku", "k1"); !ok {
		t.Error("the source recovered but the lookup still misses")
	}
}

// TestCostBound loads far more rows than fit and checks the cache stays
// within its bound while lookups keep answering from the source.
func TestCostBound(t *testing.T) {
	const maxCost = 20 << 10
	src := newMapSource(2000)
	tb := newTables(t, maxCost, Table{"sku", src})
	for i := range 2000 {
		key := fmt.Sprint("k", i)
		if row, ok := tb.Lookup("sku", key); !ok || row["id"] != key {
			t.Fatalf("Lookup(%s) = %v, %v", key, row, ok)
		}
	}
	tb.Wait()
	s := tb.Stats()
	if s.Cost > maxCost || s.MaxCost != maxCost {
		t.Errorf("cache holds %d of max %d", s.Cost, s.MaxCost)
	}
	per := rowCost("k1000", src.rows["k1000"])
	if loaded := 2000 * per; loaded <= 2*maxCost {
		t.Fatalf("test loads only %d bytes of rows", loaded)
	}
	if s.Cost < maxCost/4 {
		t.Errorf("cache holds only %d of %d: is it caching at all?", s.Cost, maxCost)
	}
	if s.Hits != 2000 || s.Loads != 2000 {
		t.Errorf("stats %+v", s)
	}
}

// TestKeyIsCopied: a key in a buffer the caller reuses must not change the
// cached entry.
func TestKeyIsCopied(t *testing.T) {
	src := newMapSource(10)
	tb := newTables(t, 1<<20, Table{"sku", src})
	buf := []byte("k1")
	key := unsafeString(buf)
	tb.Lookup("sku", key)
	tb.Wait()
	copy(buf, "k2")
	if row, ok := tb.Lookup("sku", "k1"); !ok || row["id"] != "k1" {
		t.Errorf("Lookup(k1) after the caller's buffer changed = %v, %v", row, ok)
	}
	if row, ok := tb.Lookup("sku", "k2"); !ok || row["id"] != "k2" {
		t.Errorf("Lookup(k2) = %v, %v", row, ok)
	}
}

// TestTablesDoNotShareRows: the same key in two tables gives each table's
// own row.
func TestTablesDoNotShareRows(t *testing.T) {
	a, b := newMapSource(3), newMapSource(3)
	b.rows["k1"] = map[string]any{"id": "other"}
	tb := newTables(t, 1<<20, Table{"a", a}, Table{"b", b})
	for range 2 {
		ra, _ := tb.Lookup("a", "k1")
		rb, _ := tb.Lookup("b", "k1")
		if ra["id"] != "k1" || rb["id"] != "other" {
			t.Fatalf("a: %v, b: %v", ra, rb)
		}
		tb.Wait()
	}
}

func TestLookupConcurrent(t *testing.T) {
	src := newMapSource(100)
	tb := newTables(t, 1<<20, Table{"sku", src})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				key := fmt.Sprint("k", (i*7+g)%120)
				row, ok := tb.Lookup("sku", key)
				if _, exists := src.rows[key]; ok != exists || (ok && row["id"] != key) {
					t.Errorf("Lookup(%s) = %v, %v", key, row, ok)
					return
				}
			}
		}()
	}
	wg.Wait()
	s := tb.Stats()
	if s.Hits+s.Misses != 4000 {
		t.Errorf("%d hits + %d misses, want 4000 lookups", s.Hits, s.Misses)
	}
}

func TestLookupHitAllocs(t *testing.T) {
	tb := newTables(t, 1<<20, Table{"sku", newMapSource(10)})
	tb.Lookup("sku", "k1")
	tb.Lookup("sku", "absent")
	tb.Wait()
	if n := testing.AllocsPerRun(100, func() { tb.Lookup("sku", "k1") }); n != 0 {
		t.Errorf("a cached hit allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { tb.Lookup("sku", "absent") }); n != 0 {
		t.Errorf("a cached absent key allocates %v times", n)
	}
}

func TestNewErrors(t *testing.T) {
	src := newMapSource(1)
	for _, c := range []struct {
		maxCost int64
		tables  []Table
		want    string
	}{
		{0, nil, "max cost 0"},
		{1, []Table{{"", src}}, "no name"},
		{1, []Table{{"a", nil}}, `"a" has no source`},
		{1, []Table{{"a", src}, {"a", src}}, `"a" declared twice`},
	} {
		if _, err := New(c.maxCost, c.tables...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%d, %v): %v, want %q", c.maxCost, c.tables, err, c.want)
		}
	}
}

func BenchmarkLookupHit(b *testing.B) {
	f, err := ParseFile("skus.csv", []byte(skusCSV), CSV, "sku")
	if err != nil {
		b.Fatal(err)
	}
	tb := newTables(b, 64<<20, Table{"sku", f})
	tb.Lookup("sku", "A-100")
	tb.Wait()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := tb.Lookup("sku", "A-100"); !ok {
			b.Fatal("miss")
		}
	}
}
