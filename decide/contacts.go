package decide

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Contacts is one task's contact ledger: per customer, the recent sends
// (for frequency caps) and the dismissals (for suppression). It is owned
// by the task's goroutine, which is the single writer of its customers,
// so checking a cap and reserving it in one Decide call is atomic.
//
// Actions and channels are kept by a stable hash of their names, never by
// catalogue position, so a reload that changes the catalogue keeps the
// state. Durability mirrors features.Store: the task writes the dirty
// customers at a checkpoint (AppendCustomer) and restores them on
// assignment (RestoreCustomer).
type Contacts struct {
	custs map[string]*ledger
	// keep is how long a send is kept: the longest cap window.
	keep  int64
	dirty []string
	gone  []string
}

type ledger struct {
	id        string // the customer, interned once for the dirty list
	sends     []send
	dismissed []dismissal
	dirty     bool
}

// send is one action sent to the customer.
type send struct {
	action, channel uint64
	at              int64
}

// dismissal suppresses action until until.
type dismissal struct {
	action uint64
	until  int64
}

// NewContacts returns an empty ledger that keeps sends for keep (use
// Engine.Horizon; a longer one is harmless).
func NewContacts(keep int64) *Contacts {
	return &Contacts{custs: map[string]*ledger{}, keep: keep}
}

// SetKeep changes how long sends are kept, after a reload.
func (c *Contacts) SetKeep(keep int64) { c.keep = keep }

func (c *Contacts) get(id []byte) *ledger { return c.custs[string(id)] }

func (c *Contacts) getOrCreate(id []byte) *ledger {
	if l := c.custs[string(id)]; l != nil {
		return l
	}
	l := &ledger{id: string(id)}
	c.custs[l.id] = l
	return l
}

func (c *Contacts) markDirty(l *ledger) {
	if !l.dirty {
		l.dirty = true
		c.dirty = append(c.dirty, l.id)
	}
}

// count returns the sends on channel at or after since.
func (l *ledger) count(channel uint64, since int64) int {
	n := 0
	if l == nil {
		return 0
	}
	for i := range l.sends {
		if l.sends[i].channel == channel && l.sends[i].at > since {
			n++
		}
	}
	return n
}

// suppressed reports whether action is suppressed at now.
func (l *ledger) suppressed(action uint64, now int64) bool {
	if l == nil {
		return false
	}
	for _, d := range l.dismissed {
		if d.action == action && now < d.until {
			return true
		}
	}
	return false
}

// record reserves a send, dropping sends older than the keep window and
// expired dismissals.
func (c *Contacts) record(id []byte, action, channel uint64, now int64) {
	l := c.getOrCreate(id)
	l.prune(now, c.keep)
	l.sends = append(l.sends, send{action: action, channel: channel, at: now})
	c.markDirty(l)
}

// dismiss suppresses action for the customer until until.
func (c *Contacts) dismiss(id []byte, action uint64, now, until int64) {
	l := c.getOrCreate(id)
	l.prune(now, c.keep)
	for i := range l.dismissed {
		if l.dismissed[i].action == action {
			l.dismissed[i].until = max(l.dismissed[i].until, until)
			c.markDirty(l)
			return
		}
	}
	l.dismissed = append(l.dismissed, dismissal{action: action, until: until})
	c.markDirty(l)
}

func (l *ledger) prune(now, keep int64) {
	s := l.sends[:0]
	for _, x := range l.sends {
		if x.at > now-keep {
			s = append(s, x)
		}
	}
	l.sends = s
	d := l.dismissed[:0]
	for _, x := range l.dismissed {
		if now < x.until {
			d = append(d, x)
		}
	}
	l.dismissed = d
}

func (l *ledger) empty() bool { return len(l.sends) == 0 && len(l.dismissed) == 0 }

// contactsVersion is the first byte of a serialized ledger.
const contactsVersion = 1

// AppendCustomer appends the customer's ledger to dst: a version byte,
// then the sends (count; action and channel keys as 8 bytes each, time
// as a varint) and the dismissals (count; action key, until). ok is false
// for a customer with no ledger (for the changelog: a tombstone).
func (c *Contacts) AppendCustomer(dst, id []byte) ([]byte, bool) {
	l := c.get(id)
	if l == nil || l.empty() {
		return dst, false
	}
	dst = append(dst, contactsVersion)
	dst = binary.AppendUvarint(dst, uint64(len(l.sends)))
	for _, s := range l.sends {
		dst = binary.LittleEndian.AppendUint64(dst, s.action)
		dst = binary.LittleEndian.AppendUint64(dst, s.channel)
		dst = binary.AppendVarint(dst, s.at)
	}
	dst = binary.AppendUvarint(dst, uint64(len(l.dismissed)))
	for _, d := range l.dismissed {
		dst = binary.LittleEndian.AppendUint64(dst, d.action)
		dst = binary.AppendVarint(dst, d.until)
	}
	return dst, true
}

// ErrBadContacts is wrapped by RestoreCustomer for bytes that are not a ledger.
var ErrBadContacts = errors.New("not an encoded contact ledger")

// RestoreCustomer replaces the customer's ledger with data written by
// AppendCustomer. Bad data returns an error wrapping ErrBadContacts and
// changes nothing; it never panics. Restoring does not make the customer
// dirty.
func (c *Contacts) RestoreCustomer(id, data []byte) error {
	l, err := decodeLedger(data)
	if err != nil {
		return fmt.Errorf("cannot restore the contacts of customer %q: %w", id, err)
	}
	l.id = string(id)
	if old := c.custs[l.id]; old != nil {
		l.dirty = old.dirty
	}
	c.custs[l.id] = l
	return nil
}

func decodeLedger(b []byte) (*ledger, error) {
	if len(b) == 0 || b[0] != contactsVersion {
		return nil, fmt.Errorf("%w: unknown version", ErrBadContacts)
	}
	b = b[1:]
	l := &ledger{}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b))/17 {
		return nil, fmt.Errorf("%w: bad send count", ErrBadContacts)
	}
	b = b[k:]
	for range n {
		if len(b) < 16 {
			return nil, fmt.Errorf("%w: short send", ErrBadContacts)
		}
		s := send{action: binary.LittleEndian.Uint64(b), channel: binary.LittleEndian.Uint64(b[8:])}
		at, k := binary.Varint(b[16:])
		if k <= 0 {
			return nil, fmt.Errorf("%w: bad send time", ErrBadContacts)
		}
		s.at, b = at, b[16+k:]
		l.sends = append(l.sends, s)
	}
	n, k = binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b))/9 {
		return nil, fmt.Errorf("%w: bad dismissal count", ErrBadContacts)
	}
	b = b[k:]
	for range n {
		if len(b) < 8 {
			return nil, fmt.Errorf("%w: short dismissal", ErrBadContacts)
		}
		d := dismissal{action: binary.LittleEndian.Uint64(b)}
		until, k := binary.Varint(b[8:])
		if k <= 0 {
			return nil, fmt.Errorf("%w: bad dismissal time", ErrBadContacts)
		}
		d.until, b = until, b[8+k:]
		l.dismissed = append(l.dismissed, d)
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadContacts, len(b))
	}
	return l, nil
}

// Delete drops a customer's ledger (erasure) and reports whether it was there.
func (c *Contacts) Delete(id []byte) bool {
	if _, ok := c.custs[string(id)]; !ok {
		return false
	}
	delete(c.custs, string(id))
	c.gone = append(c.gone, string(id))
	return true
}

// Dirty calls fn with the id of every customer removed (evicted or
// deleted) since ClearDirty, then of every customer changed since then.
// A removed id has no ledger unless it came back (AppendCustomer says
// which): the checkpoint writes a tombstone for it. id is valid only
// during the call; fn must not change c.
func (c *Contacts) Dirty(fn func(id []byte)) {
	for _, id := range c.gone {
		fn(bytesOf(id))
	}
	for _, id := range c.dirty {
		if l := c.custs[id]; l != nil && l.dirty {
			fn(bytesOf(id))
		}
	}
}

// ClearDirty forgets the changes Dirty reports, after a checkpoint.
func (c *Contacts) ClearDirty() {
	for _, id := range c.dirty {
		if l := c.custs[id]; l != nil {
			l.dirty = false
		}
	}
	c.dirty, c.gone = c.dirty[:0], c.gone[:0]
}

// Evict drops the ledgers with no send inside the keep window and no
// dismissal in force at now, and returns how many.
func (c *Contacts) Evict(now int64) int {
	n := 0
	for id, l := range c.custs {
		l.prune(now, c.keep)
		if l.empty() {
			delete(c.custs, id)
			c.gone = append(c.gone, id)
			n++
		}
	}
	return n
}

// Len is the number of customers with a ledger.
func (c *Contacts) Len() int { return len(c.custs) }

// Send is one recorded send, as the customer view shows it.
type Send struct {
	Action, Channel string
	At              int64
}

// Dismissal is one suppression in force, as the customer view shows it.
type Dismissal struct {
	Action string
	Until  int64
}

// ContactView is a customer's ledger with names resolved.
type ContactView struct {
	Sends      []Send
	Dismissals []Dismissal
}

// View returns the customer's ledger, naming actions and channels through
// e's catalogue (a name the catalogue no longer has shows as its key in
// hex). It allocates: it serves the API.
func (c *Contacts) View(e *Engine, id []byte) (ContactView, bool) {
	l := c.get(id)
	if l == nil {
		return ContactView{}, false
	}
	var v ContactView
	for _, s := range l.sends {
		v.Sends = append(v.Sends, Send{Action: e.name(s.action), Channel: e.name(s.channel), At: s.at})
	}
	for _, d := range l.dismissed {
		v.Dismissals = append(v.Dismissals, Dismissal{Action: e.name(d.action), Until: d.until})
	}
	return v, true
}

func (e *Engine) name(k uint64) string {
	if s, ok := e.names[k]; ok {
		return s
	}
	return fmt.Sprintf("%016x", k)
}

// Horizon is how long a Contacts ledger must keep sends for this
// engine's caps.
func (e *Engine) Horizon() int64 { return e.policy.horizon }
