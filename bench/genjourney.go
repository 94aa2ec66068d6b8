package bench

// Journey-shaped sequences. W1 draws the type of each event independently
// of the customer, so a customer's cart is followed by a purchase, or a
// failed payment by a payment, only by chance. To exercise the reference
// journeys without changing the W1 mix, some events of the closing types
// go to a customer who recently opened the matching sequence: a purchase to
// a recent cart (within 30 min), a payment_succeeded to a recent
// payment_failed (within 48 h), a kyc_verified to a recent account_opened.
// The others stay abandoned, unpaid, unverified. Only the customer of
// those events changes; their share of the mix does not.

const (
	recentSlots = 4096 // per sequence kind; a slot is overwritten when the ring wraps
	// Shares of closing events sent to an open sequence (the rest keep
	// their Zipf customer). Over 2M W1 records the first cart of a
	// customer is then bought within 30 min 21% of the time (10% by chance
	// alone), the first failed payment paid within 48 h 53% (25%), the
	// first new account verified 36% (15%); see genjourney_test.go.
	purchaseFromCartPct = 50
	paidFromFailedPct   = 20
	kycFromOpenedPct    = 50
	cartWindowMs        = int64(30 * 60 * 1000)
	paymentWindowMs     = int64(48 * 3600 * 1000)
	kycWindowMs         = int64(30 * 24 * 3600 * 1000)
)

// recent is a ring of customers that opened a sequence, and when.
type recent struct {
	ids    []uint64
	ms     []int64 // 0: empty or already closed
	next   int
	filled int
}

func (r *recent) add(id uint64, ms int64) {
	if r.ids == nil {
		r.ids, r.ms = make([]uint64, recentSlots), make([]int64, recentSlots)
	}
	r.ids[r.next], r.ms[r.next] = id, ms
	r.next = (r.next + 1) % recentSlots
	r.filled = min(r.filled+1, recentSlots)
}

// slot draws one of the filled slots.
func (r *recent) slot(g *Generator) int {
	if r.filled == 0 {
		return 0
	}
	return (r.next - 1 - g.rng.IntN(r.filled) + recentSlots) % recentSlots
}

// take closes the sequence in slot (drawn by the caller) if it is open and
// within window of nowMs.
func (r *recent) take(slot int, nowMs, window int64) (uint64, bool) {
	if r.ids == nil || r.ms[slot] == 0 || nowMs-r.ms[slot] > window || nowMs < r.ms[slot] {
		return 0, false
	}
	r.ms[slot] = 0
	return r.ids[slot], true
}

// follow returns the customer of an event of kind: id, or for some
// closing events a customer with a matching open sequence; it records
// opening events.
func (g *Generator) follow(kind evKind, id uint64, nowMs int64) uint64 {
	var r *recent
	var pct int
	var window int64
	switch kind {
	case kAddToCart:
		g.carts.add(id, nowMs)
		return id
	case kPaymentFailed:
		g.failed.add(id, nowMs)
		return id
	case kAccountOpened:
		g.opened.add(id, nowMs)
		return id
	case kPurchase:
		r, pct, window = &g.carts, purchaseFromCartPct, cartWindowMs
	case kPaymentSucceeded:
		r, pct, window = &g.failed, paidFromFailedPct, paymentWindowMs
	case kKYCVerified:
		r, pct, window = &g.opened, kycFromOpenedPct, kycWindowMs
	default:
		return id
	}
	if g.rng.IntN(100) >= pct {
		return id
	}
	if c, ok := r.take(r.slot(g), nowMs, window); ok {
		return c
	}
	return id
}
