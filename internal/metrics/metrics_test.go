package metrics

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWriteText(t *testing.T) {
	r := NewRegistry()
	r.Counter("meridian_dead_letters_total", "Dead letters.", "reason", "bad json").Add(3)
	r.Counter("meridian_dead_letters_total", "Dead letters.", "reason", "bad json").Inc()
	r.Counter("meridian_events_total", "Events.").Add(7)
	r.Gauge("meridian_tasks", "Tasks.").Set(2.5)
	r.GaugeFunc("meridian_up", "Up.", func() float64 { return 1 })
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP meridian_dead_letters_total Dead letters.
# TYPE meridian_dead_letters_total counter
meridian_dead_letters_total{reason="bad json"} 4
# HELP meridian_events_total Events.
# TYPE meridian_events_total counter
meridian_events_total 7
# HELP meridian_tasks Tasks.
# TYPE meridian_tasks gauge
meridian_tasks 2.5
# HELP meridian_up Up.
# TYPE meridian_up gauge
meridian_up 1
`
	if got := b.String(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// TestGaugeFuncMayTakeLocksThatRegister checks the lock order that once
// deadlocked an instance: a gauge function takes its owner's lock while
// another goroutine, holding that lock, registers a metric.
func TestGaugeFuncMayTakeLocksThatRegister(t *testing.T) {
	r := NewRegistry()
	var owner sync.Mutex
	r.GaugeFunc("owned", "Takes the owner's lock.", func() float64 {
		owner.Lock()
		defer owner.Unlock()
		return 1
	})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 20000; i++ {
			owner.Lock()
			r.Gauge("registered_under_lock", "", "i", fmt.Sprint(i%7))
			owner.Unlock()
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 20000; i++ {
			_ = r.WriteText(io.Discard)
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock between a scrape and a registration under the owner's lock")
	}
}
