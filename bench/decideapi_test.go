package bench

import (
	"context"
	"testing"
	"time"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/examples"
)

// TestRunDecideAPI: the harness answers every request (no error status)
// and reports percentiles in order. Timing itself is not asserted.
func TestRunDecideAPI(t *testing.T) {
	app, err := config.Parse(examples.ConfigName, examples.Config)
	if err != nil {
		t.Fatal(err)
	}
	app.Generator.Customers = 2000
	res, err := RunDecideAPI(context.Background(), app, 5000, 4, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Errors != 0 || res.P50Ms <= 0 || res.P99Ms < res.P50Ms {
		t.Fatalf("%+v", res)
	}
}
