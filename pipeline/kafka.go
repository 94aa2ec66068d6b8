package pipeline

import (
	"crypto/tls"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/meridian/meridian/config"
)

// KafkaOpts returns the client options every Meridian Kafka client shares:
// brokers, client id, TLS and SASL. brokers overrides cfg.Brokers when set
// (the embedded broker of `meridian dev`).
func KafkaOpts(cfg *config.Config, brokers ...string) ([]kgo.Opt, error) {
	if len(brokers) == 0 {
		brokers = cfg.Brokers
	}
	if len(brokers) == 0 {
		return nil, fmt.Errorf("no Kafka brokers: set brokers in the config, or use `meridian dev` for an embedded broker")
	}
	opts := []kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ClientID(cfg.ClientID)}
	if cfg.Kafka.TLS {
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	s := cfg.Kafka.SASL
	switch s.Mechanism {
	case "":
	case "plain":
		opts = append(opts, kgo.SASL(plain.Auth{User: s.Username, Pass: s.Password}.AsMechanism()))
	case "scram-sha-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: s.Username, Pass: s.Password}.AsSha256Mechanism()))
	case "scram-sha-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: s.Username, Pass: s.Password}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("unknown SASL mechanism %q; use plain, scram-sha-256 or scram-sha-512", s.Mechanism)
	}
	return opts, nil
}
