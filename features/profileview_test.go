package features

import (
	"testing"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/event"
)

func TestProfileAccessor(t *testing.T) {
	c := config.Default()
	cfg := &c
	cfg.Profile.Attributes = []config.ProfileAttr{
		{Name: "timezone", Events: []string{"profile_updated"}},
		{Name: "tenure_days", Events: []string{"profile_updated"}},
	}
	cfg.Profile.Consent.Channels = []string{"email", "sms"}
	set, err := NewSet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := NewStore(set)
	if _, ok := st.Profile([]byte("c-1")); ok {
		t.Fatal("unknown customer has a profile")
	}
	upd := &event.Event{CustomerID: []byte("c-1"), EventID: []byte("e1"), Type: []byte("profile_updated"), TS: 1e9,
		Attrs: []event.Attr{{Key: []byte("timezone"), Kind: event.AttrString, Str: []byte("Europe/Paris")},
			{Key: []byte("tenure_days"), Kind: event.AttrNumber, Num: 42}}}
	st.Update(upd, 0)
	cons := &event.Event{CustomerID: []byte("c-1"), EventID: []byte("e2"), Type: []byte("consent_changed"), TS: 2e9,
		Attrs: []event.Attr{{Key: []byte("channel"), Kind: event.AttrString, Str: []byte("sms")},
			{Key: []byte("granted"), Kind: event.AttrBool, Bool: false}}}
	st.Update(cons, 0)
	p, ok := st.Profile([]byte("c-1"))
	if !ok {
		t.Fatal("no profile")
	}
	tz, _ := set.AttributeIndex("timezone")
	ten, _ := set.AttributeIndex("tenure_days")
	if s, ok := p.Str(tz); !ok || string(s) != "Europe/Paris" {
		t.Errorf("timezone = %q %v", s, ok)
	}
	if _, ok := p.Num(tz); ok {
		t.Error("a string attribute reads as a number")
	}
	if n, ok := p.Num(ten); !ok || n != 42 {
		t.Errorf("tenure_days = %v %v", n, ok)
	}
	em, _ := set.ConsentIndex("email")
	sms, _ := set.ConsentIndex("sms")
	if !p.Consent(em) || p.Consent(sms) {
		t.Errorf("consent email=%v sms=%v, want true false", p.Consent(em), p.Consent(sms))
	}
	if !(Profile{}).Consent(0) {
		t.Error("the zero profile refuses consent")
	}
}
