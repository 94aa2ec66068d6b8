package journeys

import (
	"strconv"
	"testing"
	"time"

	"github.com/meridian/meridian/event"
)

// BenchmarkState drives 10,000 customers with the journey-relevant event
// types and the watermark after each event, timers firing, by the number
// of customers per event window.
func BenchmarkState(b *testing.B) {
	e := exampleEngine(b, "")
	types := [][]byte{[]byte("page_view"), []byte("add_to_cart"), []byte("page_view"), []byte("purchase"),
		[]byte("payment_failed"), []byte("page_view"), []byte("payment_succeeded"), []byte("account_opened"),
		[]byte("page_view"), []byte("kyc_verified")}
	const customers = 10_000
	ids := make([][]byte, customers)
	for i := range ids {
		ids[i] = strconv.AppendInt([]byte("c-"), int64(i), 10)
	}
	evID := []byte("e-0000000000")
	st := e.NewState()
	act := quietActor{}
	var out Output
	ev := event.Event{Attrs: []event.Attr{{Key: []byte("price"), Kind: event.AttrNumber, Num: 5}}}
	noFacts := func([]byte) Facts { return nil }
	step := func(i int) {
		ev.Type = types[i%len(types)]
		ev.CustomerID = ids[(i*7919)%customers]
		ev.EventID = strconv.AppendInt(evID[:2], int64(i), 36)
		ev.TS = t0 + int64(i)*int64(time.Second)
		st.OnEvent(&ev, nil, act, &out)
		st.Advance(ev.TS-int64(2*time.Second), noFacts, act, &out)
	}
	for i := range 1_000_000 { // warm up: 11 days of event time
		step(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		step(1_000_000 + i)
	}
	b.StopTimer()
	s := st.Stats()
	b.ReportMetric(float64(s.Active), "active")
}
