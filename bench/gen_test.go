package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var testStart = time.UnixMilli(defaultStartMs).UTC()

// testNow is the processing time of record i in tests: 20k events/s.
func testNow(i int) time.Time { return testStart.Add(time.Duration(i) * 50 * time.Microsecond) }

// genEvent is the decoded events-contract JSON.
type genEvent struct {
	EventID    string          `json:"event_id"`
	Type       string          `json:"type"`
	CustomerID string          `json:"customer_id"`
	TS         json.RawMessage `json:"ts"`
	Source     string          `json:"source"`
	SessionID  string          `json:"session_id"`
	Attrs      map[string]any  `json:"attrs"`
}

// tsMillis parses either ts form.
func (e *genEvent) tsMillis(t *testing.T) int64 {
	t.Helper()
	if len(e.TS) > 0 && e.TS[0] == '"' {
		var s string
		if err := json.Unmarshal(e.TS, &s); err != nil {
			t.Fatal(err)
		}
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || !strings.HasSuffix(s, "Z") || len(s) != len("2026-12-04T19:14:15.123Z") {
			t.Fatalf("bad ts %q: %v", s, err)
		}
		return ts.UnixMilli()
	}
	var ms int64
	if err := json.Unmarshal(e.TS, &ms); err != nil {
		t.Fatalf("bad ts %s: %v", e.TS, err)
	}
	return ms
}

func decode(t *testing.T, r *Record) *genEvent {
	t.Helper()
	var e genEvent
	dec := json.NewDecoder(bytes.NewReader(r.Value))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("invalid JSON %s: %v", r.Value, err)
	}
	return &e
}

// liteEvent is the part of an genEvent the session and outcome tests need;
// decoding it is much cheaper than a generic attrs map under -race.
type liteEvent struct {
	Type       string `json:"type"`
	CustomerID string `json:"customer_id"`
	Source     string `json:"source"`
	SessionID  string `json:"session_id"`
	Attrs      struct {
		DecisionID string       `json:"decision_id"`
		ActionID   string       `json:"action_id"`
		Channel    string       `json:"channel"`
		Value      *json.Number `json:"value"`
	} `json:"attrs"`
}

func decodeLite(t *testing.T, r *Record) *liteEvent {
	t.Helper()
	var e liteEvent
	if err := json.Unmarshal(r.Value, &e); err != nil {
		t.Fatalf("invalid JSON %s: %v", r.Value, err)
	}
	return &e
}

// sample is a decoded W1 sample shared by several tests.
type sample struct {
	recs []Record
	evs  []*genEvent
}

var (
	sampleOnce sync.Once
	sampleData sample
)

const sampleN = 200_000

func w1Sample(t *testing.T) *sample {
	sampleOnce.Do(func() {
		g := NewGenerator(GenConfig{Seed: 42})
		s := &sampleData
		for i := range sampleN {
			var r Record
			g.Next(testNow(i), &r)
			s.recs = append(s.recs, r)
			s.evs = append(s.evs, decode(t, &r))
		}
	})
	if len(sampleData.evs) != sampleN {
		t.Fatal("sample generation failed")
	}
	return &sampleData
}

func TestGenDeterministic(t *testing.T) {
	run := func(seed int64) []Record {
		g := NewGenerator(GenConfig{Seed: seed})
		out := make([]Record, 100_000)
		for i := range out {
			g.Next(testNow(i), &out[i])
			if i%100 == 0 {
				g.ObserveAction(string(out[i].Key), fmt.Sprint("d-", i), "a-7", "email")
			}
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	differ := 0
	for i := range a {
		if a[i].Topic != b[i].Topic || !bytes.Equal(a[i].Key, b[i].Key) ||
			!bytes.Equal(a[i].Value, b[i].Value) || !a[i].TS.Equal(b[i].TS) {
			t.Fatalf("record %d differs for the same seed:\n%s\n%s", i, a[i].Value, b[i].Value)
		}
		if !bytes.Equal(a[i].Value, c[i].Value) {
			differ++
		}
	}
	if differ < len(a)*9/10 {
		t.Fatalf("only %d of %d records differ across seeds", differ, len(a))
	}
}

var typeRE = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,63}$`)

// requiredAttrs lists the attrs the events contract names per type.
var requiredAttrs = map[string][]string{
	"page_view": {"url"}, "product_view": {"sku", "price"}, "search": {"query"},
	"add_to_cart": {"sku", "price", "qty"}, "app_open": {"device"},
	"checkout_start": {"cart_value"}, "purchase": {"order_id", "value"},
	"invoice_issued":    {"invoice_id", "amount", "due_date"},
	"payment_failed":    {"invoice_id", "amount", "reason"},
	"payment_succeeded": {"invoice_id", "amount"}, "plan_changed": {"from", "to", "monthly_fee"},
	"usage_threshold": {"metric", "pct"}, "ticket_opened": {"ticket_id", "category"},
	"consent_changed": {"channel", "granted"}, "order_placed": {"order_id", "value"},
	"kyc_document_submitted": {"doc_type"}, "profile_updated": {}, "account_opened": {},
	"kyc_verified": {},
}

func TestGenRecordsValid(t *testing.T) {
	s := w1Sample(t)
	ids := make(map[string]bool, sampleN)
	for i, e := range s.evs {
		r := &s.recs[i]
		if n := len(r.Value); n < minRecordBytes || n > maxRecordBytes {
			t.Fatalf("record size %d outside [150,350]: %s", n, r.Value)
		}
		checkEnvelope(t, r, e)
		if ids[e.EventID] {
			t.Fatalf("duplicate event_id %s", e.EventID)
		}
		ids[e.EventID] = true
		checkAttrs(t, r, e)
	}
}

func checkEnvelope(t *testing.T, r *Record, e *genEvent) {
	t.Helper()
	if e.EventID == "" || len(e.EventID) > 128 || e.CustomerID == "" || !typeRE.MatchString(e.Type) {
		t.Fatalf("missing required field: %s", r.Value)
	}
	if string(r.Key) != e.CustomerID || !strings.HasPrefix(e.CustomerID, "c-") {
		t.Fatalf("key %q != customer_id %q", r.Key, e.CustomerID)
	}
	if r.TS.UnixMilli() != e.tsMillis(t) {
		t.Fatalf("Record.TS %v does not match ts %s", r.TS, e.TS)
	}
	_, isClick := map[string]bool{"page_view": true, "product_view": true, "search": true,
		"add_to_cart": true, "app_open": true, "checkout_start": true, "purchase": true}[e.Type]
	switch {
	case isClick:
		if r.Topic != "clickstream" || (e.Source != "web" && e.Source != "app") ||
			!strings.HasPrefix(e.SessionID, "s-"+e.CustomerID+"-") {
			t.Fatalf("bad clickstream genEvent on %s: %s", r.Topic, r.Value)
		}
	case r.Topic != "bss" || e.Source != "bss" || e.SessionID != "":
		t.Fatalf("bad bss genEvent on %s: %s", r.Topic, r.Value)
	}
}

func checkAttrs(t *testing.T, r *Record, e *genEvent) {
	t.Helper()
	req, ok := requiredAttrs[e.Type]
	if !ok {
		t.Fatalf("unexpected type %q", e.Type)
	}
	for _, k := range req {
		if _, ok := e.Attrs[k]; !ok {
			t.Fatalf("%s lacks attrs.%s: %s", e.Type, k, r.Value)
		}
	}
	if p, ok := e.Attrs["price"].(json.Number); ok {
		if f, _ := p.Float64(); f < 2 || f > 500 {
			t.Fatalf("price %v out of range", p)
		}
	}
	if g, ok := e.Attrs["granted"]; ok {
		if _, isBool := g.(bool); !isBool {
			t.Fatalf("granted is not a bool: %s", r.Value)
		}
	}
	if e.Type == "profile_updated" && len(e.Attrs) == 0 {
		t.Fatalf("empty profile_updated: %s", r.Value)
	}
}

func TestGenMix(t *testing.T) {
	s := w1Sample(t)
	counts := map[string]int{}
	epoch := 0
	for _, e := range s.evs {
		counts[e.Type]++
		if e.TS[0] != '"' {
			epoch++
		}
	}
	share := func(typ string) float64 { return float64(counts[typ]) / sampleN }
	within := func(typ string, want, tol float64) {
		if got := share(typ); got < want-tol || got > want+tol {
			t.Errorf("%s share %.4f%%, want %.3f%% ± %.3f%%", typ, 100*got, 100*want, 100*tol)
		}
	}
	t.Logf("payment_failed %.3f%%, page_view %.2f%%, epoch ts %.2f%%",
		100*share("payment_failed"), 100*share("page_view"), 100*float64(epoch)/sampleN)
	within("payment_failed", 0.003, 0.0005)
	within("page_view", 0.60, 0.01)
	within("product_view", 0.15, 0.01)
	within("purchase", 0.015, 0.002)
	for typ := range requiredAttrs {
		if counts[typ] == 0 {
			t.Errorf("no %s events", typ)
		}
	}
	if f := float64(epoch) / sampleN; f < 0.04 || f > 0.06 {
		t.Errorf("epoch-millisecond ts share %.3f, want about 0.05", f)
	}
}

func TestGenZipfSkew(t *testing.T) {
	s := w1Sample(t)
	per := map[string]int{}
	for _, e := range s.evs {
		per[e.CustomerID]++
	}
	counts := make([]int, 0, len(per))
	for _, n := range per {
		counts = append(counts, n)
	}
	slices.Sort(counts)
	slices.Reverse(counts)
	top := 0
	for _, n := range counts[:min(len(counts), DefaultCustomers/100)] {
		top += n
	}
	t.Logf("top 1%% of customers: %.1f%% of events; %d distinct customers", 100*float64(top)/sampleN, len(per))
	if f := float64(top) / sampleN; f < 0.3 {
		t.Fatalf("top 1%% of customers produce %.1f%% of events, want far more than 1%%", 100*f)
	}
	lowIDs := 0
	for i := range 10 {
		if per[fmt.Sprint("c-", i)] > counts[100] {
			lowIDs++
		}
	}
	if lowIDs > 2 {
		t.Fatalf("%d of c-0..c-9 are among the 100 hottest customers; ranks are not permuted", lowIDs)
	}
}

func TestGenDisorder(t *testing.T) {
	s := w1Sample(t)
	late := 0
	for i, e := range s.evs {
		nowMs := testNow(i).UnixMilli()
		lag := nowMs - e.tsMillis(t)
		switch {
		case lag < 0:
			t.Fatalf("event %d is %d ms in the future", i, -lag)
		case lag > 10*60*1000:
			t.Fatalf("event %d is %d ms late", i, lag)
		case lag > 2000:
			late++
		}
	}
	t.Logf("late events: %d of %d", late, sampleN)
	if f := float64(late) / sampleN; f < 0.0005 || f > 0.0015 {
		t.Fatalf("late share %.4f%%, want about 0.1%%", 100*f)
	}
}

// sessionTracker checks the session rule against the events seen.
type sessionTracker struct {
	last  map[string]int64  // customer -> now of previous click
	cur   map[string]string // customer -> current session id
	ended map[string]bool   // session ids that have ended
	news  int
}

func newSessionTracker() *sessionTracker {
	return &sessionTracker{last: map[string]int64{}, cur: map[string]string{}, ended: map[string]bool{}}
}

// observe checks one genEvent; strict requires no session break without a gap.
func (s *sessionTracker) observe(t *testing.T, e *liteEvent, nowMs int64, strict bool) {
	t.Helper()
	if e.SessionID == "" {
		return
	}
	prev, seen := s.cur[e.CustomerID]
	gap := seen && nowMs-s.last[e.CustomerID] > 30*60*1000
	switch {
	case gap && prev == e.SessionID:
		t.Fatalf("%s kept session %s after a gap of %d ms", e.CustomerID, prev, nowMs-s.last[e.CustomerID])
	case seen && !gap && prev != e.SessionID && strict:
		t.Fatalf("%s changed session without a gap", e.CustomerID)
	case s.ended[e.SessionID]:
		t.Fatalf("ended session %s reused", e.SessionID)
	}
	if seen && prev != e.SessionID {
		s.ended[prev] = true
		s.news++
	}
	s.cur[e.CustomerID], s.last[e.CustomerID] = e.SessionID, nowMs
}

func TestGenSessions(t *testing.T) {
	g := NewGenerator(GenConfig{Seed: 5, Customers: 50})
	tr := newSessionTracker()
	now := testStart
	var r Record
	for _, jump := range []time.Duration{0, 25 * time.Minute, 31 * time.Minute, 29 * time.Minute, 2 * time.Hour} {
		now = now.Add(jump)
		for range 3000 {
			now = now.Add(100 * time.Millisecond)
			g.Next(now, &r)
			tr.observe(t, decodeLite(t, &r), now.UnixMilli(), true)
		}
	}
	if tr.news < 90 { // two jumps above 30 min with about 50 active customers
		t.Fatalf("only %d session breaks", tr.news)
	}
}

// TestGenSessionsLossy covers populations above the session table bound,
// where an evicted customer may start a new session early but never reuses
// an ended session id.
func TestGenSessionsLossy(t *testing.T) {
	if testing.Short() {
		t.Skip("large population")
	}
	g := NewGenerator(GenConfig{Seed: 5, Customers: 3 * maxSessSlots})
	if len(g.sess) != maxSessSlots {
		t.Fatalf("session table has %d slots, want %d", len(g.sess), maxSessSlots)
	}
	tr := newSessionTracker()
	var r Record
	for i := range 50_000 {
		now := testNow(i)
		if i == 25_000 {
			now = now.Add(time.Hour)
		}
		g.Next(now, &r)
		tr.observe(t, decodeLite(t, &r), now.UnixMilli(), false)
	}
}

func drain(t *testing.T, g *Generator, n int) []*liteEvent {
	t.Helper()
	var outs []*liteEvent
	var r Record
	for i := range n {
		g.Next(testNow(i), &r)
		if r.Topic != "outcomes" {
			continue
		}
		e := decodeLite(t, &r)
		if string(r.Key) != e.CustomerID || e.Source != "channel" {
			t.Fatalf("bad outcome record %q: %s", r.Key, r.Value)
		}
		if l := len(r.Value); l < minRecordBytes || l > maxRecordBytes {
			t.Fatalf("outcome size %d: %s", l, r.Value)
		}
		outs = append(outs, e)
	}
	return outs
}

func TestGenOutcomes(t *testing.T) {
	g := NewGenerator(GenConfig{Seed: 9})
	const actions = 5000
	for i := range actions {
		g.ObserveAction(fmt.Sprint("c-", i), fmt.Sprint("d-", i), "a-winback", "sms")
	}
	outs := drain(t, g, 40_000)
	if g.out.n != 0 || g.Dropped() != 0 {
		t.Fatalf("queue not drained: %d left, %d dropped", g.out.n, g.Dropped())
	}
	order := []string{"action_delivered", "action_opened", "action_clicked", "action_converted"}
	next := map[string]int{}
	counts := map[string]int{}
	for _, e := range outs {
		d := e.Attrs.DecisionID
		if order[next[d]] != e.Type || e.Attrs.ActionID != "a-winback" || e.Attrs.Channel != "sms" {
			t.Fatalf("unexpected outcome %+v", e)
		}
		if hasValue := e.Attrs.Value != nil; hasValue != (e.Type == "action_converted") {
			t.Fatalf("value only on conversions: %+v", e)
		}
		next[d]++
		counts[e.Type]++
	}
	del := float64(counts["action_delivered"])
	checkRatio(t, "delivered/actions", del/actions, 0.95, 0.015)
	checkRatio(t, "opened/delivered", float64(counts["action_opened"])/del, 0.40, 0.03)
	checkRatio(t, "clicked/delivered", float64(counts["action_clicked"])/del, 0.15, 0.02)
	checkRatio(t, "converted/delivered", float64(counts["action_converted"])/del, 0.03, 0.01)
}

func checkRatio(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if got < want-tol || got > want+tol {
		t.Errorf("%s = %.4f, want %.3f ± %.3f", name, got, want, tol)
	}
}

func TestGenOutcomeQueueDropsOldest(t *testing.T) {
	g := NewGenerator(GenConfig{Seed: 9, Customers: 1000})
	if g.out.max != 100_000 {
		t.Fatalf("outcome queue bound %d, want 100000", g.out.max)
	}
	const bound, actions = 1000, 2000 // a small bound keeps the test fast
	g.out.max = bound
	pushed := 0
	for i := range actions {
		before := g.out.n + int(g.Dropped())
		g.ObserveAction("c-1", fmt.Sprint("d-", i), "a-1", "push")
		pushed += g.out.n + int(g.Dropped()) - before
	}
	if g.out.n != bound || int(g.Dropped()) != pushed-bound {
		t.Fatalf("queue holds %d, dropped %d of %d; want %d held", g.out.n, g.Dropped(), pushed, bound)
	}
	outs := drain(t, g, 5*bound)
	if len(outs) != bound || g.out.n != 0 {
		t.Fatalf("drained %d outcomes, %d left; want %d", len(outs), g.out.n, bound)
	}
	var first, last int
	fmt.Sscanf(outs[0].Attrs.DecisionID, "d-%d", &first)
	fmt.Sscanf(outs[len(outs)-1].Attrs.DecisionID, "d-%d", &last)
	if first < actions-bound {
		t.Fatalf("oldest outcome d-%d was not dropped", first)
	}
	if last < actions-50 {
		t.Fatalf("newest outcomes lost: last decision d-%d", last)
	}
}

func TestGenOutcomeEscaping(t *testing.T) {
	g := NewGenerator(GenConfig{Seed: 1})
	cust, dec := "c-\"q\"\\", "d-\n\x01é"
	for range 20 {
		g.ObserveAction(cust, dec, "a-1", "email")
	}
	outs := drain(t, g, 200)
	if len(outs) == 0 {
		t.Fatal("no outcomes")
	}
	for _, e := range outs {
		if e.CustomerID != cust || e.Attrs.DecisionID != dec {
			t.Fatalf("round trip failed: %q %q", e.CustomerID, e.Attrs.DecisionID)
		}
	}
}

func TestGenSmallPopulations(t *testing.T) {
	for _, n := range []int{1, 2, 7, 1 << 20, 1<<20 + 1} {
		g := NewGenerator(GenConfig{Seed: 3, Customers: n})
		seen := map[string]bool{}
		var r Record
		for i := range 2000 {
			g.Next(testNow(i), &r)
			seen[string(r.Key)] = true
		}
		for k := range seen {
			var id int
			if _, err := fmt.Sscanf(k, "c-%d", &id); err != nil || id < 0 || id >= n {
				t.Fatalf("customers=%d: bad id %q", n, k)
			}
		}
	}
}

func BenchmarkGeneratorNext(b *testing.B) {
	g := NewGenerator(GenConfig{Seed: 1})
	var r Record
	for i := range 10_000 { // warm up buffers
		g.Next(testNow(i), &r)
	}
	b.ReportAllocs()
	i := 10_000
	for b.Loop() {
		g.Next(testNow(i), &r)
		i++
	}
}
