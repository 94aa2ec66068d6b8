package operators

import (
	"bytes"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/meridian/meridian/event"
)

// DecodeError is the error Decode returns for a record that breaks the
// events contract. Reason is a short, single-line, printable ASCII
// description that names the offending field; it is what goes to the
// dead-letter topic.
type DecodeError struct {
	Reason string
}

// Error returns the reason.
func (e *DecodeError) Error() string { return e.Reason }

// maxSkipDepth is how many arrays or objects may nest inside the value of
// an unknown top-level field.
const maxSkipDepth = 32

// Field lengths from the events contract.
const (
	maxIDBytes     = 128
	maxTypeBytes   = 64
	maxSourceBytes = 64
)

// maxEpochMS is the largest epoch-milliseconds timestamp whose nanoseconds fit an int64.
const maxEpochMS = math.MaxInt64 / 1_000_000

// Bits of Decoder.seen, one per known top-level field.
const (
	seenEventID uint8 = 1 << iota
	seenType
	seenCustomerID
	seenTS
	seenSource
	seenSessionID
	seenAttrs
)

// Decoder decodes input event records (see the events contract) into an
// Event without allocating for valid records. A Decoder is reusable but not
// safe for concurrent use: keep one per goroutine.
type Decoder struct {
	data []byte // the record value being decoded
	pos  int    // read offset in data
	buf  []byte // scratch for unescaped strings; never reallocated mid-record
	seen uint8  // known fields seen in the current record
}

// Decode parses the record value into ev and checks every rule of the events
// contract, including that key equals customer_id. ev is reset first and its
// attribute storage reused. On success ev's byte slices alias value or the
// Decoder's scratch buffer and stay valid until the next Decode with d.
// On failure the error is a *DecodeError and ev is reset. Byte offsets in
// reasons are 0-based offsets into value. Decode never panics.
func (d *Decoder) Decode(key, value []byte, ev *event.Event) error {
	ev.Reset()
	err := d.decode(key, value, ev)
	d.data = nil
	if err != nil {
		ev.Reset()
		return err
	}
	return nil
}

func (d *Decoder) decode(key, value []byte, ev *event.Event) error {
	if len(value) > event.MaxRecordBytes {
		return fail("record: " + strconv.Itoa(len(value)) + " bytes, more than 64 KiB")
	}
	d.data, d.pos, d.seen = value, 0, 0
	d.buf = d.buf[:0]
	if err := d.object(ev); err != nil {
		return err
	}
	if err := d.required(); err != nil {
		return err
	}
	if err := checkOutcome(ev); err != nil {
		return err
	}
	return checkKey(key, ev.CustomerID)
}

// checkOutcome enforces the contract's one type-specific rule: outcome
// events from channels carry attrs.decision_id, the decision they report on.
func checkOutcome(ev *event.Event) error {
	switch string(ev.Type) {
	case "action_delivered", "action_opened", "action_clicked",
		"action_converted", "action_dismissed", "action_failed":
	default:
		return nil
	}
	a := ev.Attr("decision_id")
	switch {
	case a == nil:
		return fail("attrs.decision_id: required for outcome events")
	case a.Kind != event.AttrString || len(a.Str) == 0:
		return fail("attrs.decision_id: must be a non-empty string")
	}
	return nil
}

// Kinds of container walk visits.
const (
	inTop   = iota // the record object: known and unknown fields
	inAttrs        // the attrs object
	inArray        // an array inside attrs: scalars only
	inSkip         // any container inside an unknown field
)

// object parses the top-level object and checks that nothing but
// whitespace follows it.
func (d *Decoder) object(ev *event.Event) error {
	d.ws()
	switch c := d.peek(); {
	case d.pos >= len(d.data):
		return d.syntax("unexpected end of input")
	case c == '[' || c == '"' || c == '-' || isDigit(c) || c == 't' || c == 'f' || c == 'n':
		return fail("not a JSON object")
	case c != '{':
		return d.expected("'{'")
	}
	if err := d.walk(inTop, ev, nil, 0); err != nil {
		return err
	}
	d.ws()
	if d.pos < len(d.data) {
		return d.syntax("data after the object")
	}
	return nil
}

// walk parses the object or array at d.pos and hands each member to the
// handler for mode. name is the attrs key (inArray) or the unknown field
// (inSkip); depth counts the containers of an unknown field's value.
func (d *Decoder) walk(mode int, ev *event.Event, name []byte, depth int) error {
	obj := d.data[d.pos] == '{'
	closer, want := byte(']'), "',' or ']'"
	if obj {
		closer, want = '}', "',' or '}'"
	}
	d.pos++
	d.ws()
	if d.peek() == closer {
		d.pos++
		return nil
	}
	for {
		var key []byte
		if obj {
			var err error
			if key, err = d.key(mode); err != nil {
				return err
			}
		}
		if err := d.member(mode, ev, key, name, depth); err != nil {
			return err
		}
		d.ws()
		switch d.peek() {
		case ',':
			d.pos++
			d.ws()
		case closer:
			d.pos++
			return nil
		default:
			return d.expected(want)
		}
	}
}

// key parses an object key and the ':' after it.
func (d *Decoder) key(mode int) ([]byte, error) {
	if d.peek() != '"' {
		return nil, d.expected("string key")
	}
	ctx := ""
	if mode == inAttrs {
		ctx = "attrs"
	}
	k, err := d.str(ctx, mode != inSkip)
	if err != nil {
		return nil, err
	}
	d.ws()
	if d.peek() != ':' {
		return nil, d.expected("':'")
	}
	d.pos++
	d.ws()
	return k, nil
}

// member handles one value inside a container being walked.
func (d *Decoder) member(mode int, ev *event.Event, key, name []byte, depth int) error {
	switch mode {
	case inTop:
		return d.topField(ev, key)
	case inAttrs:
		return d.attr(ev, key)
	case inArray:
		if c := d.peek(); c == '[' || c == '{' {
			return nesting(name)
		}
		return d.scalar(name, true)
	}
	return d.skip(name, depth)
}

// topField handles one field of the record object.
func (d *Decoder) topField(ev *event.Event, key []byte) error {
	f := fieldOf(key)
	if f == 0 {
		return d.skip(key, 0)
	}
	if d.seen&f != 0 {
		return fail(fieldName(f) + ": duplicate field")
	}
	d.seen |= f
	return d.field(f, ev)
}

// fieldNames lists the known fields in the order of the seen bits.
var fieldNames = [...]string{"event_id", "type", "customer_id", "ts", "source", "session_id", "attrs"}

// fieldOf returns the seen bit of a known field name, or 0.
func fieldOf(k []byte) uint8 {
	for i, n := range fieldNames {
		if string(k) == n {
			return 1 << i
		}
	}
	return 0
}

func fieldName(f uint8) string { return fieldNames[bits.TrailingZeros8(f)%len(fieldNames)] }

// field parses and checks the value of the known field f.
func (d *Decoder) field(f uint8, ev *event.Event) error {
	var err error
	switch f {
	case seenEventID:
		if ev.EventID, err = d.strField("event_id", true); err == nil {
			err = checkLen("event_id", ev.EventID, maxIDBytes)
		}
	case seenType:
		if ev.Type, err = d.strField("type", true); err == nil {
			err = checkType(ev.Type)
		}
	case seenCustomerID:
		if ev.CustomerID, err = d.strField("customer_id", true); err == nil {
			err = checkCustomerID(ev.CustomerID)
		}
	case seenTS:
		err = d.ts(ev)
	case seenSource:
		if ev.Source, err = d.strField("source", false); err == nil {
			err = checkMax("source", ev.Source, maxSourceBytes)
		}
	case seenSessionID:
		if ev.SessionID, err = d.strField("session_id", false); err == nil {
			err = checkMax("session_id", ev.SessionID, maxIDBytes)
		}
	default:
		err = d.attrs(ev)
	}
	return err
}

// required reports the first required field the record lacks.
func (d *Decoder) required() error {
	for _, f := range [...]uint8{seenEventID, seenType, seenCustomerID, seenTS} {
		if d.seen&f == 0 {
			return fail(fieldName(f) + ": missing")
		}
	}
	return nil
}

func checkKey(key, customerID []byte) error {
	if len(key) == 0 {
		return fail("missing key")
	}
	if !bytes.Equal(key, customerID) {
		return fail("key mismatch: key " + quoteCap(key) + ", customer_id " + quoteCap(customerID))
	}
	return nil
}

func checkLen(name string, v []byte, max int) error {
	if len(v) == 0 {
		return fail(name + ": empty")
	}
	return checkMax(name, v, max)
}

func checkMax(name string, v []byte, max int) error {
	if len(v) > max {
		return fail(name + ": longer than " + strconv.Itoa(max) + " bytes")
	}
	return nil
}

func checkType(t []byte) error {
	ok := len(t) > 0 && len(t) <= maxTypeBytes && t[0] >= 'a' && t[0] <= 'z'
	for i := 1; ok && i < len(t); i++ {
		c := t[i]
		ok = c >= 'a' && c <= 'z' || isDigit(c) || c == '_' || c == '.'
	}
	if !ok {
		return fail("type: does not match [a-z][a-z0-9_.]{0,63}")
	}
	return nil
}

func checkCustomerID(v []byte) error {
	if err := checkLen("customer_id", v, maxIDBytes); err != nil {
		return err
	}
	if hasControl(v) {
		return fail("customer_id: control character")
	}
	return nil
}

// hasControl reports whether the valid UTF-8 text b holds a C0 control,
// DEL or a C1 control (U+0080-U+009F, encoded as C2 80-C2 9F).
func hasControl(b []byte) bool {
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			return true
		}
		if c == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f {
			return true
		}
	}
	return false
}

// strField parses a string field; null is accepted (as absent) unless required.
func (d *Decoder) strField(name string, required bool) ([]byte, error) {
	switch d.peek() {
	case '"':
		return d.str(name, true)
	case 'n':
		if !required {
			return nil, d.lit()
		}
	}
	return nil, d.wrongType(name, "a string")
}

// ts parses the ts field: an RFC 3339 string or integer epoch milliseconds.
func (d *Decoder) ts(ev *event.Event) error {
	c := d.peek()
	if c == '-' || isDigit(c) {
		return d.epochMS(ev)
	}
	if c != '"' {
		return d.wrongType("ts", "a string or number")
	}
	s, err := d.str("ts", true)
	if err != nil {
		return err
	}
	ns, res := parseRFC3339(s)
	switch res {
	case tsBad:
		return fail("ts: not RFC 3339 or epoch milliseconds")
	case tsRange:
		return fail("ts: out of range for int64 Unix nanoseconds")
	}
	ev.TS = ns
	return nil
}

func (d *Decoder) epochMS(ev *event.Event) error {
	start := d.pos
	isInt, err := d.number()
	if err != nil {
		return err
	}
	num := d.data[start:d.pos]
	if !isInt {
		return fail("ts: epoch milliseconds must be an integer")
	}
	if num[0] == '-' {
		if string(num) != "-0" {
			return fail("ts: negative epoch milliseconds")
		}
		num = num[1:]
	}
	var ms int64
	for _, c := range num {
		dig := int64(c - '0')
		if ms > (maxEpochMS-dig)/10 {
			return fail("ts: out of range for int64 Unix nanoseconds")
		}
		ms = ms*10 + dig
	}
	ev.TS = ms * 1e6
	return nil
}

// attrs parses the attrs object into ev.Attrs.
func (d *Decoder) attrs(ev *event.Event) error {
	switch d.peek() {
	case 'n':
		return d.lit()
	case '{':
		return d.walk(inAttrs, ev, nil, 0)
	}
	return d.wrongType("attrs", "an object")
}

// attr parses the value of attrs key k and appends it to ev.Attrs.
func (d *Decoder) attr(ev *event.Event, k []byte) error {
	if len(ev.Attrs) >= event.MaxAttrs {
		return fail("attrs: more than 64 keys")
	}
	for i := range ev.Attrs {
		if bytes.Equal(ev.Attrs[i].Key, k) {
			return fail("attrs: duplicate key " + quoteCap(k))
		}
	}
	ev.Attrs = growAttrs(ev.Attrs)
	a := &ev.Attrs[len(ev.Attrs)-1]
	*a = event.Attr{Key: k}
	var err error
	switch c := d.peek(); {
	case c == '"':
		a.Kind = event.AttrString
		a.Str, err = d.str("attrs", true)
	case c == 't' || c == 'f':
		a.Kind, a.Bool = event.AttrBool, c == 't'
		err = d.lit()
	case c == 'n':
		err = d.lit()
	case c == '-' || isDigit(c):
		a.Kind = event.AttrNumber
		a.Num, err = d.attrNum(k)
	case c == '[':
		a.Kind = event.AttrArray
		start := d.pos
		err = d.walk(inArray, ev, k, 0)
		a.Str = d.data[start:d.pos:d.pos]
	case c == '{':
		err = nesting(k)
	default:
		err = d.expected("a JSON value")
	}
	return err // on error Decode resets ev, dropping the half-filled attr
}

// growAttrs lengthens s by one, growing it straight to MaxAttrs capacity so
// that a reused Event allocates at most once.
func growAttrs(s []event.Attr) []event.Attr {
	if len(s) == cap(s) && cap(s) < event.MaxAttrs {
		n := make([]event.Attr, len(s), event.MaxAttrs)
		copy(n, s)
		s = n
	}
	return s[:len(s)+1]
}

// attrNum parses a JSON number and checks that it is finite.
func (d *Decoder) attrNum(key []byte) (float64, error) {
	start := d.pos
	if _, err := d.number(); err != nil {
		return 0, err
	}
	// number() succeeded, so the slice is non-empty and strict JSON number
	// syntax; ParseFloat copies the string into any error it returns.
	s := unsafe.String(&d.data[start], d.pos-start)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fail("attrs[" + quoteCap(key) + "]: number is not finite")
	}
	return f, nil
}

func nesting(key []byte) error {
	return fail("attrs[" + quoteCap(key) + "]: nesting (object or array inside attrs value)")
}

// skip checks and skips the value of the unknown field name; depth is how
// many containers enclose the current value within that field.
func (d *Decoder) skip(name []byte, depth int) error {
	if c := d.peek(); c == '[' || c == '{' {
		if depth >= maxSkipDepth {
			return fail("unknown field " + quoteCap(name) + ": nested deeper than 32 levels")
		}
		return d.walk(inSkip, nil, name, depth+1)
	}
	return d.scalar(nil, false)
}

// scalar checks and skips a string, literal or number. Inside attrs
// (inAttrs set) numbers must be finite; attrKey names the attribute.
func (d *Decoder) scalar(attrKey []byte, inAttrs bool) error {
	var err error
	switch c := d.peek(); {
	case c == '"':
		_, err = d.str("", false)
	case c == 't' || c == 'f' || c == 'n':
		err = d.lit()
	case (c == '-' || isDigit(c)) && inAttrs:
		_, err = d.attrNum(attrKey)
	case c == '-' || isDigit(c):
		_, err = d.number()
	default:
		err = d.expected("a JSON value")
	}
	return err
}

// strPlain marks the bytes a JSON string may hold verbatim on the fast path:
// printable ASCII except '"' and '\\'.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str parses the JSON string at d.pos (which holds '"'). Without escapes
// the result aliases the record; with escapes it is unescaped into the
// scratch buffer when write is set (otherwise the string is only checked and
// the result is meaningless). ctx names the field for content errors.
func (d *Decoder) str(ctx string, write bool) ([]byte, error) {
	data := d.data
	start := d.pos + 1
	base, esc := 0, false
	for i := start; ; {
		run := i
		for i < len(data) && strPlain[data[i]] {
			i++
		}
		if esc {
			d.buf = append(d.buf, data[run:i]...)
		}
		if i >= len(data) {
			d.pos = i
			return nil, d.syntax("unexpected end of input")
		}
		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			if esc {
				return d.buf[base:len(d.buf):len(d.buf)], nil
			}
			return data[start:i:i], nil
		case c == '\\':
			r, n, err := d.escape(ctx, i)
			if err != nil {
				return nil, err
			}
			if write && !esc {
				d.growScratch()
				base, esc = len(d.buf), true
				d.buf = append(d.buf, data[start:i]...)
			}
			if esc {
				d.buf = utf8.AppendRune(d.buf, r)
			}
			i += n
		case c < 0x20:
			d.pos = i
			return nil, d.syntax("control character in string")
		default:
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				d.pos = i
				return nil, d.content(ctx, "invalid UTF-8")
			}
			if esc {
				d.buf = append(d.buf, data[i:i+n]...)
			}
			i += n
		}
	}
}

// growScratch makes sure the scratch buffer can take every unescaped string
// of the record without reallocating: unescaping never lengthens a string.
func (d *Decoder) growScratch() {
	if len(d.buf) == 0 && cap(d.buf) < len(d.data) {
		n := 512
		for n < len(d.data) {
			n *= 2
		}
		d.buf = make([]byte, 0, n)
	}
}

// escape decodes the escape sequence at i and returns the rune and the
// number of input bytes it used. Lone surrogates are rejected.
func (d *Decoder) escape(ctx string, i int) (rune, int, error) {
	d.pos = i
	if i+1 >= len(d.data) {
		d.pos = len(d.data)
		return 0, 0, d.syntax("unexpected end of input")
	}
	c := d.data[i+1]
	if c == 'u' {
		return d.unicodeEscape(ctx, i)
	}
	if k := strings.IndexByte(`"\/bfnrt`, c); k >= 0 {
		return rune("\"\\/\b\f\n\r\t"[k]), 2, nil
	}
	return 0, 0, d.syntax("invalid escape in string")
}

func (d *Decoder) unicodeEscape(ctx string, i int) (rune, int, error) {
	r, ok := hex4(d.data, i+2)
	if !ok {
		return 0, 0, d.syntax("invalid \\u escape in string")
	}
	switch {
	case r >= 0xdc00 && r <= 0xdfff:
		return 0, 0, d.content(ctx, "lone surrogate in \\u escape")
	case r < 0xd800 || r > 0xdbff:
		return r, 6, nil
	}
	j := i + 6
	if j+1 < len(d.data) && d.data[j] == '\\' && d.data[j+1] == 'u' {
		lo, ok := hex4(d.data, j+2)
		if ok && lo >= 0xdc00 && lo <= 0xdfff {
			return 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00), 12, nil
		}
	}
	return 0, 0, d.content(ctx, "lone surrogate in \\u escape")
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch l := c | 0x20; {
		case isDigit(c):
			r = r<<4 | rune(c-'0')
		case l >= 'a' && l <= 'f':
			r = r<<4 | rune(l-'a'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number scans a JSON number at d.pos; isInt is false when it has a
// fraction or an exponent.
func (d *Decoder) number() (isInt bool, err error) {
	data, i := d.data, d.pos
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		i = digitsEnd(data, i)
	default:
		d.pos = i
		return false, d.expected("digit")
	}
	isInt = true
	if i < len(data) && data[i] == '.' {
		j := digitsEnd(data, i+1)
		if j == i+1 {
			d.pos = j
			return false, d.expected("digit")
		}
		i, isInt = j, false
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := digitsEnd(data, i)
		if j == i {
			d.pos = i
			return false, d.expected("digit")
		}
		i, isInt = j, false
	}
	d.pos = i
	return isInt, nil
}

func digitsEnd(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lit consumes the literal (true, false or null) starting at d.pos.
func (d *Decoder) lit() error {
	word := "null"
	switch d.peek() {
	case 't':
		word = "true"
	case 'f':
		word = "false"
	}
	rest := d.data[d.pos:]
	if len(rest) >= len(word) && string(rest[:len(word)]) == word {
		d.pos += len(word)
		return nil
	}
	if len(rest) < len(word) && string(rest) == word[:len(rest)] {
		d.pos = len(d.data)
		return d.syntax("unexpected end of input")
	}
	return d.syntax("invalid literal, expected " + word)
}

// ws skips JSON whitespace.
func (d *Decoder) ws() {
	data, i := d.data, d.pos
	for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t' || data[i] == '\r') {
		i++
	}
	d.pos = i
}

// peek returns the byte at d.pos, or 0 at the end of input.
func (d *Decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func fail(reason string) error { return &DecodeError{Reason: reason} }

// syntax reports malformed JSON at d.pos.
func (d *Decoder) syntax(msg string) error {
	return fail("invalid JSON at byte " + strconv.Itoa(d.pos) + ": " + msg)
}

// content reports bad text (UTF-8, surrogates) at d.pos, naming ctx if set.
func (d *Decoder) content(ctx, msg string) error {
	msg += " at byte " + strconv.Itoa(d.pos)
	if ctx != "" {
		msg = ctx + ": " + msg
	}
	return fail(msg)
}

// expected reports that what was expected at d.pos, describing what is there.
func (d *Decoder) expected(what string) error {
	if d.pos >= len(d.data) {
		return d.syntax("unexpected end of input")
	}
	r, n := utf8.DecodeRune(d.data[d.pos:])
	if r == utf8.RuneError && n <= 1 {
		return d.content("", "invalid UTF-8")
	}
	return d.syntax("expected " + what + ", found " + strconv.QuoteRuneToASCII(r))
}

// wrongType reports a known field whose JSON value has the wrong type.
func (d *Decoder) wrongType(name, want string) error {
	k := strings.IndexByte(`"{[tfn-0123456789`, d.peek())
	if k < 0 {
		return d.expected("a JSON value")
	}
	got := [...]string{"string", "object", "array", "bool", "bool", "null"}
	if k >= len(got) {
		return fail(name + ": must be " + want + ", got number")
	}
	return fail(name + ": must be " + want + ", got " + got[k])
}

// quoteCap quotes b as printable ASCII in at most about 45 bytes,
// keeping a whole-rune prefix of b and marking a cut with "...".
func quoteCap(b []byte) string {
	const max = 40
	for n := min(len(b), max); ; n-- {
		if n > 0 && n < len(b) && !utf8.RuneStart(b[n]) {
			continue
		}
		q := strconv.QuoteToASCII(string(b[:n]))
		if len(q) > max+2 && n > 0 {
			continue
		}
		if n < len(b) {
			q += "..."
		}
		return q
	}
}
