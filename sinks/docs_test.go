package sinks

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// docQueries parses the named ```sql blocks of docs/analytics.md.
func docQueries(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile("../docs/analytics.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- query: ([a-z0-9_]+) -->\\s*```sql\\n(.*?)```")
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		if _, dup := out[m[1]]; dup {
			t.Fatalf("docs/analytics.md names query %s twice", m[1])
		}
		out[m[1]] = m[2]
	}
	if n := strings.Count(string(data), "```sql"); n != len(out) {
		t.Fatalf("docs/analytics.md has %d sql blocks but %d named ones; precede each with <!-- query: NAME -->", n, len(out))
	}
	return out
}

// docData is the test data of the docs queries, and what each query must
// return for it, computed here independently of the SQL.
type docData struct {
	decisions   []DecisionRow
	actions     []ActionRow
	outcomes    []OutcomeRow
	events      []EventRow
	transitions []TransitionRow
	deadLetters []DeadLetterRow
}

const minute = int64(time.Minute)

func makeDocData() *docData {
	d := &docData{}
	origins := []string{"event", "journey", "api"}
	noAction := []string{"no_eligible_action", "capped", "quiet_hours"}
	for i := range 200 {
		r := DecisionRow{DecisionID: id("d", i), CustomerID: id("c", i), DecidedAt: base + int64(i)*minute,
			Origin: origins[i%3], TriggerType: []byte("add_to_cart"), Channel: "email", Probability: 1,
			Experiment: "exp1", Arm: "champion", Model: "cart@1", LatencyNs: int64(i+1) * 12345}
		if i >= 180 {
			r.Experiment, r.Arm = "", ""
		}
		switch {
		case i%4 == 0 && i < 180:
			r.Arm, r.Reason = "control", "control_arm"
		case i%5 == 0:
			r.Reason = noAction[i%3]
			blocked := r.Reason
			if blocked == "no_eligible_action" {
				blocked = "ineligible"
			}
			r.Candidates = []Candidate{{ActionID: "offer_a", Blocked: blocked}}
			if i%2 == 0 {
				r.Candidates = append(r.Candidates, Candidate{ActionID: "offer_b", Eligible: true, Blocked: "no_consent"})
			}
		default:
			r.Reason, r.ActionID = "chosen", []string{"offer_a", "offer_b"}[i%2]
			r.Score, r.Propensity, r.Value, r.Weight = 0.2, 0.1, 2, 1
			r.Candidates = []Candidate{{ActionID: r.ActionID, Eligible: true, Propensity: 0.1, Score: 0.2}}
			d.actions = append(d.actions, ActionRow{DecisionID: r.DecisionID, CustomerID: r.CustomerID,
				ActionID: r.ActionID, Channel: "email", Experiment: r.Experiment, Arm: r.Arm,
				DecidedAt: r.DecidedAt, ExpiresAt: r.DecidedAt + 24*60*minute, Payload: []byte(`{}`)})
			d.outcomes = append(d.outcomes, OutcomeRow{TS: r.DecidedAt + minute, CustomerID: r.CustomerID,
				EventID: id("od", i), DecisionID: r.DecisionID, ActionID: []byte(r.ActionID), Outcome: "delivered"})
			if i%3 == 0 {
				d.outcomes = append(d.outcomes, OutcomeRow{TS: r.DecidedAt + 5*minute, CustomerID: r.CustomerID,
					EventID: id("oc", i), DecisionID: r.DecisionID, ActionID: []byte(r.ActionID), Outcome: "converted", Value: 10})
			}
			if i%9 == 0 { // a second conversion of the same action counts once
				d.outcomes = append(d.outcomes, OutcomeRow{TS: r.DecidedAt + 6*minute, CustomerID: r.CustomerID,
					EventID: id("oc2", i), DecisionID: r.DecisionID, ActionID: []byte(r.ActionID), Outcome: "converted", Value: 5})
			}
		}
		d.decisions = append(d.decisions, r)
		if off, ok := map[int]int64{0: 60, 1: 60, 2: 60, 3: -60, 4: 8 * 24 * 60}[i%7]; ok {
			d.events = append(d.events, EventRow{TS: r.DecidedAt + off*minute, CustomerID: r.CustomerID,
				EventID: id("p", i), Type: []byte("purchase"), Topic: "clickstream", Attrs: []byte(`{"value":20}`)})
		}
		d.events = append(d.events, EventRow{TS: r.DecidedAt - minute, CustomerID: r.CustomerID,
			EventID: id("v", i), Type: []byte("page_view"), Topic: "clickstream"})
	}
	step := func(ts int64, c []byte, j, inst, from, to string) {
		d.transitions = append(d.transitions, TransitionRow{TS: ts, CustomerID: c, Journey: j, Instance: inst, From: from, To: to, Cause: "timer"})
	}
	for k := range 50 {
		c, inst := id("c", k), fmt.Sprintf("cart-%d", k)
		step(base, c, "cart_abandonment", inst, "", "wait")
		if k < 30 {
			step(base+minute, c, "cart_abandonment", inst, "wait", "reminder")
		}
		if k < 10 {
			step(base+2*minute, c, "cart_abandonment", inst, "reminder", "purchased")
		}
	}
	for k := range 20 {
		c, inst := id("c", k), fmt.Sprintf("onb-%d", k)
		step(base, c, "onboarding", inst, "", "kyc")
		if k < 15 {
			step(base+minute, c, "onboarding", inst, "kyc", "welcome")
		}
	}
	errs := []string{"invalid JSON", "missing customer_id", "key differs from customer_id"}
	for i := range 30 {
		d.deadLetters = append(d.deadLetters, DeadLetterRow{At: base + int64(i)*int64(time.Second),
			Topic: []string{"bss", "clickstream"}[i%2], Partition: 1, Offset: int64(i),
			Key: id("k", i), Error: errs[i%3], Value: []byte("{")})
	}
	return d
}

func (d *docData) appendAll(b *Batcher) {
	for i := range d.decisions {
		b.AppendDecision(&d.decisions[i])
	}
	for i := range d.actions {
		b.AppendAction(&d.actions[i])
	}
	for i := range d.outcomes {
		b.AppendOutcome(&d.outcomes[i])
	}
	for i := range d.events {
		b.AppendEvent(&d.events[i])
	}
	for i := range d.transitions {
		b.AppendTransition(&d.transitions[i])
	}
	for i := range d.deadLetters {
		b.AppendDeadLetter(&d.deadLetters[i])
	}
}

func r4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
func r3(x float64) float64 { return math.Round(x*1e3) / 1e3 }
func ff(x float64) string  { return strconv.FormatFloat(x, 'f', -1, 64) }
func tsv(fields ...any) string {
	s := make([]string, len(fields))
	for i, f := range fields {
		if x, ok := f.(float64); ok {
			s[i] = ff(x)
		} else {
			s[i] = fmt.Sprint(f)
		}
	}
	return strings.Join(s, "\t")
}

// expected is what each documented query returns for d, as TSV lines.
func (d *docData) expected() map[string][]string {
	out := map[string][]string{}
	converted := map[string]bool{}
	for _, o := range d.outcomes {
		if o.Outcome == "converted" {
			converted[string(o.DecisionID)] = true
		}
	}
	type aa struct{ action, arm string }
	sent, conv := map[aa]int{}, map[aa]int{}
	for _, a := range d.actions {
		k := aa{a.ActionID, a.Arm}
		sent[k]++
		if converted[string(a.DecisionID)] {
			conv[k]++
		}
	}
	var keys []aa
	for k := range sent {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].action < keys[j].action || keys[i].action == keys[j].action && keys[i].arm < keys[j].arm
	})
	for _, k := range keys {
		out["conversion_by_action_arm"] = append(out["conversion_by_action_arm"],
			tsv(k.action, k.arm, sent[k], conv[k], r4(float64(conv[k])/float64(sent[k]))))
	}

	purchases := map[string][]int64{}
	for _, e := range d.events {
		if string(e.Type) == "purchase" {
			purchases[string(e.CustomerID)] = append(purchases[string(e.CustomerID)], e.TS)
		}
	}
	var n, c [2]int // champion, control
	for _, r := range d.decisions {
		if r.Experiment == "" {
			continue
		}
		arm := map[string]int{"champion": 0, "control": 1}[r.Arm]
		n[arm]++
		if slices.ContainsFunc(purchases[string(r.CustomerID)], func(p int64) bool {
			return p >= r.DecidedAt && p < r.DecidedAt+7*24*60*minute
		}) {
			c[arm]++
		}
	}
	cr, kr := r4(float64(c[0])/float64(n[0])), r4(float64(c[1])/float64(n[1]))
	out["uplift_champion_vs_control"] = []string{tsv("exp1", n[0], n[1], cr, kr, r4(cr-kr))}

	type js struct{ journey, step string }
	reached := map[js]map[string]bool{}
	for _, tr := range d.transitions {
		k := js{tr.Journey, tr.To}
		if reached[k] == nil {
			reached[k] = map[string]bool{}
		}
		reached[k][tr.Instance] = true
	}
	var steps []js
	for k := range reached {
		steps = append(steps, k)
	}
	sort.Slice(steps, func(i, j int) bool {
		a, b := steps[i], steps[j]
		if a.journey != b.journey {
			return a.journey < b.journey
		}
		if len(reached[a]) != len(reached[b]) {
			return len(reached[a]) > len(reached[b])
		}
		return a.step < b.step
	})
	for _, k := range steps {
		out["journey_funnel"] = append(out["journey_funnel"], tsv(k.journey, k.step, len(reached[k])))
	}

	reasons, blocked := map[string]int{}, map[string]int{}
	for _, r := range d.decisions {
		if r.ActionID != "" {
			continue
		}
		reasons[r.Reason]++
		for _, cd := range r.Candidates {
			if cd.Blocked != "" {
				blocked[cd.Blocked]++
			}
		}
	}
	out["no_action_reasons"] = countLines(reasons)
	out["blocked_candidates"] = countLines(blocked)

	lat := map[string][]int64{}
	for _, r := range d.decisions {
		lat[r.Origin] = append(lat[r.Origin], r.LatencyNs)
	}
	for _, o := range []string{"api", "event", "journey"} {
		l := lat[o]
		slices.Sort(l)
		q := func(level float64) float64 { return r3(float64(l[int(level*float64(len(l)))]) / 1e6) }
		out["decision_latency_percentiles"] = append(out["decision_latency_percentiles"],
			tsv(o, len(l), q(0.5), q(0.9), q(0.99)))
	}

	type te struct{ topic, err string }
	dl := map[te][]int64{}
	for _, r := range d.deadLetters {
		k := te{r.Topic, r.Error}
		dl[k] = append(dl[k], r.At)
	}
	var tes []te
	for k := range dl {
		tes = append(tes, k)
	}
	sort.Slice(tes, func(i, j int) bool {
		a, b := tes[i], tes[j]
		if len(dl[a]) != len(dl[b]) {
			return len(dl[a]) > len(dl[b])
		}
		return a.topic < b.topic || a.topic == b.topic && a.err < b.err
	})
	day := func(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01-02 15:04:05") }
	for _, k := range tes {
		out["dead_letters_by_reason"] = append(out["dead_letters_by_reason"],
			tsv(k.topic, k.err, len(dl[k]), day(slices.Min(dl[k])), day(slices.Max(dl[k]))))
	}
	return out
}

// countLines is "key\tcount" sorted by count descending, then key.
func countLines(m map[string]int) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var out []string
	for _, k := range keys {
		out = append(out, tsv(k, m[k]))
	}
	return out
}

// TestDocQueries writes known rows through the Sink to a real ClickHouse,
// every row twice (a retried insert), and runs every query of
// docs/analytics.md, checking the result the rows imply.
func TestDocQueries(t *testing.T) {
	queries := docQueries(t)
	d := makeDocData()
	want := d.expected()
	for name := range queries {
		if _, ok := want[name]; !ok {
			t.Errorf("docs/analytics.md query %s has no expected result in this test; add one", name)
		}
	}
	for name := range want {
		if _, ok := queries[name]; !ok {
			t.Errorf("query %s is missing from docs/analytics.md", name)
		}
	}

	srv := startDocsServer(t)
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			got := httpQuery(t, srv, q)
			t.Logf("%s:\n  %s", name, strings.Join(got, "\n  "))
			if !slices.Equal(got, want[name]) {
				t.Errorf("%s returned\n  %s\nwant\n  %s", name, strings.Join(got, "\n  "), strings.Join(want[name], "\n  "))
			}
		})
	}
}

func startDocsServer(t *testing.T) string {
	t.Helper()
	srv, cfg, _ := startMigratedDB(t, "meridian")
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := makeDocData()
	for range 2 {
		b := s.NewBatcher()
		d.appendAll(b)
		b.Flush()
	}
	closeSink(t, s)
	if st := s.Stats(); st.Rows[Decisions] != 2*int64(len(d.decisions)) || st.Dropped != 0 {
		t.Fatalf("want every decision written twice: %+v", st)
	}
	return srv.HTTPAddr()
}

func httpQuery(t *testing.T, addr, q string) []string {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/", "text/plain", strings.NewReader(q+" FORMAT TSV"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("query failed (%s): %s", resp.Status, body)
	}
	s := strings.TrimRight(string(body), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
