package operators

import (
	"time"
	"unsafe"

	"github.com/meridian/meridian/internal/jsontext"
)

// Action is one decision that chose an action, as the actions contract
// shapes it. It is reused between events; slices alias the triggering
// event or the Decider's buffers and are valid until the next decision.
type Action struct {
	DecisionID [DecisionIDLen]byte
	CustomerID []byte
	ActionID   string
	Channel    string
	Score      float64
	Propensity float64
	Value      float64
	Weight     float64
	// Model is "id@version", or empty (encoded as null) when no model
	// scored the action.
	Model string
	// Journey and JourneyStep name the journey step that decided, and
	// Experiment and Arm the experiment arm; empty ones are encoded as null.
	Journey, JourneyStep string
	Experiment, Arm      string
	Reasons              []string
	// Trigger is the event that caused the decision; an empty TriggerType
	// (a request through the API) is encoded as null.
	TriggerEventID []byte
	TriggerType    []byte
	TriggerTS      int64
	// DecidedAt and ExpiresAt are Unix nanoseconds.
	DecidedAt int64
	ExpiresAt int64
	Payload   []PayloadField
}

// PayloadField is one key of an action's payload; Raw is its JSON value.
type PayloadField struct {
	Key string
	Raw []byte
}

// DecisionIDLen is the length of a decision id: "d-" and 16 hex digits.
const DecisionIDLen = 18

// DecisionID derives the deterministic id of the decision that step (a rule
// or, later, a journey step) made for the event identified by customer and
// eventID. The same input log and config give the same ids, so a replay
// re-emits an action with the id it had and channels can drop duplicates.
func DecisionID(customer, eventID []byte, step string) (id [DecisionIDLen]byte) {
	var h uint64 = fnvOffset
	h = fnvBytes(h, customer)
	h = fnvByte(h, 0)
	h = fnvBytes(h, eventID)
	h = fnvByte(h, 0)
	h = fnvString(h, step)
	id[0], id[1] = 'd', '-'
	const hexdigits = "0123456789abcdef"
	for i := 0; i < 16; i++ {
		id[2+i] = hexdigits[(h>>(60-4*uint(i)))&0xf]
	}
	return id
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvByte(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime }

func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = fnvByte(h, c)
	}
	return h
}

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = fnvByte(h, s[i])
	}
	return h
}

// AppendAction appends the contract JSON of a to dst.
func AppendAction(dst []byte, a *Action) []byte {
	dst = append(dst, `{"decision_id":"`...)
	dst = append(dst, a.DecisionID[:]...)
	dst = append(dst, `","customer_id":`...)
	dst = AppendJSONString(dst, a.CustomerID)
	dst = append(dst, `,"action_id":`...)
	dst = appendJSONStr(dst, a.ActionID)
	dst = append(dst, `,"channel":`...)
	dst = appendJSONStr(dst, a.Channel)
	dst = append(dst, `,"score":`...)
	dst = AppendJSONFloat(dst, a.Score)
	dst = append(dst, `,"propensity":`...)
	dst = AppendJSONFloat(dst, a.Propensity)
	dst = append(dst, `,"value":`...)
	dst = AppendJSONFloat(dst, a.Value)
	dst = append(dst, `,"weight":`...)
	dst = AppendJSONFloat(dst, a.Weight)
	dst = append(dst, `,"journey":`...)
	dst = appendPair(dst, "id", a.Journey, "step", a.JourneyStep)
	dst = append(dst, `,"experiment":`...)
	dst = appendPair(dst, "id", a.Experiment, "arm", a.Arm)
	dst = append(dst, `,"model":`...)
	dst = appendJSONStrOrNull(dst, a.Model)
	dst = append(dst, `,"reasons":[`...)
	for i, r := range a.Reasons {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONStr(dst, r)
	}
	dst = append(dst, `],"trigger":`...)
	if len(a.TriggerType) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, `{"event_id":`...)
		dst = AppendJSONString(dst, a.TriggerEventID)
		dst = append(dst, `,"type":`...)
		dst = AppendJSONString(dst, a.TriggerType)
		dst = append(dst, `,"ts":`...)
		dst = AppendTimestamp(dst, a.TriggerTS)
		dst = append(dst, '}')
	}
	dst = append(dst, `,"decided_at":`...)
	dst = AppendTimestamp(dst, a.DecidedAt)
	dst = append(dst, `,"expires_at":`...)
	dst = AppendTimestamp(dst, a.ExpiresAt)
	dst = append(dst, `,"payload":{`...)
	for i, f := range a.Payload {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONStr(dst, f.Key)
		dst = append(dst, ':')
		dst = append(dst, f.Raw...)
	}
	return append(dst, "}}"...)
}

// AppendNoAction appends the answer to a decision request that chose
// nothing: {"decision_id":...,"action_id":null,"reason":...}.
func AppendNoAction(dst []byte, id [DecisionIDLen]byte, reason string) []byte {
	dst = append(dst, `{"decision_id":"`...)
	dst = append(dst, id[:]...)
	dst = append(dst, `","action_id":null,"reason":`...)
	dst = appendJSONStr(dst, reason)
	return append(dst, '}')
}

// appendPair appends {"k1":v1,"k2":v2}, or null when v1 is empty.
func appendPair(dst []byte, k1, v1, k2, v2 string) []byte {
	if v1 == "" {
		return append(dst, "null"...)
	}
	dst = append(dst, '{')
	dst = appendJSONStr(dst, k1)
	dst = append(dst, ':')
	dst = appendJSONStr(dst, v1)
	dst = append(dst, ',')
	dst = appendJSONStr(dst, k2)
	dst = append(dst, ':')
	dst = appendJSONStrOrNull(dst, v2)
	return append(dst, '}')
}

func appendJSONStrOrNull(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return appendJSONStr(dst, s)
}

// AppendTimestamp appends ns (Unix nanoseconds) as a quoted RFC 3339 UTC
// timestamp with milliseconds, the contract's format.
func AppendTimestamp(dst []byte, ns int64) []byte {
	dst = append(dst, '"')
	dst = time.Unix(0, ns).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z")
	return append(dst, '"')
}

// AppendJSONFloat appends f as a JSON number; NaN and infinities, which
// JSON cannot carry, become null.
func AppendJSONFloat(dst []byte, f float64) []byte { return jsontext.AppendFloat(dst, f) }

// AppendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD
// (decoded input is already valid; this guards configured text).
func AppendJSONString(dst []byte, s []byte) []byte { return jsontext.AppendString(dst, s) }

func appendJSONStr(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = jsontext.AppendEscaped(dst, bytesOf(s))
	return append(dst, '"')
}

// bytesOf views s as bytes without copying; the result must not be written.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
