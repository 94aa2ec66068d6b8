package decide

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// TestContactsNewCustomersDoNotAllocate records sends and dismissals for
// batches of 10,000 customers never seen before, evicting each batch
// after its window as a task does: once a first batch has grown the slab,
// the table and the lists, a new customer costs no allocation.
func TestContactsNewCustomersDoNotAllocate(t *testing.T) {
	const batch, keep = 10_000, int64(1000)
	c := NewContacts(keep)
	var ids [][]byte
	next, now := 0, int64(0)
	run := func() {
		ids = ids[:0]
		for range batch {
			ids = append(ids, fmt.Appendf(nil, "c-%08d", next))
			next++
		}
	}
	cycle := func() {
		for i, id := range ids {
			c.record(id, 1, 2, now)
			if i%10 == 0 {
				c.dismiss(id, 3, now, now+keep/2)
			}
		}
		if c.Len() != batch {
			t.Fatalf("%d ledgers, want %d", c.Len(), batch)
		}
		now += keep
		if n := c.Evict(now); n != batch {
			t.Fatalf("evicted %d, want %d", n, batch)
		}
		gone := 0
		c.Dirty(func([]byte) { gone++ })
		if gone != batch {
			t.Fatalf("%d ids for tombstones, want %d", gone, batch)
		}
		c.ClearDirty()
	}
	run()
	cycle() // warm-up: grows the slab, the table, the arena and the lists
	const runs = 5
	batches := make([][][]byte, runs+1)
	for i := range batches {
		run()
		batches[i] = slices.Clone(ids)
	}
	b := 0
	allocs := testing.AllocsPerRun(runs, func() {
		ids = batches[b]
		b++
		cycle()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per batch of %d new customers, want 0", allocs, batch)
	}
	if len(c.leds) != batch {
		t.Fatalf("the slab grew to %d ledgers for %d customers at a time", len(c.leds), batch)
	}
}

// TestContactsTombstones checks that the ids of evicted and deleted
// customers come out of Dirty after their ledgers (and id bytes) went to
// new customers.
func TestContactsTombstones(t *testing.T) {
	const keep = int64(100)
	c := NewContacts(keep)
	id := func(i int) []byte { return fmt.Appendf(nil, "customer-%d", i) }
	const n = 20_000
	for i := range n {
		c.record(id(i), 1, 2, 0)
	}
	c.record(id(n), 1, 2, 50) // stays: its send is inside the window
	c.ClearDirty()
	if !c.Delete(id(7)) || c.Delete(id(7)) {
		t.Fatal("Delete")
	}
	if got := c.Evict(keep); got != n-1 || c.Len() != 1 {
		t.Fatalf("evicted %d, %d left", got, c.Len())
	}
	// New customers take the released ledgers and id bytes.
	for i := range 100 {
		c.record(id(n+1+i), 1, 2, keep)
	}
	gone, dirty := map[string]int{}, map[string]int{}
	c.Dirty(func(b []byte) {
		if c.get(b) == nil {
			gone[string(b)]++
		} else {
			dirty[string(b)]++
		}
	})
	if len(gone) != n || len(dirty) != 100 {
		t.Fatalf("%d tombstones, %d changed; want %d, 100", len(gone), len(dirty), n)
	}
	for i := range n {
		if gone[string(id(i))] != 1 {
			t.Fatalf("%s: reported %d times", id(i), gone[string(id(i))])
		}
		if _, ok := c.AppendCustomer(nil, id(i)); ok {
			t.Fatalf("%s has a ledger", id(i))
		}
	}
	if l := c.get(id(n)); l == nil || l.count(2, 0) != 1 {
		t.Fatalf("the customer inside the window lost its ledger")
	}
	c.ClearDirty()
	k := 0
	c.Dirty(func([]byte) { k++ })
	if k != 0 {
		t.Fatalf("%d ids after ClearDirty", k)
	}
}

// refLedger is the model TestContactsModel checks Contacts against: the
// map of slices Contacts was before it had a slab.
type refLedger struct {
	sends []send
	dis   []dismissal
	dirty bool
}

func (r *refLedger) prune(now, keep int64) {
	r.sends = slices.DeleteFunc(r.sends, func(s send) bool { return s.at <= now-keep })
	r.dis = slices.DeleteFunc(r.dis, func(d dismissal) bool { return now >= d.until })
}

// TestContactsModel runs random records, dismissals, restores, deletions,
// evictions and checkpoints against Contacts and the model, with a few
// heavy customers whose sends spill, and enough customers for the table
// to grow and the arena to be compacted.
func TestContactsModel(t *testing.T) {
	const keep = int64(100)
	rng := rand.New(rand.NewPCG(1, 2))
	c := NewContacts(keep)
	ref := map[string]*refLedger{}
	var gone []string
	ids := make([][]byte, 12_000)
	for i := range ids {
		ids[i] = fmt.Appendf(nil, "%0*d", 1+rng.IntN(64), i) // lengths up to 64: released id bytes often do not fit
	}
	pick := func() []byte {
		if rng.IntN(4) == 0 {
			return ids[rng.IntN(20)] // heavy
		}
		return ids[rng.IntN(len(ids))]
	}
	check := func(id []byte) {
		t.Helper()
		r, l := ref[string(id)], c.get(id)
		if (r == nil) != (l == nil) {
			t.Fatalf("%s: ledger %v, model %v", id, l != nil, r != nil)
		}
		if r == nil {
			return
		}
		if !slices.Equal(l.sendList(), r.sends) || !slices.Equal(l.dismissals(), r.dis) {
			t.Fatalf("%s: sends %v dismissals %v, model %v %v", id, l.sendList(), l.dismissals(), r.sends, r.dis)
		}
		idx, _ := c.ids.Find(id)
		if l.dirty != r.dirty || !bytes.Equal(c.ids.ID(idx), id) || l != &c.leds[idx] {
			t.Fatalf("%s: dirty %v (model %v), id %q", id, l.dirty, r.dirty, c.ids.ID(idx))
		}
	}
	now := int64(0)
	compactions := 0
	for op := range 300_000 {
		now += int64(rng.IntN(3))
		id := pick()
		r := ref[string(id)]
		switch x := rng.IntN(1000); {
		case x < 600:
			c.record(id, uint64(rng.IntN(3)), uint64(rng.IntN(2)), now)
			if r == nil {
				r = &refLedger{}
				ref[string(id)] = r
			}
			r.prune(now, keep)
			r.sends = append(r.sends, send{action: uint64(rng.IntN(3)), channel: uint64(rng.IntN(2)), at: now})
			// The model draws its own action and channel: set them to the ledger's.
			l := c.get(id)
			r.sends[len(r.sends)-1] = l.sendList()[len(l.sendList())-1]
			r.dirty = true
		case x < 900:
			a, until := uint64(rng.IntN(8)), now+int64(rng.IntN(150))
			c.dismiss(id, a, now, until)
			if r == nil {
				r = &refLedger{}
				ref[string(id)] = r
			}
			r.prune(now, keep)
			r.dirty = true
			if i := slices.IndexFunc(r.dis, func(d dismissal) bool { return d.action == a }); i >= 0 {
				r.dis[i].until = max(r.dis[i].until, until)
			} else {
				r.dis = append(r.dis, dismissal{action: a, until: until})
			}
		case x < 940:
			from := pick()
			data, ok := c.AppendCustomer(nil, from)
			if !ok {
				data = []byte{contactsVersion, 0, 0}
			}
			if err := c.RestoreCustomer(id, data); err != nil {
				t.Fatal(err)
			}
			if r == nil {
				r = &refLedger{}
				ref[string(id)] = r
			}
			var sends []send
			var dis []dismissal
			if f := ref[string(from)]; f != nil && ok {
				sends, dis = slices.Clone(f.sends), slices.Clone(f.dis)
			}
			r.sends, r.dis = sends, dis
			if err := c.RestoreCustomer(id, data[:len(data)-1]); err == nil {
				t.Fatal("a truncated ledger was restored")
			}
		case x < 960:
			if c.Delete(id) != (r != nil) {
				t.Fatalf("%s: Delete", id)
			}
			if r != nil {
				delete(ref, string(id))
				gone = append(gone, string(id))
			}
		case x < 965:
			arena := c.ids.ArenaLen()
			n := c.Evict(now)
			want := 0
			for k, r := range ref {
				r.prune(now, keep)
				if len(r.sends) == 0 && len(r.dis) == 0 {
					delete(ref, k)
					gone = append(gone, k)
					want++
				}
			}
			if n != want {
				t.Fatalf("op %d: evicted %d, model %d", op, n, want)
			}
			if c.ids.ArenaLen() < arena {
				compactions++
			}
		case x < 975:
			got := map[string]int{}
			c.Dirty(func(b []byte) { got[string(b)]++ })
			want := map[string]int{}
			for _, k := range gone {
				want[k]++
			}
			for k, r := range ref {
				if r.dirty {
					want[k]++
				}
			}
			if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
				t.Fatalf("op %d: Dirty reported %d ids, model %d", op, len(got), len(want))
			}
			if rng.IntN(2) == 0 {
				c.ClearDirty()
				gone = gone[:0]
				for _, r := range ref {
					r.dirty = false
				}
			}
		default:
			check(id)
		}
		if c.Len() != len(ref) {
			t.Fatalf("op %d: Len %d, model %d", op, c.Len(), len(ref))
		}
		if op%20_000 == 0 {
			for _, id := range ids {
				check(id)
			}
		}
	}
	for _, id := range ids {
		check(id)
	}
	spilled := 0
	for i := range c.leds {
		if c.leds[i].more != nil {
			spilled++
		}
	}
	t.Logf("%d compactions, %d spilled ledgers", compactions, spilled)
	if compactions == 0 || spilled == 0 {
		t.Fatalf("the run compacted %d times and has %d spilled ledgers: it tests too little", compactions, spilled)
	}
}

func sorted(m map[string]int) []string {
	var s []string
	for k, n := range m {
		s = append(s, fmt.Sprint(k, ":", n))
	}
	sort.Strings(s)
	return s
}
