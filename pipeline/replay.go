package pipeline

import (
	"cmp"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/operators"
)

// Replay runs a recorded log through the tasks' steps offline and calls
// emit with every action it decides, as a pipeline consuming the log
// would: one fresh task per partition number, the records of a partition
// in offset order (by topic, then offset, when a partition number spans
// several topics: ordering across input topics is up to the consumer, so
// a backtest that must match a live run byte for byte uses one input
// topic), and the watermark following event time. Timers due by the last
// watermark fire; idle time does not advance it, so timers a live
// instance fires on the wall clock of an idle partition are not replayed.
// Records that break the events contract are skipped, as dead letters.
func Replay(cfg *config.Config, env *Env, recs []*kgo.Record, emit func(key, value []byte)) {
	byPart := map[int32][]*kgo.Record{}
	for _, r := range recs {
		byPart[r.Partition] = append(byPart[r.Partition], r)
	}
	parts := make([]int32, 0, len(byPart))
	for p := range byPart {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	epoch := time.Unix(0, 0)
	for _, part := range parts {
		rs := byPart[part]
		slices.SortStableFunc(rs, func(a, b *kgo.Record) int {
			return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Offset, b.Offset))
		})
		proc := operators.NewProcessor(&env.Env, nil)
		wm := NewWatermark(cfg.EventTime.AllowedDisorder, cfg.EventTime.IdleAfter, epoch)
		var out operators.Output
		flush := func() {
			for i := range out.Len() {
				emit(out.Record(i))
			}
			out.Reset()
		}
		for _, r := range rs {
			if err := proc.Process(r.Key, r.Value, wm.Current(), &out); err != nil {
				continue
			}
			wm.Observe(proc.Event().TS, epoch)
			flush()
		}
		proc.Advance(wm.Current(), &out)
		flush()
	}
}
