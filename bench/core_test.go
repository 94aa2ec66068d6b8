package bench

import (
	"testing"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/examples"
)

func exampleApp(tb testing.TB) *config.Config {
	tb.Helper()
	cfg, err := config.Parse(examples.ConfigName, examples.Config)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

func TestRunCoreDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 50k records")
	}
	eps, allocs, err := RunCore(exampleApp(t), 50_000)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("core: %.0f events/s, %.4f allocs/event", eps, allocs)
	if allocs > 0.01 {
		t.Errorf("the per-event path allocates: %.4f allocs per event", allocs)
	}
}
