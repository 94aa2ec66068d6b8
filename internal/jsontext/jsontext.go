// Package jsontext appends JSON text to byte slices without allocating:
// the action records, payloads and views Meridian writes by hand on the
// per-event path.
package jsontext

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendString appends s as a quoted JSON string. Invalid UTF-8 becomes
// U+FFFD.
func AppendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	dst = AppendEscaped(dst, s)
	return append(dst, '"')
}

// AppendEscaped appends the body of a JSON string holding s, without the
// quotes. Invalid UTF-8 becomes U+FFFD.
func AppendEscaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			dst = appendASCII(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst
}

func appendASCII(dst []byte, c byte) []byte {
	switch {
	case c == '"' || c == '\\':
		return append(dst, '\\', c)
	case c == '\n':
		return append(dst, '\\', 'n')
	case c == '\r':
		return append(dst, '\\', 'r')
	case c == '\t':
		return append(dst, '\\', 't')
	case c < 0x20 || c == 0x7f:
		const hexdigits = "0123456789abcdef"
		return append(dst, '\\', 'u', '0', '0', hexdigits[c>>4], hexdigits[c&0xf])
	}
	return append(dst, c)
}

// AppendFloat appends f as a JSON number; NaN and infinities, which JSON
// cannot carry, become null.
func AppendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}
