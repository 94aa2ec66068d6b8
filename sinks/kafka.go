package sinks

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Dead-letter header names, per the actions contract.
const (
	HeaderError     = "error"
	HeaderTopic     = "source.topic"
	HeaderPartition = "source.partition"
	HeaderOffset    = "source.offset"
)

// DeadLetter fills dst with the dead letter of src: the original key and
// value unchanged, the one-line reason, and src's coordinates. dst aliases
// src's key and value, so src must stay alive until dst is produced.
func DeadLetter(dst *kgo.Record, topic string, src *kgo.Record, reason string) {
	*dst = kgo.Record{
		Topic: topic,
		Key:   src.Key,
		Value: src.Value,
		Headers: []kgo.RecordHeader{
			{Key: HeaderError, Value: []byte(reason)},
			{Key: HeaderTopic, Value: []byte(src.Topic)},
			{Key: HeaderPartition, Value: strconv.AppendInt(nil, int64(src.Partition), 10)},
			{Key: HeaderOffset, Value: strconv.AppendInt(nil, src.Offset, 10)},
		},
	}
}

// Action fills dst with an action record keyed by the customer id.
func Action(dst *kgo.Record, topic string, customerID, value []byte) {
	*dst = kgo.Record{Topic: topic, Key: customerID, Value: value}
}
