package features

// Profile reads one customer's profile and consent without allocating. It
// is valid until the next call on the Store that returned it.
type Profile struct {
	p   *profile
	set *Set
}

// Profile returns the profile of a customer; ok is false for an unknown
// customer. A profile section that cannot be decoded reads as empty (and
// is counted as dropped state, like a bad feature section).
func (st *Store) Profile(customerID []byte) (Profile, bool) {
	_, idx := st.lookup(customerID)
	if idx < 0 {
		return Profile{}, false
	}
	_, secs := st.sections(&st.custs[idx])
	for range st.set.feats {
		_, secs = nextSection(secs)
	}
	sec, _ := nextSection(secs)
	if !st.prof.decode(st.set, sec) {
		st.dropped++
		st.prof.reset(st.set)
	}
	return Profile{p: &st.prof, set: st.set}, true
}

// Num is the numeric value of profile attribute i (Set.Attributes order).
func (p Profile) Num(i int) (float64, bool) {
	if p.p == nil || i < 0 || i >= len(p.p.attrs) || p.p.attrs[i].kind != pvNum {
		return 0, false
	}
	return p.p.attrs[i].num, true
}

// Str is the string value of profile attribute i; the bytes are valid
// until the next call on the Store.
func (p Profile) Str(i int) ([]byte, bool) {
	if p.p == nil || i < 0 || i >= len(p.p.attrs) || p.p.attrs[i].kind != pvStr {
		return nil, false
	}
	return p.p.attrs[i].str, true
}

// Bool is the boolean value of profile attribute i.
func (p Profile) Bool(i int) (v, ok bool) {
	if p.p == nil || i < 0 || i >= len(p.p.attrs) {
		return false, false
	}
	switch p.p.attrs[i].kind {
	case pvTrue:
		return true, true
	case pvFalse:
		return false, true
	}
	return false, false
}

// Consent reports whether channel i (Set.ConsentChannels order) is
// granted: consent is granted unless the latest consent event refused it.
// A customer never seen (the zero Profile) has the default, granted.
func (p Profile) Consent(i int) bool {
	if p.p == nil || i < 0 || i >= len(p.p.consent) {
		return true
	}
	return p.p.consent[i].kind != pvFalse
}

// Attributes are the configured profile attribute names, in the order
// Profile.Num, Str and Bool index them.
func (s *Set) Attributes() []string { return s.attrs }

// ConsentChannels are the configured consent channels, in the order
// Profile.Consent indexes them.
func (s *Set) ConsentChannels() []string { return s.consent.Channels }

// AttributeIndex is the index of a profile attribute by name.
func (s *Set) AttributeIndex(name string) (int, bool) {
	for i, a := range s.attrs {
		if a == name {
			return i, true
		}
	}
	return -1, false
}

// ConsentIndex is the index of a consent channel by name.
func (s *Set) ConsentIndex(channel string) (int, bool) {
	for i, c := range s.consent.Channels {
		if c == channel {
			return i, true
		}
	}
	return -1, false
}
