package pipeline

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/internal/broker"
	"github.com/meridian/meridian/operators"
)

// TestRestoreDropsIncompleteCheckpoint writes one complete checkpoint and
// the customer records of a second without its offsets record (a crash
// mid-checkpoint): restore keeps the first state and offsets only.
func TestRestoreDropsIncompleteCheckpoint(t *testing.T) {
	ctx := context.Background()
	p := offlinePipeline(t)
	b, err := broker.Start(ctx, broker.Config{Topics: []string{p.cfg.Topics.Changelog, p.cfg.Topics.Learning}, Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if p.cl, err = kgo.NewClient(kgo.SeedBrokers(b.Addrs()...), kgo.RecordPartitioner(partitioner(p.cfg.Topics.Changelog))); err != nil {
		t.Fatal(err)
	}
	defer p.cl.Close()
	p.kopts = []kgo.Opt{kgo.SeedBrokers(b.Addrs()...)}
	p.runCtx, p.runCancel = context.WithCancel(ctx)
	p.produceCtx = ctx
	p.changelogReady = make(chan struct{})
	close(p.changelogReady)

	writer := newTask(p, 0)
	feed := func(i int, typ string) {
		ev := fmt.Sprintf(`{"event_id":"e-%d","type":%q,"customer_id":"c-1","ts":%d}`, i, typ, 1_700_000_000_000+i)
		if err := writer.proc.Process([]byte("c-1"), []byte(ev), math.MinInt64, &writer.outp); err != nil {
			t.Fatal(err)
		}
		writer.next["clickstream"] = int64(i + 1)
		writer.advanced = true
	}
	feed(1, "page_view")
	if err := writer.checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	feed(2, "page_view")
	// The second checkpoint's customer records, but no offsets record.
	recs := appendDirty(nil, writer.codec, writer.proc.Sections()[0], p.cfg.Topics.Changelog, 0)
	if len(recs) != 1 || p.cl.ProduceSync(ctx, recs...).FirstErr() != nil {
		t.Fatalf("could not write the partial checkpoint (%d records)", len(recs))
	}

	reader := newTask(p, 0)
	if err := reader.restore(ctx); err != nil {
		t.Fatal(err)
	}
	if reader.restored["clickstream"] != 2 {
		t.Errorf("restored offsets %v, want clickstream at 2 (the complete checkpoint)", reader.restored)
	}
	v, ok := reader.proc.Store().View([]byte("c-1"), 1_700_000_000_100*int64(1e6))
	if !ok {
		t.Fatal("the customer of the complete checkpoint was not restored")
	}
	for _, f := range v.Features {
		if f.Name == "page_views_1h" && (f.Value == nil || *f.Value != 1) {
			t.Errorf("page_views_1h = %v after restore, want 1 (the incomplete checkpoint's 2 dropped)", f.Value)
		}
	}
}

func TestSectionOfRoutesKeysByPrefix(t *testing.T) {
	secs := []operators.Section{{Prefix: ""}, {Prefix: "\x01contacts\x00"}, {Prefix: "\x01journeys\x00"}}
	cases := []struct {
		key  string
		want int // index into secs, -1 for none
		id   string
	}{
		{"c-1", 0, "c-1"},
		{"\x01contacts\x00c-1", 1, "c-1"},
		{"\x01journeys\x00c-2", 2, "c-2"},
		{"\x01bandit\x00c-3", -1, ""},
	}
	for _, c := range cases {
		sec, id := sectionOf(secs, []byte(c.key))
		got := -1
		for i := range secs {
			if sec == &secs[i] {
				got = i
			}
		}
		if got != c.want || string(id) != c.id {
			t.Errorf("sectionOf(%q) = section %d id %q, want %d %q", c.key, got, id, c.want, c.id)
		}
	}
}
