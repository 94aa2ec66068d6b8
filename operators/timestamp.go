package operators

import (
	"math"
	"time"
)

// Results of parseRFC3339.
const (
	tsOK = iota
	tsBad
	tsRange
)

// parseRFC3339 parses an RFC 3339 date-time (T/t, Z/z or a numeric offset,
// up to 9 fraction digits, no leap seconds) into Unix nanoseconds.
func parseRFC3339(s []byte) (int64, int) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' ||
		(s[10] != 'T' && s[10] != 't') {
		return 0, tsBad
	}
	year := digits(s[0:4])
	mon, day := digits(s[5:7]), digits(s[8:10])
	hour, min, sec := digits(s[11:13]), digits(s[14:16]), digits(s[17:19])
	if year < 0 || mon < 1 || mon > 12 || day < 1 || day > 31 ||
		hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 59 {
		return 0, tsBad
	}
	// time.Date does not allocate; a day past the month's end normalises
	// into the next month, which the Day check catches.
	t := time.Date(int(year), time.Month(mon), int(day), int(hour), int(min), int(sec), 0, time.UTC)
	if t.Day() != int(day) {
		return 0, tsBad
	}
	frac, i := fraction(s, 19)
	if i < 0 {
		return 0, tsBad
	}
	off, ok := zoneOffset(s[i:])
	if !ok {
		return 0, tsBad
	}
	return toNanos(t.Unix()-off, frac)
}

// fraction parses an optional ".digits" at i into nanoseconds and returns
// the index after it, or -1 when it is malformed or longer than 9 digits.
func fraction(s []byte, i int) (int64, int) {
	if i >= len(s) || s[i] != '.' {
		return 0, i
	}
	i++
	var frac int64
	n := 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		if n == 9 {
			return 0, -1
		}
		frac = frac*10 + int64(s[i]-'0')
		n++
	}
	if n == 0 {
		return 0, -1
	}
	for ; n < 9; n++ {
		frac *= 10
	}
	return frac, i
}

// zoneOffset parses "Z", "z" or "±hh:mm" (the whole of s) into seconds east of UTC.
func zoneOffset(s []byte) (int64, bool) {
	if len(s) == 1 && (s[0] == 'Z' || s[0] == 'z') {
		return 0, true
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return 0, false
	}
	h, m := digits(s[1:3]), digits(s[4:6])
	if h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, false
	}
	off := (h*60 + m) * 60
	if s[0] == '-' {
		off = -off
	}
	return off, true
}

// toNanos returns secs*1e9+frac, or tsRange when it does not fit an int64.
func toNanos(secs, frac int64) (int64, int) {
	const maxSecs = math.MaxInt64 / 1_000_000_000
	if secs > maxSecs || secs < -maxSecs-1 {
		return 0, tsRange
	}
	if secs >= 0 {
		if secs*1e9 > math.MaxInt64-frac {
			return 0, tsRange
		}
		return secs*1e9 + frac, tsOK
	}
	hi, lo := (secs+1)*1e9, frac-1e9 // lo in [-1e9, -1]
	if hi < math.MinInt64-lo {
		return 0, tsRange
	}
	return hi + lo, tsOK
}

// digits parses a short run of ASCII digits, or returns -1.
func digits(b []byte) int64 {
	var v int64
	for _, c := range b {
		if !isDigit(c) {
			return -1
		}
		v = v*10 + int64(c-'0')
	}
	return v
}
