package bench

import (
	"bytes"
	"testing"
	"time"
)

// TestGenJourneySequences checks that W1 exercises the reference journeys:
// some carts are bought within 30 min and others abandoned, some failed
// payments are paid within 48 h and others not, some new accounts are
// verified and others not. Without the shaping of genjourney.go (seed 3,
// 2M records) the shares are 10%, 25% and 15%, below the bounds.
func TestGenJourneySequences(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 2M records")
	}
	type seq struct {
		open, close string
		window      time.Duration
		lo, hi      float64
	}
	seqs := []seq{
		{"add_to_cart", "purchase", 30 * time.Minute, 0.15, 0.6},
		{"payment_failed", "payment_succeeded", 48 * time.Hour, 0.35, 0.85},
		{"account_opened", "kyc_verified", 30 * 24 * time.Hour, 0.25, 0.85},
	}
	type opened struct {
		at     time.Time
		closed bool
	}
	open := make([]map[string][]*opened, len(seqs))
	for i := range open {
		open[i] = map[string][]*opened{}
	}
	g := NewGenerator(GenConfig{Seed: 3})
	var r Record
	for i := range 2_000_000 {
		g.Next(testNow(i), &r)
		typ := recordType(r.Value)
		for k, s := range seqs {
			switch typ {
			case s.open:
				if open[k][string(r.Key)] == nil { // a customer's first: most are cold customers
					open[k][string(r.Key)] = []*opened{{at: r.TS}}
				}
			case s.close:
				for _, o := range open[k][string(r.Key)] {
					if d := r.TS.Sub(o.at); d >= -2*time.Second && d <= s.window {
						o.closed = true
					}
				}
			}
		}
	}
	for k, s := range seqs {
		var n, closed int
		for _, os := range open[k] {
			for _, o := range os {
				n++
				if o.closed {
					closed++
				}
			}
		}
		f := float64(closed) / float64(n)
		t.Logf("first %s of a customer followed by %s within %v: %d of %d (%.1f%%)", s.open, s.close, s.window, closed, n, 100*f)
		if n < 50 || f < s.lo || f > s.hi {
			t.Errorf("%s -> %s: %d of %d closed (%.3f), want between %.2f and %.2f of at least 50",
				s.open, s.close, closed, n, f, s.lo, s.hi)
		}
	}
}

func recordType(v []byte) string {
	_, rest, ok := bytes.Cut(v, []byte(`"type":"`))
	if !ok {
		return ""
	}
	typ, _, _ := bytes.Cut(rest, []byte(`"`))
	return string(typ)
}
