package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/meridian/meridian/features"
	"github.com/meridian/meridian/operators"
)

// The changelog holds, in partition p, the state of the customers of task
// p, keyed by customer id (compacted: the latest per customer survives; a
// tombstone forgets one), and one record under offsetsKey: the input
// offsets the state includes. Customer ids cannot contain control
// characters, so offsetsKey never collides with one.
const offsetsKey = "\x00meridian.offsets"

// Value encodings: a leading byte says whether the rest is compressed.
const (
	valueRaw  byte = 0
	valueZstd byte = 1
	// compressAbove is the size below which zstd does not pay for itself.
	compressAbove = 128
)

// codec compresses changelog values; one per task (zstd encoders and
// decoders are not safe for concurrent use with shared buffers).
type codec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
	buf []byte
}

func newCodec() *codec {
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	dec, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	return &codec{enc: enc, dec: dec}
}

// encode returns a fresh value holding state, compressed when it pays.
func (c *codec) encode(state []byte) []byte {
	if len(state) > compressAbove {
		z := c.enc.EncodeAll(state, []byte{valueZstd})
		if len(z) < len(state)*9/10 {
			return z
		}
	}
	return append([]byte{valueRaw}, state...)
}

// decode returns the state in value; the result is valid until the next call.
func (c *codec) decode(value []byte) ([]byte, error) {
	if len(value) == 0 {
		return nil, errors.New("empty changelog value")
	}
	switch value[0] {
	case valueRaw:
		return value[1:], nil
	case valueZstd:
		var err error
		c.buf, err = c.dec.DecodeAll(value[1:], c.buf[:0])
		return c.buf, err
	}
	return nil, fmt.Errorf("unknown changelog value encoding %d", value[0])
}

func (c *codec) close() { c.dec.Close() }

// appendOffsets encodes what a checkpoint's state includes: the next input
// offset of each topic, and the highest event time seen (so the watermark,
// and with it which events are late, survives a restore).
func appendOffsets(dst []byte, next map[string]int64, maxTS int64) []byte {
	dst = binary.AppendVarint(dst, maxTS)
	dst = binary.AppendUvarint(dst, uint64(len(next)))
	for topic, off := range next {
		dst = binary.AppendUvarint(dst, uint64(len(topic)))
		dst = append(dst, topic...)
		dst = binary.AppendVarint(dst, off)
	}
	return dst
}

func decodeOffsets(b []byte) (next map[string]int64, maxTS int64, err error) {
	bad := errors.New("corrupt offsets record in the changelog")
	maxTS, k := binary.Varint(b)
	if k <= 0 {
		return nil, 0, bad
	}
	b = b[k:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > 1024 {
		return nil, 0, bad
	}
	b = b[k:]
	out := make(map[string]int64, n)
	for ; n > 0; n-- {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, 0, bad
		}
		topic := string(b[k : k+int(l)])
		b = b[k+int(l):]
		off, k2 := binary.Varint(b)
		if k2 <= 0 {
			return nil, 0, bad
		}
		b = b[k2:]
		out[topic] = off
	}
	return out, maxTS, nil
}

// restore loads the task's customers from its changelog partition, from the
// start to the end as of now, and the input offsets the state includes; then
// what its adaptive models had learned, from its learning partition.
func (t *task) restore(ctx context.Context) error {
	// A checkpoint is atomic: its customer records count only once the
	// offsets record that ends it is there. A crash in the middle of one
	// leaves a tail without it, which is dropped (its events are replayed).
	var pending []*kgo.Record
	err := t.readPartition(ctx, t.p.cfg.Topics.Changelog, func(r *kgo.Record) error {
		if string(r.Key) != offsetsKey {
			pending = append(pending, r)
			return nil
		}
		for _, c := range append(pending, r) {
			if err := t.apply(c); err != nil {
				return err
			}
		}
		pending = pending[:0]
		return nil
	})
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		t.p.log.Warn("dropped an incomplete checkpoint from the changelog (a crash while writing it); its events are replayed",
			"partition", t.partition, "records", len(pending))
	}
	for _, sec := range t.proc.Sections() {
		sec.State.ClearDirty()
	}
	var tally []byte
	err = t.readPartition(ctx, t.p.cfg.Topics.Learning, func(r *kgo.Record) error {
		if string(r.Key) == learnKey {
			tally = r.Value
		}
		return nil
	})
	if err == nil && tally != nil {
		err = t.proc.RestoreTally(tally)
	}
	if err != nil {
		return fmt.Errorf("cannot restore what adaptive models learned from partition %d: %w", t.partition, err)
	}
	return nil
}

// readPartition calls fn for every data record of the task's partition of
// topic, from the start to the end as of now (the last stable offset in
// exactly_once mode, where only committed records count).
func (t *task) readPartition(ctx context.Context, topic string, fn func(*kgo.Record) error) error {
	p := t.p
	adm := kadm.NewClient(p.cl)
	list := adm.ListEndOffsets
	readOpts := []kgo.Opt{}
	if p.eos() {
		// Keep control records so that the reader reaches the last stable
		// offset even when the partition ends with transaction markers.
		list = adm.ListCommittedOffsets
		readOpts = append(readOpts, kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	}
	ends, err := list(ctx, topic)
	if err != nil {
		return fmt.Errorf("cannot list the end offsets of %s: %w", topic, err)
	}
	end, ok := ends.Lookup(topic, t.partition)
	switch {
	case !ok:
		return fmt.Errorf("topic %s has no partition %d: it needs the inputs' partition count", topic, t.partition)
	case end.Err != nil:
		return fmt.Errorf("cannot list the end offset of %s partition %d: %w", topic, t.partition, end.Err)
	}
	if end.Offset == 0 {
		return nil
	}
	cl, err := kgo.NewClient(append(append(readOpts, p.kopts...), kgo.FetchMaxWait(50*time.Millisecond),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {t.partition: kgo.NewOffset().AtStart()}}))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	for next := int64(0); next < end.Offset; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return fmt.Errorf("cannot read %s: %w", topic, ferr)
		}
		for _, r := range fs.Records() {
			next = r.Offset + 1
			if r.Attrs.IsControl() || next > end.Offset {
				continue
			}
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// apply restores one changelog record.
func (t *task) apply(r *kgo.Record) error {
	sec, id := sectionOf(t.proc.Sections(), r.Key)
	switch {
	case string(r.Key) == offsetsKey:
		next, maxTS, err := decodeOffsets(r.Value)
		if err != nil {
			return err
		}
		t.restored = next
		for topic, off := range next {
			t.next[topic] = off
		}
		if maxTS != math.MinInt64 {
			t.wm.Observe(maxTS, t.p.now())
		}
	case sec == nil:
		// A section this configuration does not keep (journeys removed
		// from the config, say): its state is ignored, and compaction
		// keeps it until a tombstone.
		t.p.m.ignoredState.Inc()
	case r.Value == nil:
		sec.State.Delete(id)
	default:
		state, err := t.codec.decode(r.Value)
		if err == nil {
			err = sec.State.RestoreCustomer(id, state)
		}
		if err != nil {
			if errors.Is(err, features.ErrIncompatible) {
				return fmt.Errorf("changelog state was written for other feature definitions (%w); to start over, delete the changelog topic %s", err, t.p.cfg.Topics.Changelog)
			}
			return fmt.Errorf("changelog partition %d offset %d: %w", r.Partition, r.Offset, err)
		}
	}
	return nil
}

// checkpoint writes the customers changed since the last checkpoint (a
// tombstone for those removed) and the input offsets their state includes
// to the task's changelog partition, and waits for the acknowledgement.
// Only then may the offsets be committed: committed offsets never run ahead
// of durable state.
func (t *task) checkpoint(ctx context.Context) error {
	if t.rows != nil {
		// Analytics rows go with every checkpoint: they never hold one up
		// (the sink queues or spools them).
		t.rows.Flush()
	}
	t.ckpt = t.ckpt[:0]
	for _, sec := range t.proc.Sections() {
		t.ckpt = appendDirty(t.ckpt, t.codec, sec, t.p.cfg.Topics.Changelog, t.partition)
	}
	if len(t.ckpt) == 0 && !t.advanced {
		return nil
	}
	customers := len(t.ckpt)
	if tally, changed := t.proc.AppendTally(nil); changed {
		t.ckpt = append(t.ckpt, &kgo.Record{Topic: t.p.cfg.Topics.Learning, Partition: t.partition,
			Key: []byte(learnKey), Value: tally})
	}
	t.ckpt = append(t.ckpt, offsetsRecord(t.p.cfg.Topics.Changelog, t.partition, t.next, t.wm.MaxEventTime()))
	if err := t.p.cl.ProduceSync(ctx, t.ckpt...).FirstErr(); err != nil {
		return fmt.Errorf("cannot checkpoint partition %d to %s: %w", t.partition, t.p.cfg.Topics.Changelog, err)
	}
	t.p.m.checkpointed.Add(uint64(customers))
	for _, sec := range t.proc.Sections() {
		sec.State.ClearDirty()
	}
	t.advanced = false
	return nil
}

// appendDirty appends a changelog record for every customer whose section
// changed since its last ClearDirty: the state, or a tombstone if it is
// gone. The key is the section's prefix and the customer id.
func appendDirty(recs []*kgo.Record, c *codec, sec operators.Section, topic string, partition int32) []*kgo.Record {
	var scratch []byte
	sec.State.Dirty(func(id []byte) {
		key := make([]byte, 0, len(sec.Prefix)+len(id))
		r := &kgo.Record{Topic: topic, Partition: partition, Key: append(append(key, sec.Prefix...), id...)}
		var ok bool
		if scratch, ok = sec.State.AppendCustomer(scratch[:0], id); ok {
			r.Value = c.encode(scratch)
		}
		recs = append(recs, r)
	})
	return recs
}

// sectionOf finds the section a changelog key belongs to and the customer
// id in it; nil for a section not kept. Customer ids cannot hold control
// characters, so a key without a prefix is a feature record.
func sectionOf(secs []operators.Section, key []byte) (*operators.Section, []byte) {
	for i := range secs {
		p := secs[i].Prefix
		if p == "" && (len(key) == 0 || key[0] >= 0x20) {
			return &secs[i], key
		}
		if p != "" && bytes.HasPrefix(key, []byte(p)) {
			return &secs[i], key[len(p):]
		}
	}
	return nil, nil
}

func offsetsRecord(topic string, partition int32, next map[string]int64, maxTS int64) *kgo.Record {
	return &kgo.Record{Topic: topic, Partition: partition, Key: []byte(offsetsKey),
		Value: appendOffsets(nil, next, maxTS)}
}

// WriteState writes every customer the store changed (all of them, for a
// store filled by Update) to one changelog partition, as a task's
// checkpoints would, with an offsets record saying the state includes no
// input. The benchmark seeds a changelog with it.
func WriteState(ctx context.Context, cl *kgo.Client, topic string, partition int32, store *features.Store) error {
	c := newCodec()
	defer c.close()
	recs := appendDirty(nil, c, operators.Section{State: store}, topic, partition)
	recs = append(recs, offsetsRecord(topic, partition, map[string]int64{}, math.MinInt64))
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("cannot write state to %s partition %d: %w", topic, partition, err)
	}
	store.ClearDirty()
	return nil
}

// ensureChangelog creates the changelog and learning topics, compacted and
// with the input topics' partition count, or checks that the existing ones
// have that count.
// (It asks about the changelog only after trying to create it: kadm answers
// from the client's metadata cache, which would keep an early "unknown
// topic" for seconds.)
func (p *Pipeline) ensureChangelog(ctx context.Context) error {
	adm := kadm.NewClient(p.cl)
	details, err := adm.ListTopics(ctx, p.cfg.Topics.Inputs...)
	if err != nil {
		return fmt.Errorf("cannot list topics: %w", err)
	}
	parts := -1
	for _, in := range p.cfg.Topics.Inputs {
		if d, ok := details[in]; ok && d.Err == nil {
			parts = len(d.Partitions)
			break
		}
	}
	if parts < 0 {
		return fmt.Errorf("none of the input topics %v exists; create them (keyed by customer_id, same partition count)", p.cfg.Topics.Inputs)
	}
	p.partitions.Store(int32(parts))
	for _, topic := range []string{p.cfg.Topics.Changelog, p.cfg.Topics.Learning} {
		if err := ensureCompacted(ctx, adm, topic, parts); err != nil {
			return err
		}
	}
	return nil
}

// ensureCompacted creates a compacted topic with parts partitions, or
// checks that the existing one has that many.
func ensureCompacted(ctx context.Context, adm *kadm.Client, topic string, parts int) error {
	compact := "compact"
	resp, err := adm.CreateTopic(ctx, int32(parts), -1, map[string]*string{"cleanup.policy": &compact}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("cannot create the compacted topic %s: %w", topic, err)
	}
	// Tasks restore as soon as they are assigned: wait until the topic's
	// partitions show in metadata, and check their count.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		d, err := adm.ListTopics(ctx, topic)
		if n := len(d[topic].Partitions); err == nil && d[topic].Err == nil && n > 0 {
			if n != parts {
				return fmt.Errorf("topic %s has %d partitions but the inputs have %d; it must match them", topic, n, parts)
			}
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("topic %s does not appear in the brokers' metadata", topic)
		}
	}
}
