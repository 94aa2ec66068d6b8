package decide

import (
	"strconv"
	"time"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/features"
)

// policy is the compiled contact policy.
type policy struct {
	caps          []capRule
	quietFrom     int // minutes after local midnight
	quietTo       int
	quietOn       bool
	quietChannels []string
	tzAttr        int // profile attribute, -1: none
	defaultTZ     *time.Location
	defaultTZName string
	suppress      int64
	horizon       int64 // the longest cap window: how long sends are kept
	// fallbackReason is the reason a decision gives when the profile's
	// zone does not exist.
	fallbackReason string
}

type capRule struct {
	channel string
	chKey   uint64
	max     int
	per     int64
	perText string
}

// CapUse is the state of one frequency cap on a decision: the sends on
// Channel within the last Per before the decision, and the cap.
type CapUse struct {
	Channel string
	Used    int
	Max     int
	Per     time.Duration
}

func (e *Engine) compilePolicy(cfg *config.Config, set *features.Set) error {
	cp := cfg.Decide.ContactPolicy
	p := &e.policy
	p.suppress = int64(cp.SuppressAfterDismissal)
	for _, c := range cp.Caps {
		p.caps = append(p.caps, capRule{channel: c.Channel, chKey: nameKey(c.Channel), max: c.Max, per: int64(c.Per),
			perText: periodText(c.Per)})
		p.horizon = max(p.horizon, int64(c.Per))
	}
	q := cp.QuietHours
	p.tzAttr = -1
	if q.From != "" || q.To != "" {
		from, ok1 := config.ClockMinutes(q.From)
		to, ok2 := config.ClockMinutes(q.To)
		if !ok1 || !ok2 {
			return cfg.ErrorAt("decide.contact_policy.quiet_hours", "decide.contact_policy.quiet_hours: from and to must be HH:MM, e.g. from: \"21:00\", to: \"08:00\"")
		}
		p.quietOn, p.quietFrom, p.quietTo = from != to, from, to
		p.quietChannels = q.Channels
	}
	name := q.DefaultTimezone
	if name == "" {
		name = "UTC"
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return cfg.ErrorAt("decide.contact_policy.quiet_hours.default_timezone", "decide.contact_policy.quiet_hours.default_timezone: %v; write an IANA zone such as Europe/Berlin", err)
	}
	p.defaultTZ, p.defaultTZName = loc, name
	p.fallbackReason = "timezone: the profile's zone is unknown, used " + name
	if q.TimezoneAttribute != "" {
		if i, ok := set.AttributeIndex(q.TimezoneAttribute); ok {
			p.tzAttr = i
		} else if p.quietOn {
			return cfg.ErrorAt("decide.contact_policy.quiet_hours.timezone_attribute", "decide.contact_policy.quiet_hours.timezone_attribute: %q is not a profile attribute; list it under profile.attributes", q.TimezoneAttribute)
		}
	}
	return nil
}

// quiet reports whether local minute m falls in the quiet hours; the
// interval is [from, to), spanning midnight when from > to.
func (p *policy) quiet(m int) bool {
	if p.quietFrom < p.quietTo {
		return m >= p.quietFrom && m < p.quietTo
	}
	return m >= p.quietFrom || m < p.quietTo
}

// maxZones bounds a Decider's cache of time zones by name, so that
// arbitrary profile values cannot grow it without limit.
const maxZones = 512

// location returns the customer's zone; fallback is true when the
// profile names a zone that does not exist (the default is used).
func (d *Decider) location(p features.Profile) (loc *time.Location, fallback bool) {
	pol := &d.e.policy
	if pol.tzAttr < 0 {
		return pol.defaultTZ, false
	}
	name, ok := p.Str(pol.tzAttr)
	if !ok || len(name) == 0 {
		return pol.defaultTZ, false
	}
	if loc, ok := d.zones[string(name)]; ok {
		if loc == nil {
			return pol.defaultTZ, true
		}
		return loc, false
	}
	loc, err := time.LoadLocation(string(name))
	if err != nil {
		loc = nil
	}
	if len(d.zones) < maxZones {
		d.zones[string(name)] = loc
	}
	if loc == nil {
		return pol.defaultTZ, true
	}
	return loc, false
}

// localMinute is the minute after local midnight of now in loc (DST-aware).
func localMinute(now int64, loc *time.Location) int {
	t := time.Unix(0, now).In(loc)
	return t.Hour()*60 + t.Minute()
}

// periodText writes a cap window for reasons: whole days as "7d".
func periodText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}
