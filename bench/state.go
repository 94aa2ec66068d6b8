package bench

import (
	"math"
	"runtime"
	"strconv"
	"time"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/features"
	"github.com/meridian/meridian/operators"
)

// RunStateBytes measures state_bytes_per_customer: the live heap one feature
// store holds for n W1 customers (HeapAlloc after GC with the store filled,
// minus before it was made, over its customers).
//
// W1 draws customers by Zipf over 1M ids, so W1 events alone give state to
// only a fraction of them. The fill therefore runs W1 events twice over n:
// in the first pass the i-th event of a type the features read goes to
// customer c-i, so every customer gets one event of W1's type and attribute
// mix; the second pass keeps W1's own Zipf customers, so the hot ones build
// the deeper state (more buckets, sessions, products) they have in
// production.
func RunStateBytes(app *config.Config, n int) (bytesPerCustomer float64, customers int, err error) {
	set, err := features.NewSet(app)
	if err != nil {
		return 0, 0, err
	}
	before := heapAlloc()
	st := features.NewStore(set)
	fillW1(app, set, n, func(ev *event.Event, wm int64) { st.Update(ev, wm) })
	after := heapAlloc()
	s := st.Stats()
	runtime.KeepAlive(st)
	return float64(after-before) / float64(s.Customers), int(s.Customers), nil
}

// fillW1 hands update the W1 events that give n customers state, with the
// watermark a task would have: 2n events of types the features read, the
// first n going to customers c-0 .. c-(n-1), the rest to W1's own.
func fillW1(app *config.Config, set *features.Set, n int, update func(ev *event.Event, watermark int64)) {
	g := NewGenerator(genConfigOf(app))
	var (
		dec   operators.Decoder
		ev    event.Event
		rec   Record
		id    []byte
		maxTS = int64(math.MinInt64)
	)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	disorder := int64(app.EventTime.AllowedDisorder)
	for i, k := 0, 0; k < 2*n; i++ {
		g.Next(start.Add(time.Duration(i)*50*time.Microsecond), &rec)
		if dec.Decode(rec.Key, rec.Value, &ev) != nil || !set.Reads(ev.Type) {
			continue // an event no feature reads makes no customer: keep the count exact
		}
		if k < n {
			id = strconv.AppendInt(append(id[:0], "c-"...), int64(k), 10)
			ev.CustomerID = id
		}
		k++
		wm := int64(math.MinInt64)
		if maxTS != math.MinInt64 {
			wm = maxTS - disorder
		}
		update(&ev, wm)
		maxTS = max(maxTS, ev.TS)
	}
}

func heapAlloc() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
