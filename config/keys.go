package config

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// entry is one key and its value in a mapping.
type entry struct {
	key, val *yaml.Node
	name     string
}

// entries lists a mapping's keys and values, reporting keys that are not
// strings and duplicate keys. Keys merged in with "<<: *anchor" come first
// and give way to keys written out, as YAML specifies.
func (d *decoder) entries(n *yaml.Node, path string) []entry {
	explicit, merged := d.split(n, path, 0)
	written := make(map[string]*yaml.Node, len(explicit))
	var out []entry
	for _, e := range explicit {
		if first, dup := written[e.name]; dup {
			d.errAt(e.key, join(path, e.name), "duplicate key %q %s (first at line %d); remove one",
				e.name, where(path), first.Line)
			continue
		}
		written[e.name] = e.key
		out = append(out, e)
	}
	seen := make(map[string]bool, len(merged))
	var in []entry
	for _, e := range merged {
		if written[e.name] == nil && !seen[e.name] {
			seen[e.name] = true
			in = append(in, e)
		}
	}
	return append(in, out...)
}

// split separates a mapping's written entries from those merged in with
// "<<", following merges up to maxMergeDepth deep.
func (d *decoder) split(n *yaml.Node, path string, depth int) (explicit, merged []entry) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merged = append(merged, d.merge(k, resolve(v), path, depth)...)
			continue
		}
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.errAt(k, path, "keys %s must be names, got %s; write e.g. name: value", where(path), gotName(k))
			continue
		}
		explicit = append(explicit, entry{k, v, k.Value})
	}
	return explicit, merged
}

// merge returns the entries of the mapping (or list of mappings) v that a
// "<<" key merges in; earlier mappings in a list take precedence.
func (d *decoder) merge(k, v *yaml.Node, path string, depth int) []entry {
	if depth >= maxMergeDepth {
		d.errAt(k, path, "merge keys (<<) %s are nested too deeply; write the keys out", where(path))
		return nil
	}
	srcs := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		srcs = v.Content
	}
	var out []entry
	for _, s := range srcs {
		s = resolve(s)
		if d.merges++; d.merges > maxMerges {
			d.errAt(k, path, "too many merge keys (<<) in the file; write the keys out")
			return out
		}
		if s.Kind != yaml.MappingNode {
			d.errAt(s, path, "<< %s must merge a mapping, got %s; write e.g. <<: *defaults", where(path), gotName(s))
			continue
		}
		explicit, merged := d.split(s, path, depth+1)
		out = append(out, explicit...)
		out = append(out, merged...)
	}
	return out
}

func where(path string) string {
	if path == "" {
		return "at top level"
	}
	return "in " + path
}

// closest returns the candidate nearest to s by edit distance (ignoring
// case, '-' and '_'), or "" when none is close enough to be a typo.
func closest(s string, candidates []string) string {
	norm := func(x string) string {
		return strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(x))
	}
	best, bestD := "", len(s)/3+1
	if bestD < 2 {
		bestD = 2
	}
	for _, c := range candidates {
		d := editDistance(s, c)
		if norm(s) == norm(c) {
			d = 0
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return len(a) + len(b) // not a typo of a key; skip the work
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// examples gives a value to suggest for each key path (indexes written []).
var examples = map[string]string{
	"":                            "{brokers: [localhost:9092]}",
	"brokers":                     "[localhost:9092]",
	"brokers[]":                   "localhost:9092",
	"client_id":                   "meridian",
	"group":                       "meridian",
	"kafka":                       "{tls: true}",
	"kafka.sasl":                  "{mechanism: scram-sha-512, username: meridian, password: ${KAFKA_PASSWORD}}",
	"kafka.sasl.mechanism":        "scram-sha-512",
	"kafka.sasl.username":         "meridian",
	"kafka.sasl.password":         "${KAFKA_PASSWORD}",
	"kafka.tls":                   "true",
	"topics":                      "{partitions: 12}",
	"topics.inputs":               "[clickstream, bss, outcomes]",
	"topics.inputs[]":             "clickstream",
	"topics.actions":              "actions",
	"topics.dead_letter":          "meridian.dlq",
	"topics.partitions":           "12",
	"event_time":                  "{allowed_disorder: 2s, idle_after: 1s}",
	"event_time.allowed_disorder": "2s",
	"event_time.idle_after":       "1s",
	"pipeline":                    "{max_batch: 10000, shutdown_timeout: 30s}",
	"pipeline.max_batch":          "10000",
	"pipeline.shutdown_timeout":   "30s",
	"http":                        "{addr: 127.0.0.1:8080}",
	"http.addr":                   "127.0.0.1:8080",
	"decide.actions":              "[{id: checkout_nudge_push, channel: push, on: [checkout_start]}]",
	"decide.actions[]":            "{id: checkout_nudge_push, channel: push, on: [checkout_start]}",
	"decide.actions[].id":         "checkout_nudge_push",
	"decide.actions[].channel":    "push",
	"decide.actions[].on":         "[checkout_start]",
	"decide.actions[].on[]":       "checkout_start",
	"decide.actions[].model":      "adaptive",
	"decide.actions[].output":     "0",
	"decide.actions[].value":      "2.5",
	"decide.actions[].weight":     "1.0",
	"decide.actions[].ttl":        "24h",
	"decide.actions[].payload":    `{sku: "{attrs.sku}"}`,
	"decide.actions[].payload.*":  `"{attrs.sku}"`,
	"generator":                   "{seed: 1, customers: 1000000, rate: 1000}",
	"generator.seed":              "1",
	"generator.customers":         "1000000",
	"generator.rate":              "1000",
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

// hint suggests what to write at path: "write e.g. key: value".
func hint(path string) string {
	generic := indexRE.ReplaceAllString(path, "[]")
	if strings.HasPrefix(generic, "decide.actions[].payload.") {
		generic = "decide.actions[].payload.*"
	}
	ex, ok := examples[generic]
	switch {
	case !ok:
		return ""
	case path == "":
		return "write e.g. brokers: [localhost:9092]"
	case strings.HasSuffix(path, "]"):
		return "write e.g. - " + ex
	}
	return "write e.g. " + lastKey(path) + ": " + ex
}

// lastKey is the final key of a path: "partitions" for "topics.partitions".
func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}
