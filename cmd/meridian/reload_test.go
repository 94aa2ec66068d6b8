package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meridian/meridian/internal/testkit"
)

// TestReloadBySignalAndEndpoint runs `meridian run`, breaks a model file
// and sends SIGHUP: the reload is refused, said in the log with the file,
// and the instance keeps deciding with the old models. With the file back
// and a new version in the config, POST /v1/admin/reload replaces them.
func TestReloadBySignalAndEndpoint(t *testing.T) {
	c := newCluster(t, "at_least_once")
	c.start(0)
	model := filepath.Join(c.dir, "models", "cart_recovery.xgb.json")
	good, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(model, []byte(`{"learner": "broken"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	proc := c.procs[0].Process
	c.mu.Unlock()
	if err := proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(c.dir, "instance-0.log")
	testkit.WaitFor(t, 10*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		return bytes.Contains(b, []byte("reload refused")) && bytes.Contains(b, []byte("cart_recovery.xgb.json"))
	}, func() string { b, _ := os.ReadFile(logPath); return "no refused reload in the log:\n" + string(b) })
	decide := func() (int, string) {
		resp, err := http.Post(c.url(0, "/v1/decide"), "application/json",
			strings.NewReader(`{"customer_id":"c-1","channel":"call_center","context":{"reason":"cancel"}}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, body := decide(); code != 200 || !strings.Contains(body, `"decision_id"`) {
		t.Fatalf("after a refused reload the instance does not decide: %d %s", code, body)
	}

	// The file back, under a new version: the endpoint reloads.
	if err := os.WriteFile(model, good, 0o644); err != nil {
		t.Fatal(err)
	}
	cfgText, _ := os.ReadFile(c.cfgPath)
	updated := strings.Replace(string(cfgText), `file: models/cart_recovery.xgb.json, version: "3"`,
		`file: models/cart_recovery.xgb.json, version: "7"`, 1)
	if updated == string(cfgText) {
		t.Fatal("examples/meridian.yaml no longer names cart_recovery version 3")
	}
	if err := os.WriteFile(c.cfgPath, []byte(updated), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(c.url(0, "/v1/admin/reload"), "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(b.String(), "cart_recovery@7") {
		t.Fatalf("reload: %d %s", resp.StatusCode, b.String())
	}
	if code, body := decide(); code != 200 {
		t.Fatalf("after the reload: %d %s", code, body)
	}
}
