package config

import (
	"testing"
	"time"
)

// TestDecideErrors covers the checks of the decide section, with file,
// line and column.
func TestDecideErrors(t *testing.T) {
	f := func(name, data string, want ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			t.Helper()
			_, err := ParseWithEnv("m.yaml", []byte("decide:\n"+data), noEnv)
			checkErrs(t, err, want)
		})
	}
	f("action ids", "  actions:\n    - {id: a, channel: sms}\n    - {id: a, channel: sms}\n    - {id: A, channel: sms}\n",
		`m.yaml:4:12: decide.actions[1].id: "a" is already the id of decide.actions[0]; action ids must be unique`,
		`m.yaml:5:12: decide.actions[2].id: "A" is not an action id (a lower-case letter, then up to 63 of a-z, 0-9 and _); write e.g. id: cart_reminder_email`)
	f("action fields", "  actions:\n    - {id: a, channel: mail, model: nope, value: -1, weight: -2, on: [Add]}\n",
		`m.yaml:3:24: decide.actions[0].channel: "mail" is not a channel; did you mean "email"? write one of email, sms, push, web, app, call_center`,
		`m.yaml:3:37: decide.actions[0].model: "nope" is not a model; list it under decide.models, or write model: adaptive, or leave model out (propensity 1)`,
		`m.yaml:3:50: decide.actions[0].value must be 0 or more, got -1; write e.g. value: 2.5`,
		`m.yaml:3:62: decide.actions[0].weight must be greater than 0, got -2; write e.g. weight: 1.0 (the default)`,
		`m.yaml:3:71: decide.actions[0].on[0]: "Add" is not an event type (a lower-case letter, then up to 63 of a-z, 0-9, _ and .); write e.g. on: [checkout_start]`)
	f("action channel and ttl", "  actions:\n    - {id: a, channel: fax, ttl: -1h}\n    - {id: b}\n",
		`m.yaml:3:24: decide.actions[0].channel: "fax" is not a channel; write one of email, sms, push, web, app, call_center`,
		`m.yaml:3:34: decide.actions[0].ttl must be greater than 0, got -1h0m0s; write e.g. ttl: 24h`,
		`m.yaml:4:7: decide.actions[1].channel must not be empty; write one of email, sms, push, web, app, call_center`)
	f("models", "  models:\n    - {id: m, file: a.json}\n    - {id: m, file: ''}\n    - {id: adaptive, file: b.json}\n",
		`m.yaml:4:12: decide.models[1].id: "m" is listed twice; model ids must be unique`,
		`m.yaml:4:21: decide.models[1].file must not be empty; write e.g. file: models/cart_recovery.xgb.json`,
		`m.yaml:5:12: decide.models[2].id: "adaptive" is not a model id (a lower-case letter, then a-z, 0-9 and _; not "adaptive"); write e.g. id: cart_recovery`)
	f("adaptive", "  adaptive: {prior: {alpha: 0, beta: 1}, trials: [], draws: -1}\n",
		`m.yaml:2:14: decide.adaptive.prior: alpha and beta must be greater than 0, got 0 and 1; write e.g. prior: {alpha: 1, beta: 19} (a 5% starting rate)`,
		`m.yaml:2:42: decide.adaptive.trials: list at least one event type; write e.g. trials: [action_delivered]`,
		`m.yaml:2:61: decide.adaptive.draws must be between 0 and 1024, got -1; write e.g. draws: 16`)
	f("contact policy", "  contact_policy:\n    caps: [{channel: sms, max: -1, per: 0s}]\n    quiet_hours: {from: '9pm', to: '08:00', default_timezone: Mars/Base}\n",
		`m.yaml:3:32: decide.contact_policy.caps[0].max must be 0 or more, got -1; write e.g. max: 1`,
		`m.yaml:3:41: decide.contact_policy.caps[0].per must be between 1ns and 400d, got 0s; write e.g. per: 24h`,
		`m.yaml:4:25: decide.contact_policy.quiet_hours.from: "9pm" is not a time of day; write HH:MM, e.g. from: "21:00"`,
		`m.yaml:4:63: decide.contact_policy.quiet_hours.default_timezone: "Mars/Base" is not an IANA time zone; write e.g. default_timezone: Europe/Berlin`)
	f("experiments", "  actions: [{id: a, channel: sms}]\n  experiments:\n    - {id: x, actions: [a, b], arms: [{name: p, share: 0.5}, {name: q, share: 0.4, model: m}]}\n    - {id: y, arms: [{name: p, share: 1}]}\n",
		`m.yaml:4:28: decide.experiments[0].actions[1]: "b" is not an action of decide.actions`,
		`m.yaml:4:32: decide.experiments[0].arms: shares sum to 0.9; they must sum to 1`,
		`m.yaml:4:91: decide.experiments[0].arms[1].model: "m" is not a model; list it under decide.models`,
		`m.yaml:5:7: decide.experiments[1]: say which decisions it covers with actions: [...] or channel: NAME`,
		`m.yaml:5:15: decide.experiments[1].arms: list at least two arms, e.g. [{name: champion, share: 0.9}, {name: control, share: 0.1, control: true}]`)
}

func TestDecideDefaults(t *testing.T) {
	cfg, err := ParseWithEnv("m.yaml", []byte("decide:\n  actions: [{id: a, channel: sms}]\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Decide.Actions[0]
	if a.Weight != 1 || a.TTL != 24*time.Hour {
		t.Fatalf("weight %v ttl %v, want the defaults 1 and 24h", a.Weight, a.TTL)
	}
	ad := cfg.Decide.Adaptive
	if ad.Prior.Alpha != 1 || ad.Prior.Beta != 1 || ad.Draws != 16 || cfg.Decide.ContactPolicy.QuietHours.DefaultTimezone != "UTC" {
		t.Fatalf("adaptive %+v", ad)
	}
}
