// Package expr compiles the small expression language of feature
// definitions into programs that evaluate against an event without
// allocating.
//
// Grammar, loosest binding first:
//
//	a || b    a && b    !a
//	a == b  a != b  a < b  a <= b  a > b  a >= b
//	a + b   a - b
//	a * b   a / b
//	a ?? b    (a when it has a value, else b; binds tighter than *)
//	-a   (a)   literals: 12, 1.5e3, "text", true, false
//	attrs.NAME   type   source   session_id   customer_id   event_id
//
// Values are numbers, strings, bools or missing (an absent attribute, or
// arithmetic on a missing or non-number value). Comparisons with a missing
// value are false, so a condition on an attribute an event lacks does not
// hold.
package expr

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/meridian/meridian/event"
)

// Program is a compiled expression. It is immutable and safe to share.
type Program struct {
	root   node
	isBool bool
	src    string
}

// Compile parses src. Errors name the column: `column 7: expected ")"`.
func Compile(src string) (*Program, error) {
	p := &parser{src: src}
	p.next()
	n, err := p.or()
	if p.err != nil {
		return nil, p.err // a scan error explains more than what it led the parser to
	}
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.errf("unexpected %s", p.tok)
	}
	return &Program{root: n.node, isBool: n.typ == tyBool, src: src}, nil
}

// Num evaluates a numeric expression; ok is false when a value it needs is
// missing (an absent attribute with no ?? default, or a non-number).
func (p *Program) Num(ev *event.Event) (v float64, ok bool) {
	r := p.root.eval(ev)
	return r.num, r.kind == kNum
}

// Test evaluates a condition; a comparison with a missing value is false.
func (p *Program) Test(ev *event.Event) bool {
	r := p.root.eval(ev)
	return r.kind == kBool && r.b
}

// IsBool reports whether the expression is a condition.
func (p *Program) IsBool() bool { return p.isBool }

// String returns the source text.
func (p *Program) String() string { return p.src }

// value is the result of evaluating a node; returned by value, so
// evaluation never allocates.
type value struct {
	kind kind
	num  float64
	str  []byte
	b    bool
}

type kind uint8

const (
	kMissing kind = iota
	kNum
	kStr
	kBool
)

type node interface{ eval(ev *event.Event) value }

// static types known at compile time; tyAny is an attribute's.
type typ uint8

const (
	tyAny typ = iota
	tyNum
	tyStr
	tyBool
)

func (t typ) String() string {
	return [...]string{"a value", "a number", "a string", "a condition"}[t]
}

// typed is a node with its static type, for compile-time checks.
type typed struct {
	node node
	typ  typ
}

// --- nodes ---

type numLit float64

func (n numLit) eval(*event.Event) value { return value{kind: kNum, num: float64(n)} }

type strLit []byte

func (n strLit) eval(*event.Event) value { return value{kind: kStr, str: n} }

type boolLit bool

func (n boolLit) eval(*event.Event) value { return value{kind: kBool, b: bool(n)} }

type attrRef string

func (n attrRef) eval(ev *event.Event) value {
	a := ev.Attr(string(n))
	if a == nil {
		return value{}
	}
	switch a.Kind {
	case event.AttrNumber:
		return value{kind: kNum, num: a.Num}
	case event.AttrString:
		return value{kind: kStr, str: a.Str}
	case event.AttrBool:
		return value{kind: kBool, b: a.Bool}
	}
	return value{} // null and arrays are missing
}

// fieldRef reads a top-level string field of the event.
type fieldRef event.Field

func (n fieldRef) eval(ev *event.Event) value {
	b := ev.Get(event.Field(n))
	if len(b) == 0 {
		return value{}
	}
	return value{kind: kStr, str: b}
}

type neg struct{ x node }

func (n neg) eval(ev *event.Event) value {
	v := n.x.eval(ev)
	if v.kind != kNum {
		return value{}
	}
	return value{kind: kNum, num: -v.num}
}

type not struct{ x node }

func (n not) eval(ev *event.Event) value {
	v := n.x.eval(ev)
	if v.kind != kBool {
		return value{kind: kBool, b: true} // !(missing comparison) holds: the comparison did not
	}
	return value{kind: kBool, b: !v.b}
}

type arith struct {
	op   byte
	l, r node
}

func (n arith) eval(ev *event.Event) value {
	l, r := n.l.eval(ev), n.r.eval(ev)
	if l.kind != kNum || r.kind != kNum {
		return value{}
	}
	switch n.op {
	case '+':
		return value{kind: kNum, num: l.num + r.num}
	case '-':
		return value{kind: kNum, num: l.num - r.num}
	case '*':
		return value{kind: kNum, num: l.num * r.num}
	}
	if r.num == 0 {
		return value{} // division by zero has no value
	}
	return value{kind: kNum, num: l.num / r.num}
}

type coalesce struct{ l, r node }

func (n coalesce) eval(ev *event.Event) value {
	if v := n.l.eval(ev); v.kind != kMissing {
		return v
	}
	return n.r.eval(ev)
}

type logic struct {
	and  bool
	l, r node
}

func (n logic) eval(ev *event.Event) value {
	l := n.l.eval(ev)
	lt := l.kind == kBool && l.b
	if n.and && !lt {
		return value{kind: kBool}
	}
	if !n.and && lt {
		return value{kind: kBool, b: true}
	}
	r := n.r.eval(ev)
	return value{kind: kBool, b: r.kind == kBool && r.b}
}

type compare struct {
	op   string
	l, r node
}

func (n compare) eval(ev *event.Event) value {
	l, r := n.l.eval(ev), n.r.eval(ev)
	switch {
	case l.kind == kMissing || r.kind == kMissing:
		return value{kind: kBool} // a comparison with a missing value does not hold
	case l.kind != r.kind:
		return value{kind: kBool, b: n.op == "!="} // a string is never equal to a number
	}
	var c int
	switch l.kind {
	case kNum:
		switch {
		case l.num < r.num:
			c = -1
		case l.num > r.num:
			c = 1
		}
	case kStr:
		c = bytes.Compare(l.str, r.str)
	case kBool:
		if l.b != r.b {
			c = 1 // only == and != are allowed on bools
		}
	}
	return value{kind: kBool, b: cmpHolds(n.op, c)}
}

func cmpHolds(op string, c int) bool {
	switch op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

// --- parser ---

type tokKind uint8

const (
	tEOF tokKind = iota
	tNum
	tStr
	tIdent
	tOp
)

type token struct {
	kind tokKind
	text string
	col  int
}

func (t token) String() string {
	if t.kind == tEOF {
		return "end of expression"
	}
	return strconv.Quote(t.text)
}

type parser struct {
	src string
	pos int
	tok token
	err error
}

func (p *parser) errf(format string, args ...any) error {
	return fmt.Errorf("column %d: %s", p.tok.col, fmt.Sprintf(format, args...))
}

var ops = []string{"||", "&&", "==", "!=", "<=", ">=", "??", "<", ">", "+", "-", "*", "/", "!", "(", ")"}

// next scans the following token into p.tok; a scan error becomes p.err.
func (p *parser) next() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
	start := p.pos
	p.tok = token{col: start + 1}
	if p.pos >= len(p.src) {
		return
	}
	c := p.src[p.pos]
	switch {
	case c >= '0' && c <= '9' || c == '.':
		p.pos = scanNumber(p.src, start)
		p.tok.kind, p.tok.text = tNum, p.src[start:p.pos]
	case c == '"':
		p.scanString(start)
	case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		for p.pos < len(p.src) && isIdent(p.src[p.pos]) {
			p.pos++
		}
		p.tok.kind, p.tok.text = tIdent, p.src[start:p.pos]
	default:
		for _, op := range ops {
			if strings.HasPrefix(p.src[p.pos:], op) {
				p.pos += len(op)
				p.tok.kind, p.tok.text = tOp, op
				return
			}
		}
		p.err = fmt.Errorf("column %d: unexpected character %q", start+1, c)
		p.tok.kind, p.tok.text = tOp, string(c)
		p.pos++
	}
}

// scanNumber returns the end of the number starting at i: digits, dots,
// and an exponent with its sign; ParseFloat judges the text.
func scanNumber(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c >= '0' && c <= '9' || c == '.':
			i++
		case (c == 'e' || c == 'E') && i+1 < len(s) && (s[i+1] == '+' || s[i+1] == '-'):
			i += 2
		case c == 'e' || c == 'E':
			i++
		default:
			return i
		}
	}
	return i
}

func isIdent(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *parser) scanString(start int) {
	p.pos++
	for p.pos < len(p.src) && p.src[p.pos] != '"' {
		if p.src[p.pos] == '\\' {
			p.pos++
		}
		p.pos++
	}
	if p.pos >= len(p.src) {
		p.err = fmt.Errorf("column %d: unterminated string", start+1)
		p.tok.kind = tEOF
		return
	}
	p.pos++
	p.tok.kind, p.tok.text = tStr, p.src[start:p.pos]
}

func (p *parser) is(op string) bool { return p.tok.kind == tOp && p.tok.text == op }
