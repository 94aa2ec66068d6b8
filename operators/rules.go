package operators

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/event"
)

// Rules is the simple decision step that stands in until model-based
// decisioning lands: each configured rule turns an event of its type into
// one action. When several rules match an event, the one with the highest
// value x weight wins (the first configured on a tie), so a decision yields
// at most one action, as the contract requires.
//
// Rules is immutable once compiled and shared by every task; each task
// decides through its own Decider, which holds the scratch buffers.
type Rules struct {
	byType map[string][]*rule
}

// Decider applies Rules for one goroutine, reusing its buffers from event
// to event.
type Decider struct {
	rules   *Rules
	buf     []byte
	offs    []int
	payload []PayloadField
	reasons [1]string
}

// NewDecider returns a Decider for one goroutine.
func (r *Rules) NewDecider() *Decider { return &Decider{rules: r} }

type rule struct {
	id, action, channel string
	value, weight       float64
	ttl                 time.Duration
	reason              string
	payload             []payloadTemplate
}

type payloadTemplate struct {
	key   string
	parts []templatePart
}

// templatePart is literal text (kind partText) or a placeholder.
type templatePart struct {
	kind  partKind
	text  string      // literal text, or the attribute name for partAttr
	field event.Field // for partField
}

type partKind uint8

const (
	partText partKind = iota
	partField
	partAttr
)

// NewRules compiles the configured rules. It fails on a payload template it
// cannot parse, naming the rule and key.
func NewRules(cfg []config.Rule) (*Rules, error) {
	r := &Rules{byType: make(map[string][]*rule)}
	for _, c := range cfg {
		cr := &rule{id: c.ID, action: c.Action, channel: c.Channel, value: c.Value,
			weight: c.Weight, ttl: c.TTL, reason: "rule " + c.ID + ": event " + c.Event}
		if cr.weight == 0 {
			cr.weight = 1
		}
		keys := make([]string, 0, len(c.Payload))
		for k := range c.Payload {
			keys = append(keys, k)
		}
		sort.Strings(keys) // payload keys in a stable order, for byte-identical replays
		for _, k := range keys {
			parts, err := parseTemplate(c.Payload[k])
			if err != nil {
				return nil, fmt.Errorf("rule %q payload %q: %w", c.ID, k, err)
			}
			cr.payload = append(cr.payload, payloadTemplate{key: k, parts: parts})
		}
		r.byType[c.Event] = append(r.byType[c.Event], cr)
	}
	return r, nil
}

func parseTemplate(s string) ([]templatePart, error) {
	var parts []templatePart
	for s != "" {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			if strings.IndexByte(s, '}') >= 0 {
				return nil, fmt.Errorf("unmatched '}' in %q", s)
			}
			parts = append(parts, templatePart{kind: partText, text: s})
			break
		}
		if open > 0 {
			if strings.IndexByte(s[:open], '}') >= 0 {
				return nil, fmt.Errorf("unmatched '}' in %q", s)
			}
			parts = append(parts, templatePart{kind: partText, text: s[:open]})
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unclosed '{' in %q", s)
		}
		name := s[open+1 : open+end]
		p, err := placeholder(name)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
		s = s[open+end+1:]
	}
	return parts, nil
}

func placeholder(name string) (templatePart, error) {
	switch {
	case name == "customer_id" || name == "event_id" || name == "type":
		return templatePart{kind: partField, field: event.FieldNamed(name)}, nil
	case strings.HasPrefix(name, "attrs.") && len(name) > len("attrs."):
		return templatePart{kind: partAttr, text: name[len("attrs."):]}, nil
	}
	return templatePart{}, fmt.Errorf("unknown placeholder {%s}; use {customer_id}, {event_id}, {type} or {attrs.NAME}", name)
}

// Decide fills a with the action the rules choose for ev and reports
// whether any rule matched. a's slices alias ev and r until the next call.
func (r *Decider) Decide(ev *event.Event, a *Action) bool {
	rules := r.rules.byType[string(ev.Type)]
	if len(rules) == 0 {
		return false
	}
	best := rules[0]
	for _, c := range rules[1:] {
		if c.value*c.weight > best.value*best.weight {
			best = c
		}
	}
	r.reasons[0] = best.reason
	*a = Action{
		DecisionID: DecisionID(ev.CustomerID, ev.EventID, best.id),
		CustomerID: ev.CustomerID, ActionID: best.action, Channel: best.channel,
		Propensity: 1, Value: best.value, Weight: best.weight,
		Score:   best.value * best.weight,
		Reasons: r.reasons[:],
		// Decisions are stamped on event time so a replay is byte-identical.
		TriggerEventID: ev.EventID, TriggerType: ev.Type, TriggerTS: ev.TS,
		DecidedAt: ev.TS, ExpiresAt: ev.TS + int64(best.ttl),
		Payload: r.renderPayload(best, ev),
	}
	return true
}

func (r *Decider) renderPayload(c *rule, ev *event.Event) []PayloadField {
	r.buf, r.offs = r.buf[:0], r.offs[:0]
	for i := range c.payload {
		r.offs = append(r.offs, len(r.buf))
		r.buf = appendTemplate(r.buf, c.payload[i].parts, ev)
	}
	r.payload = r.payload[:0]
	for i := range c.payload {
		end := len(r.buf)
		if i+1 < len(r.offs) {
			end = r.offs[i+1]
		}
		r.payload = append(r.payload, PayloadField{Key: c.payload[i].key, Raw: r.buf[r.offs[i]:end]})
	}
	return r.payload
}

// appendTemplate renders one payload value. A template that is a single
// {attrs.NAME} keeps the attribute's JSON type (number, bool, null when
// absent); anything else renders as a string.
func appendTemplate(dst []byte, parts []templatePart, ev *event.Event) []byte {
	if len(parts) == 1 && parts[0].kind == partAttr {
		at := ev.Attr(parts[0].text)
		switch {
		case at == nil || at.Kind == event.AttrNull:
			return append(dst, "null"...)
		case at.Kind == event.AttrNumber:
			return AppendJSONFloat(dst, at.Num)
		case at.Kind == event.AttrBool:
			return appendBool(dst, at.Bool)
		case at.Kind == event.AttrArray:
			return append(dst, at.Str...)
		}
	}
	dst = append(dst, '"')
	for _, p := range parts {
		dst = appendPart(dst, p, ev)
	}
	return append(dst, '"')
}

func appendPart(dst []byte, p templatePart, ev *event.Event) []byte {
	var s []byte
	switch p.kind {
	case partText:
		return appendEscaped(dst, bytesOf(p.text))
	case partField:
		s = ev.Get(p.field)
	case partAttr:
		at := ev.Attr(p.text)
		if at == nil {
			return dst
		}
		switch at.Kind {
		case event.AttrNumber:
			return AppendJSONFloat(dst, at.Num)
		case event.AttrBool:
			return appendBool(dst, at.Bool)
		case event.AttrNull:
			return dst
		}
		s = at.Str
	}
	return appendEscaped(dst, s)
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}
