package features

import (
	"encoding/binary"
	"math"

	"github.com/meridian/meridian/event"
)

// Kinds of a profile value in the profile section.
const (
	pvNone byte = iota
	pvFalse
	pvTrue
	pvNum
	pvStr
	pvKinds
)

// pval is the latest value of a profile attribute, or a consent channel's
// latest consent event (pvTrue granted, pvFalse refused).
type pval struct {
	kind byte
	ts   int64
	num  float64
	str  []byte // aliases the record or the event until re-encoded
}

// profile is the decoded profile section.
type profile struct {
	attrs   []pval
	consent []pval
}

func (p *profile) reset(s *Set) {
	p.attrs = resetVals(p.attrs, len(s.attrs))
	p.consent = resetVals(p.consent, len(s.consent.Channels))
}

func resetVals(v []pval, n int) []pval {
	v = v[:0]
	for range n {
		v = append(v, pval{})
	}
	return v
}

// set replaces v with nv unless v is later in event time (ties: the later
// arrival wins).
func (v *pval) set(nv pval) {
	if v.kind == pvNone || nv.ts >= v.ts {
		*v = nv
	}
}

// update applies what ev carries for the profile along route r.
func (p *profile) update(s *Set, r *route, ev *event.Event) {
	for _, ar := range r.attrs {
		a := ev.Attr(ar.key)
		if a == nil {
			continue
		}
		nv := pval{ts: ev.TS}
		switch a.Kind {
		case event.AttrBool:
			nv.kind = pvFalse
			if a.Bool {
				nv.kind = pvTrue
			}
		case event.AttrNumber:
			nv.kind, nv.num = pvNum, a.Num
		case event.AttrString:
			nv.kind, nv.str = pvStr, a.Str
		default:
			continue
		}
		p.attrs[ar.attr].set(nv)
	}
	if r.consent {
		p.updateConsent(s, ev)
	}
}

func (p *profile) updateConsent(s *Set, ev *event.Event) {
	ch, ok := ev.Str(s.consent.ChannelAttr)
	if !ok {
		return
	}
	for i, name := range s.consent.Channels {
		if string(ch) == name {
			nv := pval{kind: pvTrue, ts: ev.TS}
			if g := ev.Attr(s.consent.GrantedAttr); g != nil && g.Kind == event.AttrBool && !g.Bool {
				nv.kind = pvFalse
			}
			p.consent[i].set(nv)
			return
		}
	}
}

// append encodes p as a length-prefixed section: per list, a presence mask
// and then each present value's kind, time and payload.
func (p *profile) append(dst, tmp []byte) ([]byte, []byte) {
	b := appendVals(tmp[:0], p.attrs)
	b = appendVals(b, p.consent)
	if len(b) == 2 { // both masks zero: an empty section
		b = b[:0]
	}
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...), b
}

func appendVals(b []byte, vs []pval) []byte {
	var mask uint64
	for i := range vs {
		if vs[i].kind != pvNone {
			mask |= 1 << i
		}
	}
	b = binary.AppendUvarint(b, mask)
	for i := range vs {
		v := &vs[i]
		if v.kind == pvNone {
			continue
		}
		b = binary.AppendVarint(append(b, v.kind), v.ts)
		switch v.kind {
		case pvNum:
			b = appendF64(b, v.num)
		case pvStr:
			b = append(binary.AppendUvarint(b, uint64(len(v.str))), v.str...)
		}
	}
	return b
}

// decode reads a profile section; string values alias sec.
func (p *profile) decode(s *Set, sec []byte) bool {
	p.reset(s)
	if len(sec) == 0 {
		return true
	}
	r := reader{b: sec}
	readVals(&r, p.attrs, false)
	readVals(&r, p.consent, true)
	return !r.bad && len(r.b) == 0
}

func readVals(r *reader, vs []pval, consent bool) {
	mask := r.uvarint()
	if len(vs) < 64 && mask>>len(vs) != 0 {
		r.fail()
	}
	for i := range vs {
		if mask&(1<<i) == 0 || r.bad {
			continue
		}
		v := &vs[i]
		v.kind = r.byte()
		v.ts = r.varint()
		switch v.kind {
		case pvNum:
			v.num = r.f64()
		case pvStr:
			v.str = r.bytes(r.uvarint())
		}
		if v.kind == pvNone || v.kind >= pvKinds || (consent && v.kind > pvTrue) {
			r.fail()
		}
	}
}

// value returns a profile value as the customer view shows it.
func (v *pval) value() any {
	switch v.kind {
	case pvFalse:
		return false
	case pvTrue:
		return true
	case pvNum:
		if math.IsNaN(v.num) {
			return nil
		}
		return v.num
	case pvStr:
		return string(v.str)
	}
	return nil
}
