package models_test

import (
	"bytes"
	"errors"
	"math"
	"sync"
	"testing"

	"github.com/meridian/meridian/models"
)

func TestBetaMoments(t *testing.T) {
	for _, c := range []struct{ a, b float64 }{{1, 1}, {1, 19}, {0.5, 0.5}, {30, 70}, {2, 500}} {
		r := models.NewRand(42)
		const n = 40000
		var sum, sum2 float64
		for range n {
			x := r.Beta(c.a, c.b)
			if !(x >= 0 && x <= 1) {
				t.Fatalf("Beta(%v, %v) drew %v", c.a, c.b, x)
			}
			sum += x
			sum2 += x * x
		}
		mean, variance := sum/n, sum2/n-(sum/n)*(sum/n)
		wantMean := c.a / (c.a + c.b)
		wantVar := c.a * c.b / ((c.a + c.b) * (c.a + c.b) * (c.a + c.b + 1))
		// Five standard errors of the mean.
		if math.Abs(mean-wantMean) > 5*math.Sqrt(wantVar/n) {
			t.Errorf("Beta(%v, %v): mean %.5f, want %.5f", c.a, c.b, mean, wantMean)
		}
		if math.Abs(variance-wantVar) > 0.05*wantVar {
			t.Errorf("Beta(%v, %v): variance %.6f, want %.6f", c.a, c.b, variance, wantVar)
		}
	}
}

func TestRandDeterministic(t *testing.T) {
	a, b := models.NewRand(7), models.NewRand(7)
	for range 100 {
		if a.Beta(2, 3) != b.Beta(2, 3) {
			t.Fatal("the same seed drew differently")
		}
	}
	c, d := models.NewRand(8), models.NewRand(7)
	if c.Uint64() == d.Uint64() {
		t.Fatal("different seeds drew the same")
	}
}

func TestTallyCodec(t *testing.T) {
	a := models.NewTally()
	a.Add("cart_reminder_email", []byte("vip"), 10, 3)
	a.Add("cart_reminder_email", nil, 5, 0)
	a.Add("browse_banner_web", []byte("vip"), 7, 1)
	a.Add("cart_reminder_email", []byte("vip"), 1, 1)
	if c := a.Get("cart_reminder_email", []byte("vip")); c.Trials != 11 || c.Successes != 4 {
		t.Fatalf("counts %+v", c)
	}
	// Names, not their order of arrival, decide the encoding.
	b := models.NewTally()
	b.Add("browse_banner_web", []byte("vip"), 7, 1)
	b.Add("cart_reminder_email", nil, 5, 0)
	b.Add("cart_reminder_email", []byte("vip"), 11, 4)
	ea, _ := a.AppendBinary(nil)
	eb, _ := b.AppendBinary(nil)
	if !bytes.Equal(ea, eb) {
		t.Fatalf("equal tallies encode differently: %x vs %x", ea, eb)
	}
	d, err := models.DecodeTally(ea)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 || d.Get("cart_reminder_email", []byte("vip")) != a.Get("cart_reminder_email", []byte("vip")) ||
		d.Get("cart_reminder_email", nil).Trials != 5 {
		t.Fatalf("decoded %d entries", d.Len())
	}
	// The segment is part of the key: "" and "vip" differ, and so does
	// the split between action and segment names.
	if models.BanditKey("ab", []byte("c")) == models.BanditKey("a", []byte("bc")) {
		t.Fatal("key collision across the separator")
	}
	for i := range len(ea) {
		if _, err := models.DecodeTally(ea[:i]); !errors.Is(err, models.ErrBadTally) {
			t.Fatalf("truncated to %d: %v", i, err)
		}
	}
}

func TestLearnerSumsPartitions(t *testing.T) {
	l := models.NewLearner()
	key := models.BanditKey("x", []byte("s"))
	if a, b := l.Posterior(key, 1, 19); a != 1 || b != 19 {
		t.Fatalf("prior %v %v", a, b)
	}
	enc := func(trials, succ uint64) []byte {
		tl := models.NewTally()
		tl.Add("x", []byte("s"), trials, succ)
		b, _ := tl.AppendBinary(nil)
		return b
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.Publish(0, enc(100, 10)))
	must(l.Publish(3, enc(50, 20)))
	if c := l.Counts(key); c.Trials != 150 || c.Successes != 30 {
		t.Fatalf("sum %+v", c)
	}
	// A partition's newer tally replaces its older one (cumulative counts).
	must(l.Publish(0, enc(120, 12)))
	if a, b := l.Posterior(key, 1, 19); a != 1+32 || b != 19+(170-32) {
		t.Fatalf("posterior %v %v", a, b)
	}
	// A bad record is refused and changes nothing; a tombstone drops the partition.
	if err := l.Publish(1, []byte{9, 9}); !errors.Is(err, models.ErrBadTally) {
		t.Fatalf("bad record: %v", err)
	}
	must(l.Publish(3, nil))
	if c := l.Counts(key); c.Trials != 120 {
		t.Fatalf("after tombstone %+v", c)
	}
	var nilLearner *models.Learner
	if c := nilLearner.Counts(key); c.Trials != 0 {
		t.Fatal("a nil learner knows something")
	}
}

func TestLearnerConcurrent(t *testing.T) {
	l := models.NewLearner()
	key := models.BanditKey("x", nil)
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			tl := models.NewTally()
			for range 200 {
				tl.Add("x", nil, 1, 0)
				b, _ := tl.AppendBinary(nil)
				if err := l.Publish(int32(p), b); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			for range 2000 {
				if c := l.Counts(key); c.Trials > 800 {
					t.Errorf("read %d trials", c.Trials)
				}
			}
		})
	}
	wg.Wait()
	if c := l.Counts(key); c.Trials != 800 {
		t.Fatalf("final %d trials, want 800", c.Trials)
	}
}

func FuzzDecodeTally(f *testing.F) {
	tl := models.NewTally()
	tl.Add("a", []byte("s"), 3, 1)
	b, _ := tl.AppendBinary(nil)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := models.DecodeTally(data)
		if err != nil {
			return
		}
		out, _ := d.AppendBinary(nil)
		if _, err := models.DecodeTally(out); err != nil {
			t.Fatalf("cannot decode its own encoding: %v", err)
		}
	})
}
