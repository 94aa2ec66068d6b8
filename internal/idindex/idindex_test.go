package idindex

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// check verifies the index's invariants: the table holds every live slot
// once and nothing else, at most half full, with no hole between an
// entry's home and its position (what lets lookups go without
// tombstones); Len counts the live slots; the free list holds the free
// slots once; garbage is the arena bytes no slot reserves.
func check(t *testing.T, x *Index) {
	t.Helper()
	seen := make([]int, len(x.ents))
	mask := len(x.table) - 1
	used := 0
	for i, s := range x.table {
		if s == 0 {
			continue
		}
		used++
		slot := int(s) - 1
		if slot >= len(x.ents) || x.ents[slot].state != live {
			t.Fatalf("table[%d] = slot %d, which is not live", i, slot)
		}
		seen[slot]++
		for j := int(x.ents[slot].hash) & mask; j != i; j = (j + 1) & mask {
			if x.table[j] == 0 {
				t.Fatalf("slot %d at %d: a hole at %d after its home", slot, i, j)
			}
		}
	}
	if used != x.n || x.n != x.Len() || (x.table != nil && 2*used > len(x.table)) {
		t.Fatalf("%d in a table of %d, Len %d", used, len(x.table), x.Len())
	}
	for _, f := range x.free {
		seen[f] += 10
	}
	reserved := 0
	for slot, e := range x.ents {
		want := map[uint8]int{live: 1, held: 0, free: 10}[e.state]
		if seen[slot] != want {
			t.Fatalf("slot %d (state %d): in the table or free list %d times", slot, e.state, seen[slot])
		}
		if e.size > e.cap || e.off+int(e.cap) > len(x.arena) {
			t.Fatalf("slot %d: id of %d at %d with room for %d, arena %d", slot, e.size, e.off, e.cap, len(x.arena))
		}
		reserved += int(e.cap)
	}
	if reserved+x.garbage != len(x.arena) {
		t.Fatalf("%d bytes reserved and %d garbage in an arena of %d", reserved, x.garbage, len(x.arena))
	}
}

func TestZeroValue(t *testing.T) {
	var x Index
	if _, ok := x.Find([]byte("a")); ok || x.Len() != 0 || x.Cap() != 0 {
		t.Fatal("the zero Index is not empty")
	}
	x.MaybeCompact()
	check(t, &x)
	if slot, added := x.Add(nil); slot != 0 || !added {
		t.Fatalf("Add(empty id) = %d, %v", slot, added)
	}
	if slot, ok := x.Find([]byte{}); slot != 0 || !ok {
		t.Fatalf("Find(empty id) = %d, %v", slot, ok)
	}
	if slot, added := x.Add([]byte{}); slot != 0 || added {
		t.Fatalf("Add(empty id) again = %d, %v", slot, added)
	}
	check(t, &x)
}

// TestModel runs random adds, finds, removes, holds and releases against
// a map, with enough ids to grow the table several times and lengths
// that make released id bytes fit the next id only sometimes.
func TestModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	x := New()
	model := map[string]int{} // live id -> slot
	byslot := map[int]string{}
	heldIDs := map[int]string{} // held slot -> id
	// Each phase has its own ids, longer than the last phase's, so that
	// the released bytes rarely fit and the arena fills with garbage.
	const phases, perPhase = 8, 50_000
	ids := make([][]byte, 20_000)
	compactions := 0
	for op := range phases * perPhase {
		if op%perPhase == 0 {
			p := op / perPhase
			for i := range ids {
				ids[i] = fmt.Appendf(nil, "%d-%0*d", p, 1+rng.IntN(40)+8*p, i)
			}
			for id, slot := range model { // the last phase's ids go
				x.Remove(slot)
				delete(model, id)
				delete(byslot, slot)
			}
		}
		id := ids[rng.IntN(len(ids))]
		if rng.IntN(3) == 0 {
			id = ids[rng.IntN(100)] // a busy few
		}
		switch r := rng.IntN(100); {
		case r < 45:
			before := x.Cap()
			slot, added := x.Add(id)
			want, had := model[string(id)]
			if had != !added || (had && slot != want) {
				t.Fatalf("op %d: Add(%s) = %d, %v; model %d, %v", op, id, slot, added, want, had)
			}
			if added {
				if _, taken := byslot[slot]; taken {
					t.Fatalf("op %d: Add(%s) gave slot %d, held by %s", op, id, slot, byslot[slot])
				}
				if _, h := heldIDs[slot]; h {
					t.Fatalf("op %d: Add(%s) reused held slot %d", op, id, slot)
				}
				if slot >= before && (slot != before || x.Cap() != before+1) {
					t.Fatalf("op %d: new slot %d, Cap %d then %d", op, slot, before, x.Cap())
				}
				model[string(id)], byslot[slot] = slot, string(id)
			}
		case r < 70:
			slot, ok := x.Find(id)
			want, had := model[string(id)]
			if ok != had || (ok && slot != want) {
				t.Fatalf("op %d: Find(%s) = %d, %v; model %d, %v", op, id, slot, ok, want, had)
			}
		case r < 85:
			slot, ok := x.Find(id)
			if !ok {
				break
			}
			if rng.IntN(2) == 0 {
				x.Remove(slot)
			} else {
				x.Hold(slot)
				heldIDs[slot] = string(id)
			}
			delete(model, string(id))
			delete(byslot, slot)
			if _, ok := x.Find(id); ok {
				t.Fatalf("op %d: %s found after its removal", op, id)
			}
		case r < 95:
			for slot, id := range heldIDs {
				if !x.Held(slot) || x.Live(slot) || string(x.ID(slot)) != id {
					t.Fatalf("op %d: held slot %d: held %v, live %v, id %q, want %q", op, slot, x.Held(slot), x.Live(slot), x.ID(slot), id)
				}
				x.Release(slot)
				delete(heldIDs, slot)
				break
			}
		default:
			arena := x.ArenaLen()
			x.MaybeCompact()
			if x.ArenaLen() < arena {
				compactions++
			}
		}
		if x.Len() != len(model) {
			t.Fatalf("op %d: Len %d, model %d", op, x.Len(), len(model))
		}
		if op%10_000 == 0 {
			check(t, x)
		}
	}
	check(t, x)
	for id, slot := range model {
		if !x.Live(slot) || string(x.ID(slot)) != id {
			t.Fatalf("%s: slot %d has %q, live %v", id, slot, x.ID(slot), x.Live(slot))
		}
	}
	for slot, id := range heldIDs {
		if string(x.ID(slot)) != id {
			t.Fatalf("held slot %d has %q, want %s", slot, x.ID(slot), id)
		}
	}
	t.Logf("%d ids in %d slots, table %d, arena %d with %d garbage, %d compactions", x.Len(), x.Cap(), len(x.table), x.ArenaLen(), x.garbage, compactions)
	if compactions == 0 || len(x.table) < 8192 {
		t.Fatalf("%d compactions, a table of %d: the run tests too little", compactions, len(x.table))
	}
}

// addHash puts a slot with hash h into the table, as Add does, for tests
// that choose where entries land.
func addHash(x *Index, h uint64) int {
	x.ents = append(x.ents, entry{hash: h, state: live})
	slot := len(x.ents) - 1
	mask := len(x.table) - 1
	i := int(h) & mask
	for x.table[i] != 0 {
		i = (i + 1) & mask
	}
	x.table[i] = int32(slot + 1)
	x.n++
	return slot
}

// TestBackwardShift removes entries from probe runs that wrap around the
// end of the table and checks where the others end up.
func TestBackwardShift(t *testing.T) {
	x := &Index{table: make([]int32, 16)}
	// Homes 13, 13, 14, 15, 15, 0, 2: the run fills 13..15 and 0..3.
	a := addHash(x, 13)
	b := addHash(x, 13)
	c := addHash(x, 14)
	d := addHash(x, 15)
	e := addHash(x, 15)
	f := addHash(x, 16) // home 0
	g := addHash(x, 2)
	at := func(slots ...int) []int32 {
		want := make([]int32, 16)
		for i, s := range slots {
			if s >= 0 {
				want[(13+i)&15] = int32(s + 1)
			}
		}
		return want
	}
	const none = -1
	if want := at(a, b, c, d, e, f, g); !slices.Equal(x.table, want) {
		t.Fatalf("table %v, want %v", x.table, want)
	}
	check(t, x)
	x.Hold(b) // 14: c, d, e, f move back; g stays home at 2
	if want := at(a, c, d, e, f, g, none); !slices.Equal(x.table, want) {
		t.Fatalf("after removing b: %v, want %v", x.table, want)
	}
	check(t, x)
	x.Hold(a) // 13: c stays (home 14), d, e, f move back
	if want := at(none, c, d, e, f, g, none); !slices.Equal(x.table, want) {
		t.Fatalf("after removing a: %v, want %v", x.table, want)
	}
	check(t, x)
	x.Hold(d) // 15: e moves back; f has gone past 0, moves to 0; g stays at 2
	if want := at(none, c, e, f, none, g, none); !slices.Equal(x.table, want) {
		t.Fatalf("after removing d: %v, want %v", x.table, want)
	}
	check(t, x)
	x.Hold(c)
	x.Hold(f)
	x.Hold(e)
	if want := at(none, none, none, none, none, g, none); !slices.Equal(x.table, want) {
		t.Fatalf("after removing all but g: %v, want %v", x.table, want)
	}
	check(t, x)
}

// TestDeleteCollisions removes, in random order, ids from a table whose
// probe runs are long (every hash homes in a quarter of the table),
// checking after each removal that the others are still found.
func TestDeleteCollisions(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 3))
	for range 200 {
		x := &Index{table: make([]int32, 64)}
		var slots []int
		for range 32 {
			slots = append(slots, addHash(x, uint64(48+rng.IntN(16)))) // homes 48..63: runs wrap
		}
		check(t, x)
		rng.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })
		for i, s := range slots {
			x.Hold(s)
			check(t, x)
			for _, o := range slots[i+1:] {
				if !inTable(x, o) {
					t.Fatalf("slot %d lost after removing %d", o, s)
				}
			}
		}
	}
}

// inTable reports whether a lookup from slot's home reaches it.
func inTable(x *Index, slot int) bool {
	mask := len(x.table) - 1
	for i := int(x.ents[slot].hash) & mask; x.table[i] != 0; i = (i + 1) & mask {
		if x.table[i] == int32(slot+1) {
			return true
		}
	}
	return false
}

// TestReuse checks that a released slot is the next one given out, with
// its id bytes when the new id fits them, and that ids that do not fit go
// to the end of the arena, the old bytes counted as garbage.
func TestReuse(t *testing.T) {
	x := New()
	a, _ := x.Add([]byte("0123456789")) // reserves 16
	b, _ := x.Add([]byte("b"))          // reserves 8
	if a != 0 || b != 1 || x.ArenaLen() != 24 {
		t.Fatalf("slots %d, %d, arena %d", a, b, x.ArenaLen())
	}
	x.Remove(a)
	if x.ID(a) == nil || len(x.ID(a)) != 0 {
		t.Fatalf("a released slot's id is %q", x.ID(a))
	}
	c, added := x.Add([]byte("sixteen-bytes-id"))
	if c != a || !added || x.ArenaLen() != 24 || x.garbage != 0 {
		t.Fatalf("slot %d (want %d), arena %d, garbage %d: the released bytes were not reused", c, a, x.ArenaLen(), x.garbage)
	}
	if string(x.ID(c)) != "sixteen-bytes-id" || string(x.ID(b)) != "b" {
		t.Fatalf("ids %q, %q", x.ID(c), x.ID(b))
	}
	x.Remove(b)
	x.Remove(c)
	d, _ := x.Add([]byte("seventeen-byte-id")) // takes c's slot, released last; does not fit
	if d != c || x.ArenaLen() != 48 || x.garbage != 16 {
		t.Fatalf("slot %d (want %d), arena %d, garbage %d", d, c, x.ArenaLen(), x.garbage)
	}
	e, _ := x.Add([]byte("e"))
	if e != b || x.ArenaLen() != 48 || x.Cap() != 2 {
		t.Fatalf("slot %d (want %d), arena %d, Cap %d", e, b, x.ArenaLen(), x.Cap())
	}
	check(t, x)
}

// TestHold checks that a held slot keeps its id and is not reused until
// released, and that its id survives a compaction.
func TestHold(t *testing.T) {
	x := New()
	a, _ := x.Add([]byte("held-customer"))
	x.Hold(a)
	if _, ok := x.Find([]byte("held-customer")); ok || x.Live(a) || !x.Held(a) || x.Len() != 0 {
		t.Fatal("a held id is still live")
	}
	b, added := x.Add([]byte("held-customer"))
	if b == a || !added {
		t.Fatalf("Add gave the held slot %d back", b)
	}
	x.Remove(b)
	slots := make([]int, 3000)
	for round := 1; ; round++ { // garbage: ids that never fit the slots released before them
		if round > 20 {
			t.Fatal("never compacted")
		}
		for i := range slots {
			slots[i], _ = x.Add(fmt.Appendf(nil, "%0*d", 8*round+1, i))
		}
		for _, s := range slots {
			x.Remove(s)
		}
		arena := x.ArenaLen()
		if x.MaybeCompact(); x.ArenaLen() < arena {
			break
		}
	}
	if string(x.ID(a)) != "held-customer" {
		t.Fatalf("the held id became %q", x.ID(a))
	}
	check(t, x)
	x.Release(a)
	if c, _ := x.Add([]byte("next")); c != a {
		t.Fatalf("slot %d after releasing %d", c, a)
	}
	check(t, x)
	mustPanic(t, "Hold of a free slot", func() { x.Hold(b) })
	mustPanic(t, "Release of a live slot", func() { x.Release(a) })
}

func mustPanic(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	fn()
}

// TestCompaction churns ids whose lengths grow, so that released bytes
// rarely fit, until the arena is mostly garbage: MaybeCompact must copy
// it only then and keep every id, live, held and free slots' room.
func TestCompaction(t *testing.T) {
	x := New()
	const n = 2000
	live := map[string]int{}
	for i := range n {
		id := fmt.Appendf(nil, "c%d", i)
		s, _ := x.Add(id)
		live[string(id)] = s
	}
	small := x.ArenaLen()
	x.MaybeCompact()
	if x.ArenaLen() != small {
		t.Fatal("an arena with no garbage was compacted")
	}
	compacted := false
	for round := 1; round < 20 && !compacted; round++ {
		for k, s := range live {
			x.Remove(s)
			delete(live, k)
			id := fmt.Appendf(nil, "%s-%0*d", k, round*8, round)
			s, _ := x.Add(id)
			live[string(id)] = s
		}
		check(t, x)
		arena, garbage := x.ArenaLen(), x.garbage
		x.MaybeCompact()
		switch {
		case x.ArenaLen() < arena:
			compacted = true
			if garbage <= arena/2 || arena <= minCompact || x.garbage != 0 || x.ArenaLen() != arena-garbage {
				t.Fatalf("compacted %d bytes with %d garbage to %d", arena, garbage, x.ArenaLen())
			}
		case garbage > arena/2 && arena > minCompact:
			t.Fatalf("%d bytes with %d garbage not compacted", arena, garbage)
		}
		check(t, x)
	}
	if !compacted {
		t.Fatal("never compacted")
	}
	for id, s := range live {
		if got, ok := x.Find([]byte(id)); !ok || got != s || string(x.ID(s)) != id {
			t.Fatalf("%s: slot %d, %v (want %d), id %q", id, got, ok, s, x.ID(s))
		}
	}
}

// TestSteadyStateDoesNotAllocate adds, finds and removes batches of ids
// never seen before, recording the removed ones in a List: once a first
// batch has grown the slots, the table, the arena and the list, a batch
// allocates nothing.
func TestSteadyStateDoesNotAllocate(t *testing.T) {
	const batch, runs = 5000, 5
	ids := make([][]byte, (runs+2)*batch)
	for i := range ids {
		ids[i] = fmt.Appendf(nil, "customer-%d", i)
	}
	x := New()
	var gone List
	slots := make([]int, batch)
	next := 0
	cycle := func() {
		b := ids[next*batch : (next+1)*batch]
		next++
		for i, id := range b {
			slots[i], _ = x.Add(id)
		}
		for i, id := range b {
			if s, ok := x.Find(id); !ok || s != slots[i] {
				t.Fatalf("%s not found", id)
			}
		}
		for i, s := range slots {
			gone.Append(x.ID(s))
			if i%2 == 0 {
				x.Remove(s)
			} else {
				x.Hold(s)
				x.Release(s)
			}
		}
		x.MaybeCompact()
		k := 0
		gone.Each(func([]byte) { k++ })
		if k != batch {
			t.Fatalf("%d removed ids, want %d", k, batch)
		}
		gone.Reset()
	}
	cycle()
	if allocs := testing.AllocsPerRun(runs, cycle); allocs != 0 {
		t.Fatalf("%v allocations per batch of %d new ids, want 0", allocs, batch)
	}
	if x.Cap() != batch || x.Len() != 0 {
		t.Fatalf("Cap %d, Len %d after the batches", x.Cap(), x.Len())
	}
	check(t, x)
}

func TestList(t *testing.T) {
	var l List
	l.Each(func([]byte) { t.Fatal("an empty list has ids") })
	want := []string{"a", "", string(bytes.Repeat([]byte{'z'}, 300)), "d"}
	for _, id := range want {
		l.Append([]byte(id))
	}
	var got []string
	l.Each(func(id []byte) { got = append(got, string(id)) })
	if !slices.Equal(got, want) {
		t.Fatalf("%q, want %q", got, want)
	}
	l.Reset()
	l.Each(func([]byte) { t.Fatal("ids after Reset") })
}
