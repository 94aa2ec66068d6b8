package bench

import (
	"context"
	"testing"
)

// TestRunRestore seeds a changelog with 20,000 customers and checks that a
// fresh instance restores at least all of them before it reports ready.
func TestRunRestore(t *testing.T) {
	secs, n, err := RunRestore(context.Background(), exampleApp(t), 20_000)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("restored %d customers in %.2fs", n, secs)
	if n < 20_000 {
		t.Errorf("restored %d customers, seeded at least 20000", n)
	}
}
