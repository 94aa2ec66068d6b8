package config

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expandEnv replaces ${NAME} in s with the variable's value and $$ with $.
// A $ followed by anything else is kept as written. It returns one message
// per unset variable or malformed reference.
func expandEnv(s string, lookup func(string) (string, bool)) (string, []string) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	var errs []string
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i+1 >= len(s) {
			b.WriteString(s)
			return b.String(), errs
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			s = s[i+2:]
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				errs = append(errs, fmt.Sprintf("unterminated ${ in %q; write ${NAME}, or $$ for a literal $", s[i:]))
				return b.String(), errs
			}
			name := s[i+2 : i+end]
			b.WriteString(lookupVar(name, lookup, &errs))
			s = s[i+end+1:]
		default:
			b.WriteByte('$')
			s = s[i+1:]
		}
	}
}

func lookupVar(name string, lookup func(string) (string, bool), errs *[]string) string {
	if !envNameRE.MatchString(name) {
		*errs = append(*errs, fmt.Sprintf("${%s} is not a variable reference; names are letters, digits and _, e.g. ${KAFKA_PASSWORD}; write $$ for a literal $", name))
		return ""
	}
	v, ok := lookup(name)
	if !ok {
		*errs = append(*errs, name+" is not set; export it or write the value")
	}
	return v
}

var daysRE = regexp.MustCompile(`^([+-]?)([0-9]+(?:\.[0-9]+)?)d(.*)$`)

// parseDuration is time.ParseDuration that also takes a leading number of
// days: "7d", "1.5d", "1d12h".
func parseDuration(s string) (time.Duration, error) {
	m := daysRE.FindStringSubmatch(s)
	if m == nil {
		return time.ParseDuration(s)
	}
	days, err := strconv.ParseFloat(m[2], 64)
	if err != nil || days*24 > float64(math.MaxInt64)/float64(time.Hour) {
		return 0, fmt.Errorf("duration %q out of range", s)
	}
	d := time.Duration(days * float64(24*time.Hour))
	if rest := m[3]; rest != "" {
		if rest[0] == '+' || rest[0] == '-' {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		r, err := time.ParseDuration(rest)
		if err != nil || d > math.MaxInt64-r {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		d += r
	}
	if m[1] == "-" {
		d = -d
	}
	return d, nil
}
