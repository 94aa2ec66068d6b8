package decide

import (
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"

	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/features"
)

// Expressions are compiled once with expr-lang against a flat environment:
// every member chain an expression reads (features.cart_value_1h,
// event.attrs.sku) is rewritten at compile time into one identifier of a
// map[string]any, which the VM reads with a plain map look-up. Each
// Decider owns its map and, per variable, values boxed once at start-up
// whose contents it overwrites per decision, so binding a decision's
// inputs allocates nothing.

// varKind says where a variable's value comes from.
type varKind uint8

const (
	varFeature varKind = iota
	varProfile
	varEventType
	varEventField
	varEventAttr
	varContext
	varCustomerID
)

// variable is one flat name an expression reads.
type variable struct {
	name  string
	kind  varKind
	idx   int         // feature or profile attribute index
	key   string      // attrs or context key
	field event.Field // for varEventField
}

// vars collects the variables of every compiled expression.
type vars struct {
	set    *features.Set
	list   []variable
	byName map[string]int
	types  types.Map // the compile-time environment
}

func newVars(set *features.Set) *vars {
	return &vars{set: set, byName: map[string]int{}, types: types.Map{}}
}

// flatName returns the dotted name of a member chain rooted at an
// identifier (features.x, event.attrs.sku), or "".
func flatName(n ast.Node) string {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return n.Value
	case *ast.MemberNode:
		p, ok := n.Property.(*ast.StringNode)
		if !ok {
			return ""
		}
		if base := flatName(n.Node); base != "" {
			return base + "." + p.Value
		}
	}
	return ""
}

// resolve registers the variable called name when it is a complete one
// (features.NAME, profile.NAME, event.type, event.attrs.NAME,
// context.NAME, customer_id). done is false for a prefix (event.attrs);
// err says why a complete name is wrong.
func (v *vars) resolve(name string) (done bool, err error) {
	if _, ok := v.byName[name]; ok {
		return true, nil
	}
	root, rest, _ := strings.Cut(name, ".")
	if rest == "" && root != "customer_id" {
		return false, nil // a root alone (features): its member chain follows
	}
	va := variable{name: name}
	var typ types.Type = types.Any
	switch root {
	case "features":
		i, ok := v.set.Index(rest)
		if !ok {
			return true, fmt.Errorf("unknown feature %q; the features are %s", rest, strings.Join(v.set.Names(), ", "))
		}
		va.kind, va.idx, typ = varFeature, i, types.Float64
	case "profile":
		i, ok := v.set.AttributeIndex(rest)
		if !ok {
			return true, fmt.Errorf("unknown profile attribute %q; the attributes are %s", rest, strings.Join(v.set.Attributes(), ", "))
		}
		va.kind, va.idx = varProfile, i
	case "event":
		switch {
		case rest == "attrs":
			return false, nil
		case strings.HasPrefix(rest, "attrs."):
			va.kind, va.key = varEventAttr, rest[len("attrs."):]
		case rest == "type":
			va.kind, typ = varEventType, types.String
		case event.FieldNamed(rest) != event.NoField:
			va.kind, va.field, typ = varEventField, event.FieldNamed(rest), types.String
		default:
			return true, fmt.Errorf("unknown event field %q; write event.type, event.source, event.session_id, event.event_id or event.attrs.NAME", rest)
		}
	case "context":
		if rest == "" || strings.Contains(rest, ".") {
			return true, fmt.Errorf("write context.NAME, not %q", name)
		}
		va.kind, va.key = varContext, rest // any: nil when absent
	case "customer_id":
		va.kind, typ = varCustomerID, types.String
	default:
		return true, nil // not ours: a function, a builtin or a let variable
	}
	v.byName[name] = len(v.list)
	v.list = append(v.list, va)
	v.types[name] = typ
	return true, nil
}

// collector walks a parsed expression, registers its variables and
// remembers the first error.
type collector struct {
	v   *vars
	err error
}

func (c *collector) Visit(node *ast.Node) {
	if c.err != nil {
		return
	}
	name := flatName(*node)
	if name == "" {
		return
	}
	if _, err := c.v.resolve(name); err != nil {
		c.err = err
	}
}

// renamer replaces each complete member chain by its flat identifier.
type renamer struct{ v *vars }

func (r renamer) Visit(node *ast.Node) {
	if _, ok := (*node).(*ast.MemberNode); !ok {
		return
	}
	if name := flatName(*node); name != "" {
		if _, ok := r.v.byName[name]; ok {
			ast.Patch(node, &ast.IdentifierNode{Value: name})
		}
	}
}

// compile compiles src to a program returning bool (asBool) or a number.
func (v *vars) compile(src string, asBool bool, ref Reference) (*vm.Program, error) {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, err
	}
	c := &collector{v: v}
	ast.Walk(&tree.Node, c)
	if c.err != nil {
		return nil, c.err
	}
	opts := []expr.Option{expr.Env(v.types), expr.Patch(renamer{v}), refFunction(ref)}
	if asBool {
		return expr.Compile(src, append(opts, expr.AsBool())...)
	}
	// AsFloat64 checks that the result is a number, but converts an int
	// result at run time by boxing a new float64: compile once to check,
	// and run a program that returns the number as it is.
	if _, err := expr.Compile(src, append(opts, expr.AsFloat64())...); err != nil {
		return nil, err
	}
	return expr.Compile(src, opts...)
}

// Reference looks up reference data (product catalogue, store list) for
// the ref(table, key) function of expressions. package refdata provides
// a cached one. A missing entry is (nil, false), never an error.
type Reference interface {
	Lookup(table, key string) (map[string]any, bool)
}

func refFunction(ref Reference) expr.Option {
	return expr.Function("ref", func(p ...any) (any, error) {
		if ref == nil {
			return nil, nil
		}
		table, _ := p[0].(string)
		key, _ := p[1].(string)
		if m, ok := ref.Lookup(table, key); ok {
			return m, nil
		}
		return nil, nil
	}, new(func(string, string) map[string]any))
}

// env is one Decider's expression environment and the boxed values it
// rewrites per decision.
type env struct {
	m      map[string]any
	floats []*float64 // per variable
	strs   []*string
	fboxed []any
	sboxed []any
}

type eface struct{ typ, data unsafe.Pointer }

var (
	floatType = (*eface)(unsafe.Pointer(&[]any{0.5}[0])).typ
	stringTyp = (*eface)(unsafe.Pointer(&[]any{"s"}[0])).typ
)

// boxed returns an interface value of type typ whose data is p: writing
// *p changes what the interface holds, without a new allocation.
func boxed(typ, p unsafe.Pointer) any {
	var out any
	e := (*eface)(unsafe.Pointer(&out))
	e.typ, e.data = typ, p
	return out
}

func newEnv(v *vars) *env {
	n := len(v.list)
	e := &env{m: make(map[string]any, n), floats: make([]*float64, n), strs: make([]*string, n),
		fboxed: make([]any, n), sboxed: make([]any, n)}
	for i, va := range v.list {
		e.floats[i], e.strs[i] = new(float64), new(string)
		e.fboxed[i] = boxed(floatType, unsafe.Pointer(e.floats[i]))
		e.sboxed[i] = boxed(stringTyp, unsafe.Pointer(e.strs[i]))
		e.m[va.name] = nil
	}
	return e
}

func (e *env) setFloat(i int, name string, x float64) {
	*e.floats[i] = x
	e.m[name] = e.fboxed[i]
}

// setStr binds b without copying: the string aliases b and is read only
// during the decision.
func (e *env) setStr(i int, name string, b []byte) {
	*e.strs[i] = unsafe.String(unsafe.SliceData(b), len(b))
	e.m[name] = e.sboxed[i]
}

// bind sets every variable from the decision's inputs.
func (e *env) bind(v *vars, in *Input) {
	for i := range v.list {
		va := &v.list[i]
		switch va.kind {
		case varFeature:
			x := math.NaN()
			if va.idx < len(in.Features) {
				x = in.Features[va.idx]
			}
			e.setFloat(i, va.name, x)
		case varProfile:
			e.bindProfile(i, va, in.Profile)
		case varEventType, varEventField:
			var b []byte
			if in.Trigger != nil {
				b = in.Trigger.Type
				if va.kind == varEventField {
					b = in.Trigger.Get(va.field)
				}
			}
			e.setStr(i, va.name, b)
		case varEventAttr:
			e.bindAttr(i, va, in.Trigger)
		case varContext:
			s, ok := in.Context[va.key]
			if !ok {
				e.m[va.name] = nil
				continue
			}
			*e.strs[i] = s
			e.m[va.name] = e.sboxed[i]
		case varCustomerID:
			e.setStr(i, va.name, in.CustomerID)
		}
	}
}

func (e *env) bindProfile(i int, va *variable, p features.Profile) {
	if x, ok := p.Num(va.idx); ok {
		e.setFloat(i, va.name, x)
	} else if s, ok := p.Str(va.idx); ok {
		e.setStr(i, va.name, s)
	} else if b, ok := p.Bool(va.idx); ok {
		e.m[va.name] = b
	} else {
		e.m[va.name] = nil
	}
}

func (e *env) bindAttr(i int, va *variable, ev *event.Event) {
	var a *event.Attr
	if ev != nil {
		a = ev.Attr(va.key)
	}
	switch {
	case a == nil || a.Kind == event.AttrNull:
		e.m[va.name] = nil
	case a.Kind == event.AttrNumber:
		e.setFloat(i, va.name, a.Num)
	case a.Kind == event.AttrBool:
		e.m[va.name] = a.Bool
	default:
		e.setStr(i, va.name, a.Str)
	}
}
