package pipeline

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"
)

// PartitionOf is the partition Kafka's default partitioner (murmur2, as in
// the Java client and franz-go) gives key among n partitions. Ownership of a
// customer, for forwarding requests, assumes producers use it.
func PartitionOf(key []byte, n int) int32 {
	return int32((murmur2(key) & 0x7fffffff) % uint32(n))
}

// murmur2 is Kafka's hash of record keys.
func murmur2(data []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	h := seed ^ uint32(len(data))
	for ; len(data) >= 4; data = data[4:] {
		k := uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch len(data) {
	case 3:
		h ^= uint32(data[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// partitioner sends records of the manual topics (changelog, learning) to
// the partition the task set (a task's state lives in the partition with
// its number) and every other record by its key, as Kafka's default
// partitioner does.
func partitioner(manual ...string) kgo.Partitioner {
	return kgo.BasicConsistentPartitioner(func(topic string) func(r *kgo.Record, n int) int {
		if slices.Contains(manual, topic) {
			return func(r *kgo.Record, _ int) int { return int(r.Partition) }
		}
		return func(r *kgo.Record, n int) int { return int(PartitionOf(r.Key, n)) }
	})
}
