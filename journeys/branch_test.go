package journeys

import (
	"strings"
	"testing"

	"github.com/meridian/meridian/config"
	"github.com/meridian/meridian/features"
)

const branchJourney = `
  - id: vip_followup
    trigger: {event: search}
    reentry: {policy: always}
    steps:
      - {id: pause, wait: {for: 1m}}
      - {id: check, branch: {when: 'profile.segment == "vip" && features.searches_1h >= 1', then: vip_call, else: end}}
      - {id: vip_call, decide: {actions: [vip_callback], channel: call_center}}
`

// TestBranchOnTimer: a branch after a timer reads the customer's facts,
// asked for through Advance's callback, and the decide step gets them too.
func TestBranchOnTimer(t *testing.T) {
	e := exampleEngine(t, branchJourney)
	set := exampleSet(t)
	seg, _ := set.AttributeIndex("segment")
	searches, _ := set.Index("searches_1h")
	feats := make([]float64, len(set.Names()))
	feats[searches] = 2
	vip := mapFacts{feats: feats, strs: map[int]string{seg: "vip"}}
	mass := mapFacts{feats: feats, strs: map[int]string{seg: "mass"}}
	r := newRun(t, e)
	r.script("ev search c1 +0s\nev search c2 +0s")
	asked := map[string]int{}
	rec := &recordingActor{}
	r.st.Advance(t0+int64(2*60e9), func(id []byte) Facts {
		asked[string(id)]++
		if string(id) == "c1" {
			return vip
		}
		return mass
	}, rec, &r.out)
	r.render()
	text := strings.Join(r.lines, "\n")
	for _, want := range []string{"c1 vip_followup", "check -> vip_call", "c2 vip_followup"} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	if strings.Count(text, "-> vip_call") != 1 || !strings.Contains(text, "c2 vip_followup "+newInstanceID([]byte("c2"), "vip_followup", []byte("e2")).String()+": check -> end") {
		t.Errorf("want c1 to the call and c2 to the end:\n%s", text)
	}
	if asked["c1"] != 1 || asked["c2"] != 1 {
		t.Errorf("facts asked %v, want once per customer's timer", asked)
	}
	if len(rec.reqs) != 1 || rec.reqs[0].Channel != "call_center" || rec.reqs[0].Kind != Decide || rec.reqs[0].Facts == nil {
		t.Errorf("requests %+v", rec.reqs)
	}
}

type recordingActor struct{ reqs []Request }

func (a *recordingActor) Act(r *Request) Result {
	a.reqs = append(a.reqs, *r)
	return Result{}
}

// TestNewPlacesConditionErrors: a condition that does not compile is
// reported at its place in the file.
func TestNewPlacesConditionErrors(t *testing.T) {
	data := exampleYAML(strings.Replace(branchJourney, "features.searches_1h", "features.searches_2h", 1))
	cfg, err := config.Parse("meridian.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	set, err := features.NewSet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(cfg, set)
	if err == nil || !strings.Contains(err.Error(), "journeys[3].steps[1].branch.when: column") ||
		!strings.Contains(err.Error(), `"searches_2h" is not a feature`) || !strings.HasPrefix(err.Error(), "meridian.yaml:") {
		t.Errorf("error %v", err)
	}
}

// TestGoalSurvivesFailedTrigger: a trigger whose condition fails does not
// replace an ended instance still waiting for its goal.
func TestGoalSurvivesFailedTrigger(t *testing.T) {
	e := exampleEngine(t, `
  - id: promo
    trigger: {event: search, when: 'attrs.x > 0'}
    reentry: {policy: always}
    goal: {event: purchase, within: 240h}
    steps: [{id: promo_push, send: promo_push}]
`)
	r := newRun(t, e)
	r.script("ev search c1 +0s x=1\nev search c1 +1h x=0\nev purchase c1 +2h")
	text := strings.Join(r.lines, "\n")
	if !strings.Contains(text, "GOAL promo") || !strings.Contains(text, "credit=promo_push") {
		t.Errorf("goal not credited to the first instance:\n%s", text)
	}
	if strings.Count(text, "-> promo_push") != 1 {
		t.Errorf("the failed trigger started an instance:\n%s", text)
	}
}
