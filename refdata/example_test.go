package refdata

import (
	"testing"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/examples"
)

// TestExampleConfig opens the example config's tables both embedded and
// from disk, and looks up a sku the workload generator produces.
func TestExampleConfig(t *testing.T) {
	embedded, err := config.Parse(examples.ConfigName, examples.Config)
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := config.Load("../examples/meridian.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func() (*Tables, error){
		"embedded": func() (*Tables, error) { return Open(embedded, examples.Reference) },
		"on disk":  func() (*Tables, error) { return Open(onDisk, nil) },
	} {
		tb, err := open()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		row, ok := tb.Lookup("sku", "SKU-19")
		if !ok || row["category"] != "apparel" || row["in_stock"] != true {
			t.Errorf("%s: SKU-19 = %v, %v", name, row, ok)
		}
		tb.Close()
	}
}
