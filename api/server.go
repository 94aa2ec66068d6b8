// Package api is Meridian's HTTP server: health, readiness, metrics and the
// customer view; the decision API joins them on the same port.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/meridian/meridian/internal/metrics"
)

// Config is what the server needs from its owner.
type Config struct {
	Addr     string
	Registry *metrics.Registry
	// Ready reports whether the instance should receive traffic.
	Ready func() bool
	// Customers serves GET /v1/customers/{id}; nil leaves it out.
	Customers Customers
	// Decisions serves POST /v1/decide; nil leaves it out.
	Decisions Decisions
	// Reload serves POST /v1/admin/reload; nil leaves it out.
	Reload Reloader
	Logger *slog.Logger
}

// Server serves the operations endpoints.
type Server struct {
	cfg    Config
	srv    *http.Server
	ln     net.Listener
	client *http.Client // for forwarding to other instances
}

// New binds the listener, so that a busy port is reported at start and
// Addr is known (":0" picks a free port).
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Ready == nil {
		cfg.Ready = func() bool { return true }
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen for HTTP on %s: %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, ln: ln, client: &http.Client{Timeout: customerTimeout}}
	s.srv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)}
	return s, nil
}

// Attach connects the server to what it serves, once created: the server
// binds first so that its address can be advertised. decisions and reload
// may be nil.
func (s *Server) Attach(ready func() bool, customers Customers, decisions Decisions, reload Reloader) {
	s.cfg.Ready, s.cfg.Customers, s.cfg.Decisions, s.cfg.Reload = ready, customers, decisions, reload
	s.srv.Handler = s.routes()
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Shutdown.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close releases the listener of a server that never served.
func (s *Server) Close() error { return s.ln.Close() }

// Shutdown stops accepting requests and waits for those in flight.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.cfg.Ready() {
			writeError(w, http.StatusServiceUnavailable, "not_ready", "not ready: not connected to Kafka or shutting down")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if s.cfg.Registry != nil {
			_ = s.cfg.Registry.WriteText(w)
		}
	})
	if s.cfg.Customers != nil {
		mux.HandleFunc("GET /v1/customers/{id}", s.customer)
	}
	if s.cfg.Decisions != nil {
		mux.HandleFunc("POST /v1/decide", s.decide)
	}
	if s.cfg.Reload != nil {
		mux.HandleFunc("POST /v1/admin/reload", s.reload)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return recoverJSON(s.cfg.Logger, mux)
}

// recoverJSON turns a handler panic into a JSON 500: a client never sees a
// stack trace, and the log keeps it.
func recoverJSON(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("BUG: HTTP handler panicked", "path", r.URL.Path, "panic", v)
				writeError(w, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// writeError writes the contract's error shape {"error":..., "code":...}.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": msg, "code": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Customers answers for customers; the pipeline implements it.
type Customers interface {
	// CustomerJSON returns the customer view, or found false for a
	// customer the instance holds no state for.
	CustomerJSON(ctx context.Context, id string) (body []byte, found bool, err error)
	// OwnerAddr returns the HTTP address of the instance owning the
	// customer, or local true when it is this one.
	OwnerAddr(ctx context.Context, id string) (addr string, local bool, err error)
}

// forwardedHeader marks a request one instance forwarded to another, which
// then answers itself rather than forwarding again.
const forwardedHeader = "X-Meridian-Forwarded"

// customerTimeout bounds a customer-view request: the owning task answers
// between batches, so a longer wait means it is stuck or gone.
const customerTimeout = 2 * time.Second

func (s *Server) customer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" || len(id) > 128 {
		writeError(w, http.StatusBadRequest, "bad_request", "customer id must be 1-128 bytes")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), customerTimeout)
	defer cancel()
	body, found, err := s.cfg.Customers.CustomerJSON(ctx, id)
	if err == nil && !found {
		addr, local, oerr := s.cfg.Customers.OwnerAddr(ctx, id)
		switch {
		case oerr != nil:
			err = oerr
		case !local && r.Header.Get(forwardedHeader) != "":
			// Forwarded here on a stale view of the group: say so, so that
			// the client retries, rather than claim the customer is unknown.
			writeError(w, http.StatusServiceUnavailable, "not_owner", "this instance does not own the customer (the group is rebalancing); retry")
			return
		case !local:
			s.forwardRequest(ctx, w, http.MethodGet, addr, r.URL.Path, nil)
			return
		}
	}
	switch {
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "unavailable", "cannot answer for the customer now: "+err.Error())
	case !found:
		writeError(w, http.StatusNotFound, "not_found", "customer not found")
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	}
}

// forwardRequest relays a request for a customer another instance owns
// and copies its answer.
func (s *Server) forwardRequest(ctx context.Context, w http.ResponseWriter, method, addr, path string, body []byte) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "cannot forward: "+err.Error())
		return
	}
	req.Header.Set(forwardedHeader, "1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		writeError(w, http.StatusBadGateway, "owner_unreachable", "the instance owning this customer ("+addr+") did not answer: "+err.Error())
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, 1<<20))
}
