package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/meridian/meridian/api"
)

// requestError is a decision request the pipeline refuses, with the HTTP
// status and code the API answers with.
type requestError struct {
	status int
	code   string
	msg    string
}

func (e *requestError) Error() string   { return e.msg }
func (e *requestError) HTTPStatus() int { return e.status }
func (e *requestError) Code() string    { return e.code }

// requests numbers API decisions, which have no event to derive their id
// from: with the instance's start time, it keeps ids unique.
var requests atomic.Uint64

// DecideJSON answers POST /v1/decide on the task owning the customer (by
// Kafka's default partitioner, as OwnerAddr): it decides among the
// catalogue's actions (on req.Channel, if set) as of the task's now,
// reserving the chosen action's contact, and returns the action record or
// the decision that chose nothing.
func (p *Pipeline) DecideJSON(ctx context.Context, req *api.DecideRequest) ([]byte, error) {
	if eng := p.env.Engine(); req.Channel != "" && eng != nil && !slices.Contains(eng.Channels(), req.Channel) {
		return nil, &requestError{http.StatusBadRequest, "unknown_channel",
			fmt.Sprintf("no action of the catalogue is on channel %q; channels with actions: %v", req.Channel, eng.Channels())}
	}
	n := p.partitions.Load()
	if n == 0 {
		return nil, ErrNoTasks
	}
	part := PartitionOf([]byte(req.CustomerID), int(n))
	p.mu.Lock()
	t := p.tasks[part]
	p.mu.Unlock()
	if t == nil {
		return nil, &requestError{http.StatusServiceUnavailable, "not_owner",
			"this instance does not own the customer (the group is rebalancing); retry"}
	}
	reqID := strconv.AppendUint(strconv.AppendInt(nil, p.started.UnixNano(), 36), requests.Add(1), 36)
	answer := make(chan []byte, 1)
	if !t.ask(ctx, func() {
		answer <- t.proc.DecideAPI(nil, []byte(req.CustomerID), req.Channel, req.Context, t.clock(), reqID)
	}) {
		return nil, fmt.Errorf("the task owning partition %d did not take the request: %w", part, context.Cause(ctx))
	}
	select {
	case b := <-answer:
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
