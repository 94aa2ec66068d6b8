package features

import (
	"encoding/binary"
	"math"
)

// NamedValue is one feature of the customer view; Value is nil for null.
type NamedValue struct {
	Name  string
	Value *float64
}

// View is a customer's state as GET /v1/customers/{id} shows it.
type View struct {
	// Features are in Names order.
	Features []NamedValue
	// Profile maps attribute names to their latest value: a string, a
	// float64 or a bool. Attributes never seen are absent.
	Profile map[string]any
	// Consent maps every configured channel to whether it is granted.
	Consent map[string]bool
}

// View returns the customer's features as of now, profile and consent; ok
// is false for an unknown customer. It allocates: it serves the API, not
// the hot path.
func (st *Store) View(customerID []byte, now int64) (View, bool) {
	vec, ok := st.Vector(customerID, now, make([]float64, 0, len(st.set.feats)))
	if !ok {
		return View{}, false
	}
	v := View{Features: make([]NamedValue, len(vec)), Profile: map[string]any{},
		Consent: make(map[string]bool, len(st.set.consent.Channels))}
	for i, x := range vec {
		v.Features[i].Name = st.set.names[i]
		if !math.IsNaN(x) {
			v.Features[i].Value = &x
		}
	}
	_, idx := st.lookup(customerID)
	_, secs := st.sections(&st.custs[idx])
	for range st.set.feats {
		_, secs = nextSection(secs)
	}
	sec, _ := nextSection(secs)
	if !st.prof.decode(st.set, sec) {
		st.prof.reset(st.set)
	}
	for i, name := range st.set.attrs {
		if val := st.prof.attrs[i].value(); val != nil {
			v.Profile[name] = val
		}
	}
	for i, ch := range st.set.consent.Channels {
		v.Consent[ch] = st.prof.consent[i].kind != pvFalse
	}
	return v, true
}

// Evict drops the customers whose latest event time is older than now -
// Horizon() and returns how many. Their lifetime state (time_since_last,
// lifetime aggregates, profile) goes with them.
func (st *Store) Evict(now int64) int {
	cutoff := subSat(now, int64(st.set.horizon))
	n := 0
	for idx := range st.custs {
		c := &st.custs[idx]
		if c.off < 0 || c.last >= cutoff {
			continue
		}
		st.remove(idx)
		n++
	}
	st.stats.Evicted += uint64(n)
	if st.garbage > len(st.arena)/2 && len(st.arena) > 1<<16 {
		st.compact()
	}
	return n
}

// Delete drops a customer (erasure) and reports whether it was there.
func (st *Store) Delete(customerID []byte) bool {
	_, idx := st.lookup(customerID)
	if idx < 0 {
		return false
	}
	st.remove(idx)
	return true
}

// remove drops entry idx, remembering its id for Dirty.
func (st *Store) remove(idx int) {
	c := &st.custs[idx]
	id := st.idOf(c)
	slot, found := st.find(id, c.hash)
	if !found {
		return // BUG: a live entry is always in the table
	}
	st.gone = append(binary.AppendUvarint(st.gone, uint64(len(id))), id...)
	st.release(slot, idx)
	st.stats.Customers--
}

// Stats returns the store's running totals.
func (st *Store) Stats() Stats {
	s := st.stats
	s.Bytes = len(st.arena)
	return s
}

// Dirty calls fn with the id of every customer removed (evicted or
// deleted) since ClearDirty, and then of every customer updated since
// then (RestoreCustomer does not make a customer dirty: its state came from
// the changelog). A removed id has no state unless it came back
// (AppendCustomer says which): the checkpoint writes a tombstone for it.
// id is valid only during the call; fn must not change the store.
func (st *Store) Dirty(fn func(id []byte)) {
	for g := st.gone; len(g) > 0; {
		n, k := binary.Uvarint(g)
		if k <= 0 || n > uint64(len(g)-k) {
			break
		}
		fn(g[k : k+int(n)])
		g = g[k+int(n):]
	}
	for _, idx := range st.dirty {
		if c := &st.custs[idx]; c.off >= 0 && c.dirty {
			fn(st.idOf(c))
		}
	}
}

// ClearDirty forgets the changes Dirty reports, after a checkpoint.
func (st *Store) ClearDirty() {
	for _, idx := range st.dirty {
		st.custs[idx].inList = false
		st.custs[idx].dirty = false
	}
	st.dirty = st.dirty[:0]
	st.gone = st.gone[:0]
}
