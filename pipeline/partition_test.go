package pipeline

import (
	"context"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestPartitionOfMatchesKafkaDefault produces keyed records with franz-go's
// default partitioner and checks PartitionOf predicts every partition.
func TestPartitionOfMatchesKafkaDefault(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(12, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := 0; i < 300; i++ {
		recs = append(recs, &kgo.Record{Topic: "t", Key: []byte(fmt.Sprintf("c-%d%s", i, "xyz"[:i%4]))})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if got := PartitionOf(r.Key, 12); got != r.Partition {
			t.Fatalf("key %q: PartitionOf %d, Kafka default %d", r.Key, got, r.Partition)
		}
	}
}
