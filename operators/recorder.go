package operators

import (
	"math"

	"github.com/meridian/meridian/decide"
	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/journeys"
)

var nan = math.NaN()

// Recorder receives analytics rows.
type Recorder interface{}

// recorder turns the Processor's steps into analytics rows.
type recorder struct{ r Recorder }

func (r *recorder) event(ev *event.Event)       {}
func (r *recorder) outcome(ev *event.Event)     {}
func (r *recorder) journeys(o *journeys.Output) {}
func (r *recorder) decision(d *decide.Decision, ev *event.Event, origin, journey, step, channel string) {
}
func (r *recorder) action(a *Action) {}
func (r *recorder) deadLetter(topic string, partition int32, offset int64, key, value []byte, reason string) {
}
func (r *recorder) begin() {}
