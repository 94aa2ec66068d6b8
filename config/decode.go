package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// position is where a value was written: 1-based line and column.
type position struct{ line, col int }

var durationType = reflect.TypeOf(time.Duration(0))

// maxMergeDepth bounds chains of YAML merge keys (<<: *anchor), and
// maxMerges the mappings merged in one file, so that nested merges cannot
// blow up like the "billion laughs".
const (
	maxMergeDepth = 8
	maxMerges     = 1000
)

// decoder walks a YAML node tree against the Config struct types, setting
// fields as it goes and collecting every error with its position.
type decoder struct {
	file   string
	lookup func(string) (string, bool)
	errs   Errors
	pos    map[string]position
	merges int // mappings merged so far, against maxMerges
}

func (d *decoder) errAt(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Col: n.Column,
		Path: path, Msg: fmt.Sprintf(format, args...)})
}

// record remembers where the value at path was written.
func (d *decoder) record(n *yaml.Node, path string) {
	d.pos[path] = position{n.Line, n.Column}
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// value decodes n into v. A null value (an empty "key:" or ~) keeps what v
// already holds, i.e. the default.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	switch {
	case v.Type() == durationType:
		d.duration(n, v, path)
	case v.Kind() == reflect.Struct:
		d.structure(n, v, path)
	case v.Kind() == reflect.Slice:
		d.sequence(n, v, path)
	case v.Kind() == reflect.Map:
		d.stringMap(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

// typeErr reports a value of the wrong YAML kind for its field.
func (d *decoder) typeErr(n *yaml.Node, v reflect.Value, path string) {
	msg := fmt.Sprintf("%s must be %s, got %s", displayPath(path), wantName(v.Type()), gotName(n))
	if h := hint(path); h != "" {
		msg += "; " + h
	}
	d.errAt(n, path, "%s", msg)
}

// badScalar reports a scalar that does not parse as the field's type.
func (d *decoder) badScalar(n *yaml.Node, path, s, what string) {
	msg := fmt.Sprintf("%s: %q %s", displayPath(path), s, what)
	if h := hint(path); h != "" {
		msg += "; " + h
	}
	d.errAt(n, path, "%s", msg)
}

// field is one yaml-tagged struct field.
type field struct {
	name  string
	index int
}

func fieldsOf(t reflect.Type) []field {
	var fs []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && tag != "" && tag != "-" {
			fs = append(fs, field{tag, i})
		}
	}
	return fs
}

// structure decodes a mapping into the struct v, refusing unknown keys.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.typeErr(n, v, path)
		return
	}
	fields := fieldsOf(v.Type())
	for _, p := range d.entries(n, path) {
		f, ok := findField(fields, p.name)
		if !ok {
			d.unknownKey(p.key, path, p.name, fields)
			continue
		}
		sub := join(path, p.name)
		if val := resolve(p.val); val.Kind == yaml.ScalarNode {
			d.record(val, sub)
		} else {
			d.record(p.key, sub)
		}
		d.value(p.val, v.Field(f.index), sub)
	}
}

func findField(fs []field, name string) (field, bool) {
	for _, f := range fs {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

func (d *decoder) unknownKey(key *yaml.Node, path, name string, fields []field) {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	where := "at top level"
	if path != "" {
		where = "in " + path
	}
	msg := fmt.Sprintf("unknown key %q %s; ", name, where)
	if s := closest(name, names); s != "" {
		msg += fmt.Sprintf("did you mean %q? ", s)
	}
	d.errAt(key, join(path, name), "%svalid keys: %s", msg, strings.Join(names, ", "))
}

// sequence decodes a list into the slice v, replacing what v held.
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.typeErr(n, v, path)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		d.record(item, sub)
		d.value(item, s.Index(i), sub)
	}
	v.Set(s)
}

// stringMap decodes a mapping of strings into the map[string]string v.
func (d *decoder) stringMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.typeErr(n, v, path)
		return
	}
	m := reflect.MakeMap(v.Type())
	elem := reflect.New(v.Type().Elem()).Elem()
	for _, p := range d.entries(n, path) {
		sub := join(path, p.name)
		d.record(resolve(p.val), sub)
		elem.SetZero()
		d.value(p.val, elem, sub)
		m.SetMapIndex(reflect.ValueOf(p.name), elem)
	}
	v.Set(m)
}

// scalar decodes a string, bool, integer or float.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.typeErr(n, v, path)
		return
	}
	s, ok := d.expand(n, path)
	if !ok {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, ok := parseBool(s)
		if !ok {
			d.badScalar(n, path, s, "is not true or false")
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		d.integer(n, v, path, s)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.badScalar(n, path, s, "is not a number")
			return
		}
		v.SetFloat(f)
	default:
		d.errAt(n, path, "%s cannot be set from the file", displayPath(path))
	}
}

func (d *decoder) integer(n *yaml.Node, v reflect.Value, path, s string) {
	i, err := strconv.ParseInt(s, 0, v.Type().Bits())
	switch {
	case err == nil:
		v.SetInt(i)
	case errors.Is(err, strconv.ErrRange):
		d.badScalar(n, path, s, "is out of range")
	default:
		d.badScalar(n, path, s, "is not an integer")
	}
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	return false, false
}

// duration decodes a Go duration string, also accepting days ("7d", "1d12h").
func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.typeErr(n, v, path)
		return
	}
	s, ok := d.expand(n, path)
	if !ok {
		return
	}
	dur, err := parseDuration(s)
	if err != nil {
		d.errAt(n, path, "%s: %q is not a duration; write e.g. 2s, 500ms or 24h", displayPath(path), s)
		return
	}
	v.SetInt(int64(dur))
}

// expand substitutes ${NAME} in a scalar's value, reporting unset variables.
func (d *decoder) expand(n *yaml.Node, path string) (string, bool) {
	s, errs := expandEnv(n.Value, d.lookup)
	for _, msg := range errs {
		d.errAt(n, path, "%s", msg)
	}
	return s, len(errs) == 0
}

// join appends key to the dotted path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// displayPath names the top level for messages about the whole file.
func displayPath(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

func wantName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration"
	case t.Kind() == reflect.Struct, t.Kind() == reflect.Map:
		return "a mapping"
	case t.Kind() == reflect.Slice:
		return "a list"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Float32, t.Kind() == reflect.Float64:
		return "a number"
	}
	return "an integer"
}

func gotName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	}
	switch n.Tag {
	case "!!str":
		return "a string"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	}
	return "a scalar"
}
