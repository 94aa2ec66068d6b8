package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/examples"
)

// writeExample writes the example config and its files into a temp dir,
// so that models are read from disk and can be broken.
func writeExample(t *testing.T) (dir string) {
	t.Helper()
	dir = t.TempDir()
	for _, sub := range []string{"models", "reference"} {
		ents, err := examples.Files.ReadDir(sub)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			b, _ := examples.Files.ReadFile(sub + "/" + e.Name())
			if err := os.WriteFile(filepath.Join(dir, sub, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "meridian.yaml"), examples.Config, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestReloadIsAtomic: a reload with a broken model file is refused with an
// error naming it and the running engine stays; a good one replaces it.
func TestReloadIsAtomic(t *testing.T) {
	dir := writeExample(t)
	path := filepath.Join(dir, "meridian.yaml")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	env, err := NewEnv(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	before := env.Engine()
	model := filepath.Join(dir, "models", "cart_recovery.xgb.json")
	good, _ := os.ReadFile(model)
	if err := os.WriteFile(model, []byte(`{"learner": 3}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg2, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Reload(cfg2); err == nil || !strings.Contains(err.Error(), "cart_recovery.xgb.json") {
		t.Fatalf("reload with a broken model: %v", err)
	}
	if env.Engine() != before {
		t.Fatal("a refused reload replaced the engine")
	}
	// A good file under a new version goes in whole.
	if err := os.WriteFile(model, good, 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(examples.Config), `file: models/cart_recovery.xgb.json, version: "3"`,
		`file: models/cart_recovery.xgb.json, version: "5"`, 1)
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg3, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	summary, err := env.Reload(cfg3)
	if err != nil {
		t.Fatal(err)
	}
	if env.Engine() == before || !strings.Contains(summary, "cart_recovery@5") {
		t.Errorf("reload summary %q; engine replaced: %v", summary, env.Engine() != before)
	}
}
