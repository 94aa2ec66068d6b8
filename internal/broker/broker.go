// Package broker runs the embedded Kafka-protocol broker (franz-go's kfake)
// that `meridian dev`, the benchmark and the tests use when no brokers are
// configured. It speaks the real protocol over TCP, so kcat and any other
// Kafka client can attach to it.
package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Config says where the broker listens and what it holds.
type Config struct {
	// Addr is HOST:PORT; port 0 picks a free one. Empty means 127.0.0.1:0.
	Addr string
	// DataDir keeps topics and committed offsets across restarts; empty
	// keeps everything in memory.
	DataDir string
	// Topics are created with Partitions partitions if they do not exist.
	Topics     []string
	Partitions int32
}

// Broker is a running embedded broker.
type Broker struct {
	c *kfake.Cluster
}

// Start starts the broker and creates the topics.
func Start(ctx context.Context, cfg Config) (*Broker, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("embedded broker address %q: %w; write HOST:PORT, e.g. 127.0.0.1:9092", cfg.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("embedded broker address %q: bad port; write HOST:PORT, e.g. 127.0.0.1:9092", cfg.Addr)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.DefaultNumPartitions(int(cfg.Partitions)),
		// Let groups detect a dead instance quickly (Kafka's floor is 6s).
		kfake.GroupMinSessionTimeout(time.Second),
		kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			_, p, _ := net.SplitHostPort(addr)
			return net.Listen(network, net.JoinHostPort(host, p))
		}),
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot start embedded broker on %s: %w", cfg.Addr, err)
	}
	b := &Broker{c: c}
	if err := b.createTopics(ctx, cfg.Topics, cfg.Partitions); err != nil {
		c.Close()
		return nil, err
	}
	return b, nil
}

// Addrs are the broker's listen addresses, for clients' seed brokers.
func (b *Broker) Addrs() []string { return b.c.ListenAddrs() }

// Close stops the broker, flushing its data dir.
func (b *Broker) Close() { b.c.Close() }

func (b *Broker) createTopics(ctx context.Context, topics []string, partitions int32) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addrs()...))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopics(ctx, partitions, 1, nil, topics...)
	if err != nil {
		return fmt.Errorf("cannot create topics on the embedded broker: %w", err)
	}
	for _, r := range resp.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("cannot create topic %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}
