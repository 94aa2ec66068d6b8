package refdata

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"unsafe"

	"github.com/meridian/meridian/config"
)

const skusCSV = "\ufeffsku,name,price,in_stock,zip,category\n" +
	"A-100,\"Trail shoe, red\",89.5,true,00123,\n" +
	"B-200,Sock,4,false,10115,apparel\n" +
	"00300,\"Multi\nline\",-1.5e2,maybe,,x\n"

func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func TestFileCSV(t *testing.T) {
	f, err := ParseFile("skus.csv", []byte(skusCSV), CSV, "sku")
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 3 {
		t.Fatalf("%d rows", f.Len())
	}
	for key, want := range map[string]map[string]any{
		"A-100": {"sku": "A-100", "name": "Trail shoe, red", "price": 89.5, "in_stock": true, "zip": "00123"},
		"B-200": {"sku": "B-200", "name": "Sock", "price": 4.0, "in_stock": false, "zip": 10115.0, "category": "apparel"},
		"00300": {"sku": "00300", "name": "Multi\nline", "price": -150.0, "in_stock": "maybe", "category": "x"},
	} {
		row, ok, err := f.Load(key)
		if err != nil || !ok || !reflect.DeepEqual(row, want) {
			t.Errorf("Load(%q) = %#v, %v, %v; want %#v", key, row, ok, err, want)
		}
	}
	if row, ok, err := f.Load("C-1"); ok || err != nil || row != nil {
		t.Errorf("absent key: %v %v %v", row, ok, err)
	}
}

func TestFileJSONL(t *testing.T) {
	data := `{"plan_id": "gold", "price": 30, "tags": ["5g"]}

{"plan_id": 7, "price": 10.5}
`
	f, err := ParseFile("plans.jsonl", []byte(data), JSONL, "plan_id")
	if err != nil {
		t.Fatal(err)
	}
	row, ok, err := f.Load("gold")
	if err != nil || !ok || row["price"] != 30.0 || !reflect.DeepEqual(row["tags"], []any{"5g"}) {
		t.Errorf("gold: %v %v %v", row, ok, err)
	}
	if row, ok, _ := f.Load("7"); !ok || row["price"] != 10.5 {
		t.Errorf("numeric key 7: %v %v", row, ok)
	}
}

func TestFileErrors(t *testing.T) {
	for _, c := range []struct{ format, data, key, want string }{
		{CSV, "", "sku", "t: empty file"},
		{CSV, "name,price\nx,1\n", "sku", `t:1: the header has no key column "sku"`},
		{CSV, "sku,sku\n", "sku", `column "sku" appears twice`},
		{CSV, "sku,\n", "sku", "column 2 has no name"},
		{CSV, "sku,p\na,1\nb,2\na,3\n", "sku", `t:4: key "a" repeats line 2`},
		{CSV, "sku,p\n,1\n", "sku", "t:2: the key is empty"},
		{CSV, "sku,p\na,1,9\n", "sku", "wrong number of fields"},
		{JSONL, `{"id":"a"}` + "\n[1]\n", "id", "t:2: not a JSON object"},
		{JSONL, `{"id":"a"}` + "\n" + `{"x":1}`, "id", `t:2: key field "id": missing`},
		{JSONL, `{"id":true}`, "id", "is not a string or a number"},
		{"xml", "", "id", `format "xml"`},
	} {
		if _, err := ParseFile("t", []byte(c.data), c.format, c.key); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.data, err, c.want)
		}
	}
}

func TestOpenFromConfig(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "reference"), 0o755)
	os.WriteFile(filepath.Join(dir, "reference", "skus.csv"), []byte(skusCSV), 0o644)
	yaml := "reference:\n  - {name: sku, file: reference/skus.csv, key: sku}\nreference_cache: {max_cost: 1MB}\n"
	cfg, err := config.Parse(filepath.Join(dir, "meridian.yaml"), []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	if row, ok := tb.Lookup("sku", "B-200"); !ok || row["name"] != "Sock" {
		t.Errorf("B-200: %v %v", row, ok)
	}
	if s := tb.Stats(); s.MaxCost != 1e6 {
		t.Errorf("max cost %d, want 1MB", s.MaxCost)
	}

	fsys := fstest.MapFS{"reference/skus.csv": {Data: []byte("sku,price\na,1\na,2\n")}}
	_, err = Open(cfg, fsys)
	if err == nil || !strings.Contains(err.Error(), "meridian.yaml:2:5: reference[0]: table sku: reference/skus.csv:3: key \"a\" repeats line 2") {
		t.Errorf("repeated key through fs: %v", err)
	}
	_, err = Open(cfg, fstest.MapFS{})
	if err == nil || !strings.Contains(err.Error(), "meridian.yaml:2:23: reference[0].file: cannot read table sku") {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzParseFile: any bytes either fail to parse or give a table whose
// every indexed key loads without panicking.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte(skusCSV), false)
	f.Add([]byte(`{"id":"a","v":1}`+"\n"+`{"id":2}`), true)
	f.Fuzz(func(t *testing.T, data []byte, jsonl bool) {
		format, key := CSV, "sku"
		if jsonl {
			format, key = JSONL, "id"
		}
		tb, err := ParseFile("fuzz", data, format, key)
		if err != nil {
			return
		}
		for k := range tb.index {
			if row, ok, err := tb.Load(k); err == nil && (!ok || row == nil) {
				t.Fatalf("indexed key %q did not load", k)
			}
		}
	})
}
