package bench

import (
	"math/bits"
	"math/rand/v2"
	"strconv"
	"time"
)

// DefaultCustomers is the W1 customer population.
const DefaultCustomers = 1_000_000

const (
	zipfS          = 1.1                   // customer skew (W1)
	sessionGapMs   = int64(30 * 60 * 1000) // a click gap above this starts a new session
	maxSessSlots   = 1 << 20               // bound on the session table (16 B a slot)
	maxOutcomeQ    = 100_000               // bound on queued outcome events
	disorderMs     = 2000                  // normal event-time disorder
	lateMaxMs      = int64(10 * 60 * 1000) // maximum lateness of late events
	mixScale       = 100_000               // mix weights are in units of 0.001%
	minRecordBytes = 150                   // record size bounds (W1)
	maxRecordBytes = 350                   // (both inclusive)
	sessionAppPct  = 40                    // share of sessions from the app
	maxURLBytes    = 120                   // longer urls are truncated
	maxQueryBytes  = 48                    // longer queries are truncated
	defaultStartMs = int64(1767225600000)  // 2026-01-01T00:00:00Z
	goldenGamma    = 0x9E3779B97F4A7C15    // odd multiplier for the rank->id bijection
	seedStreamMix  = 0xD1B54A32D192ED03    // second PCG word derived from the seed
	hashMix        = uint64(0xBF58476D1CE4E5B9)
)

// GenTopics names the topics the generator writes to.
type GenTopics struct {
	Clickstream string // default "clickstream"
	BSS         string // default "bss"
	Outcomes    string // default "outcomes"
}

// GenConfig configures the W1 workload generator.
type GenConfig struct {
	Seed      int64     // the same seed and the same nows give byte-identical output
	Customers int       // population size; default DefaultCustomers
	Topics    GenTopics // topic names; empty names take the defaults
}

func (c GenConfig) withDefaults() GenConfig {
	if c.Customers <= 0 {
		c.Customers = DefaultCustomers
	}
	if c.Topics.Clickstream == "" {
		c.Topics.Clickstream = "clickstream"
	}
	if c.Topics.BSS == "" {
		c.Topics.BSS = "bss"
	}
	if c.Topics.Outcomes == "" {
		c.Topics.Outcomes = "outcomes"
	}
	return c
}

// Record is one generated Kafka record.
type Record struct {
	Topic string    // one of the configured topics
	Key   []byte    // the customer id
	Value []byte    // the event JSON (events contract)
	TS    time.Time // the event time written into the record
}

// sessSlot is the session state of one customer (or, above maxSessSlots
// customers, of whichever customer last used the slot).
type sessSlot struct {
	tag    uint32 // id/len(table)+1; 0 = empty
	ctr    uint32 // session counter; never decreases, so session ids stay unique
	lastMs int64  // `now` of the customer's previous clickstream event
}

// Generator produces the W1 workload deterministically. It is not safe for
// concurrent use.
type Generator struct {
	cfg      GenConfig
	rng      *rand.Rand
	custZipf *rand.Zipf
	skuZipf  *rand.Zipf
	n        uint64 // customers
	permA    uint64 // rank->id: (rank*permA + permB) mod n, gcd(permA, n) = 1
	permB    uint64
	hashKey  uint64
	seq      uint64
	evPrefix []byte // `e-<seed36>-`
	skuPrice []int32
	sess     []sessSlot
	out      outcomeQueue
	j        jbuf
	// open journey sequences, see genjourney.go
	carts, failed, opened recent
}

// NewGenerator returns a generator for cfg (zero fields take defaults).
func NewGenerator(cfg GenConfig) *Generator {
	cfg = cfg.withDefaults()
	seed := uint64(cfg.Seed)
	rng := rand.New(rand.NewPCG(seed, seed^seedStreamMix))
	n := uint64(cfg.Customers)
	g := &Generator{
		cfg:      cfg,
		rng:      rng,
		custZipf: rand.NewZipf(rng, zipfS, 1, n-1),
		skuZipf:  rand.NewZipf(rng, 1.05, 1, numSKUs-1),
		n:        n,
		permA:    coprimeNear(goldenGamma%n, n),
		permB:    mix64(seed) % n,
		hashKey:  mix64(seed ^ hashMix),
		evPrefix: strconv.AppendInt([]byte("e-"), cfg.Seed, 36),
		sess:     make([]sessSlot, min(n, maxSessSlots)),
	}
	g.evPrefix = append(g.evPrefix, '-')
	g.out.max = maxOutcomeQ
	g.skuPrice = makeSKUPrices(rng)
	return g
}

// coprimeNear returns the first a' >= a with gcd(a', n) = 1.
func coprimeNear(a, n uint64) uint64 {
	for gcd(a, n) != 1 {
		a++
	}
	return a
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// mix64 is the splitmix64 finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= hashMix
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	return x ^ x>>31
}

// Count returns the number of records Next has produced.
func (g *Generator) Count() uint64 { return g.seq }

// Dropped returns the number of outcome events dropped because the outcome
// queue was full.
func (g *Generator) Dropped() uint64 { return g.out.dropped }

// customer draws the next acting customer: a Zipf rank mapped through a
// bijection so that the hot customers are spread over the id space.
func (g *Generator) customer() uint64 {
	rank := g.custZipf.Uint64()
	hi, lo := bits.Mul64(rank, g.permA)
	_, rem := bits.Div64(hi%g.n, lo, g.n)
	return (rem + g.permB) % g.n
}

// Next fills r with the next record, reusing r.Key and r.Value. now is the
// processing time; the event time is now minus a little disorder.
func (g *Generator) Next(now time.Time, r *Record) {
	g.seq++
	nowMs := now.UnixMilli()
	if g.out.n > 0 && g.rng.Uint32()&1 == 0 {
		g.nextOutcome(nowMs, r)
		return
	}
	id := g.customer()
	kind := pickKind(g.rng.IntN(mixScale))
	id = g.follow(kind, id, nowMs)
	evtMs := g.eventTime(nowMs)
	r.TS = time.UnixMilli(evtMs).UTC()
	r.Key = strconv.AppendUint(append(r.Key[:0], "c-"...), id, 10)
	j := &g.j
	j.b = r.Value[:0]
	if kind.isClick() {
		r.Topic = g.cfg.Topics.Clickstream
		k, app := g.session(id, nowMs)
		src := "web"
		if app || kind == kAppOpen {
			src = "app"
		}
		g.writeHead(kind, r.Key, evtMs, src)
		j.b = append(j.b, `,"session_id":"s-`...)
		j.b = append(j.b, r.Key...)
		j.b = append(strconv.AppendUint(append(j.b, '-'), uint64(k), 10), '"')
	} else {
		r.Topic = g.cfg.Topics.BSS
		g.writeHead(kind, r.Key, evtMs, "bss")
	}
	g.writeAttrs(kind, id, evtMs)
	r.Value = j.b
}

// eventTime returns the event time for processing time nowMs: up to 2 s
// earlier, or for 0.1% of events late by up to 10 min.
func (g *Generator) eventTime(nowMs int64) int64 {
	if g.rng.IntN(1000) == 0 {
		return nowMs - disorderMs - 1 - g.rng.Int64N(lateMaxMs-disorderMs)
	}
	return nowMs - g.rng.Int64N(disorderMs+1)
}

// session returns the customer's session counter, starting a new session
// when the previous click was more than 30 min before now, and whether the
// session is an app session.
func (g *Generator) session(id uint64, nowMs int64) (uint32, bool) {
	size := uint64(len(g.sess))
	s := &g.sess[id%size]
	tag := uint32(id/size) + 1
	if s.tag != tag || nowMs-s.lastMs > sessionGapMs {
		s.tag = tag
		s.ctr++
	}
	if nowMs > s.lastMs {
		s.lastMs = nowMs
	}
	h := mix64(id ^ uint64(s.ctr)<<40 ^ g.hashKey)
	return s.ctr, h%100 < sessionAppPct
}

// writeHead writes the top-level fields up to and including source.
func (g *Generator) writeHead(kind evKind, cust []byte, evtMs int64, source string) {
	j := &g.j
	j.b = append(j.b, `{"event_id":"`...)
	j.b = append(j.b, g.evPrefix...)
	j.b = strconv.AppendUint(j.b, g.seq, 36)
	j.b = append(j.b, `","type":"`...)
	j.b = append(j.b, kind.String()...)
	j.b = append(j.b, `","customer_id":`...)
	j.b = appendJSONString(j.b, cust)
	j.b = append(j.b, `,"ts":`...)
	if g.rng.IntN(20) == 0 {
		j.b = strconv.AppendInt(j.b, evtMs, 10)
	} else {
		j.b = append(appendRFC3339Milli(append(j.b, '"'), evtMs), '"')
	}
	j.b = append(j.b, `,"source":"`...)
	j.b = append(j.b, source...)
	j.b = append(j.b, '"')
}

// finish pads a short record with a filler attr (ua for clickstream, ref
// otherwise) and closes the attrs and the event.
func (g *Generator) finish(padKey string, pad string) {
	j := &g.j
	if cur := len(j.b) + 2; cur < minRecordBytes {
		target := minRecordBytes + g.rng.IntN(60)
		over := len(padKey) + 5 // "key":""
		if j.nattrs > 0 {
			over++
		}
		n := max(target-cur-over, 1)
		j.str(padKey, pad[:min(n, len(pad))])
	}
	j.b = append(j.b, "}}"...)
}

// appendRFC3339Milli appends ms as 2006-01-02T15:04:05.000Z.
func appendRFC3339Milli(b []byte, ms int64) []byte {
	t := time.UnixMilli(ms).UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendDate(b, y, int(mo), d)
	b = append(b, 'T')
	b = append(appendPad2(b, h), ':')
	b = append(appendPad2(b, mi), ':')
	b = append(appendPad2(b, s), '.')
	frac := t.Nanosecond() / 1e6
	b = append(b, byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return append(b, 'Z')
}

// appendDate appends 2006-01-02.
func appendDate(b []byte, y, mo, d int) []byte {
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(appendPad2(b, mo), '-')
	return appendPad2(b, d)
}

func appendPad2(b []byte, v int) []byte {
	return append(b, byte('0'+v/10%10), byte('0'+v%10))
}

// appendJSONString appends s as a JSON string, escaping as needed.
func appendJSONString[S string | []byte](b []byte, s S) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jbuf writes the members of the attrs object.
type jbuf struct {
	b      []byte
	nattrs int
}

func (j *jbuf) open() {
	j.b = append(j.b, `,"attrs":{`...)
	j.nattrs = 0
}

func (j *jbuf) key(k string) {
	if j.nattrs > 0 {
		j.b = append(j.b, ',')
	}
	j.nattrs++
	j.b = append(j.b, '"')
	j.b = append(j.b, k...)
	j.b = append(j.b, '"', ':')
}

func (j *jbuf) str(k, v string) {
	j.key(k)
	j.b = appendJSONString(j.b, v)
}

// raw writes a string value known to need no escaping.
func (j *jbuf) raw(k, v string) {
	j.key(k)
	j.b = append(j.b, '"')
	j.b = append(j.b, v...)
	j.b = append(j.b, '"')
}

func (j *jbuf) int(k string, v int64) {
	j.key(k)
	j.b = strconv.AppendInt(j.b, v, 10)
}

func (j *jbuf) bool(k string, v bool) {
	j.key(k)
	j.b = strconv.AppendBool(j.b, v)
}

// money writes cents as a number with two decimals.
func (j *jbuf) money(k string, cents int64) {
	j.key(k)
	j.b = strconv.AppendInt(j.b, cents/100, 10)
	c := int(cents % 100)
	j.b = append(j.b, '.', byte('0'+c/10), byte('0'+c%10))
}

// id writes "<prefix><n base 36>".
func (j *jbuf) id(k, prefix string, n uint64) {
	j.key(k)
	j.b = append(j.b, '"')
	j.b = append(j.b, prefix...)
	j.b = strconv.AppendUint(j.b, n, 36)
	j.b = append(j.b, '"')
}
