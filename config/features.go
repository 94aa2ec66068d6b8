package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Aggregations a feature may use.
var aggregations = []string{"count", "sum", "avg", "min", "max", "first", "last", "distinct", "time_since_last"}

// windowKinds are the kinds of feature window.
var windowKinds = []string{"sliding", "tumbling", "session", "lifetime"}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ErrorAt returns an error about the value at path (e.g. "features[3].where")
// placed at its file:line:col, for problems found by the packages that
// compile parts of the config (feature expressions, models).
func (c *Config) ErrorAt(path, format string, args ...any) error {
	k := &checker{c: c}
	k.fail(path, format, args...)
	return finish(k.errs)
}

func (k *checker) features() {
	names := make(map[string]int, len(k.c.Features))
	for i := range k.c.Features {
		f := &k.c.Features[i]
		at := fmt.Sprintf("features[%d]", i)
		if !nameRE.MatchString(f.Name) {
			k.fail(at+".name", "%s.name: %q is not a feature name (a lower-case letter, then up to 63 of a-z, 0-9 and _); write e.g. name: page_views_5m", at, f.Name)
		} else if j, dup := names[f.Name]; dup {
			k.fail(at+".name", "%s.name: %q is already the name of features[%d]; feature names must be unique", at, f.Name, j)
		} else {
			names[f.Name] = i
		}
		k.eventTypes(at+".events", f.Events, "events: [page_view]")
		k.aggregation(at, f)
		k.window(at+".window", &f.Window)
	}
}

func (k *checker) eventTypes(path string, types []string, example string) {
	if len(types) == 0 {
		k.fail(path, "%s: list at least one event type; write e.g. %s", path, example)
	}
	for j, t := range types {
		if !eventTypeRE.MatchString(t) {
			k.fail(fmt.Sprintf("%s[%d]", path, j), "%s[%d]: %q is not an event type (a lower-case letter, then up to 63 of a-z, 0-9, _ and .)", path, j, t)
		}
	}
}

func (k *checker) aggregation(at string, f *Feature) {
	if !slices.Contains(aggregations, f.Agg) {
		msg := fmt.Sprintf("%s.agg: %q is not an aggregation; ", at, f.Agg)
		if s := closest(f.Agg, aggregations); s != "" {
			msg += fmt.Sprintf("did you mean %q? ", s)
		}
		k.fail(at+".agg", "%swrite one of %s", msg, strings.Join(aggregations, ", "))
		return
	}
	needsValue := slices.Contains([]string{"sum", "avg", "min", "max", "first", "last"}, f.Agg)
	switch {
	case needsValue && strings.TrimSpace(f.Value) == "":
		k.fail(at+".value", "%s.value: %s needs an expression to aggregate; write e.g. value: attrs.price * (attrs.qty ?? 1)", at, f.Agg)
	case !needsValue && f.Value != "":
		k.fail(at+".value", "%s.value: %s takes no value expression; remove it", at, f.Agg)
	}
	switch {
	case f.Agg == "distinct" && f.Of == "":
		k.fail(at+".of", "%s.of: distinct needs what to count; write e.g. of: session_id or of: attrs.sku", at)
	case f.Agg != "distinct" && f.Of != "":
		k.fail(at+".of", "%s.of: only distinct takes of; remove it", at)
	case f.Agg == "distinct" && !knownOf(f.Of):
		k.fail(at+".of", "%s.of: %q is not a field; write session_id, source, type or attrs.NAME", at, f.Of)
	}
	if f.Agg == "time_since_last" && f.Unit == 0 {
		f.Unit = time.Minute
	}
	if f.Unit < 0 || (f.Unit != 0 && f.Agg != "time_since_last") {
		k.fail(at+".unit", "%s.unit: only time_since_last takes a unit, a positive duration; write e.g. unit: 1m", at)
	}
}

func knownOf(of string) bool {
	switch of {
	case "session_id", "source", "type":
		return true
	}
	a, ok := strings.CutPrefix(of, "attrs.")
	return ok && a != ""
}

func (k *checker) window(at string, w *Window) {
	switch w.Kind {
	case "sliding":
		if w.Size <= 0 {
			k.fail(at+".size", "%s.size: a sliding window needs a positive size; write e.g. size: 1h", at)
			return
		}
		if w.Bucket == 0 {
			w.Bucket = w.Size / 12
		}
		if w.Bucket <= 0 || w.Bucket > w.Size/12 || w.Size%w.Bucket != 0 {
			k.fail(at+".bucket", "%s.bucket: %v must divide the size %v and be at most 1/12 of it; write e.g. bucket: %v", at, w.Bucket, w.Size, w.Size/12)
		}
	case "tumbling":
		if w.Size <= 0 {
			k.fail(at+".size", "%s.size: a tumbling window needs a positive size; write e.g. size: 1h", at)
		}
	case "session":
		if w.Gap <= 0 {
			k.fail(at+".gap", "%s.gap: a session window needs a positive gap; write e.g. gap: 30m", at)
		}
	case "lifetime":
	default:
		k.fail(at+".kind", "%s.kind: %q is not a window kind; write one of %s", at, w.Kind, strings.Join(windowKinds, ", "))
		return
	}
	if w.Kind != "sliding" && w.Bucket != 0 {
		k.fail(at+".bucket", "%s.bucket: only sliding windows have buckets; remove it", at)
	}
	if w.Kind != "session" && w.Gap != 0 {
		k.fail(at+".gap", "%s.gap: only session windows have a gap; remove it", at)
	}
	if (w.Kind == "session" || w.Kind == "lifetime") && w.Size != 0 {
		k.fail(at+".size", "%s.size: a %s window has no size; remove it", at, w.Kind)
	}
}

func (k *checker) profile() {
	seen := map[string]int{}
	for i := range k.c.Profile.Attributes {
		a := &k.c.Profile.Attributes[i]
		at := fmt.Sprintf("profile.attributes[%d]", i)
		if !nameRE.MatchString(a.Name) {
			k.fail(at+".name", "%s.name: %q is not an attribute name (a lower-case letter, then a-z, 0-9 and _); write e.g. name: plan", at, a.Name)
		} else if j, dup := seen[a.Name]; dup {
			k.fail(at+".name", "%s.name: %q is already profile.attributes[%d]", at, a.Name, j)
		} else {
			seen[a.Name] = i
		}
		if a.Attr == "" {
			a.Attr = a.Name
		}
		k.eventTypes(at+".events", a.Events, "events: [profile_updated]")
		for t := range a.From {
			if !slices.Contains(a.Events, t) {
				k.fail(at+".from."+t, "%s.from: %q is not one of the attribute's events %v; add it to events or remove it", at, t, a.Events)
			}
		}
	}
	c := &k.c.Profile.Consent
	if c.Event == "" {
		return
	}
	if !eventTypeRE.MatchString(c.Event) {
		k.fail("profile.consent.event", "profile.consent.event: %q is not an event type; write e.g. event: consent_changed", c.Event)
	}
	k.nonEmpty("profile.consent.channel_attr", c.ChannelAttr)
	k.nonEmpty("profile.consent.granted_attr", c.GrantedAttr)
	for j, ch := range c.Channels {
		if !slices.Contains(channels, ch) {
			k.fail(fmt.Sprintf("profile.consent.channels[%d]", j), "profile.consent.channels[%d]: %q is not a channel; write one of %s", j, ch, strings.Join(channels, ", "))
		}
	}
}
