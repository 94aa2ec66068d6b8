package models

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// maxUBJSONDepth bounds container nesting so hostile input cannot exhaust
// the stack.
const maxUBJSONDepth = 256

// decodeUBJSON decodes one UBJSON value (as written by XGBoost) into the same
// generic tree encoding/json produces: map[string]any, []any, float64 for all
// numbers, string, bool and nil. It never panics on malformed input.
func decodeUBJSON(data []byte) (any, error) {
	d := &ubjDecoder{buf: data}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipNoop()
	if d.pos != len(d.buf) {
		return nil, fmt.Errorf("ubjson: %d trailing bytes after value at offset %d", len(d.buf)-d.pos, d.pos)
	}
	return v, nil
}

type ubjDecoder struct {
	buf []byte
	pos int
}

var errUBJEOF = errors.New("ubjson: unexpected end of input")

func (d *ubjDecoder) remaining() int { return len(d.buf) - d.pos }

func (d *ubjDecoder) byte() (byte, error) {
	if d.pos >= len(d.buf) {
		return 0, errUBJEOF
	}
	b := d.buf[d.pos]
	d.pos++
	return b, nil
}

func (d *ubjDecoder) peek() (byte, error) {
	if d.pos >= len(d.buf) {
		return 0, errUBJEOF
	}
	return d.buf[d.pos], nil
}

func (d *ubjDecoder) take(n int) ([]byte, error) {
	if n < 0 || n > d.remaining() {
		return nil, errUBJEOF
	}
	b := d.buf[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *ubjDecoder) skipNoop() {
	for d.pos < len(d.buf) && d.buf[d.pos] == 'N' {
		d.pos++
	}
}

// fixedSize is the payload size of fixed-width scalar markers, or -1.
func fixedSize(t byte) int {
	switch t {
	case 'i', 'U', 'C':
		return 1
	case 'I':
		return 2
	case 'l', 'd':
		return 4
	case 'L', 'D':
		return 8
	}
	return -1
}

// integer reads an integer payload of type t (used for lengths and counts).
func (d *ubjDecoder) integer(t byte) (int64, error) {
	switch t {
	case 'i', 'U', 'I', 'l', 'L':
	default:
		return 0, fmt.Errorf("ubjson: expected integer type marker, got %q at offset %d", t, d.pos-1)
	}
	b, err := d.take(fixedSize(t))
	if err != nil {
		return 0, err
	}
	switch t {
	case 'i':
		return int64(int8(b[0])), nil
	case 'U':
		return int64(b[0]), nil
	case 'I':
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case 'l':
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	default:
		return int64(binary.BigEndian.Uint64(b)), nil
	}
}

// length reads a marker-prefixed non-negative length bounded by the input left.
func (d *ubjDecoder) length(what string) (int, error) {
	t, err := d.byte()
	if err != nil {
		return 0, err
	}
	n, err := d.integer(t)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("ubjson: negative %s length %d at offset %d", what, n, d.pos)
	}
	if n > int64(d.remaining()) {
		return 0, fmt.Errorf("%w: %s length %d exceeds the %d bytes left at offset %d", errUBJEOF, what, n, d.remaining(), d.pos)
	}
	return int(n), nil
}

func (d *ubjDecoder) str() (string, error) {
	n, err := d.length("string")
	if err != nil {
		return "", err
	}
	b, err := d.take(n)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (d *ubjDecoder) value(depth int) (any, error) {
	d.skipNoop()
	t, err := d.byte()
	if err != nil {
		return nil, err
	}
	return d.typed(t, depth)
}

// typed decodes a value whose type marker t has already been consumed.
func (d *ubjDecoder) typed(t byte, depth int) (any, error) {
	switch t {
	case 'Z':
		return nil, nil
	case 'T':
		return true, nil
	case 'F':
		return false, nil
	case 'i', 'U', 'I', 'l', 'L':
		n, err := d.integer(t)
		return float64(n), err
	case 'd':
		b, err := d.take(4)
		if err != nil {
			return nil, err
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case 'D':
		b, err := d.take(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case 'C':
		b, err := d.take(1)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case 'S':
		return d.str()
	case 'H':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("ubjson: bad high-precision number %q", s)
		}
		return f, nil
	case '[':
		return d.array(depth + 1)
	case '{':
		return d.object(depth + 1)
	}
	return nil, fmt.Errorf("ubjson: unknown type marker %q at offset %d", t, d.pos-1)
}

// header parses the optional '$' type and '#' count of an optimized container.
// count is -1 when the container is terminated by ']' or '}'.
func (d *ubjDecoder) header(depth int) (elemType byte, count int, err error) {
	if depth > maxUBJSONDepth {
		return 0, 0, fmt.Errorf("ubjson: nesting deeper than %d", maxUBJSONDepth)
	}
	count = -1
	c, err := d.peek()
	if err != nil {
		return 0, 0, err
	}
	if c == '$' {
		d.pos++
		if elemType, err = d.byte(); err != nil {
			return 0, 0, err
		}
		switch elemType {
		case 'Z', 'T', 'F', 'N':
			// Zero-width payloads would let a tiny input claim a huge count.
			return 0, 0, fmt.Errorf("ubjson: unsupported typed container of %q", elemType)
		}
		if c, err = d.peek(); err != nil {
			return 0, 0, err
		}
		if c != '#' {
			return 0, 0, fmt.Errorf("ubjson: '$' without '#' at offset %d", d.pos)
		}
	}
	if c == '#' {
		d.pos++
		if count, err = d.length("container"); err != nil {
			return 0, 0, err
		}
		if sz := fixedSize(elemType); sz > 0 && count > d.remaining()/sz {
			return 0, 0, fmt.Errorf("ubjson: typed container count %d exceeds input", count)
		}
	}
	return elemType, count, nil
}

func (d *ubjDecoder) elem(elemType byte, depth int) (any, error) {
	if elemType != 0 {
		return d.typed(elemType, depth)
	}
	return d.value(depth)
}

func (d *ubjDecoder) array(depth int) (any, error) {
	elemType, count, err := d.header(depth)
	if err != nil {
		return nil, err
	}
	if count >= 0 {
		// Untyped elements take at least one byte each, so count is bounded
		// by the input, but nested containers could still each claim the
		// whole remainder: cap the up-front allocation.
		out := make([]any, 0, min(count, 4096))
		for i := 0; i < count; i++ {
			v, err := d.elem(elemType, depth)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	out := []any{}
	for {
		d.skipNoop()
		c, err := d.peek()
		if err != nil {
			return nil, err
		}
		if c == ']' {
			d.pos++
			return out, nil
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

func (d *ubjDecoder) object(depth int) (any, error) {
	elemType, count, err := d.header(depth)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for i := 0; count < 0 || i < count; i++ {
		if count < 0 {
			d.skipNoop()
			c, err := d.peek()
			if err != nil {
				return nil, err
			}
			if c == '}' {
				d.pos++
				return out, nil
			}
		}
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		v, err := d.elem(elemType, depth)
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	return out, nil
}
