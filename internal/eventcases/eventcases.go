// Package eventcases holds input event records (see the events contract,
// shared/contracts/events.md) that a decoder must reject or accept. Unit
// tests of operators.Decoder and end-to-end tests share them.
package eventcases

import (
	"strconv"
	"strings"
)

// Case is one record. Key is the record key: the intended customer id
// wherever the JSON has one, so that only the rule under test fails. For a
// malformed case Reason is a substring of the expected decode error; for a
// valid case it is empty.
type Case struct {
	Name       string
	Key, Value []byte
	Reason     string
}

// Base field values of the records built by rec.
const (
	BaseCustomer = "c-1042"
	baseEventID  = `"e-1"`
	baseType     = `"add_to_cart"`
	baseTS       = `"2026-12-04T19:14:15.123Z"`
)

var baseFields = []string{"event_id", baseEventID, "type", baseType, "customer_id", `"` + BaseCustomer + `"`, "ts", baseTS}

// rec builds a record from the base fields, overridden by pairs of field
// name and raw JSON value; the value "-" removes a base field and new
// fields are appended in order.
func rec(pairs ...string) []byte {
	names, vals := []string{}, []string{}
	for i := 0; i+1 < len(baseFields); i += 2 {
		names, vals = append(names, baseFields[i]), append(vals, baseFields[i+1])
	}
next:
	for i := 0; i+1 < len(pairs); i += 2 {
		for j := range names {
			if names[j] == pairs[i] {
				vals[j] = pairs[i+1]
				continue next
			}
		}
		names, vals = append(names, pairs[i]), append(vals, pairs[i+1])
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := range names {
		if vals[i] == "-" {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + names[i] + `":` + vals[i]) // names are written raw, unescaped
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// attrsN returns a JSON attrs object with n distinct keys.
func attrsN(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `"k` + strconv.Itoa(i) + `":` + strconv.Itoa(i)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// nested returns depth nested arrays around 1.
func nested(depth int) string {
	return strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth)
}

// padded returns a base record padded with an unknown string field to
// exactly size bytes (size must be at least 200).
func padded(size int) []byte {
	short := rec("pad", `""`)
	return rec("pad", `"`+strings.Repeat("x", size-len(short))+`"`)
}

func q(s string) string { return strconv.Quote(s) }

func mk(name, key string, value []byte, reason string) Case {
	return Case{Name: name, Key: []byte(key), Value: value, Reason: reason}
}

// Malformed returns records that a decoder must reject, each with a
// substring of its expected reason.
func Malformed() []Case {
	const c = BaseCustomer
	typical := rec("source", `"web"`, "attrs", `{"sku":"SKU-19","price":19.99}`)
	return []Case{
		// JSON syntax and shape.
		mk("bad_json_missing_colon", c, []byte(`{"event_id" "e-1","type":"login","customer_id":"c-1042","ts":0}`), "expected ':'"),
		mk("bad_json_missing_comma", c, []byte(`{"event_id":"e-1" "type":"login","customer_id":"c-1042","ts":0}`), "expected ',' or '}'"),
		mk("bad_json_single_quotes", c, []byte(`{'event_id':'e-1'}`), "invalid JSON at byte 1"),
		mk("bad_json_bad_literal", c, rec("source", "nul"), "invalid JSON"),
		mk("bad_json_leading_zero", c, rec("ts", "0123"), "invalid JSON"),
		mk("bad_json_bad_escape", c, rec("event_id", `"e\x41"`), "invalid escape"),
		mk("bad_json_raw_newline_in_string", c, rec("event_id", "\"e\n1\""), "control character in string"),
		mk("bad_json_in_unknown_field", c, rec("extra", `[1,}`), "invalid JSON"),
		mk("truncated", c, typical[:len(typical)/2], "unexpected end of input"),
		mk("truncated_in_string", c, typical[:len(typical)-10], "unexpected end of input"),
		mk("empty_value", c, []byte{}, "unexpected end of input"),
		mk("whitespace_only", c, []byte(" \n\t"), "unexpected end of input"),
		mk("not_object_array", c, []byte(`[{"event_id":"e-1"}]`), "not a JSON object"),
		mk("not_object_string", c, []byte(`"c-1042"`), "not a JSON object"),
		mk("not_object_number", c, []byte(`1042`), "not a JSON object"),
		mk("not_object_null", c, []byte(`null`), "not a JSON object"),
		mk("trailing_garbage", c, append(rec(), "x"...), "data after the object"),
		mk("trailing_second_object", c, append(rec(), "\n{}"...), "data after the object"),
		// Required fields.
		mk("missing_event_id", c, rec("event_id", "-"), "event_id: missing"),
		mk("missing_type", c, rec("type", "-"), "type: missing"),
		mk("missing_customer_id", c, rec("customer_id", "-"), "customer_id: missing"),
		mk("missing_ts", c, rec("ts", "-"), "ts: missing"),
		mk("null_event_id", c, rec("event_id", "null"), "event_id: must be a string, got null"),
		mk("null_ts", c, rec("ts", "null"), "ts: must be a string or number, got null"),
		mk("empty_event_id", c, rec("event_id", `""`), "event_id: empty"),
		mk("event_id_too_long", c, rec("event_id", q(strings.Repeat("e", 129))), "event_id: longer than 128 bytes"),
		mk("empty_customer_id", "", rec("customer_id", `""`), "customer_id: empty"),
		mk("customer_id_too_long", strings.Repeat("c", 129), rec("customer_id", q(strings.Repeat("c", 129))), "customer_id: longer than 128 bytes"),
		mk("duplicate_top_level_field", c, rec("event_id", `"e-1","event_id":"e-2"`), "event_id: duplicate field"),
		// Wrong types.
		mk("customer_id_number", "1042", rec("customer_id", "1042"), "customer_id: must be a string, got number"),
		mk("type_object", c, rec("type", `{"name":"login"}`), "type: must be a string, got object"),
		mk("event_id_array", c, rec("event_id", `["e-1"]`), "event_id: must be a string, got array"),
		mk("attrs_string", c, rec("attrs", `"sku=1"`), "attrs: must be an object, got string"),
		mk("attrs_array", c, rec("attrs", `[1,2]`), "attrs: must be an object, got array"),
		mk("source_number", c, rec("source", "7"), "source: must be a string, got number"),
		mk("session_id_bool", c, rec("session_id", "true"), "session_id: must be a string, got bool"),
		mk("ts_bool", c, rec("ts", "true"), "ts: must be a string or number, got bool"),
		// Type pattern.
		mk("type_uppercase", c, rec("type", `"AddToCart"`), "type: does not match"),
		mk("type_leading_digit", c, rec("type", `"1login"`), "type: does not match"),
		mk("type_dash", c, rec("type", `"add-to-cart"`), "type: does not match"),
		mk("type_empty", c, rec("type", `""`), "type: does not match"),
		mk("type_too_long", c, rec("type", q("a"+strings.Repeat("b", 64))), "type: does not match"),
		// Optional field lengths.
		mk("source_too_long", c, rec("source", q(strings.Repeat("s", 65))), "source: longer than 64 bytes"),
		mk("session_id_too_long", c, rec("session_id", q(strings.Repeat("s", 129))), "session_id: longer than 128 bytes"),
		// Size.
		mk("oversize_record", c, padded(64<<10+1), "more than 64 KiB"),
		// Timestamps.
		mk("ts_bad_string", c, rec("ts", `"yesterday"`), "ts: not RFC 3339 or epoch milliseconds"),
		mk("ts_no_zone", c, rec("ts", `"2026-12-04T19:14:15"`), "ts: not RFC 3339"),
		mk("ts_space_separator", c, rec("ts", `"2026-12-04 19:14:15Z"`), "ts: not RFC 3339"),
		mk("ts_feb_30", c, rec("ts", `"2026-02-30T00:00:00Z"`), "ts: not RFC 3339"),
		mk("ts_hour_24", c, rec("ts", `"2026-12-04T24:00:00Z"`), "ts: not RFC 3339"),
		mk("ts_leap_second", c, rec("ts", `"2016-12-31T23:59:60Z"`), "ts: not RFC 3339"),
		mk("ts_fraction_10_digits", c, rec("ts", `"2026-12-04T19:14:15.1234567891Z"`), "ts: not RFC 3339"),
		mk("ts_empty_fraction", c, rec("ts", `"2026-12-04T19:14:15.Z"`), "ts: not RFC 3339"),
		mk("ts_bad_offset", c, rec("ts", `"2026-12-04T19:14:15+0530"`), "ts: not RFC 3339"),
		mk("ts_string_epoch", c, rec("ts", `"1733339655123"`), "ts: not RFC 3339"),
		mk("ts_year_out_of_range", c, rec("ts", `"2300-01-01T00:00:00Z"`), "ts: out of range"),
		mk("ts_just_past_max", c, rec("ts", `"2262-04-11T23:47:16.854775808Z"`), "ts: out of range"),
		mk("ts_float", c, rec("ts", "1733339655123.5"), "ts: epoch milliseconds must be an integer"),
		mk("ts_exponent", c, rec("ts", "1.7e12"), "ts: epoch milliseconds must be an integer"),
		mk("ts_negative_epoch", c, rec("ts", "-1"), "ts: negative epoch milliseconds"),
		mk("ts_epoch_overflow", c, rec("ts", "9223372036855"), "ts: out of range"),
		mk("ts_epoch_huge", c, rec("ts", "99999999999999999999999"), "ts: out of range"),
		// Key.
		mk("key_mismatch", "c-9999", rec(), "key mismatch"),
		mk("key_case_mismatch", "C-1042", rec(), "key mismatch"),
		mk("key_mismatch_binary_key", "\x00\x80\xd1"+strings.Repeat("\xff", 60), rec(), "key mismatch"),
		{Name: "missing_key_nil", Key: nil, Value: rec(), Reason: "missing key"},
		mk("missing_key_empty", "", rec(), "missing key"),
		// customer_id content.
		mk("customer_id_c0_escaped", "c\a1", rec("customer_id", `"c\u00071"`), "customer_id: control character"),
		mk("customer_id_tab_escaped", "c\t1", rec("customer_id", `"c\t1"`), "customer_id: control character"),
		mk("customer_id_del", "c\x7f1", rec("customer_id", "\"c\x7f1\""), "customer_id: control character"),
		mk("customer_id_c1", "c\u00851", rec("customer_id", "\"c\u00851\""), "customer_id: control character"),
		// attrs.
		mk("attrs_nested_object", c, rec("attrs", `{"cart":{"sku":"SKU-19"}}`), "nesting"),
		mk("attrs_nested_array", c, rec("attrs", `{"skus":[["SKU-19"]]}`), "nesting"),
		mk("attrs_object_in_array", c, rec("attrs", `{"items":[1,{"sku":"x"}]}`), "nesting"),
		mk("attrs_65_keys", c, rec("attrs", attrsN(65)), "attrs: more than 64 keys"),
		mk("attrs_duplicate_key", c, rec("attrs", `{"sku":"a","qty":1,"sku":"b"}`), "attrs: duplicate key"),
		mk("attrs_duplicate_key_escaped", c, rec("attrs", `{"sku":"a","\u0073ku":"b"}`), "attrs: duplicate key"),
		mk("attrs_number_overflow", c, rec("attrs", `{"price":1e999}`), "number is not finite"),
		mk("attrs_number_overflow_negative", c, rec("attrs", `{"price":-1e400}`), "number is not finite"),
		mk("attrs_number_overflow_in_array", c, rec("attrs", `{"prices":[1,1e999]}`), "number is not finite"),
		mk("attrs_bad_number", c, rec("attrs", `{"price":1.}`), "invalid JSON"),
		mk("attrs_trailing_comma", c, rec("attrs", `{"price":1,}`), "invalid JSON"),
		// Unknown fields.
		mk("unknown_field_too_deep", c, rec("extra", nested(33)), "nested deeper than 32"),
		mk("unknown_field_very_deep", c, rec("extra", nested(5000)), "nested deeper than 32"),
		// UTF-8 and escapes.
		mk("invalid_utf8_in_value", c, rec("event_id", "\"e-\xff1\""), "event_id: invalid UTF-8"),
		mk("invalid_utf8_in_attr_value", c, rec("attrs", "{\"device\":\"mob\xc3\x28ile\"}"), "attrs: invalid UTF-8"),
		mk("invalid_utf8_in_attr_key", c, rec("attrs", "{\"dev\xfeice\":\"mobile\"}"), "attrs: invalid UTF-8"),
		mk("invalid_utf8_in_unknown_key", c, rec("ex\xfftra", "1"), "invalid UTF-8"),
		mk("invalid_utf8_in_unknown_value", c, rec("extra", "[\"\xf0\x28\x8c\x28\"]"), "invalid UTF-8"),
		mk("invalid_utf8_outside_string", c, append([]byte("\xef\xbb"), rec()...), "invalid UTF-8"),
		mk("utf8_overlong", c, rec("event_id", "\"\xc0\xaf\""), "event_id: invalid UTF-8"),
		mk("utf8_encoded_surrogate", c, rec("event_id", "\"\xed\xa0\x80\""), "event_id: invalid UTF-8"),
		mk("lone_high_surrogate", c, rec("event_id", `"e-\ud83d"`), "event_id: lone surrogate"),
		mk("lone_low_surrogate", c, rec("event_id", `"e-\ude00x"`), "event_id: lone surrogate"),
		mk("high_surrogate_then_bmp", c, rec("attrs", `{"n":"\ud83d\u0041"}`), "attrs: lone surrogate"),
		mk("lone_surrogate_unknown_field", c, rec("extra", `"\udc00"`), "lone surrogate"),
		mk("bad_unicode_escape", c, rec("event_id", `"e-\u12G4"`), "invalid \\u escape"),
		// Outcome events from channels must say which decision they report on.
		mk("outcome_without_decision_id", c, rec("type", `"action_clicked"`, "attrs", `{"action_id":"a"}`), "attrs.decision_id: required"),
		mk("outcome_without_attrs", c, rec("type", `"action_delivered"`), "attrs.decision_id: required"),
		mk("outcome_decision_id_number", c, rec("type", `"action_converted"`, "attrs", `{"decision_id":7}`), "attrs.decision_id: must be a non-empty string"),
		mk("outcome_decision_id_empty", c, rec("type", `"action_opened"`, "attrs", `{"decision_id":""}`), "attrs.decision_id: must be a non-empty string"),
	}
}

// Valid returns records that a decoder must accept. The unit tests of
// operators check decoded fields for several of them by name.
func Valid() []Case {
	const c = BaseCustomer
	exact := padded(64 << 10)
	return []Case{
		mk("clickstream_typical", c, []byte(`{"event_id":"8f1c2a","type":"add_to_cart","customer_id":"c-1042","ts":"2026-12-04T19:14:15.123Z","source":"web","session_id":"s-77","attrs":{"sku":"SKU-19","price":19.99,"qty":2,"device":"mobile"}}`), ""),
		mk("bss_invoice", "acct-77", []byte(`{"event_id":"inv-2026-0001","type":"invoice_issued","customer_id":"acct-77","ts":1733339655123,"source":"bss","attrs":{"invoice_id":"INV-1","amount":42.5,"due_date":"2026-12-31"}}`), ""),
		mk("minimal", c, rec(), ""),
		mk("outcome", c, rec("type", `"action_converted"`, "attrs", `{"decision_id":"d-3c5e0f9a1b2c4d5e","value":12.5}`), ""),
		mk("action_like_type_not_outcome", c, rec("type", `"action_requested"`), ""),
		mk("epoch_ms", c, rec("ts", "1733339655123"), ""),
		mk("epoch_zero", c, rec("ts", "0"), ""),
		mk("epoch_max", c, rec("ts", "9223372036854"), ""),
		mk("rfc3339_offset_ns", c, rec("ts", `"2026-12-04T19:14:15.123456789+05:30"`), ""),
		mk("rfc3339_negative_offset", c, rec("ts", `"2026-12-04T11:14:15.5-08:00"`), ""),
		mk("rfc3339_no_fraction", c, rec("ts", `"2026-12-04T19:14:15Z"`), ""),
		mk("rfc3339_lowercase", c, rec("ts", `"2026-12-04t19:14:15.123z"`), ""),
		mk("rfc3339_leap_day", c, rec("ts", `"2024-02-29T23:59:59.999999999Z"`), ""),
		mk("rfc3339_before_epoch", c, rec("ts", `"1969-12-31T23:59:59.5Z"`), ""),
		mk("rfc3339_max", c, rec("ts", `"2262-04-11T23:47:16.854775807Z"`), ""),
		mk("rfc3339_min", c, rec("ts", `"1677-09-21T00:12:43.145224192Z"`), ""),
		mk("escapes", "c-\u00e9\U0001F600\"/", rec("event_id", `"e\n\t\"\\\/\b\f\r1"`, "customer_id", `"c-\u00e9\ud83d\ude00\"\/"`, "attrs", `{"q\u0075ery":"caf\u00e9 \"x\"","emoji":"\uD83D\uDE00"}`), ""),
		mk("raw_unicode", "客户-ü", rec("customer_id", `"客户-ü"`, "event_id", `"événement"`, "attrs", `{"città":"Zürich 😀"}`), ""),
		mk("escaped_field_names", c, []byte(`{"event\u005fid":"e-1","\u0074ype":"login","customer_id":"c-1042","ts":0}`), ""),
		mk("null_optionals", c, rec("source", "null", "session_id", "null", "attrs", "null"), ""),
		mk("empty_optionals", c, rec("source", `""`, "session_id", `""`, "attrs", "{}"), ""),
		mk("unknown_fields_nested", c, rec("meta", `{"a":[1,{"b":null,"c":[true,false,"x\u0041"]}],"d":{}}`, "v", "2", "tags", `[]`), ""),
		mk("unknown_field_depth_32", c, rec("deep", nested(32)), ""),
		mk("attrs_arrays_of_scalars", c, rec("attrs", `{"skus":["a","b"],"prices":[1,2.5,-3e2],"flags":[true,false,null],"mixed":["x",1,true,null],"none":[]}`), ""),
		mk("attrs_all_scalar_kinds", c, rec("attrs", `{"s":"x","n":-1.5e-3,"i":0,"t":true,"f":false,"z":null,"":"empty key","tiny":1e-400}`), ""),
		mk("attrs_64_keys", c, rec("attrs", attrsN(64)), ""),
		mk("max_lengths", strings.Repeat("c", 128), rec("event_id", q(strings.Repeat("e", 128)), "customer_id", q(strings.Repeat("c", 128)), "type", q("a"+strings.Repeat("b.", 31)+"9"), "source", q(strings.Repeat("s", 64)), "session_id", q(strings.Repeat("s", 128))), ""),
		mk("whitespace_everywhere", c, []byte(" \r\n\t{ \"event_id\" : \"e-1\" ,\n\"type\"\t:\"login\" , \"customer_id\":\"c-1042\" ,\"ts\" : 0 , \"attrs\" : { \"a\" : [ 1 , 2 ] } }\n "), ""),
		mk("fields_reordered", c, []byte(`{"attrs":{"x":1},"ts":"2026-12-04T19:14:15Z","customer_id":"c-1042","type":"page_view","event_id":"e-1"}`), ""),
		mk("customer_id_unicode_not_c1", "c-\u00a0\u2028", rec("customer_id", `"c-\u00a0\u2028"`), ""),
		mk("event_id_with_nul", c, rec("event_id", `"e\u0000"`), ""),
		mk("exactly_64_KiB", c, exact, ""),
	}
}
