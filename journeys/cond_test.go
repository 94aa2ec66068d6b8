package journeys

import (
	"math"
	"strings"
	"testing"

	"github.com/meridian/meridian/event"
)

// mapFacts serves features and profile attributes by index.
type mapFacts struct {
	feats []float64
	nums  map[int]float64
	strs  map[int]string
}

func (f mapFacts) Feature(i int) float64 {
	if i < len(f.feats) {
		return f.feats[i]
	}
	return math.NaN()
}
func (f mapFacts) ProfileNum(i int) (float64, bool) { v, ok := f.nums[i]; return v, ok }
func (f mapFacts) ProfileStr(i int) ([]byte, bool) {
	v, ok := f.strs[i]
	return []byte(v), ok
}

func TestCond(t *testing.T) {
	set := exampleSet(t)
	cart, _ := set.Index("cart_value_1h")
	seg, _ := set.AttributeIndex("segment")
	tenure, _ := set.AttributeIndex("tenure_days")
	feats := make([]float64, len(set.Names()))
	for i := range feats {
		feats[i] = math.NaN()
	}
	feats[cart] = 40
	facts := mapFacts{feats: feats, nums: map[int]float64{tenure: 400}, strs: map[int]string{seg: "vip"}}
	ev := &event.Event{Type: []byte("add_to_cart"), Source: []byte("web"), Attrs: []event.Attr{
		{Key: []byte("price"), Kind: event.AttrNumber, Num: 19.5},
		{Key: []byte("device"), Kind: event.AttrString, Str: []byte("mobile")},
		{Key: []byte("gift"), Kind: event.AttrBool, Bool: true}}}
	f := func(src string, want bool) {
		t.Helper()
		c, err := compileCond(src, set)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got := c.test(ev, facts); got != want {
			t.Errorf("%s = %v, want %v", src, got, want)
		}
	}
	f(`attrs.price > 0`, true)
	f(`attrs.price >= 19.5 && attrs.price < 20`, true)
	f(`features.cart_value_1h > 20`, true)
	f(`features.cart_value_1h > 50`, false)
	f(`features.minutes_since_last_purchase > 0`, false) // missing
	f(`!(features.minutes_since_last_purchase > 0)`, true)
	f(`profile.segment == "vip" && profile.tenure_days >= 365`, true)
	f(`profile.plan == "basic"`, false) // missing
	f(`profile.segment != "mass" || attrs.price > 100`, true)
	f(`type == "add_to_cart" && source == "web"`, true)
	f(`attrs.device == "mobile"`, true)
	f(`attrs.gift`, true)
	f(`attrs.gift == false`, false)
	f(`attrs.missing == 1`, false)
	f(`attrs.device == 3`, false) // a string is never equal to a number
	f(`attrs.price > -1`, true)
	f(`true && !false`, true)

	for src, msg := range map[string]string{
		`features.nope > 1`:      `"nope" is not a feature`,
		`profile.nope == "x"`:    `"nope" is not a profile attribute`,
		`attrs.price >`:          "expected a value",
		`(attrs.price > 1`:       `expected ")"`,
		`features.cart_value_1h`: "is not a condition",
		`"a" < 3`:                "cannot compare a string with a number",
		`foo == 1`:               `unknown name "foo"`,
		`attrs.price > 1 1`:      `unexpected "1"`,
	} {
		if _, err := compileCond(src, set); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %v, want one containing %q", src, err, msg)
		}
	}
}

// TestCondTimer: on a timer there is no event; event names are missing.
func TestCondTimer(t *testing.T) {
	c, err := compileCond(`attrs.price > 0 || type == "x"`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.test(nil, nil) {
		t.Error("a condition on a missing event held")
	}
}

func TestCondNoAlloc(t *testing.T) {
	set := exampleSet(t)
	c, err := compileCond(`attrs.price > 0 && (profile.segment == "vip" || features.cart_value_1h >= 20)`, set)
	if err != nil {
		t.Fatal(err)
	}
	ev := &event.Event{Attrs: []event.Attr{{Key: []byte("price"), Kind: event.AttrNumber, Num: 3}}}
	var facts Facts = noFacts{}
	if n := testing.AllocsPerRun(100, func() { c.test(ev, facts) }); n != 0 {
		t.Errorf("%v allocations per test", n)
	}
}

type noFacts struct{}

func (noFacts) Feature(int) float64            { return 25 }
func (noFacts) ProfileNum(int) (float64, bool) { return 0, false }
func (noFacts) ProfileStr(int) ([]byte, bool)  { return nil, false }
