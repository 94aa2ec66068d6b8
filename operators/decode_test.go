package operators

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/meridian/meridian/event"
	"github.com/meridian/meridian/internal/eventcases"
)

const (
	typicalRecord = `{"event_id":"e-1","type":"add_to_cart","customer_id":"c-1042","ts":"2026-12-04T19:14:15.123Z","source":"web","session_id":"s-77","attrs":{"sku":"SKU-19","price":19.99,"qty":2,"device":"mobile"}}`
	epochRecord   = `{"event_id":"e-2","type":"page_view","customer_id":"c-1042","ts":1733339655123,"source":"app","attrs":{"url":"/p/19","tags":["a","b"],"new":true}}`
	bssRecord     = `{"event_id":"inv-2026-000123","type":"payment_failed","customer_id":"acct-000042","ts":"2026-12-04T19:14:15.123456+01:00","source":"bss","attrs":{"invoice_id":"INV-000123","amount":129.9,"reason":"insufficient_funds","retry":2,"card_last4":"4242"}}`
	escapedRecord = `{"event_id":"e\n1","type":"search","customer_id":"c-\u00e9","ts":0,"attrs":{"query":"caf\u00e9 \"noir\"","emoji":"\ud83d\ude00"}}`
)

func TestMalformedCases(t *testing.T) {
	cases := eventcases.Malformed()
	if len(cases) < 24 {
		t.Fatalf("only %d malformed cases", len(cases))
	}
	var d Decoder
	var ev event.Event
	names := map[string]bool{}
	for _, c := range cases {
		if names[c.Name] {
			t.Errorf("duplicate case name %q", c.Name)
		}
		names[c.Name] = true
		err := d.Decode(c.Key, c.Value, &ev)
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Errorf("%s: got %v, want *DecodeError", c.Name, err)
			continue
		}
		if c.Reason == "" || !strings.Contains(de.Reason, c.Reason) {
			t.Errorf("%s: reason %q, want it to contain %q", c.Name, de.Reason, c.Reason)
		}
		if p := reasonProblem(de.Reason); p != "" {
			t.Errorf("%s: reason %q: %s", c.Name, de.Reason, p)
		}
		if ev.EventID != nil || ev.CustomerID != nil || len(ev.Attrs) != 0 || ev.TS != 0 {
			t.Errorf("%s: event not reset after error: %+v", c.Name, ev)
		}
	}
}

// reasonProblem says what is wrong with a reason, or "".
func reasonProblem(r string) string {
	if r == "" || len(r) > 200 {
		return "empty or longer than 200 bytes"
	}
	for i := 0; i < len(r); i++ {
		if r[i] < 0x20 || r[i] >= 0x7f {
			return fmt.Sprintf("non-printable or non-ASCII byte %#x", r[i])
		}
	}
	return ""
}

func TestValidCases(t *testing.T) {
	var d Decoder
	var ev event.Event
	for _, c := range eventcases.Valid() {
		if err := d.Decode(c.Key, c.Value, &ev); err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if p := eventProblem(c.Key, c.Value, &ev); p != "" {
			t.Errorf("%s: %s", c.Name, p)
		}
		if check, ok := validChecks[c.Name]; ok {
			if p := check(&ev); p != "" {
				t.Errorf("%s: %s", c.Name, p)
			}
		}
	}
}

func tsOf(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

func want(what string, got, exp any) string {
	if fmt.Sprint(got) != fmt.Sprint(exp) {
		return fmt.Sprintf("%s = %v, want %v", what, got, exp)
	}
	return ""
}

func firstProblem(ps ...string) string {
	for _, p := range ps {
		if p != "" {
			return p
		}
	}
	return ""
}

// validChecks holds field checks for some of eventcases.Valid by name.
var validChecks = map[string]func(ev *event.Event) string{
	"clickstream_typical": func(ev *event.Event) string {
		price, _ := ev.Num("price")
		qty, _ := ev.Num("qty")
		sku, _ := ev.Str("sku")
		return firstProblem(
			want("event_id", string(ev.EventID), "8f1c2a"),
			want("type", string(ev.Type), "add_to_cart"),
			want("ts", ev.TS, tsOf("2026-12-04T19:14:15.123Z")),
			want("source", string(ev.Source), "web"),
			want("session_id", string(ev.SessionID), "s-77"),
			want("attrs", len(ev.Attrs), 4),
			want("price", price, 19.99), want("qty", qty, 2), want("sku", string(sku), "SKU-19"))
	},
	"epoch_ms":   func(ev *event.Event) string { return want("ts", ev.TS, int64(1733339655123)*1e6) },
	"epoch_max":  func(ev *event.Event) string { return want("ts", ev.TS, int64(9223372036854)*1e6) },
	"epoch_zero": func(ev *event.Event) string { return want("ts", ev.TS, 0) },
	"rfc3339_lowercase": func(ev *event.Event) string {
		return want("ts", ev.TS, tsOf("2026-12-04T19:14:15.123Z"))
	},
	"rfc3339_offset_ns": func(ev *event.Event) string {
		return want("ts", ev.TS, tsOf("2026-12-04T19:14:15.123456789+05:30"))
	},
	"rfc3339_negative_offset": func(ev *event.Event) string {
		return want("ts", ev.TS, tsOf("2026-12-04T19:14:15.5Z"))
	},
	"rfc3339_leap_day": func(ev *event.Event) string {
		return want("ts", ev.TS, tsOf("2024-02-29T23:59:59.999999999Z"))
	},
	"rfc3339_before_epoch": func(ev *event.Event) string { return want("ts", ev.TS, -int64(5e8)) },
	"rfc3339_max":          func(ev *event.Event) string { return want("ts", ev.TS, int64(math.MaxInt64)) },
	"rfc3339_min":          func(ev *event.Event) string { return want("ts", ev.TS, int64(math.MinInt64)) },
	"escapes": func(ev *event.Event) string {
		q, _ := ev.Str("query")
		e, _ := ev.Str("emoji")
		return firstProblem(
			want("event_id", strconv.Quote(string(ev.EventID)), strconv.Quote("e\n\t\"\\/\b\f\r1")),
			want("customer_id", string(ev.CustomerID), "c-é😀\"/"),
			want("query", string(q), `café "x"`), want("emoji", string(e), "😀"))
	},
	"escaped_field_names": func(ev *event.Event) string {
		return firstProblem(want("event_id", string(ev.EventID), "e-1"), want("type", string(ev.Type), "login"))
	},
	"null_optionals": func(ev *event.Event) string {
		return want("absent", ev.Source == nil && ev.SessionID == nil && len(ev.Attrs) == 0, true)
	},
	"attrs_arrays_of_scalars": func(ev *event.Event) string {
		a := ev.Attr("prices")
		if a == nil {
			return "no prices"
		}
		return firstProblem(want("kind", a.Kind, event.AttrArray), want("raw", string(a.Str), "[1,2.5,-3e2]"))
	},
	"attrs_all_scalar_kinds": func(ev *event.Event) string {
		n, _ := ev.Num("n")
		return firstProblem(want("n", n, -1.5e-3), want("t", ev.Attr("t").Bool, true),
			want("z", ev.Attr("z").Kind, event.AttrNull), want("empty key", ev.Attr("") != nil, true))
	},
	"attrs_64_keys": func(ev *event.Event) string { return want("attrs", len(ev.Attrs), 64) },
	"event_id_with_nul": func(ev *event.Event) string {
		return want("event_id", string(ev.EventID), "e\x00")
	},
}

// TestEscapesSurviveLaterStrings checks that strings unescaped into the
// scratch buffer stay intact while later strings of the record are decoded,
// and after a larger record grows the buffer.
func TestEscapesSurviveLaterStrings(t *testing.T) {
	var d Decoder
	var ev event.Event
	small := []byte(`{"event_id":"\u0041","type":"a","customer_id":"\u0063","ts":0}`)
	if err := d.Decode([]byte("c"), small, &ev); err != nil {
		t.Fatal(err)
	}
	if string(ev.EventID) != "A" || string(ev.CustomerID) != "c" {
		t.Fatalf("got %q %q", ev.EventID, ev.CustomerID)
	}
	var b strings.Builder
	b.WriteString(`{"event_id":"a\tb","type":"search","customer_id":"\u00e9\ud83d\ude00","ts":0,"attrs":{`)
	for i := range 64 {
		fmt.Fprintf(&b, `%s"k\u00e9%d":"v\n%d\"%s"`, map[bool]string{true: ",", false: ""}[i > 0], i, i, strings.Repeat("\\u00fc", i*3))
	}
	b.WriteString(`}}`)
	if err := d.Decode([]byte("é😀"), []byte(b.String()), &ev); err != nil {
		t.Fatal(err)
	}
	if string(ev.EventID) != "a\tb" || string(ev.CustomerID) != "é😀" || len(ev.Attrs) != 64 {
		t.Fatalf("got %q %q %d", ev.EventID, ev.CustomerID, len(ev.Attrs))
	}
	for i, a := range ev.Attrs {
		wantK, wantV := fmt.Sprintf("ké%d", i), fmt.Sprintf("v\n%d\"%s", i, strings.Repeat("ü", i*3))
		if string(a.Key) != wantK || string(a.Str) != wantV {
			t.Fatalf("attr %d = %q:%q, want %q:%q", i, a.Key, a.Str, wantK, wantV)
		}
	}
}

func TestNotFoolsByPrefixes(t *testing.T) {
	var d Decoder
	var ev event.Event
	// A field named like a known one but differing in case is unknown, so
	// the record lacks event_id.
	rec := `{"Event_ID":"e-1","type":"login","customer_id":"c","ts":0}`
	err := d.Decode([]byte("c"), []byte(rec), &ev)
	if err == nil || !strings.Contains(err.Error(), "event_id: missing") {
		t.Fatalf("got %v", err)
	}
}

func TestZeroAllocs(t *testing.T) {
	for name, rec := range map[string]string{"typical": typicalRecord, "epoch": epochRecord, "bss": bssRecord, "escaped": escapedRecord} {
		var d Decoder
		var ev event.Event
		value := []byte(rec)
		key := []byte(extractCustomer(t, value))
		allocs := testing.AllocsPerRun(200, func() {
			if err := d.Decode(key, value, &ev); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per Decode, want 0", name, allocs)
		}
	}
}

func extractCustomer(t testing.TB, value []byte) string {
	var m struct {
		C string `json:"customer_id"`
	}
	if err := json.Unmarshal(value, &m); err != nil {
		t.Fatal(err)
	}
	return m.C
}

func FuzzDecode(f *testing.F) {
	for _, c := range append(eventcases.Malformed(), eventcases.Valid()...) {
		f.Add(c.Key, c.Value)
	}
	for _, r := range []string{typicalRecord, epochRecord, bssRecord, escapedRecord} {
		f.Add([]byte(extractCustomer(f, []byte(r))), []byte(r))
	}
	var d Decoder
	var ev event.Event
	f.Fuzz(func(t *testing.T, key, value []byte) {
		err := d.Decode(key, value, &ev)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			if p := reasonProblem(de.Reason); p != "" {
				t.Fatalf("reason %q: %s", de.Reason, p)
			}
			return
		}
		if p := eventProblem(key, value, &ev); p != "" {
			t.Fatalf("accepted %q: %s", value, p)
		}
	})
}

// eventProblem re-checks an accepted record against the contract, using
// encoding/json as an independent oracle; it returns "" when all is well.
func eventProblem(key, value []byte, ev *event.Event) string {
	if len(value) > event.MaxRecordBytes || !utf8.Valid(value) || !json.Valid(value) {
		return "accepted an oversize, non-UTF-8 or invalid JSON record"
	}
	if p := rulesProblem(key, ev); p != "" {
		return p
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(value, &top); err != nil {
		return "encoding/json: " + err.Error()
	}
	for name, got := range map[string][]byte{"event_id": ev.EventID, "type": ev.Type, "customer_id": ev.CustomerID, "source": ev.Source, "session_id": ev.SessionID} {
		var s *string
		if err := json.Unmarshal(top[name], &s); err != nil && top[name] != nil {
			return name + ": " + err.Error()
		}
		if (s == nil) != (got == nil) || s != nil && *s != string(got) {
			return fmt.Sprintf("%s = %q, encoding/json says %v", name, got, s)
		}
	}
	if p := tsProblem(top["ts"], ev.TS); p != "" {
		return p
	}
	return attrsProblem(top["attrs"], ev.Attrs)
}

// rulesProblem checks the rules of the contract on the decoded fields.
func rulesProblem(key []byte, ev *event.Event) string {
	switch {
	case len(ev.EventID) < 1 || len(ev.EventID) > 128:
		return "event_id length"
	case len(ev.CustomerID) < 1 || len(ev.CustomerID) > 128 || hasControl(ev.CustomerID):
		return "customer_id length or control character"
	case !bytes.Equal(key, ev.CustomerID):
		return "key differs from customer_id"
	case len(ev.Source) > 64 || len(ev.SessionID) > 128:
		return "source or session_id length"
	case len(ev.Attrs) > event.MaxAttrs:
		return "too many attrs"
	case !typeRE(ev.Type):
		return "type pattern"
	}
	for _, b := range [][]byte{ev.EventID, ev.Type, ev.CustomerID, ev.Source, ev.SessionID} {
		if !utf8.Valid(b) {
			return "invalid UTF-8 in a field"
		}
	}
	for i, a := range ev.Attrs {
		if !utf8.Valid(a.Key) || !utf8.Valid(a.Str) || math.IsInf(a.Num, 0) || math.IsNaN(a.Num) {
			return "bad attr " + strconv.Quote(string(a.Key))
		}
		for _, b := range ev.Attrs[:i] {
			if bytes.Equal(a.Key, b.Key) {
				return "duplicate attr " + strconv.Quote(string(a.Key))
			}
		}
	}
	return ""
}

func typeRE(t []byte) bool {
	if len(t) < 1 || len(t) > 64 || t[0] < 'a' || t[0] > 'z' {
		return false
	}
	return len(bytes.Trim(t, "abcdefghijklmnopqrstuvwxyz0123456789_.")) == 0
}

func tsProblem(raw json.RawMessage, ts int64) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		// time.Parse does not take lowercase t/z or check the digit count.
		tm, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
		if err != nil || tm.UnixNano() != ts {
			return fmt.Sprintf("ts %q decoded to %d; time.Parse: %v %v", s, ts, tm.UnixNano(), err)
		}
		return ""
	}
	ms, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || ms < 0 || ms*1e6 != ts {
		return fmt.Sprintf("ts %s decoded to %d", raw, ts)
	}
	return ""
}

func attrsProblem(raw json.RawMessage, attrs []event.Attr) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil && raw != nil {
		return "attrs: " + err.Error()
	}
	if len(m) != len(attrs) {
		return fmt.Sprintf("%d attrs, encoding/json sees %d", len(attrs), len(m))
	}
	for _, a := range attrs {
		r, ok := m[string(a.Key)]
		if !ok {
			return "attr " + strconv.Quote(string(a.Key)) + " unknown to encoding/json"
		}
		var v any
		if err := json.Unmarshal(r, &v); err != nil {
			return err.Error()
		}
		var got any
		switch a.Kind {
		case event.AttrString:
			got = string(a.Str)
		case event.AttrNumber:
			got = a.Num
		case event.AttrBool:
			got = a.Bool
		case event.AttrArray:
			if !bytes.Equal(a.Str, r) {
				return fmt.Sprintf("attr array %q, encoding/json %q", a.Str, r)
			}
			got = v
		}
		if fmt.Sprint(got) != fmt.Sprint(v) {
			return fmt.Sprintf("attr %q = %v, encoding/json says %v", a.Key, got, v)
		}
	}
	return ""
}

func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct{ name, rec string }{{"clickstream", typicalRecord}, {"bss", bssRecord}} {
		b.Run(bc.name, func(b *testing.B) {
			var d Decoder
			var ev event.Event
			value := []byte(bc.rec)
			key := []byte(extractCustomer(b, value))
			b.ReportAllocs()
			b.SetBytes(int64(len(value)))
			for b.Loop() {
				if err := d.Decode(key, value, &ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
