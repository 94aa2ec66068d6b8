// Package testkit holds what integration tests share: finding third-party
// tools (a missing one fails under CI=true and skips elsewhere) and driving
// kcat, the real third-party Kafka client of the end-to-end tests.
package testkit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// RequireTool returns the path of name. When it is missing the test fails
// under CI=true (CI must never turn a missing dependency into a skip) and
// is skipped otherwise.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true but is not installed (make test-deps installs it)", name)
	}
	t.Skipf("%s not installed; run make test-deps", name)
	return ""
}

// KV is one Kafka record as kcat sees it. A nil Key is produced with no key.
type KV struct {
	Key, Value []byte
}

// Separators for kcat's -K and -D: bytes that the test data never contains.
const (
	keySep = 0x1f
	recSep = 0x1e
)

// KcatProduce produces recs to topic with kcat, one call for all records.
func KcatProduce(t testing.TB, broker, topic string, recs []KV) {
	t.Helper()
	kcat := RequireTool(t, "kcat")
	var in bytes.Buffer
	for i, r := range recs {
		if bytes.IndexByte(r.Key, keySep) >= 0 || bytes.IndexByte(r.Value, keySep) >= 0 ||
			bytes.IndexByte(r.Key, recSep) >= 0 || bytes.IndexByte(r.Value, recSep) >= 0 {
			t.Fatalf("record %d contains a kcat separator byte", i)
		}
		if r.Key != nil {
			in.Write(r.Key)
			in.WriteByte(keySep)
		}
		in.Write(r.Value)
		in.WriteByte(recSep)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcat, "-b", broker, "-P", "-t", topic,
		"-K", `\x1f`, "-D", `\x1e`, "-X", "message.max.bytes=2000000")
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat produce to %s: %v\n%s", topic, err, out)
	}
}

// KcatConsume reads topic from the beginning to its current end with kcat.
func KcatConsume(t testing.TB, broker, topic string) []KV {
	t.Helper()
	kcat := RequireTool(t, "kcat")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcat, "-b", broker, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
		"-f", `%k\x1f%s\x1e`)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat consume %s: %v\n%s", topic, err, stderr.String())
	}
	var recs []KV
	for _, rec := range bytes.Split(out, []byte{recSep}) {
		if len(rec) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(rec, []byte{keySep})
		if !ok {
			t.Fatalf("kcat output without key separator: %q", rec)
		}
		recs = append(recs, KV{Key: k, Value: v})
	}
	return recs
}

// WaitFor polls cond every 20 ms until it holds or timeout passes, then
// fails with what describe says.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v: %s", timeout, describe())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Lines is a helper for readable failure output of many strings.
func Lines(ss []string) string { return fmt.Sprintf("\n  %s", strings.Join(ss, "\n  ")) }
