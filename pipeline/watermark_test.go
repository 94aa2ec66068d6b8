package pipeline

import (
	"math"
	"testing"
	"time"
)

func TestWatermark(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC)
	w := NewWatermark(2*time.Second, time.Second, t0)
	if w.Current() != math.MinInt64 {
		t.Fatalf("fresh watermark = %d", w.Current())
	}
	ev := t0.Add(-time.Minute)
	w.Observe(ev.UnixNano(), t0)
	if want := ev.Add(-2 * time.Second).UnixNano(); w.Current() != want {
		t.Fatalf("after event: %d, want %d", w.Current(), want)
	}
	// An older event does not move it back.
	w.Observe(ev.Add(-time.Hour).UnixNano(), t0.Add(100*time.Millisecond))
	if want := ev.Add(-2 * time.Second).UnixNano(); w.Current() != want {
		t.Fatalf("older event moved watermark: %d", w.Current())
	}
	// Not idle long enough: no wall-clock advance.
	if w.Tick(t0.Add(900 * time.Millisecond)) {
		t.Fatal("ticked before idle")
	}
	// Idle: the wall clock advances it.
	now := t0.Add(1100 * time.Millisecond)
	if !w.Tick(now) {
		t.Fatal("idle tick did not advance")
	}
	if want := now.Add(-2 * time.Second).UnixNano(); w.Current() != want {
		t.Fatalf("idle watermark %d, want %d", w.Current(), want)
	}
	// An event behind the wall-clock watermark does not move it back.
	w.Observe(ev.UnixNano(), now)
	if want := now.Add(-2 * time.Second).UnixNano(); w.Current() != want {
		t.Fatalf("watermark went back: %d", w.Current())
	}
}
