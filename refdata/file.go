package refdata

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// File formats.
const (
	CSV   = "csv"
	JSONL = "jsonl"
)

// File is a Source over a CSV file (with a header line) or a JSON lines
// file (one object per line), keyed by one column. It keeps the file's
// bytes and an index from key to row, and decodes a row only when it is
// loaded: the cache in front keeps the decoded rows in use, within its
// bound, while the whole table costs about its file size.
//
// CSV cells become values by their text: an empty cell is left out of the
// row; true and false are booleans; a finite decimal number is a float64,
// unless it starts with a 0 followed by a digit (a code such as 00123
// stays a string); anything else is a string. The key column is always a
// string. JSON lines values are as encoding/json decodes them (numbers
// are float64); a numeric key field is looked up by its text, as written.
type File struct {
	name   string
	format string
	data   []byte
	header []string // CSV: the column names
	keyCol int      // CSV: the key's column
	index  map[string]span
}

// span is a row's bytes in File.data, and its line for messages.
type span struct {
	start, end int
	line       int
}

// ParseFile indexes a table read from data. name is for messages (the
// file's path); format is CSV or JSONL; key names the column or field rows
// are looked up by. Every row must have a non-empty key, unique in the
// file. Errors read "NAME:LINE: problem".
func ParseFile(name string, data []byte, format, key string) (*File, error) {
	f := &File{name: name, format: format, data: data, index: make(map[string]span)}
	var err error
	switch format {
	case CSV:
		err = f.indexCSV(key)
	case JSONL:
		err = f.indexJSONL(key)
	default:
		err = fmt.Errorf("%s: format %q is not csv or jsonl", name, format)
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Len returns the number of rows.
func (f *File) Len() int { return len(f.index) }

func (f *File) indexCSV(key string) error {
	f.data = bytes.TrimPrefix(f.data, []byte("\ufeff")) // a BOM, as spreadsheets write
	r := csv.NewReader(bytes.NewReader(f.data))
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: empty file; the first line must be a header naming the columns", f.name)
		}
		return fmt.Errorf("%s: %w", f.name, err)
	}
	f.header = append([]string(nil), header...)
	f.keyCol = -1
	for i, h := range f.header {
		if h == "" {
			return fmt.Errorf("%s:1: column %d has no name in the header", f.name, i+1)
		}
		if j := indexOf(f.header[:i], h); j >= 0 {
			return fmt.Errorf("%s:1: column %q appears twice in the header", f.name, h)
		}
		if h == key {
			f.keyCol = i
		}
	}
	if f.keyCol < 0 {
		return fmt.Errorf("%s:1: the header has no key column %q (columns: %v)", f.name, key, f.header)
	}
	r.ReuseRecord = true
	for {
		start := int(r.InputOffset())
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		line, _ := r.FieldPos(0)
		if err := f.add(rec[f.keyCol], span{start, int(r.InputOffset()), line}); err != nil {
			return err
		}
	}
}

func (f *File) indexJSONL(key string) error {
	line := 0
	for off := 0; off < len(f.data); {
		line++
		end := bytes.IndexByte(f.data[off:], '\n')
		if end < 0 {
			end = len(f.data)
		} else {
			end += off
		}
		start, text := off, bytes.TrimSpace(f.data[off:end])
		off = end + 1
		if len(text) == 0 {
			continue
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(text, &fields); err != nil {
			return fmt.Errorf("%s:%d: not a JSON object: %v", f.name, line, err)
		}
		k, err := jsonKey(fields[key])
		if err != nil {
			return fmt.Errorf("%s:%d: key field %q: %v", f.name, line, key, err)
		}
		if err := f.add(k, span{start, end, line}); err != nil {
			return err
		}
	}
	return nil
}

// jsonKey returns a key field's text: a string's value or a number as
// written.
func jsonKey(raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "", errors.New("missing")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("%s is not a string or a number", raw)
}

func (f *File) add(key string, s span) error {
	if key == "" {
		return fmt.Errorf("%s:%d: the key is empty", f.name, s.line)
	}
	if prev, dup := f.index[key]; dup {
		return fmt.Errorf("%s:%d: key %q repeats line %d; keys must be unique", f.name, s.line, key, prev.line)
	}
	f.index[key] = s
	return nil
}

// Load decodes the row with key.
func (f *File) Load(key string) (map[string]any, bool, error) {
	s, ok := f.index[key]
	if !ok {
		return nil, false, nil
	}
	raw := f.data[s.start:s.end]
	if f.format == JSONL {
		var row map[string]any
		if err := json.Unmarshal(raw, &row); err != nil {
			return nil, false, fmt.Errorf("%s:%d: %w", f.name, s.line, err)
		}
		return row, true, nil
	}
	rec, err := csv.NewReader(bytes.NewReader(raw)).Read()
	if err != nil {
		return nil, false, fmt.Errorf("%s:%d: %w", f.name, s.line, err)
	}
	row := make(map[string]any, len(rec))
	for i, cell := range rec {
		switch {
		case i == f.keyCol:
			row[f.header[i]] = cell
		case cell != "":
			row[f.header[i]] = cellValue(cell)
		}
	}
	return row, true, nil
}

// cellValue types a CSV cell; see File.
func cellValue(s string) any {
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	digits := s
	if digits[0] == '-' || digits[0] == '+' {
		digits = digits[1:]
	}
	if len(digits) > 1 && digits[0] == '0' && digits[1] >= '0' && digits[1] <= '9' {
		return s
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) && isDecimal(digits) {
		return v
	}
	return s
}

// isDecimal reports whether s is digits with an optional fraction and
// exponent: ParseFloat also takes hex, Inf and NaN, which are not numbers
// in a table.
func isDecimal(s string) bool {
	if s == "" || (s[0] < '0' || s[0] > '9') && s[0] != '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}
