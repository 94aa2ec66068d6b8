package config

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a configuration file: where it is and what to
// write instead.
type Error struct {
	File string
	// Line and Col are 1-based; 0 when the value did not come from a file
	// (a Config built in code, or a default).
	Line, Col int
	// Path is the key path of the offending value, e.g. "topics.partitions"
	// or "decide.actions[2].channel" (indexes are 0-based).
	Path string
	// Msg says what is wrong and how to fix it.
	Msg string
}

// Error formats the problem as "file:line:col: msg", dropping the parts
// that are unknown.
func (e *Error) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.File != "":
		return e.File + ": " + e.Msg
	}
	return e.Msg
}

// Errors is every problem found in one configuration, in file order. Load,
// Parse and Validate return it as a *Errors, never as an empty one.
type Errors []*Error

// Error joins the problems with newlines.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// finish sorts errs into file order (errors without a position last),
// drops exact repeats (an aliased value is checked at every use) and
// returns nil when nothing is left.
func finish(errs Errors) error {
	if len(errs) == 0 {
		return nil
	}
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line == 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	out := errs[:0:0]
	seen := make(map[string]bool, len(errs))
	for _, e := range errs {
		if s := e.Error(); !seen[s] {
			seen[s] = true
			out = append(out, e)
		}
	}
	return &out
}
