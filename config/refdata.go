package config

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// RefTable declares one reference table: rows read from a file and looked
// up by one column (package refdata).
type RefTable struct {
	// Name is how decisions refer to the table, e.g. sku.
	Name string `yaml:"name"`
	// File holds the rows: CSV with a header line, or JSON lines (one
	// object per line). A relative path is relative to the config file.
	File string `yaml:"file"`
	// Key is the column (CSV) or field (JSON lines) that rows are looked
	// up by; its values must be unique.
	Key string `yaml:"key"`
	// Format is csv or jsonl. Default: from the file's extension (.csv;
	// .jsonl or .ndjson).
	Format string `yaml:"format"`
}

// RefCache bounds the memory reference lookups keep.
type RefCache struct {
	// MaxCost is the most the cache of looked-up rows may hold, as a
	// size: 64MB, 512KiB, 1GB or a number of bytes. KB, MB and GB are
	// powers of 1000; KiB, MiB and GiB powers of 1024. Default: 64MB.
	MaxCost string `yaml:"max_cost"`
	// MaxCostBytes is MaxCost in bytes, set by Validate.
	MaxCostBytes int64
}

// Reference table formats.
const (
	RefCSV   = "csv"
	RefJSONL = "jsonl"
)

// defaultRefMaxCost is reference_cache.max_cost when the file leaves it out.
const defaultRefMaxCost = "64MB"

// RefFormat returns the table's format: Format, else the one its file's
// extension names, else "".
func (t RefTable) RefFormat() string {
	if t.Format != "" {
		return t.Format
	}
	switch strings.ToLower(filepath.Ext(t.File)) {
	case ".csv":
		return RefCSV
	case ".jsonl", ".ndjson":
		return RefJSONL
	}
	return ""
}

// RefPath returns the table's file joined to the config file's directory
// when it is relative. A config that did not come from a file leaves it as
// written.
func (c *Config) RefPath(t RefTable) string {
	if filepath.IsAbs(t.File) || c.source == "" {
		return t.File
	}
	return filepath.Join(filepath.Dir(c.source), t.File)
}

func (k *checker) reference() {
	names := make(map[string]int, len(k.c.Reference))
	for i := range k.c.Reference {
		t := &k.c.Reference[i]
		at := fmt.Sprintf("reference[%d]", i)
		if !nameRE.MatchString(t.Name) {
			k.fail(at+".name", "%s.name: %q is not a table name (a lower-case letter, then up to 63 of a-z, 0-9 and _); write e.g. name: sku", at, t.Name)
		} else if j, dup := names[t.Name]; dup {
			k.fail(at+".name", "%s.name: %q is already the name of reference[%d]; table names must be unique", at, t.Name, j)
		} else {
			names[t.Name] = i
		}
		if strings.TrimSpace(t.File) == "" {
			k.fail(at+".file", "%s.file must name the table's file; write e.g. file: reference/skus.csv", at)
		}
		if strings.TrimSpace(t.Key) == "" {
			k.fail(at+".key", "%s.key must name the column rows are looked up by; write e.g. key: sku", at)
		}
		switch {
		case t.Format != "" && t.Format != RefCSV && t.Format != RefJSONL:
			k.fail(at+".format", "%s.format: %q is not a table format; write csv or jsonl", at, t.Format)
		case t.File != "" && t.RefFormat() == "":
			k.fail(at+".file", "%s.file: cannot tell the format of %q from its extension; name it .csv or .jsonl, or write format: csv or format: jsonl", at, t.File)
		}
	}
	rc := &k.c.ReferenceCache
	if rc.MaxCost == "" {
		rc.MaxCost = defaultRefMaxCost
	}
	n, err := parseSize(rc.MaxCost)
	switch {
	case err != nil:
		k.fail("reference_cache.max_cost", "reference_cache.max_cost: %v; write e.g. max_cost: 64MB", err)
	case n < 1<<10 || n > 1<<40:
		k.fail("reference_cache.max_cost", "reference_cache.max_cost must be between 1KiB and 1TiB, got %s; write e.g. max_cost: 64MB", rc.MaxCost)
	default:
		rc.MaxCostBytes = n
	}
}

// sizeUnits are the suffixes parseSize accepts, longest first.
var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// parseSize reads a size such as 64MB, 1.5GiB or 1048576 (bytes).
func parseSize(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), 1.0
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f*mult > 1<<62 {
		units := make([]string, len(sizeUnits))
		for i, u := range sizeUnits {
			units[i] = u.suffix
		}
		slices.Sort(units)
		return 0, fmt.Errorf("%q is not a size (a number and one of %s)", s, strings.Join(units, ", "))
	}
	return int64(f * mult), nil
}
