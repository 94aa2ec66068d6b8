// Package chtest starts throwaway clickhouse-server processes for
// integration tests: free ports, a temp data dir, stopped by t.Cleanup. It
// uses the system's config.xml and users.xml and overrides every path and
// port on the command line, so it never touches the system server.
package chtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/meridian/meridian/internal/testkit"
)

// SystemConfig is the config file of Debian's clickhouse-server package.
const SystemConfig = "/etc/clickhouse-server/config.xml"

// startTimeout bounds how long a server may take to answer /ping.
const startTimeout = 60 * time.Second

// Server is one running (or killed) throwaway clickhouse-server.
type Server struct {
	bin, dir               string
	tcp, http, interserver int
	mu                     sync.Mutex
	cmd                    *exec.Cmd
	done                   chan struct{}
}

// Start starts a clickhouse-server on free loopback ports with a temp data
// dir and waits until it answers. The test fails under CI=true when
// clickhouse-server is not installed and is skipped elsewhere.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := testkit.RequireTool(t, "clickhouse-server")
	if _, err := os.Stat(SystemConfig); err != nil {
		t.Fatalf("clickhouse-server is installed but %s is missing (%v); reinstall the Debian package", SystemConfig, err)
	}
	s := &Server{bin: bin, dir: t.TempDir()}
	ports, err := freePorts(3)
	if err != nil {
		t.Fatalf("cannot find free ports: %v", err)
	}
	s.tcp, s.http, s.interserver = ports[0], ports[1], ports[2]
	for _, d := range []string{"tmp", "uf", "fs"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(s.stop)
	s.start(t)
	return s
}

// Addr is the native protocol address, host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.tcp)) }

// HTTPAddr is the HTTP interface address, host:port.
func (s *Server) HTTPAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.http)) }

// Kill stops the server with SIGKILL, as a crash would, and waits for it
// to exit. The data dir stays for Restart.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// Restart starts the server again on the same ports and data dir, after
// Kill, and waits until it answers.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Kill()
	s.start(t)
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	d := s.dir + "/"
	cmd := exec.Command(s.bin, "--config-file="+SystemConfig, "--",
		"--path="+d, "--tmp_path="+d+"tmp/", "--user_files_path="+d+"uf/",
		"--format_schema_path="+d+"fs/", "--tcp_port="+strconv.Itoa(s.tcp),
		"--http_port="+strconv.Itoa(s.http), "--interserver_http_port="+strconv.Itoa(s.interserver),
		"--logger.log="+d+"log", "--logger.errorlog="+d+"err", "--logger.console=0",
		"--mark_cache_size=268435456", "--listen_host=127.0.0.1")
	cmd.Dir = s.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start clickhouse-server: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	if err := s.waitReady(done); err != nil {
		errLog, _ := os.ReadFile(filepath.Join(s.dir, "err"))
		t.Fatalf("clickhouse-server did not start: %v\noutput:\n%s\nerror log:\n%s", err, out.String(), tail(errLog, 4000))
	}
}

func (s *Server) waitReady(done <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	url := "http://" + s.HTTPAddr() + "/ping"
	for {
		select {
		case <-done:
			return fmt.Errorf("it exited")
		case <-ctx.Done():
			return fmt.Errorf("no answer on %s within %v", url, startTimeout)
		case <-time.After(50 * time.Millisecond):
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
				c.Close()
				return nil
			}
		}
	}
}

// stop ends the server gracefully (SIGTERM), then with SIGKILL after 10 s.
func (s *Server) stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
