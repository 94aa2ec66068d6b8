// Package event defines the decoded input event that every step of a task
// reads: decode fills it, features, journeys and decisions read it. It is
// a leaf package so that all of them can share the type.
package event

// MaxRecordBytes is the largest record value the events contract accepts.
const MaxRecordBytes = 64 << 10

// MaxAttrs is the most keys an event's attrs object may have.
const MaxAttrs = 64

// AttrKind says which field of an Attr holds its value.
type AttrKind uint8

// The kinds of attribute value the contract allows.
const (
	AttrNull AttrKind = iota
	AttrBool
	AttrNumber
	AttrString
	// AttrArray holds an array of scalars; Str is its raw JSON text.
	AttrArray
)

// Attr is one key of an event's attrs object.
type Attr struct {
	Key  []byte
	Kind AttrKind
	Num  float64
	Str  []byte // unescaped string, or raw JSON for AttrArray
	Bool bool
}

// Event is one decoded input record. It is reused from record to record:
// its byte slices alias the record value or the Decoder's scratch buffer and
// are valid only until the next Decode with the same Decoder.
type Event struct {
	EventID    []byte
	Type       []byte
	CustomerID []byte
	// TS is the event time in Unix nanoseconds.
	TS        int64
	Source    []byte
	SessionID []byte
	Attrs     []Attr
}

// Reset clears e, keeping its attribute storage for reuse.
func (e *Event) Reset() {
	attrs := e.Attrs[:0]
	*e = Event{Attrs: attrs}
}

// Attr returns the attribute named name, or nil.
func (e *Event) Attr(name string) *Attr {
	for i := range e.Attrs {
		if string(e.Attrs[i].Key) == name {
			return &e.Attrs[i]
		}
	}
	return nil
}

// Num returns a numeric attribute; ok is false when it is absent or not a number.
func (e *Event) Num(name string) (v float64, ok bool) {
	a := e.Attr(name)
	if a == nil || a.Kind != AttrNumber {
		return 0, false
	}
	return a.Num, true
}

// Str returns a string attribute; ok is false when it is absent or not a string.
func (e *Event) Str(name string) (v []byte, ok bool) {
	a := e.Attr(name)
	if a == nil || a.Kind != AttrString {
		return nil, false
	}
	return a.Str, true
}

// TypeIs reports whether the event's type is t, without allocating.
func (e *Event) TypeIs(t string) bool { return string(e.Type) == t }

// Field names one of an event's top-level string fields, so that steps
// compiled from configuration (expressions, payload templates, distinct
// counts) read it without a switch of their own.
type Field uint8

// The top-level string fields; NoField is none.
const (
	NoField Field = iota
	FieldEventID
	FieldType
	FieldCustomerID
	FieldSource
	FieldSessionID
)

// FieldNamed returns the field with the contract's name, or NoField.
func FieldNamed(name string) Field {
	switch name {
	case "event_id":
		return FieldEventID
	case "type":
		return FieldType
	case "customer_id":
		return FieldCustomerID
	case "source":
		return FieldSource
	case "session_id":
		return FieldSessionID
	}
	return NoField
}

// Get returns the value of field f (empty when absent or NoField).
func (e *Event) Get(f Field) []byte {
	switch f {
	case FieldEventID:
		return e.EventID
	case FieldType:
		return e.Type
	case FieldCustomerID:
		return e.CustomerID
	case FieldSource:
		return e.Source
	case FieldSessionID:
		return e.SessionID
	}
	return nil
}
