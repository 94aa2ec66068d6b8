package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
	"unicode/utf8"
)

// DecideRequest is the body of POST /v1/decide (contracts/actions.md).
type DecideRequest struct {
	CustomerID string `json:"customer_id"`
	// Channel restricts the decision to one channel; empty allows any.
	Channel string `json:"channel"`
	// Context is what the inbound contact knows (e.g. reason: billing);
	// eligibility rules and context weights read it as context.NAME.
	Context map[string]string `json:"context"`
}

// Decisions answers synchronous decision requests; the pipeline
// implements it.
type Decisions interface {
	// DecideJSON decides for req on the task owning the customer, which
	// must be local, and returns the response body: an action record, or
	// {"decision_id":...,"action_id":null,"reason":...}. An error with
	// HTTPStatus and Code methods is answered with that status and code.
	DecideJSON(ctx context.Context, req *DecideRequest) ([]byte, error)
	// OwnerAddr is as in Customers.
	OwnerAddr(ctx context.Context, id string) (addr string, local bool, err error)
}

// Reloader replaces models (and the rest of the decisioning config) at run
// time; a bad file leaves the running ones in place and returns an error
// saying what is wrong.
type Reloader func(ctx context.Context) (summary string, err error)

// StatusError is an error the API answers with its own status and code.
type StatusError interface {
	error
	HTTPStatus() int
	Code() string
}

// maxDecideBody bounds a decision request: a customer id, a channel and a
// small context.
const maxDecideBody = 64 << 10

// decideTimeout bounds a decision: the owning task answers between batches.
const decideTimeout = 2 * time.Second

func (s *Server) decide(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxDecideBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "cannot read the request body: "+err.Error())
		return
	}
	if len(body) > maxDecideBody {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body over %d bytes", maxDecideBody))
		return
	}
	var req DecideRequest
	if msg := parseDecideRequest(body, &req); msg != "" {
		writeError(w, http.StatusBadRequest, "bad_request", msg)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), decideTimeout)
	defer cancel()
	addr, local, err := s.cfg.Decisions.OwnerAddr(ctx, req.CustomerID)
	switch {
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "unavailable", "cannot find the instance owning the customer: "+err.Error())
		return
	case !local && r.Header.Get(forwardedHeader) != "":
		writeError(w, http.StatusServiceUnavailable, "not_owner", "this instance does not own the customer (the group is rebalancing); retry")
		return
	case !local:
		s.forwardRequest(ctx, w, http.MethodPost, addr, r.URL.Path, body)
		return
	}
	out, err := s.cfg.Decisions.DecideJSON(ctx, &req)
	var se StatusError
	switch {
	case errors.As(err, &se):
		writeError(w, se.HTTPStatus(), se.Code(), se.Error())
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "unavailable", "cannot decide for the customer now: "+err.Error())
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
	}
}

// parseDecideRequest decodes and checks a request; it returns what is
// wrong with it, or "".
func parseDecideRequest(body []byte, req *DecideRequest) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		return "the body must be a JSON object like {\"customer_id\":\"c-1042\",\"channel\":\"call_center\",\"context\":{\"reason\":\"billing\"}}: " + err.Error()
	}
	if dec.More() {
		return "the body must hold one JSON object"
	}
	switch id := req.CustomerID; {
	case id == "" || len(id) > 128:
		return "customer_id must be 1-128 bytes"
	case !utf8.ValidString(id) || hasControl(id):
		return "customer_id must be UTF-8 without control characters"
	}
	if len(req.Channel) > 64 {
		return "channel must be at most 64 bytes"
	}
	if len(req.Context) > 64 {
		return "context may hold at most 64 keys"
	}
	return ""
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	summary, err := s.cfg.Reload(ctx)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "reload_failed", "nothing was replaced: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "reloaded", "loaded": summary})
}
