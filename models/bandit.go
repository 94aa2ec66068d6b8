package models

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"
)

// This file is the adaptive model: a Beta-Bernoulli bandit per (action,
// segment), learning from outcome counts and choosing by Thompson
// sampling. Counts travel between tasks as per-partition Tallies: every
// task counts the outcomes of its own partition, writes its cumulative
// Tally to a compacted topic at checkpoints, and a shared Learner sums
// the latest Tally of every partition, so what one partition learns
// reaches every task within a checkpoint interval.

// Rand is a small deterministic random source (SplitMix64): the same seed
// gives the same draws on every platform, so a decision replayed with the
// same posterior makes the same choice. The zero value is usable.
type Rand struct{ s uint64 }

// NewRand returns a Rand seeded with seed.
func NewRand(seed uint64) Rand { return Rand{s: seed} }

// Uint64 returns the next 64 random bits.
func (r *Rand) Uint64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Float64 returns a uniform value in (0, 1): never 0, so its logarithm is finite.
func (r *Rand) Float64() float64 {
	return (float64(r.Uint64()>>11) + 0.5) / (1 << 53)
}

// Norm returns a standard normal value (Marsaglia's polar method).
func (r *Rand) Norm() float64 {
	for {
		u, v := 2*r.Float64()-1, 2*r.Float64()-1
		s := u*u + v*v
		if s > 0 && s < 1 {
			return u * math.Sqrt(-2*math.Log(s)/s)
		}
	}
}

// Gamma returns a Gamma(shape, 1) value (Marsaglia and Tsang), shape > 0.
func (r *Rand) Gamma(shape float64) float64 {
	if shape < 1 {
		// Boost: Gamma(a) = Gamma(a+1) * U^(1/a).
		return r.Gamma(shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.Norm()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// Beta returns a Beta(a, b) value, a, b > 0.
func (r *Rand) Beta(a, b float64) float64 {
	x := r.Gamma(a)
	y := r.Gamma(b)
	if x+y == 0 {
		return 0.5
	}
	return x / (x + y)
}

// BanditKey identifies an (action, segment) pair by a 64-bit FNV-1a hash
// of both names, so the hot path looks it up without building a string.
// State is keyed by names, never by catalogue position, so a reload that
// reorders or extends the catalogue keeps what was learnt.
func BanditKey(action string, segment []byte) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(action); i++ {
		h = (h ^ uint64(action[i])) * 1099511628211
	}
	h = (h ^ 0xff) * 1099511628211 // separator: not a valid UTF-8 byte
	for _, c := range segment {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

// Counts are the outcomes of one (action, segment): how many trials (the
// action reached the customer) and how many of them succeeded.
type Counts struct {
	Trials, Successes uint64
}

type tallyEntry struct {
	action, segment string
	Counts
}

// Tally is one partition's cumulative outcome counts per (action,
// segment). It is owned by the partition's task (not goroutine-safe).
type Tally struct {
	index   map[uint64]int
	entries []tallyEntry
	changed bool
}

// NewTally returns an empty Tally.
func NewTally() *Tally { return &Tally{index: map[uint64]int{}} }

// Add counts trials and successes for (action, segment). It allocates
// only for a pair it has not seen.
func (t *Tally) Add(action string, segment []byte, trials, successes uint64) {
	k := BanditKey(action, segment)
	i, ok := t.index[k]
	if !ok {
		i = len(t.entries)
		t.entries = append(t.entries, tallyEntry{action: action, segment: string(segment)})
		t.index[k] = i
	}
	t.entries[i].Trials += trials
	t.entries[i].Successes += successes
	t.changed = true
}

// Get returns the counts of (action, segment).
func (t *Tally) Get(action string, segment []byte) Counts {
	if i, ok := t.index[BanditKey(action, segment)]; ok {
		return t.entries[i].Counts
	}
	return Counts{}
}

// Len is the number of (action, segment) pairs counted.
func (t *Tally) Len() int { return len(t.entries) }

// Changed reports whether Add was called since the last ClearChanged: the
// task writes its Tally at a checkpoint only when it changed.
func (t *Tally) Changed() bool { return t.changed }

// ClearChanged forgets the changes, after a checkpoint.
func (t *Tally) ClearChanged() { t.changed = false }

// tallyVersion is the first byte of an encoded Tally.
const tallyVersion = 1

// AppendBinary appends the Tally's encoding to dst: a version byte, the
// number of entries, and per entry the action and segment names
// (length-prefixed), trials and successes (uvarints), sorted by name so
// equal tallies encode equally.
func (t *Tally) AppendBinary(dst []byte) ([]byte, error) {
	order := make([]int, len(t.entries))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		x, y := &t.entries[order[a]], &t.entries[order[b]]
		if x.action != y.action {
			return x.action < y.action
		}
		return x.segment < y.segment
	})
	dst = append(dst, tallyVersion)
	dst = binary.AppendUvarint(dst, uint64(len(t.entries)))
	for _, i := range order {
		e := &t.entries[i]
		dst = binary.AppendUvarint(dst, uint64(len(e.action)))
		dst = append(dst, e.action...)
		dst = binary.AppendUvarint(dst, uint64(len(e.segment)))
		dst = append(dst, e.segment...)
		dst = binary.AppendUvarint(dst, e.Trials)
		dst = binary.AppendUvarint(dst, e.Successes)
	}
	return dst, nil
}

// ErrBadTally is wrapped by DecodeTally for bytes that are not a Tally.
var ErrBadTally = errors.New("not an encoded bandit tally")

// DecodeTally decodes AppendBinary's output. It never panics on bad
// input: it returns an error wrapping ErrBadTally.
func DecodeTally(data []byte) (*Tally, error) {
	if len(data) == 0 || data[0] != tallyVersion {
		return nil, fmt.Errorf("%w: unknown version", ErrBadTally)
	}
	b := data[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, fmt.Errorf("%w: bad entry count", ErrBadTally)
	}
	b = b[k:]
	t := &Tally{index: make(map[uint64]int, n), entries: make([]tallyEntry, 0, n)}
	for range n {
		var e tallyEntry
		var ok bool
		if e.action, b, ok = readString(b); !ok {
			return nil, fmt.Errorf("%w: bad action name", ErrBadTally)
		}
		if e.segment, b, ok = readString(b); !ok {
			return nil, fmt.Errorf("%w: bad segment name", ErrBadTally)
		}
		if e.Trials, b, ok = readUvarint(b); !ok {
			return nil, fmt.Errorf("%w: bad trials", ErrBadTally)
		}
		if e.Successes, b, ok = readUvarint(b); !ok {
			return nil, fmt.Errorf("%w: bad successes", ErrBadTally)
		}
		key := BanditKey(e.action, []byte(e.segment))
		if _, dup := t.index[key]; dup {
			return nil, fmt.Errorf("%w: (%s, %s) twice", ErrBadTally, e.action, e.segment)
		}
		t.index[key] = len(t.entries)
		t.entries = append(t.entries, e)
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadTally, len(b))
	}
	return t, nil
}

func readUvarint(b []byte) (uint64, []byte, bool) {
	v, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, b, false
	}
	return v, b[k:], true
}

func readString(b []byte) (string, []byte, bool) {
	n, b, ok := readUvarint(b)
	if !ok || n > uint64(len(b)) {
		return "", b, false
	}
	return string(b[:n]), b[n:], true
}

// Learner holds the latest Tally of every partition and answers
// posterior look-ups from their sum. It is shared by all tasks: Publish
// takes a lock, look-ups read an immutable table through an atomic
// pointer and never block.
type Learner struct {
	mu    sync.Mutex
	parts map[int32]*Tally
	sum   atomic.Pointer[map[uint64]Counts]
}

// NewLearner returns a Learner that has learnt nothing.
func NewLearner() *Learner {
	l := &Learner{parts: map[int32]*Tally{}}
	empty := map[uint64]Counts{}
	l.sum.Store(&empty)
	return l
}

// Publish replaces partition's Tally with the encoded one (the latest
// record of the partition on the tally topic) and rebuilds the sum. An
// empty data is a tombstone: the partition's counts are dropped. A bad
// record is refused with an error and changes nothing.
func (l *Learner) Publish(partition int32, data []byte) error {
	var t *Tally
	if len(data) > 0 {
		var err error
		if t, err = DecodeTally(data); err != nil {
			return fmt.Errorf("cannot publish the bandit tally of partition %d: %w", partition, err)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if t == nil {
		delete(l.parts, partition)
	} else {
		l.parts[partition] = t
	}
	sum := map[uint64]Counts{}
	for _, p := range l.parts {
		for k, i := range p.index {
			c := sum[k]
			c.Trials += p.entries[i].Trials
			c.Successes += p.entries[i].Successes
			sum[k] = c
		}
	}
	l.sum.Store(&sum)
	return nil
}

// Counts returns the summed counts of a BanditKey over every partition.
// A nil Learner has learnt nothing.
func (l *Learner) Counts(key uint64) Counts {
	if l == nil {
		return Counts{}
	}
	return (*l.sum.Load())[key]
}

// Posterior returns the Beta posterior of a key under the prior
// Beta(alpha, beta): alpha + successes, beta + failures. Successes above
// trials (a click reported without its delivery) count as trials.
func (l *Learner) Posterior(key uint64, alpha, beta float64) (a, b float64) {
	c := l.Counts(key)
	t := max(c.Trials, c.Successes)
	return alpha + float64(c.Successes), beta + float64(t-c.Successes)
}
