package pipeline

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// An instance advertises the HTTP address other instances forward its
// customers' requests to in its group client id, "CLIENT_ID@HOST:PORT",
// which the group coordinator reports with each member's assignment.
const advertiseSep = "@"

// owners caches which member address owns each partition number.
type owners struct {
	mu      sync.Mutex
	at      time.Time
	byPart  map[int32]string
	refresh time.Duration
}

// ownersTTL bounds how stale the partition owners may be: after a
// rebalance a forward may reach the previous owner for this long.
const ownersTTL = time.Second

// OwnerAddr returns the advertised HTTP address of the instance owning the
// customer's partition (by Kafka's default partitioner), or local true when
// this instance owns it.
func (p *Pipeline) OwnerAddr(ctx context.Context, id string) (addr string, local bool, err error) {
	n := p.partitions.Load()
	if n == 0 {
		return "", false, ErrNoTasks
	}
	part := PartitionOf([]byte(id), int(n))
	p.mu.Lock()
	_, local = p.tasks[part]
	p.mu.Unlock()
	if local {
		return "", true, nil
	}
	byPart, err := p.owners.get(ctx, p)
	if err != nil {
		return "", false, err
	}
	addr, ok := byPart[part]
	if !ok {
		return "", false, fmt.Errorf("no instance owns partition %d (the group is rebalancing)", part)
	}
	return addr, false, nil
}

func (o *owners) get(ctx context.Context, p *Pipeline) (map[int32]string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.byPart != nil && time.Since(o.at) < ownersTTL {
		return o.byPart, nil
	}
	groups, err := kadm.NewClient(p.cl).DescribeGroups(ctx, p.cfg.Group)
	if err != nil {
		return nil, fmt.Errorf("cannot describe group %s: %w", p.cfg.Group, err)
	}
	byPart := make(map[int32]string)
	for _, m := range groups[p.cfg.Group].Members {
		_, addr, ok := strings.Cut(m.ClientID, advertiseSep)
		ca, isConsumer := m.Assigned.AsConsumer()
		if !ok || !isConsumer {
			continue
		}
		for _, t := range ca.Topics {
			if t.Topic == p.cfg.Topics.Inputs[0] {
				for _, part := range t.Partitions {
					byPart[part] = addr
				}
			}
		}
	}
	o.byPart, o.at = byPart, time.Now()
	return byPart, nil
}
