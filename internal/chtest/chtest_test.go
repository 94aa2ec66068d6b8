package chtest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func query(t *testing.T, s *Server, q string) (string, error) {
	t.Helper()
	resp, err := http.Post("http://"+s.HTTPAddr()+"/", "text/plain", strings.NewReader(q))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), err
}

func TestStartKillRestartKeepsData(t *testing.T) {
	s := Start(t)
	for _, q := range []string{
		"CREATE TABLE default.t (x UInt32) ENGINE = MergeTree ORDER BY x",
		"INSERT INTO default.t VALUES (1), (2), (3)",
	} {
		if out, err := query(t, s, q); err != nil || out != "" {
			t.Fatalf("%s: %v %q", q, err, out)
		}
	}
	s.Kill()
	if _, err := query(t, s, "SELECT 1"); err == nil {
		t.Fatal("server still answers after Kill")
	}
	s.Restart(t)
	out, err := query(t, s, "SELECT sum(x) FROM default.t")
	if err != nil || out != "6" {
		t.Fatalf("after restart sum = %q, %v; want 6 (data dir kept)", out, err)
	}
}
