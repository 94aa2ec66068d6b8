package sinks

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestDeadLetterKeepsBytesAndCoordinates(t *testing.T) {
	src := &kgo.Record{Topic: "bss", Partition: 7, Offset: 12345,
		Key: []byte("c-1"), Value: []byte{0xff, '{', 0x00}}
	var dl kgo.Record
	DeadLetter(&dl, "meridian.dlq", src, "invalid UTF-8")
	if dl.Topic != "meridian.dlq" || string(dl.Key) != "c-1" || string(dl.Value) != string(src.Value) {
		t.Fatalf("dead letter %+v", dl)
	}
	want := map[string]string{HeaderError: "invalid UTF-8", HeaderTopic: "bss",
		HeaderPartition: "7", HeaderOffset: "12345"}
	if len(dl.Headers) != len(want) {
		t.Fatalf("headers %v", dl.Headers)
	}
	for _, h := range dl.Headers {
		if want[h.Key] != string(h.Value) {
			t.Errorf("header %s = %q, want %q", h.Key, h.Value, want[h.Key])
		}
	}
}
