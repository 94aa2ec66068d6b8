package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"

	"gopkg.in/yaml.v3"
)

// Load reads and parses the configuration file at path, expanding ${NAME}
// from the environment, and validates it. Problems in the file are returned
// together as a *Errors, each with file:line:col and what to write instead.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates configuration bytes, expanding ${NAME} from
// the environment. file names the source in error messages only.
func Parse(file string, data []byte) (*Config, error) {
	return ParseWithEnv(file, data, os.LookupEnv)
}

// ParseWithEnv is Parse with the environment given by lookup, which
// reports a variable's value and whether it is set.
//
// Keys the file leaves out keep their Default; a null value ("key:" or
// "key: ~") does too. A list in the file replaces the default list. In
// scalar values ${NAME}
// is replaced by the variable (unset is an error) and $$ by $. Durations
// take Go syntax (500ms, 2s, 24h) and days (7d, 1d12h).
func ParseWithEnv(file string, data []byte, lookup func(string) (string, bool)) (*Config, error) {
	root, err := parseNode(file, data)
	if err != nil {
		return nil, err
	}
	cfg := Default()
	cfg.source = file
	cfg.pos = make(map[string]position)
	d := &decoder{file: file, lookup: lookup, pos: cfg.pos}
	if root != nil {
		d.value(root, reflect.ValueOf(&cfg).Elem(), "")
	}
	if err := finish(append(d.errs, validateAfter(&cfg, d.errs)...)); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// validateAfter validates cfg, dropping problems with values the file set
// but that could not be decoded: those are reported already.
func validateAfter(cfg *Config, parseErrs Errors) Errors {
	var verrs *Errors
	if !errors.As(cfg.Validate(), &verrs) {
		return nil
	}
	bad := make(map[string]bool, len(parseErrs))
	for _, e := range parseErrs {
		bad[e.Path] = true
	}
	var out Errors
	for _, e := range *verrs {
		if !bad[e.Path] {
			out = append(out, e)
		}
	}
	return out
}

// parseNode parses data into the root node of its single YAML document; nil
// for an empty file.
func parseNode(file string, data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil { // the YAML parser's own bug; report, don't crash
			root, err = nil, &Errors{{File: file, Line: 1, Col: 1,
				Msg: fmt.Sprintf("the YAML parser failed (%v); simplify the file around anchors and aliases", r)}}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(file, data, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, &Errors{{File: file, Line: max(next.Line, 1), Col: 1,
			Msg: "a config file holds one YAML document; remove the second --- and what follows"}}
	case !errors.Is(err, io.EOF):
		return nil, syntaxError(file, data, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line \d+: )?(.*)$`)

// syntaxError turns the YAML parser's error into an *Errors. The parser's
// own line is often off (it names where the enclosing block began, counted
// from 0), so the line is found again: the first line from which on every
// prefix of the file fails to parse. The column is that of the line's
// first character that is not a space.
func syntaxError(file string, data []byte, err error) error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		msg = m[1]
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	lo, hi := 0, len(lines) // parses(lines[:lo]) holds, parses(lines[:hi]) does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if parses(bytes.Join(lines[:mid], nil)) {
			lo = mid
		} else {
			hi = mid
		}
	}
	text := lines[max(hi, 1)-1]
	col := len(text) - len(bytes.TrimLeft(text, " ")) + 1
	fix := "check the indentation, and quote values that contain \": \" or start with {, [, *, &, !, %, @ or `"
	if indent := text[:len(text)-len(bytes.TrimLeft(text, " \t"))]; bytes.ContainsRune(indent, '\t') {
		fix = "YAML does not allow tabs for indentation; use spaces"
	}
	return &Errors{{File: file, Line: max(hi, 1), Col: col, Msg: "invalid YAML: " + msg + "; " + fix}}
}

// parses reports whether every YAML document in data parses.
func parses(data []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		switch err := dec.Decode(&n); {
		case errors.Is(err, io.EOF):
			return true
		case err != nil:
			return false
		}
	}
}

// Source returns the name of the file c was parsed from, or "" for a
// Config built in code.
func (c *Config) Source() string { return c.source }

// Redacted returns a copy of c that is safe to log: secrets are replaced by
// "***". Its brokers, input topics and positions are copies; the
// definitions (features, journeys, decide) are shared and must not be
// changed through it.
func (c *Config) Redacted() Config {
	r := *c
	r.Brokers = slices.Clone(c.Brokers)
	r.Topics.Inputs = slices.Clone(c.Topics.Inputs)
	r.pos = maps.Clone(c.pos)
	if r.Kafka.SASL.Password != "" {
		r.Kafka.SASL.Password = "***"
	}
	r.Analytics.ClickHouse.Addr = slices.Clone(c.Analytics.ClickHouse.Addr)
	if r.Analytics.ClickHouse.Password != "" {
		r.Analytics.ClickHouse.Password = "***"
	}
	return r
}
