package operators

// Output collects the action records processing produced, keyed by
// customer id, in one reused buffer. Keys and values returned by Record
// are valid until the next Reset.
type Output struct {
	buf  []byte
	recs []span
}

// span is one record: the key is buf[start:mid], the value buf[mid:end].
type span struct{ start, mid, end int }

// Reset empties the Output, keeping its buffers.
func (o *Output) Reset() { o.buf, o.recs = o.buf[:0], o.recs[:0] }

// Len is the number of records.
func (o *Output) Len() int { return len(o.recs) }

// Record returns record i's key and value.
func (o *Output) Record(i int) (key, value []byte) {
	r := o.recs[i]
	return o.buf[r.start:r.mid:r.mid], o.buf[r.mid:r.end:r.end]
}

// AddAction appends the contract JSON of a, keyed by its customer id.
func (o *Output) AddAction(a *Action) {
	start := len(o.buf)
	o.buf = append(o.buf, a.CustomerID...)
	mid := len(o.buf)
	o.buf = AppendAction(o.buf, a)
	o.recs = append(o.recs, span{start, mid, len(o.buf)})
}
