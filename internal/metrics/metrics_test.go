package metrics

import (
	"strings"
	"testing"
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
