package pipeline

import (
	"math"
	"time"
)

// Watermark tracks a partition's event-time progress: the highest event
// time seen minus the allowed disorder. When the partition has been idle for
// IdleAfter, the wall clock advances it instead, so that event-time timers
// still fire on a quiet partition. It never goes back.
type Watermark struct {
	disorder  int64
	idleAfter time.Duration
	maxTS     int64
	wm        int64
	lastSeen  time.Time
}

// NewWatermark returns a watermark that has seen nothing; now starts the
// idle clock.
func NewWatermark(disorder, idleAfter time.Duration, now time.Time) *Watermark {
	return &Watermark{disorder: int64(disorder), idleAfter: idleAfter,
		maxTS: math.MinInt64, wm: math.MinInt64, lastSeen: now}
}

// Observe records an event with time ts (Unix ns) seen at wall time now.
func (w *Watermark) Observe(ts int64, now time.Time) {
	w.lastSeen = now
	if ts <= w.maxTS {
		return
	}
	w.maxTS = ts
	if c := ts - w.disorder; c > w.wm {
		w.wm = c
	}
}

// Tick advances the watermark by the wall clock if the partition has been
// idle for at least IdleAfter. It reports whether the watermark moved.
func (w *Watermark) Tick(now time.Time) bool {
	if now.Sub(w.lastSeen) < w.idleAfter {
		return false
	}
	if c := now.UnixNano() - w.disorder; c > w.wm {
		w.wm = c
		return true
	}
	return false
}

// MaxEventTime returns the highest event time seen (Unix ns), or
// math.MinInt64 before any event.
func (w *Watermark) MaxEventTime() int64 { return w.maxTS }

// Current returns the watermark in Unix ns, or math.MinInt64 before any
// event or idle tick.
func (w *Watermark) Current() int64 { return w.wm }
