package features

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// stateVersion is the first byte of a serialized customer.
const stateVersion = 1

// ErrIncompatible is returned by RestoreCustomer for state written by
// another version or for other feature definitions; the caller drops it
// and the customer starts empty.
var ErrIncompatible = errors.New("customer state written for other feature definitions")

// AppendCustomer appends the serialized state of a customer to dst: a
// version byte, the fingerprint of the feature definitions, the latest
// event time, and the per-feature sections as the store keeps them. ok is
// false for an unknown customer (for the changelog: a tombstone).
func (st *Store) AppendCustomer(dst, customerID []byte) ([]byte, bool) {
	_, idx := st.lookup(customerID)
	if idx < 0 {
		return dst, false
	}
	c := &st.custs[idx]
	_, secs := st.sections(c)
	dst = append(dst, stateVersion)
	dst = binary.LittleEndian.AppendUint32(dst, st.set.fp)
	dst = binary.AppendVarint(dst, c.last)
	return append(dst, secs...), true
}

// RestoreCustomer replaces the state of a customer with data written by
// AppendCustomer. It checks every section and returns an error (wrapping
// ErrIncompatible, or describing the corruption) without changing the
// store when data is not valid state; it never panics.
func (st *Store) RestoreCustomer(customerID, data []byte) error {
	r := reader{b: data}
	if r.byte() != stateVersion || len(r.b) < 4 {
		return fmt.Errorf("cannot restore customer %q: %w (version)", customerID, ErrIncompatible)
	}
	if binary.LittleEndian.Uint32(r.b) != st.set.fp {
		return fmt.Errorf("cannot restore customer %q: %w (fingerprint)", customerID, ErrIncompatible)
	}
	r.b = r.b[4:]
	last := r.varint()
	if r.bad {
		return fmt.Errorf("cannot restore customer %q: %w: bad event time", customerID, errCorrupt)
	}
	secs := r.b
	if err := st.check(secs); err != nil {
		return fmt.Errorf("cannot restore customer %q: %w", customerID, err)
	}
	idx := st.lookupOrCreate(customerID)
	rec := binary.AppendUvarint(st.rec[:0], uint64(len(customerID)))
	rec = append(append(rec, customerID...), secs...)
	st.rec = rec
	c := &st.custs[idx]
	st.place(c, rec)
	c.last = last
	return nil
}

// check verifies that secs holds one valid section per feature and a
// valid profile section, and nothing else.
func (st *Store) check(secs []byte) error {
	for i := range st.set.feats {
		sec, rest, ok := splitSection(secs)
		if !ok || !st.set.feats[i].decode(sec, &st.sc) {
			return fmt.Errorf("%w: feature %s", errCorrupt, st.set.names[i])
		}
		if err := st.checkGroups(&st.set.feats[i]); err != nil {
			return err
		}
		secs = rest
	}
	sec, rest, ok := splitSection(secs)
	if !ok || !st.prof.decode(st.set, sec) {
		return fmt.Errorf("%w: profile", errCorrupt)
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(rest))
	}
	return nil
}

// checkGroups rejects decoded groups the update code could not have
// written and would misbehave on: bucket times that overflow.
func (st *Store) checkGroups(f *feature) error {
	if f.win != winBucketed {
		return nil
	}
	for _, g := range st.sc.groups {
		if g.key > math.MaxInt64/f.bucket || g.key < math.MinInt64/f.bucket {
			return fmt.Errorf("%w: feature %s: bucket %d out of range", errCorrupt, f.name, g.key)
		}
	}
	return nil
}

// splitSection is nextSection that reports a malformed length.
func splitSection(secs []byte) (sec, rest []byte, ok bool) {
	n, k := binary.Uvarint(secs)
	if k <= 0 || n > uint64(len(secs)-k) {
		return nil, nil, false
	}
	return secs[k : k+int(n)], secs[k+int(n):], true
}
