package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestReference(t *testing.T) {
	cfg, err := ParseWithEnv("/etc/meridian/meridian.yaml", []byte(`
reference:
  - {name: sku, file: reference/skus.csv, key: sku}
  - {name: plans, file: /data/plans.data, key: plan_id, format: jsonl}
reference_cache: {max_cost: 1.5MiB}
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.ReferenceCache.MaxCostBytes; got != 3<<19 {
		t.Errorf("max_cost 1.5MiB = %d bytes", got)
	}
	if f := cfg.Reference[0].RefFormat(); f != RefCSV {
		t.Errorf("format of .csv: %q", f)
	}
	if f := cfg.Reference[1].RefFormat(); f != RefJSONL {
		t.Errorf("explicit format: %q", f)
	}
	if p := cfg.RefPath(cfg.Reference[0]); p != filepath.FromSlash("/etc/meridian/reference/skus.csv") {
		t.Errorf("relative file resolves to %q, want beside the config", p)
	}
	if p := cfg.RefPath(cfg.Reference[1]); p != "/data/plans.data" {
		t.Errorf("absolute file resolves to %q", p)
	}
	def, err := ParseWithEnv("m.yaml", nil, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if def.ReferenceCache.MaxCostBytes != 64_000_000 {
		t.Errorf("default max_cost = %d bytes", def.ReferenceCache.MaxCostBytes)
	}
}

func TestReferenceErrors(t *testing.T) {
	_, err := ParseWithEnv("m.yaml", []byte(`reference:
  - {name: sku, file: skus.csv, key: sku}
  - {name: sku, file: other.csv, key: id}
  - {name: Bad-Name, file: x.txt, key: ""}
  - {name: t, file: t.csv, key: k, format: xml}
reference_cache: {max_cost: 64 parsecs}
`), noEnv)
	got := strings.Join(errLines(t, err), "\n")
	for _, want := range []string{
		`m.yaml:3:12: reference[1].name: "sku" is already the name of reference[0]`,
		`m.yaml:4:12: reference[2].name: "Bad-Name" is not a table name`,
		`m.yaml:4:28: reference[2].file: cannot tell the format of "x.txt"`,
		`m.yaml:4:40: reference[2].key must name the column`,
		`m.yaml:5:44: reference[3].format: "xml" is not a table format; write csv or jsonl`,
		`m.yaml:6:29: reference_cache.max_cost: "64 parsecs" is not a size`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing error %q in:\n%s", want, got)
		}
	}
	_, err = ParseWithEnv("m.yaml", []byte("reference_cache: {max_cost: 100}\n"), noEnv)
	if got := strings.Join(errLines(t, err), "\n"); !strings.Contains(got, "between 1KiB and 1TiB, got 100") {
		t.Errorf("tiny max_cost: %s", got)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"64MB": 64e6, "64MiB": 64 << 20, "1GB": 1e9, "2KiB": 2048,
		"1048576": 1 << 20, "10 KB": 10e3, "7B": 7, "0.5GiB": 1 << 29} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-1MB", "1e400", "NaNMB", "64mb", "1PB"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}
