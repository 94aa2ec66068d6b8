package idindex

import "encoding/binary"

// List is a list of ids in one byte slice, each prefixed with its length
// as a uvarint: a record of the ids removed from an Index since a
// checkpoint, which must outlive the arena bytes the ids were in. The
// zero value is an empty list; appending allocates nothing once the
// slice has grown.
type List struct {
	b []byte
}

// Append adds a copy of id.
func (l *List) Append(id []byte) {
	l.b = append(binary.AppendUvarint(l.b, uint64(len(id))), id...)
}

// Each calls fn with every id in the order they were appended. id aliases
// the list: it is valid only during the call, and fn must not change l.
func (l *List) Each(fn func(id []byte)) {
	for b := l.b; len(b) > 0; {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return // BUG: the list is written by Append
		}
		fn(b[k : k+int(n)])
		b = b[k+int(n):]
	}
}

// Reset empties the list, keeping its room.
func (l *List) Reset() { l.b = l.b[:0] }
