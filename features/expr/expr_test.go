package expr

import (
	"math"
	"strings"
	"testing"

	"github.com/meridian/meridian/event"
)

func ev() *event.Event {
	return &event.Event{
		EventID: []byte("e-1"), Type: []byte("add_to_cart"), CustomerID: []byte("c-1"),
		Source: []byte("web"), SessionID: []byte("s-9"),
		Attrs: []event.Attr{
			{Key: []byte("price"), Kind: event.AttrNumber, Num: 19.5},
			{Key: []byte("qty"), Kind: event.AttrNumber, Num: 2},
			{Key: []byte("device"), Kind: event.AttrString, Str: []byte("mobile")},
			{Key: []byte("promo"), Kind: event.AttrBool, Bool: true},
			{Key: []byte("note"), Kind: event.AttrNull},
		},
	}
}

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want float64
		ok   bool
	}{
		{"attrs.price * (attrs.qty ?? 1)", 39, true},
		{"attrs.price * attrs.missing ?? 1", 19.5, true}, // ?? binds tighter than *
		{"attrs.price * attrs.missing", 0, false},
		{"attrs.note ?? 4", 4, true}, // null is missing
		{"attrs.device ?? 4", 0, false},
		{"1 + 2 * 3 - 4 / 2", 5, true},
		{"-(attrs.qty - 5)", 3, true},
		{"attrs.price / 0", 0, false},
		{"1.5e3", 1500, true},
		{"attrs.device + 1", 0, false}, // a string is not a number
	} {
		p, err := Compile(tc.src)
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		got, ok := p.Num(ev())
		if ok != tc.ok || (ok && math.Abs(got-tc.want) > 1e-12) {
			t.Errorf("%s = %v, %v; want %v, %v", tc.src, got, ok, tc.want, tc.ok)
		}
	}
}

func TestTest(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{`attrs.device == "mobile"`, true},
		{`attrs.device != "mobile"`, false},
		{`attrs.device == "mobile" && attrs.price > 10`, true},
		{`attrs.device == "desktop" || attrs.qty >= 2`, true},
		{`attrs.price < 19.5`, false},
		{`attrs.price <= 19.5`, true},
		{`!(attrs.price > 100)`, true},
		{`attrs.missing > 1`, false},
		{`attrs.missing == attrs.missing`, false},
		{`attrs.device == 3`, false},
		{`attrs.device != 3`, true},
		{`attrs.promo == true`, true},
		{`attrs.promo`, true},
		{`type == "add_to_cart" && source == "web"`, true},
		{`session_id == "s-9" && customer_id == "c-1" && event_id == "e-1"`, true},
		{`attrs.device > "a"`, true},
		{`"a\"b" == "a\"b"`, true},
	} {
		p, err := Compile(tc.src)
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		if got := p.Test(ev()); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.src, got, tc.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for src, want := range map[string]string{
		"":                         "column 1: expected a value, got end of expression",
		"attrs.price *":            "column 14: expected a value",
		"(attrs.price":             `column 13: expected ")"`,
		"attrs.price $ 2":          "column 13: unexpected character '$'",
		`"abc`:                     "unterminated string",
		"price > 2":                `column 1: unknown name "price"; use attrs.NAME`,
		`"a" + 1`:                  "+ needs a number on each side, got a string",
		`1 == "a"`:                 "cannot compare a number with a string",
		`(1 < 2) < true`:           "does not order conditions",
		"1 && true":                "&& needs a condition on each side, got a number",
		"attrs.price attrs.qty":    `column 13: unexpected "attrs.qty"`,
		"1e999":                    "is not a number",
		"attrs.a.b":                "unknown name",
		"!attrs.price + 1 > 2 ) x": "unexpected",
	} {
		_, err := Compile(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile(%q) = %v, want an error containing %q", src, err, want)
		}
	}
}

func TestEvalAllocatesNothing(t *testing.T) {
	cond, _ := Compile(`attrs.device == "mobile" && attrs.price * (attrs.qty ?? 1) > 10 && type != "x"`)
	val, _ := Compile(`attrs.price * (attrs.qty ?? 1)`)
	e := ev()
	if n := testing.AllocsPerRun(100, func() { cond.Test(e); val.Num(e) }); n != 0 {
		t.Errorf("evaluation allocates %.1f times", n)
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{`attrs.a == "x" && (attrs.b ?? 2) * 3 > -1`, "!(!true)", `"\u00e9" < "z"`, "1/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Compile(src)
		if err != nil {
			return
		}
		p.Test(ev())
		p.Num(ev())
	})
}
