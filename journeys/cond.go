package journeys

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/features"
)

// Facts is what a condition reads about the customer besides the event.
// The caller implements it over the feature store; the journeys package
// never reads the store itself.
type Facts interface {
	// Feature is feature i (features.Set.Names order); NaN when missing.
	Feature(i int) float64
	// ProfileNum is profile attribute i (Set.Attributes order) as a number.
	ProfileNum(i int) (float64, bool)
	// ProfileStr is profile attribute i as a string.
	ProfileStr(i int) ([]byte, bool)
}

// cond is a compiled condition. The language is the comparison part of
// features/expr (no arithmetic) with two more kinds of name: features.NAME
// and profile.NAME, resolved to indexes at compile time. Kept here rather
// than in features/expr because that package's nodes read only an event,
// and widening its evaluation signature would touch every feature.
type cond struct {
	op   condOp
	l, r *cond
	cmp  string // for opCmp: == != < <= > >=
	a, b operand
}

type condOp uint8

const (
	opCmp condOp = iota
	opAnd
	opOr
	opNot
	opTruth // a single operand used as a condition
)

type operandKind uint8

const (
	oNum operandKind = iota
	oStr
	oBool
	oAttr
	oField
	oFeature
	oProfile
)

type operand struct {
	kind  operandKind
	num   float64
	str   []byte
	b     bool
	name  string
	field event.Field
	idx   int
}

// val is an evaluated operand; returned by value so evaluation never allocates.
type val struct {
	kind operandKind // oNum, oStr, oBool; oAttr means missing
	num  float64
	str  []byte
	b    bool
}

var missing = val{kind: oAttr}

func (o *operand) eval(ev *event.Event, f Facts) val {
	switch o.kind {
	case oNum, oStr, oBool:
		return val{kind: o.kind, num: o.num, str: o.str, b: o.b}
	case oAttr:
		if ev == nil {
			return missing
		}
		a := ev.Attr(o.name)
		if a == nil {
			return missing
		}
		switch a.Kind {
		case event.AttrNumber:
			return val{kind: oNum, num: a.Num}
		case event.AttrString:
			return val{kind: oStr, str: a.Str}
		case event.AttrBool:
			return val{kind: oBool, b: a.Bool}
		}
		return missing
	case oField:
		if ev == nil || len(ev.Get(o.field)) == 0 {
			return missing
		}
		return val{kind: oStr, str: ev.Get(o.field)}
	case oFeature:
		if f == nil {
			return missing
		}
		if x := f.Feature(o.idx); !math.IsNaN(x) {
			return val{kind: oNum, num: x}
		}
		return missing
	case oProfile:
		if f == nil {
			return missing
		}
		if x, ok := f.ProfileNum(o.idx); ok {
			return val{kind: oNum, num: x}
		}
		if s, ok := f.ProfileStr(o.idx); ok {
			return val{kind: oStr, str: s}
		}
	}
	return missing
}

// test evaluates c; ev is nil for a timer. A comparison with a missing
// value is false, as in features/expr.
func (c *cond) test(ev *event.Event, f Facts) bool {
	if c == nil {
		return true
	}
	switch c.op {
	case opAnd:
		return c.l.test(ev, f) && c.r.test(ev, f)
	case opOr:
		return c.l.test(ev, f) || c.r.test(ev, f)
	case opNot:
		return !c.l.test(ev, f)
	case opTruth:
		v := c.a.eval(ev, f)
		return v.kind == oBool && v.b
	}
	x, y := c.a.eval(ev, f), c.b.eval(ev, f)
	if x.kind == oAttr || y.kind == oAttr {
		return false
	}
	if x.kind != y.kind {
		return c.cmp == "!="
	}
	var n int
	switch x.kind {
	case oNum:
		switch {
		case x.num < y.num:
			n = -1
		case x.num > y.num:
			n = 1
		}
	case oStr:
		n = bytes.Compare(x.str, y.str)
	case oBool:
		if x.b != y.b {
			n = 1
		}
	}
	switch c.cmp {
	case "==":
		return n == 0
	case "!=":
		return n != 0
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	}
	return n >= 0
}

// compileCond parses src against the feature set (nil: no features or
// profile names). Errors name the column.
func compileCond(src string, set *features.Set) (*cond, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	p := &condParser{src: src, set: set}
	p.next()
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok != "" {
		return nil, p.errf("unexpected %q", p.tok)
	}
	return c, nil
}

type condParser struct {
	src      string
	pos, col int
	tok      string // "" at the end
	str      bool   // tok is a string literal
	set      *features.Set
}

func (p *condParser) errf(format string, args ...any) error {
	return fmt.Errorf("column %d: %s", p.col, fmt.Sprintf(format, args...))
}

var condOps = []string{"||", "&&", "==", "!=", "<=", ">=", "<", ">", "!", "(", ")"}

func (p *condParser) next() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
	p.col, p.str = p.pos+1, false
	if p.pos >= len(p.src) {
		p.tok = ""
		return
	}
	start, c := p.pos, p.src[p.pos]
	switch {
	case c == '"':
		p.pos++
		for p.pos < len(p.src) && p.src[p.pos] != '"' {
			if p.src[p.pos] == '\\' {
				p.pos++
			}
			p.pos++
		}
		p.pos = min(p.pos+1, len(p.src))
		p.str = true
	case c == '-' || c == '.' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		p.pos++
		for p.pos < len(p.src) && (isWord(p.src[p.pos]) || (p.src[p.pos] == '-' || p.src[p.pos] == '+') && (p.src[p.pos-1] == 'e' || p.src[p.pos-1] == 'E') && p.src[start] >= '0' && p.src[start] <= '9') {
			p.pos++
		}
	default:
		for _, op := range condOps {
			if strings.HasPrefix(p.src[p.pos:], op) {
				p.pos += len(op)
				p.tok = op
				return
			}
		}
		p.pos++
	}
	p.tok = p.src[start:p.pos]
}

func isWord(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *condParser) is(op string) bool { return !p.str && p.tok == op }

func (p *condParser) or() (*cond, error) {
	l, err := p.and()
	for err == nil && p.is("||") {
		p.next()
		var r *cond
		if r, err = p.and(); err == nil {
			l = &cond{op: opOr, l: l, r: r}
		}
	}
	return l, err
}

func (p *condParser) and() (*cond, error) {
	l, err := p.not()
	for err == nil && p.is("&&") {
		p.next()
		var r *cond
		if r, err = p.not(); err == nil {
			l = &cond{op: opAnd, l: l, r: r}
		}
	}
	return l, err
}

func (p *condParser) not() (*cond, error) {
	if p.is("!") {
		p.next()
		x, err := p.not()
		return &cond{op: opNot, l: x}, err
	}
	if p.is("(") {
		p.next()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.is(")") {
			return nil, p.errf("expected \")\", got %s", p.describe())
		}
		p.next()
		return x, nil
	}
	a, err := p.operand()
	if err != nil {
		return nil, err
	}
	for _, op := range []string{"==", "!=", "<=", ">=", "<", ">"} {
		if p.is(op) {
			p.next()
			b, err := p.operand()
			if err != nil {
				return nil, err
			}
			if (a.kind == oStr && b.kind == oNum) || (a.kind == oNum && b.kind == oStr) {
				return nil, p.errf("cannot compare a string with a number")
			}
			return &cond{op: opCmp, cmp: op, a: a, b: b}, nil
		}
	}
	if a.kind == oNum || a.kind == oStr || a.kind == oFeature {
		return nil, p.errf("%s is not a condition; compare it, e.g. %s > 0", describeOperand(a), describeOperand(a))
	}
	return &cond{op: opTruth, a: a}, nil
}

func describeOperand(o operand) string {
	switch o.kind {
	case oNum:
		return strconv.FormatFloat(o.num, 'g', -1, 64)
	case oStr:
		return strconv.Quote(string(o.str))
	}
	return o.name
}

func (p *condParser) describe() string {
	if p.tok == "" {
		return "end of condition"
	}
	return strconv.Quote(p.tok)
}

func (p *condParser) operand() (operand, error) {
	t, isStr := p.tok, p.str
	if t == "" {
		return operand{}, p.errf("expected a value, got end of condition")
	}
	defer p.next()
	if isStr {
		s, err := strconv.Unquote(t)
		if err != nil {
			return operand{}, p.errf("bad string %s", t)
		}
		return operand{kind: oStr, str: []byte(s)}, nil
	}
	if c := t[0]; c == '-' || c == '.' || c >= '0' && c <= '9' {
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsInf(f, 0) {
			return operand{}, p.errf("%q is not a number", t)
		}
		return operand{kind: oNum, num: f}, nil
	}
	return p.name(t)
}

func (p *condParser) name(t string) (operand, error) {
	switch {
	case t == "true" || t == "false":
		return operand{kind: oBool, b: t == "true"}, nil
	case event.FieldNamed(t) != event.NoField:
		return operand{kind: oField, field: event.FieldNamed(t), name: t}, nil
	}
	if n, ok := strings.CutPrefix(t, "attrs."); ok && n != "" && !strings.Contains(n, ".") {
		return operand{kind: oAttr, name: n}, nil
	}
	if n, ok := strings.CutPrefix(t, "features."); ok {
		if p.set != nil {
			if i, ok := p.set.Index(n); ok {
				return operand{kind: oFeature, idx: i, name: t}, nil
			}
		}
		return operand{}, p.errf("%q is not a feature; use features.NAME with a name from the features section", n)
	}
	if n, ok := strings.CutPrefix(t, "profile."); ok {
		if p.set != nil {
			if i, ok := p.set.AttributeIndex(n); ok {
				return operand{kind: oProfile, idx: i, name: t}, nil
			}
		}
		return operand{}, p.errf("%q is not a profile attribute; use profile.NAME with a name from profile.attributes", n)
	}
	return operand{}, p.errf("unknown name %q; use attrs.NAME, features.NAME, profile.NAME, type, source, session_id, customer_id, event_id, true or false", t)
}
