package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeDecisions owns every customer but c-far (unless isFar), answers with
// the request echoed, and refuses the channel "fax" with a StatusError.
type fakeDecisions struct {
	owner string
	isFar bool
}

type channelError struct{ ch string }

func (e channelError) Error() string   { return "unknown channel " + e.ch }
func (e channelError) HTTPStatus() int { return http.StatusBadRequest }
func (e channelError) Code() string    { return "unknown_channel" }

func (f fakeDecisions) OwnerAddr(_ context.Context, id string) (string, bool, error) {
	if id == "c-far" && !f.isFar {
		return f.owner, false, nil
	}
	return "", true, nil
}

func (f fakeDecisions) DecideJSON(_ context.Context, req *DecideRequest) ([]byte, error) {
	if req.Channel == "fax" {
		return nil, channelError{req.Channel}
	}
	if req.CustomerID == "broken" {
		return nil, errors.New("task stopped")
	}
	return []byte(`{"decision_id":"d-1","customer_id":"` + req.CustomerID + `","channel":"` + req.Channel +
		`","reason":"` + req.Context["reason"] + `"}`), nil
}

func post(t *testing.T, url, body string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("POST %s %s: content type %q", url, body, ct)
	}
	return resp.StatusCode, string(b)
}

func TestDecideEndpoint(t *testing.T) {
	owner, _ := New(Config{Addr: "127.0.0.1:0", Decisions: fakeDecisions{isFar: true}})
	go owner.Serve()
	defer owner.Shutdown(context.Background())
	s, err := New(Config{Addr: "127.0.0.1:0", Decisions: fakeDecisions{owner: owner.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Shutdown(context.Background())
	url := "http://" + s.Addr() + "/v1/decide"
	for _, tc := range []struct {
		body string
		code int
		want string
	}{
		{`{"customer_id":"c-1","channel":"call_center","context":{"reason":"billing"}}`, 200,
			`{"decision_id":"d-1","customer_id":"c-1","channel":"call_center","reason":"billing"}`},
		// forwarded to the owner, which answers
		{`{"customer_id":"c-far","channel":"web"}`, 200, `"customer_id":"c-far","channel":"web"`},
		{`{"customer_id":"c-1","channel":"fax"}`, 400, `"code":"unknown_channel"`},
		{`{"customer_id":"broken"}`, 503, `"code":"unavailable"`},
		{`{"customer_id":""}`, 400, `customer_id must be 1-128 bytes`},
		{`{"customer_id":"c\u0001"}`, 400, `control characters`},
		{`{"customer_id":"c-1","chanel":"sms"}`, 400, `unknown field`},
		{`{"customer_id":"c-1","context":{"reason":3}}`, 400, `"code":"bad_request"`},
		{`not json`, 400, `"code":"bad_request"`},
		{`{"customer_id":"c-1"} {}`, 400, `one JSON object`},
		{`{"customer_id":"` + strings.Repeat("x", 70000) + `"}`, 413, `"code":"too_large"`},
	} {
		code, body := post(t, url, tc.body)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("POST %.60s: %d %s, want %d with %s", tc.body, code, body, tc.code, tc.want)
		}
	}
	// A forwarded request reaching a non-owner: 503 not_owner, no loop.
	code, body := post(t, url, `{"customer_id":"c-far"}`, forwardedHeader, "1")
	if code != 503 || !strings.Contains(body, `"code":"not_owner"`) {
		t.Errorf("forwarded to a non-owner: %d %s", code, body)
	}
}

func TestReloadEndpoint(t *testing.T) {
	var fail atomic.Bool
	s, _ := New(Config{Addr: "127.0.0.1:0", Reload: func(context.Context) (string, error) {
		if fail.Load() {
			return "", errors.New("models/x.json: not a model")
		}
		return "3 models", nil
	}})
	go s.Serve()
	defer s.Shutdown(context.Background())
	url := "http://" + s.Addr() + "/v1/admin/reload"
	if code, body := post(t, url, ""); code != 200 || !strings.Contains(body, `"loaded":"3 models"`) {
		t.Errorf("reload: %d %s", code, body)
	}
	fail.Store(true)
	if code, body := post(t, url, ""); code != 422 || !strings.Contains(body, "nothing was replaced: models/x.json: not a model") {
		t.Errorf("bad reload: %d %s", code, body)
	}
}
