// Package pipeline is Meridian's runtime: a franz-go consumer group over
// the input topics, one task per assigned partition number, and the produce
// path for actions and dead letters.
//
// Partition = shard = task. Input topics are co-partitioned by customer_id,
// so partition p of every input topic belongs to the same task, which is the
// single owner of its customers. The group uses the range balancer because
// it assigns the same partition numbers of equally sized topics to the same
// member; a cooperative or sticky balancer would split a customer's
// clickstream and BSS events across instances.
//
// A task processes one fetched batch at a time: decode, decide and encode
// every record, produce the actions and dead letters of the batch, wait for
// the broker's acknowledgement, and only then mark the batch's offsets for
// commit. A crash therefore replays at most the batches not yet committed
// (at-least-once), and replayed decisions carry the ids they had.
package pipeline
