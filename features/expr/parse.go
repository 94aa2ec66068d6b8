package expr

import (
	"math"
	"strconv"
	"strings"

	"github.com/meridian/meridian/event"
)

func (p *parser) or() (typed, error) {
	return p.logical("||", p.and)
}

func (p *parser) and() (typed, error) {
	return p.logical("&&", p.not)
}

func (p *parser) logical(op string, sub func() (typed, error)) (typed, error) {
	l, err := sub()
	if err != nil {
		return l, err
	}
	for p.is(op) {
		if err := p.want(l, tyBool, op); err != nil {
			return l, err
		}
		p.next()
		r, err := sub()
		if err != nil {
			return r, err
		}
		if err := p.want(r, tyBool, op); err != nil {
			return r, err
		}
		l = typed{logic{and: op == "&&", l: l.node, r: r.node}, tyBool}
	}
	return l, nil
}

// want checks that x can be used where t is needed.
func (p *parser) want(x typed, t typ, op string) error {
	if x.typ != tyAny && x.typ != t {
		return p.errf("%s needs %s on each side, got %s", op, t, x.typ)
	}
	return nil
}

func (p *parser) not() (typed, error) {
	if !p.is("!") {
		return p.compare()
	}
	p.next()
	x, err := p.not()
	if err != nil {
		return x, err
	}
	if err := p.want(x, tyBool, "!"); err != nil {
		return x, err
	}
	return typed{not{x.node}, tyBool}, nil
}

func (p *parser) compare() (typed, error) {
	l, err := p.sum()
	if err != nil {
		return l, err
	}
	for _, op := range []string{"==", "!=", "<=", ">=", "<", ">"} {
		if !p.is(op) {
			continue
		}
		p.next()
		r, err := p.sum()
		if err != nil {
			return r, err
		}
		if l.typ != tyAny && r.typ != tyAny && l.typ != r.typ {
			return r, p.errf("cannot compare %s with %s", l.typ, r.typ)
		}
		if (l.typ == tyBool || r.typ == tyBool) && op != "==" && op != "!=" {
			return r, p.errf("%s does not order conditions; use == or !=", op)
		}
		return typed{compare{op: op, l: l.node, r: r.node}, tyBool}, nil
	}
	return l, nil
}

func (p *parser) sum() (typed, error) {
	return p.arith("+-", p.product)
}

func (p *parser) product() (typed, error) {
	return p.arith("*/", p.coalesce)
}

func (p *parser) arith(opset string, sub func() (typed, error)) (typed, error) {
	l, err := sub()
	if err != nil {
		return l, err
	}
	for p.tok.kind == tOp && len(p.tok.text) == 1 && strings.Contains(opset, p.tok.text) {
		op := p.tok.text
		if err := p.want(l, tyNum, op); err != nil {
			return l, err
		}
		p.next()
		r, err := sub()
		if err != nil {
			return r, err
		}
		if err := p.want(r, tyNum, op); err != nil {
			return r, err
		}
		l = typed{arith{op: op[0], l: l.node, r: r.node}, tyNum}
	}
	return l, nil
}

func (p *parser) coalesce() (typed, error) {
	l, err := p.unary()
	if err != nil {
		return l, err
	}
	for p.is("??") {
		p.next()
		r, err := p.unary()
		if err != nil {
			return r, err
		}
		t := l.typ
		if t != r.typ {
			t = tyAny
		}
		l = typed{coalesce{l: l.node, r: r.node}, t}
	}
	return l, nil
}

func (p *parser) unary() (typed, error) {
	if p.is("-") {
		p.next()
		x, err := p.unary()
		if err != nil {
			return x, err
		}
		if err := p.want(x, tyNum, "-"); err != nil {
			return x, err
		}
		return typed{neg{x.node}, tyNum}, nil
	}
	return p.primary()
}

func (p *parser) primary() (typed, error) {
	if p.err != nil {
		return typed{}, p.err
	}
	t := p.tok
	switch t.kind {
	case tEOF:
		return typed{}, p.errf("expected a value, got end of expression")
	case tNum:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil || math.IsInf(f, 0) {
			return typed{}, p.errf("%q is not a number", t.text)
		}
		p.next()
		return typed{numLit(f), tyNum}, nil
	case tStr:
		s, err := strconv.Unquote(t.text)
		if err != nil {
			return typed{}, p.errf("bad string %s", t.text)
		}
		p.next()
		return typed{strLit(s), tyStr}, nil
	case tIdent:
		return p.ident()
	}
	if t.text == "(" {
		p.next()
		x, err := p.or()
		if err != nil {
			return x, err
		}
		if !p.is(")") {
			return x, p.errf("expected \")\", got %s", p.tok)
		}
		p.next()
		return x, nil
	}
	return typed{}, p.errf("expected a value, got %s", t)
}

func (p *parser) ident() (typed, error) {
	t := p.tok
	p.next()
	switch t.text {
	case "true", "false":
		return typed{boolLit(t.text == "true"), tyBool}, nil
	}
	if f := event.FieldNamed(t.text); f != event.NoField {
		return typed{fieldRef(f), tyStr}, nil
	}
	if name, ok := strings.CutPrefix(t.text, "attrs."); ok && name != "" && !strings.Contains(name, ".") {
		return typed{attrRef(name), tyAny}, nil
	}
	p.tok = t
	return typed{}, p.errf("unknown name %q; use attrs.NAME, type, source, session_id, customer_id, event_id, true or false", t.text)
}
