package decide_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/meridian/meridian/decide"
)

func TestContactsRestoreRoundTrip(t *testing.T) {
	f := newFixture(t, policyYAML)
	c1, c2 := []byte("c-1"), []byte("c-2")
	f.decide(decide.Input{CustomerID: c1, Now: t0, Trigger: trigger("s", t0, nil), Send: true})
	f.decide(decide.Input{CustomerID: c1, Now: t0, Trigger: trigger("e", t0, nil), Send: true})
	f.decide(decide.Input{CustomerID: c2, Now: t0, Trigger: trigger("e", t0, nil), Send: true})
	f.d.Observe(trigger("action_dismissed", t0, map[string]any{"action_id": "push_a"}), f.profile(nil), f.c, nil)

	var dirty [][]byte
	f.c.Dirty(func(id []byte) { dirty = append(dirty, bytes.Clone(id)) })
	slices.SortFunc(dirty, bytes.Compare)
	if len(dirty) != 2 || !bytes.Equal(dirty[0], c1) || !bytes.Equal(dirty[1], c2) {
		t.Fatalf("dirty %q", dirty)
	}
	restored := decide.NewContacts(f.e.Horizon())
	for _, id := range dirty {
		data, ok := f.c.AppendCustomer(nil, id)
		if !ok {
			t.Fatalf("no ledger for %s", id)
		}
		if err := restored.RestoreCustomer(id, data); err != nil {
			t.Fatal(err)
		}
		again, _ := restored.AppendCustomer(nil, id)
		if !bytes.Equal(again, data) {
			t.Fatalf("%s: re-encoded %x, was %x", id, again, data)
		}
	}
	n := 0
	restored.Dirty(func([]byte) { n++ })
	if n != 0 {
		t.Fatal("restored customers are dirty")
	}
	// The restored ledger caps and suppresses as the original did.
	at := t0 + hour
	for _, c := range []struct {
		id   []byte
		trig string
		want string
	}{{c1, "s", decide.ReasonCapped}, {c2, "s", decide.ReasonChosen}, {c1, "p", decide.ReasonSuppressed}, {c2, "p", decide.ReasonChosen}} {
		d := f.decide(decide.Input{CustomerID: c.id, Now: at, Trigger: trigger(c.trig, at, nil), Contacts: restored})
		if d.Reason != c.want {
			t.Errorf("%s %s after restore: %s, want %s", c.id, c.trig, d.Reason, c.want)
		}
	}
	v, ok := restored.View(f.e, c1)
	if !ok || len(v.Sends) != 2 || v.Sends[0].Action != "sms_a" || v.Sends[0].Channel != "sms" || len(v.Dismissals) != 1 || v.Dismissals[0].Action != "push_a" {
		t.Fatalf("view %+v", v)
	}

	// Erasure: Dirty reports the id, and it has no ledger (a tombstone).
	f.c.ClearDirty()
	if !f.c.Delete(c2) || f.c.Delete(c2) {
		t.Fatal("Delete")
	}
	dirty = nil
	f.c.Dirty(func(id []byte) { dirty = append(dirty, bytes.Clone(id)) })
	if len(dirty) != 1 || !bytes.Equal(dirty[0], c2) {
		t.Fatalf("dirty after delete %q", dirty)
	}
	if _, ok := f.c.AppendCustomer(nil, c2); ok {
		t.Fatal("a deleted customer has a ledger")
	}
	// Eviction: after the longest window (7d) and the suppression, c-1 goes.
	if n := f.c.Evict(t0 + 7*24*hour - 1); n != 0 {
		t.Fatalf("evicted %d inside the window", n)
	}
	if n := f.c.Evict(t0 + 7*24*hour); n != 1 || f.c.Len() != 0 {
		t.Fatalf("evicted %d, %d left", n, f.c.Len())
	}
}

func TestContactsRestoreRejectsCorruption(t *testing.T) {
	f := newFixture(t, policyYAML)
	f.decide(decide.Input{Now: t0, Trigger: trigger("s", t0, nil), Send: true})
	data, _ := f.c.AppendCustomer(nil, []byte("c-1"))
	c := decide.NewContacts(0)
	for i := range len(data) {
		if err := c.RestoreCustomer([]byte("x"), data[:i]); !errors.Is(err, decide.ErrBadContacts) {
			t.Fatalf("truncated to %d bytes: %v", i, err)
		}
	}
	if err := c.RestoreCustomer([]byte("x"), append(slices.Clone(data), 0)); !errors.Is(err, decide.ErrBadContacts) {
		t.Fatalf("trailing byte: %v", err)
	}
	if c.Len() != 0 {
		t.Fatal("a rejected ledger was kept")
	}
}

func FuzzContactsRestore(f *testing.F) {
	fx := newFixture(f, policyYAML)
	fx.decide(decide.Input{Now: t0, Trigger: trigger("s", t0, nil), Send: true})
	fx.d.Observe(trigger("action_dismissed", t0, map[string]any{"action_id": "push_a"}), fx.profile(nil), fx.c, nil)
	data, _ := fx.c.AppendCustomer(nil, []byte("c-1"))
	f.Add(data)
	f.Fuzz(func(t *testing.T, b []byte) {
		c := decide.NewContacts(hour)
		if err := c.RestoreCustomer([]byte("x"), b); err != nil {
			return
		}
		// Varints may come padded, so the encoding is canonical only
		// after one round: decode, encode, decode, encode agree.
		out, ok := c.AppendCustomer(nil, []byte("x"))
		if !ok {
			return
		}
		if err := c.RestoreCustomer([]byte("x"), out); err != nil {
			t.Fatalf("cannot restore its own encoding %x: %v", out, err)
		}
		if again, _ := c.AppendCustomer(nil, []byte("x")); !bytes.Equal(again, out) {
			t.Fatalf("re-encoded %x, then %x", out, again)
		}
	})
}
