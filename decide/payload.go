package decide

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/internal/jsontext"
)

// PayloadField is one key of an action's payload; Raw is its JSON value.
type PayloadField struct {
	Key string
	Raw []byte
}

type payloadTemplate struct {
	key   string
	parts []part
}

type partKind uint8

const (
	partText partKind = iota
	partField
	partAttr
	partFeature
	partProfile
	partContext
)

// part is literal text or one placeholder.
type part struct {
	kind  partKind
	text  string // literal text, or the attrs / context key
	field event.Field
	idx   int
}

const placeholders = "{customer_id}, {event_id}, {type}, {attrs.NAME}, {features.NAME}, {profile.NAME} or {context.NAME}"

func (e *Engine) compilePayload(cfg map[string]string) ([]payloadTemplate, error) {
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys) // a stable order, for byte-identical replays
	var out []payloadTemplate
	for _, k := range keys {
		parts, err := e.parseTemplate(cfg[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out = append(out, payloadTemplate{key: k, parts: parts})
	}
	return out, nil
}

func (e *Engine) parseTemplate(s string) ([]part, error) {
	var parts []part
	for s != "" {
		open, close := strings.IndexByte(s, '{'), strings.IndexByte(s, '}')
		switch {
		case open < 0 && close < 0:
			return append(parts, part{kind: partText, text: s}), nil
		case close >= 0 && (open < 0 || close < open):
			return nil, fmt.Errorf("unmatched } in %q; placeholders are %s", s, placeholders)
		case close < 0:
			return nil, fmt.Errorf("unclosed { in %q; placeholders are %s", s, placeholders)
		}
		if open > 0 {
			parts = append(parts, part{kind: partText, text: s[:open]})
		}
		p, err := e.placeholder(s[open+1 : close])
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
		s = s[close+1:]
	}
	return parts, nil
}

func (e *Engine) placeholder(name string) (part, error) {
	set := e.vars.set
	root, rest, _ := strings.Cut(name, ".")
	switch {
	case name == "customer_id" || name == "event_id" || name == "type":
		return part{kind: partField, field: event.FieldNamed(name)}, nil
	case root == "attrs" && rest != "":
		return part{kind: partAttr, text: rest}, nil
	case root == "context" && rest != "":
		return part{kind: partContext, text: rest}, nil
	case root == "features":
		if i, ok := set.Index(rest); ok {
			return part{kind: partFeature, idx: i}, nil
		}
		return part{}, fmt.Errorf("unknown feature in {%s}; the features are %s", name, strings.Join(set.Names(), ", "))
	case root == "profile":
		if i, ok := set.AttributeIndex(rest); ok {
			return part{kind: partProfile, idx: i}, nil
		}
		return part{}, fmt.Errorf("unknown profile attribute in {%s}; the attributes are %s", name, strings.Join(set.Attributes(), ", "))
	}
	return part{}, fmt.Errorf("unknown placeholder {%s}; use %s", name, placeholders)
}

// renderPayload renders a's payload into d's buffer; the fields alias it
// until the next decision.
func (d *Decider) renderPayload(a *action, in *Input) []PayloadField {
	d.pbuf, d.poffs = d.pbuf[:0], d.poffs[:0]
	for i := range a.payload {
		d.poffs = append(d.poffs, len(d.pbuf))
		d.pbuf = appendTemplate(d.pbuf, a.payload[i].parts, in)
	}
	d.payload = d.payload[:0]
	for i := range a.payload {
		end := len(d.pbuf)
		if i+1 < len(d.poffs) {
			end = d.poffs[i+1]
		}
		d.payload = append(d.payload, PayloadField{Key: a.payload[i].key, Raw: d.pbuf[d.poffs[i]:end]})
	}
	return d.payload
}

// appendTemplate renders one value. A template that is a single
// placeholder keeps its JSON type (number, bool, null when missing);
// anything else renders as a string.
func appendTemplate(dst []byte, parts []part, in *Input) []byte {
	if len(parts) == 1 && parts[0].kind != partText && parts[0].kind != partField {
		n := len(dst)
		dst = appendPart(dst, parts[0], in, true)
		if len(dst) == n {
			dst = append(dst, "null"...)
		}
		return dst
	}
	dst = append(dst, '"')
	for _, p := range parts {
		dst = appendPart(dst, p, in, false)
	}
	return append(dst, '"')
}

// appendPart appends a part's value; typed appends strings quoted (a
// whole-value placeholder), otherwise as the body of a string.
func appendPart(dst []byte, p part, in *Input, typed bool) []byte {
	switch p.kind {
	case partText:
		return jsontext.AppendEscaped(dst, bytesOf(p.text))
	case partField:
		if in.Trigger == nil {
			if p.field == event.FieldCustomerID {
				return jsontext.AppendEscaped(dst, in.CustomerID)
			}
			return dst
		}
		return jsontext.AppendEscaped(dst, in.Trigger.Get(p.field))
	case partFeature:
		if p.idx < len(in.Features) && !math.IsNaN(in.Features[p.idx]) {
			return jsontext.AppendFloat(dst, in.Features[p.idx])
		}
	case partProfile:
		if x, ok := in.Profile.Num(p.idx); ok {
			return jsontext.AppendFloat(dst, x)
		} else if b, ok := in.Profile.Bool(p.idx); ok {
			return strconv.AppendBool(dst, b)
		} else if s, ok := in.Profile.Str(p.idx); ok {
			return appendStr(dst, s, typed)
		}
	case partContext:
		if s, ok := in.Context[p.text]; ok {
			return appendStr(dst, bytesOf(s), typed)
		}
	case partAttr:
		return appendAttr(dst, in.Trigger, p.text, typed)
	}
	return dst
}

func appendAttr(dst []byte, ev *event.Event, key string, typed bool) []byte {
	if ev == nil {
		return dst
	}
	at := ev.Attr(key)
	switch {
	case at == nil || at.Kind == event.AttrNull:
		return dst
	case at.Kind == event.AttrNumber:
		return jsontext.AppendFloat(dst, at.Num)
	case at.Kind == event.AttrBool:
		return strconv.AppendBool(dst, at.Bool)
	case at.Kind == event.AttrArray && typed:
		return append(dst, at.Str...)
	}
	return appendStr(dst, at.Str, typed)
}

func appendStr(dst, s []byte, quoted bool) []byte {
	if quoted {
		dst = append(dst, '"')
		dst = jsontext.AppendEscaped(dst, s)
		return append(dst, '"')
	}
	return jsontext.AppendEscaped(dst, s)
}

// bytesOf views s as bytes without copying; the result must not be written.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
