package decide

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/meridian/meridian/internal/idindex"
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
//
// Contacting a new customer does not allocate once the ledger has warmed
// up: an idindex.Index gives each customer a slot, reusing the slots (and
// the id bytes) Evict and Delete release, and the ledgers are values in a
// slab parallel to the slots. A ledger holds its first few sends and
// dismissals inline; a customer with more spills them to a spill with room
// for more, cut from a block shared by spillBlock heavy customers and
// handed on to the next heavy one when the ledger is released. What still
// allocates: a new block, once per spillBlock heavy customers, and a
// customer outgrowing its spill's room (append doubles it; the room stays
// with the spill).
type Contacts struct {
	ids  idindex.Index // the customers: leds[slot] is a customer's ledger
	leds []ledger
	// keep is how long a send is kept: the longest cap window.
	keep  int64
	dirty []int32      // ledgers changed since ClearDirty
	gone  idindex.List // ids removed since ClearDirty
	// spills are released ledgers' spills, for reuse; spillBlock,
	// sendBlock and disBlock are what is left of the last blocks new
	// spills and their room were cut from.
	spills     []*spill
	spillBlock []spill
	sendBlock  []send
	disBlock   []dismissal
	// rsends and rdis are RestoreCustomer's decoding buffers.
	rsends []send
	rdis   []dismissal
}

// The sends and dismissals a ledger holds inline; spilled in ledger.ns or
// ledger.nd says they are in ledger.more instead, which starts with room
// for spillSends and spillDismissals (cut from blocks of spillBlock).
const (
	inlineSends      = 4
	inlineDismissals = 2
	spilled          = 0xff
	spillSends       = 16
	spillDismissals  = 8
	spillBlock       = 64
)

// ledger is one customer's entry in the slab (144 bytes). A released
// one keeps its place in the dirty list (inList). Its one pointer,
// more, is nil but for heavy customers: unlike features' table the slab
// is scanned by the garbage collector, but there is no heap object per
// customer.
type ledger struct {
	ns, nd    uint8 // inline sends and dismissals, or spilled
	dirty     bool
	inList    bool // the ledger's index is in the dirty list
	sends     [inlineSends]send
	dismissed [inlineDismissals]dismissal
	more      *spill // nil unless the customer had more than fit inline
}

// spill holds the sends (when ns is spilled) and the dismissals (when nd
// is) of a heavy customer.
type spill struct {
	sends     []send
	dismissed []dismissal
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
	return &Contacts{keep: keep}
}

// SetKeep changes how long sends are kept, after a reload.
func (c *Contacts) SetKeep(keep int64) { c.keep = keep }

// get returns the customer's ledger, or nil. The pointer is valid until
// the next ledger is created.
func (c *Contacts) get(id []byte) *ledger {
	idx, ok := c.ids.Find(id)
	if !ok {
		return nil
	}
	return &c.leds[idx]
}

// getOrCreate returns the index of the customer's ledger, creating an
// empty one.
func (c *Contacts) getOrCreate(id []byte) int {
	idx, added := c.ids.Add(id)
	if added && idx == len(c.leds) {
		c.leds = append(c.leds, ledger{})
	}
	return idx
}

// release frees ledger idx, remembering its id for Dirty.
func (c *Contacts) release(idx int) {
	l := &c.leds[idx]
	c.gone.Append(c.ids.ID(idx))
	c.ids.Remove(idx)
	if m := l.more; m != nil {
		m.sends, m.dismissed = m.sends[:0], m.dismissed[:0]
		c.spills = append(c.spills, m)
	}
	*l = ledger{inList: l.inList}
}

func (c *Contacts) markDirty(idx int) {
	l := &c.leds[idx]
	l.dirty = true
	if !l.inList {
		l.inList = true
		c.dirty = append(c.dirty, int32(idx))
	}
}

// sendList returns the sends, aliasing the ledger.
func (l *ledger) sendList() []send {
	if l.ns == spilled {
		return l.more.sends
	}
	return l.sends[:l.ns]
}

// dismissals returns the dismissals, aliasing the ledger.
func (l *ledger) dismissals() []dismissal {
	if l.nd == spilled {
		return l.more.dismissed
	}
	return l.dismissed[:l.nd]
}

// putSends replaces the sends with s, which must not alias them.
func (c *Contacts) putSends(l *ledger, s []send) {
	if len(s) <= inlineSends {
		l.ns = uint8(copy(l.sends[:], s))
		if l.more != nil {
			l.more.sends = l.more.sends[:0]
		}
		return
	}
	m := c.spillOf(l)
	if cap(m.sends) == 0 {
		m.sends = carve(&c.sendBlock, spillSends)
	}
	m.sends, l.ns = append(m.sends[:0], s...), spilled
}

// putDismissals is putSends for the dismissals.
func (c *Contacts) putDismissals(l *ledger, d []dismissal) {
	if len(d) <= inlineDismissals {
		l.nd = uint8(copy(l.dismissed[:], d))
		if l.more != nil {
			l.more.dismissed = l.more.dismissed[:0]
		}
		return
	}
	m := c.spillOf(l)
	if cap(m.dismissed) == 0 {
		m.dismissed = carve(&c.disBlock, spillDismissals)
	}
	m.dismissed, l.nd = append(m.dismissed[:0], d...), spilled
}

// addSend appends a send, spilling the inline ones when they are full.
func (c *Contacts) addSend(l *ledger, x send) {
	switch {
	case l.ns < inlineSends:
		l.sends[l.ns] = x
		l.ns++
		return
	case l.ns != spilled:
		m := c.spillOf(l)
		if cap(m.sends) == 0 {
			m.sends = carve(&c.sendBlock, spillSends)
		}
		m.sends, l.ns = append(m.sends[:0], l.sends[:]...), spilled
	}
	l.more.sends = append(l.more.sends, x)
}

// addDismissal is addSend for the dismissals.
func (c *Contacts) addDismissal(l *ledger, x dismissal) {
	switch {
	case l.nd < inlineDismissals:
		l.dismissed[l.nd] = x
		l.nd++
		return
	case l.nd != spilled:
		m := c.spillOf(l)
		if cap(m.dismissed) == 0 {
			m.dismissed = carve(&c.disBlock, spillDismissals)
		}
		m.dismissed, l.nd = append(m.dismissed[:0], l.dismissed[:]...), spilled
	}
	l.more.dismissed = append(l.more.dismissed, x)
}

// shrinkSends makes s, a prefix of the storage sendList returns, the
// sends; sends that fit inline again go back inline, and the spill keeps
// its room for the next time.
func (l *ledger) shrinkSends(s []send) {
	switch {
	case l.ns != spilled:
		l.ns = uint8(len(s))
	case len(s) <= inlineSends:
		l.ns = uint8(copy(l.sends[:], s))
		l.more.sends = l.more.sends[:0]
	default:
		l.more.sends = s
	}
}

// shrinkDismissals is shrinkSends for the dismissals.
func (l *ledger) shrinkDismissals(d []dismissal) {
	switch {
	case l.nd != spilled:
		l.nd = uint8(len(d))
	case len(d) <= inlineDismissals:
		l.nd = uint8(copy(l.dismissed[:], d))
		l.more.dismissed = l.more.dismissed[:0]
	default:
		l.more.dismissed = d
	}
}

// spillOf returns the ledger's spill, giving it one first: a released
// ledger's, else one cut from a block. Heavy customers thus cost an
// allocation per spillBlock of them, not one each.
func (c *Contacts) spillOf(l *ledger) *spill {
	if l.more != nil {
		return l.more
	}
	if n := len(c.spills); n > 0 {
		l.more, c.spills = c.spills[n-1], c.spills[:n-1]
		return l.more
	}
	if len(c.spillBlock) == 0 {
		c.spillBlock = make([]spill, spillBlock)
	}
	l.more, c.spillBlock = &c.spillBlock[0], c.spillBlock[1:]
	return l.more
}

// carve returns an empty slice with room for n, cut from *block, which it
// refills with room for spillBlock such slices.
func carve[T any](block *[]T, n int) []T {
	if len(*block) < n {
		*block = make([]T, spillBlock*n)
	}
	s := (*block)[:0:n]
	*block = (*block)[n:]
	return s
}

// count returns the sends on channel at or after since.
func (l *ledger) count(channel uint64, since int64) int {
	n := 0
	if l == nil {
		return 0
	}
	for _, s := range l.sendList() {
		if s.channel == channel && s.at > since {
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
	for _, d := range l.dismissals() {
		if d.action == action && now < d.until {
			return true
		}
	}
	return false
}

// record reserves a send, dropping sends older than the keep window and
// expired dismissals.
func (c *Contacts) record(id []byte, action, channel uint64, now int64) {
	idx := c.getOrCreate(id)
	l := &c.leds[idx]
	l.prune(now, c.keep)
	c.addSend(l, send{action: action, channel: channel, at: now})
	c.markDirty(idx)
}

// dismiss suppresses action for the customer until until.
func (c *Contacts) dismiss(id []byte, action uint64, now, until int64) {
	idx := c.getOrCreate(id)
	l := &c.leds[idx]
	l.prune(now, c.keep)
	c.markDirty(idx)
	ds := l.dismissals()
	for i := range ds {
		if ds[i].action == action {
			ds[i].until = max(ds[i].until, until)
			return
		}
	}
	c.addDismissal(l, dismissal{action: action, until: until})
}

func (l *ledger) prune(now, keep int64) {
	all := l.sendList()
	s := all[:0]
	for _, x := range all {
		if x.at > now-keep {
			s = append(s, x)
		}
	}
	if len(s) != len(all) {
		l.shrinkSends(s)
	}
	ad := l.dismissals()
	d := ad[:0]
	for _, x := range ad {
		if now < x.until {
			d = append(d, x)
		}
	}
	if len(d) != len(ad) {
		l.shrinkDismissals(d)
	}
}

func (l *ledger) empty() bool { return l.ns == 0 && l.nd == 0 }

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
	sends, dis := l.sendList(), l.dismissals()
	dst = append(dst, contactsVersion)
	dst = binary.AppendUvarint(dst, uint64(len(sends)))
	for _, s := range sends {
		dst = binary.LittleEndian.AppendUint64(dst, s.action)
		dst = binary.LittleEndian.AppendUint64(dst, s.channel)
		dst = binary.AppendVarint(dst, s.at)
	}
	dst = binary.AppendUvarint(dst, uint64(len(dis)))
	for _, d := range dis {
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
	sends, dis, err := decodeLedger(data, c.rsends[:0], c.rdis[:0])
	c.rsends, c.rdis = sends[:0], dis[:0]
	if err != nil {
		return fmt.Errorf("cannot restore the contacts of customer %q: %w", id, err)
	}
	l := &c.leds[c.getOrCreate(id)]
	c.putSends(l, sends)
	c.putDismissals(l, dis)
	return nil
}

// decodeLedger appends the sends and dismissals encoded in b to sends
// and dis.
func decodeLedger(b []byte, sends []send, dis []dismissal) ([]send, []dismissal, error) {
	if len(b) == 0 || b[0] != contactsVersion {
		return sends, dis, fmt.Errorf("%w: unknown version", ErrBadContacts)
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b))/17 {
		return sends, dis, fmt.Errorf("%w: bad send count", ErrBadContacts)
	}
	b = b[k:]
	for range n {
		if len(b) < 16 {
			return sends, dis, fmt.Errorf("%w: short send", ErrBadContacts)
		}
		s := send{action: binary.LittleEndian.Uint64(b), channel: binary.LittleEndian.Uint64(b[8:])}
		at, k := binary.Varint(b[16:])
		if k <= 0 {
			return sends, dis, fmt.Errorf("%w: bad send time", ErrBadContacts)
		}
		s.at, b = at, b[16+k:]
		sends = append(sends, s)
	}
	n, k = binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b))/9 {
		return sends, dis, fmt.Errorf("%w: bad dismissal count", ErrBadContacts)
	}
	b = b[k:]
	for range n {
		if len(b) < 8 {
			return sends, dis, fmt.Errorf("%w: short dismissal", ErrBadContacts)
		}
		d := dismissal{action: binary.LittleEndian.Uint64(b)}
		until, k := binary.Varint(b[8:])
		if k <= 0 {
			return sends, dis, fmt.Errorf("%w: bad dismissal time", ErrBadContacts)
		}
		d.until, b = until, b[8+k:]
		dis = append(dis, d)
	}
	if len(b) != 0 {
		return sends, dis, fmt.Errorf("%w: %d trailing bytes", ErrBadContacts, len(b))
	}
	return sends, dis, nil
}

// Delete drops a customer's ledger (erasure) and reports whether it was there.
func (c *Contacts) Delete(id []byte) bool {
	idx, ok := c.ids.Find(id)
	if !ok {
		return false
	}
	c.release(idx)
	return true
}

// Dirty calls fn with the id of every customer removed (evicted or
// deleted) since ClearDirty, then of every customer changed since then.
// A removed id has no ledger unless it came back (AppendCustomer says
// which): the checkpoint writes a tombstone for it. id is valid only
// during the call; fn must not change c.
func (c *Contacts) Dirty(fn func(id []byte)) {
	c.gone.Each(fn)
	for _, idx := range c.dirty {
		if c.leds[idx].dirty && c.ids.Live(int(idx)) {
			fn(c.ids.ID(int(idx)))
		}
	}
}

// ClearDirty forgets the changes Dirty reports, after a checkpoint.
func (c *Contacts) ClearDirty() {
	for _, idx := range c.dirty {
		c.leds[idx].inList = false
		c.leds[idx].dirty = false
	}
	c.dirty = c.dirty[:0]
	c.gone.Reset()
}

// Evict drops the ledgers with no send inside the keep window and no
// dismissal in force at now, and returns how many.
func (c *Contacts) Evict(now int64) int {
	n := 0
	for idx := range c.leds {
		l := &c.leds[idx]
		if !c.ids.Live(idx) {
			continue
		}
		l.prune(now, c.keep)
		if !l.empty() {
			continue
		}
		c.release(idx)
		n++
	}
	c.ids.MaybeCompact()
	return n
}

// Len is the number of customers with a ledger.
func (c *Contacts) Len() int { return c.ids.Len() }

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
	for _, s := range l.sendList() {
		v.Sends = append(v.Sends, Send{Action: e.name(s.action), Channel: e.name(s.channel), At: s.at})
	}
	for _, d := range l.dismissals() {
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
