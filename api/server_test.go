package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/meridian/meridian/internal/metrics"
)

func TestEndpoints(t *testing.T) {
	reg := metrics.NewRegistry()
	reg.Counter("meridian_events_total", "Events.").Add(5)
	var ready atomic.Bool
	s, err := New(Config{Addr: "127.0.0.1:0", Registry: reg, Ready: ready.Load})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Shutdown(context.Background())
	base := "http://" + s.Addr()
	get := func(path string) (int, string, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if code, _, _ := get("/healthz"); code != 200 {
		t.Errorf("healthz %d", code)
	}
	if code, _, body := get("/readyz"); code != 503 || !strings.Contains(body, `"code":"not_ready"`) {
		t.Errorf("readyz before ready: %d %s", code, body)
	}
	ready.Store(true)
	if code, _, _ := get("/readyz"); code != 200 {
		t.Errorf("readyz when ready: %d", code)
	}
	if code, ct, body := get("/metrics"); code != 200 || !strings.HasPrefix(ct, "text/plain") ||
		!strings.Contains(body, "meridian_events_total 5\n") {
		t.Errorf("metrics %d %q %s", code, ct, body)
	}
	code, ct, body := get("/nope")
	var e map[string]string
	if code != 404 || ct != "application/json" || json.Unmarshal([]byte(body), &e) != nil || e["code"] != "not_found" {
		t.Errorf("unknown path: %d %q %s", code, ct, body)
	}
}

func TestListenErrorNamesAddress(t *testing.T) {
	s, err := New(Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.ln.Close()
	_, err = New(Config{Addr: s.Addr()})
	if err == nil || !strings.Contains(err.Error(), s.Addr()) {
		t.Fatalf("second listen on %s: %v", s.Addr(), err)
	}
}

// fakeCustomers holds c-1 (and c-far when it owns it), never answers for
// "stuck", and says c-far belongs to owner unless it is the owner.
type fakeCustomers struct {
	owner string
	isFar bool
}

func (f fakeCustomers) OwnerAddr(_ context.Context, id string) (string, bool, error) {
	if id == "c-far" && !f.isFar {
		return f.owner, false, nil
	}
	return "", true, nil
}

func (f fakeCustomers) CustomerJSON(ctx context.Context, id string) ([]byte, bool, error) {
	switch {
	case id == "c-far" && f.isFar:
		return []byte(`{"customer_id":"c-far"}`), true, nil
	case id == "c-1":
		return []byte(`{"customer_id":"c-1"}`), true, nil
	case id == "stuck":
		<-ctx.Done() // the owning task never answers
		return nil, false, ctx.Err()
	}
	return nil, false, nil
}

func TestCustomerEndpoint(t *testing.T) {
	s, err := New(Config{Addr: "127.0.0.1:0", Customers: fakeCustomers{}})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Shutdown(context.Background())
	for _, tc := range []struct {
		path string
		code int
		body string
	}{
		{"/v1/customers/c-1", 200, `{"customer_id":"c-1"}`},
		{"/v1/customers/c-2", 404, `{"code":"not_found","error":"customer not found"}`},
		{"/v1/customers/stuck", 503, `"code":"unavailable"`},
		{"/v1/customers/" + strings.Repeat("x", 129), 400, `"code":"bad_request"`},
	} {
		resp, err := http.Get("http://" + s.Addr() + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.body) ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q %s", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
}

// TestForwardToOwner: a request for a customer another instance owns is
// forwarded once, and the owner's answer comes back.
func TestForwardToOwner(t *testing.T) {
	owner, err := New(Config{Addr: "127.0.0.1:0", Customers: fakeCustomers{isFar: true}})
	if err != nil {
		t.Fatal(err)
	}
	go owner.Serve()
	defer owner.Shutdown(context.Background())
	front, err := New(Config{Addr: "127.0.0.1:0", Customers: fakeCustomers{owner: owner.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	go front.Serve()
	defer front.Shutdown(context.Background())
	resp, err := http.Get("http://" + front.Addr() + "/v1/customers/c-far")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"customer_id":"c-far"}` {
		t.Errorf("forwarded: %d %s", resp.StatusCode, b)
	}
	// An owner that is gone: a JSON 502 naming it, not a hang.
	gone, _ := New(Config{Addr: "127.0.0.1:0", Customers: fakeCustomers{owner: "127.0.0.1:1"}})
	go gone.Serve()
	defer gone.Shutdown(context.Background())
	resp, err = http.Get("http://" + gone.Addr() + "/v1/customers/c-far")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 502 || !strings.Contains(string(b), `"code":"owner_unreachable"`) {
		t.Errorf("owner gone: %d %s", resp.StatusCode, b)
	}
	// A forwarded request reaching an instance that does not own the
	// customer (a stale view during a rebalance): 503, retry; never 404.
	req, _ := http.NewRequest("GET", "http://"+front.Addr()+"/v1/customers/c-far", nil)
	req.Header.Set(forwardedHeader, "1")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(b), `"code":"not_owner"`) {
		t.Errorf("forwarded to a non-owner: %d %s", resp.StatusCode, b)
	}
}
