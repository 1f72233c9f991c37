// Package embed starts a real Sluice broker inside a Go program: the same
// code as `sluice server`, on a free 127.0.0.1 port, with its data in a
// directory you give or a temporary one. Use it in tests that want a real
// Kafka-compatible broker without a separate process.
//
//	b, err := embed.Start(ctx, embed.Options{})
//	if err != nil { ... }
//	defer b.Close()
//	client, _ := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
package embed

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sort"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/server"
)

// Options configure an embedded broker.
type Options struct {
	// DataDir holds the broker's data. Empty: a temporary directory,
	// removed by Close.
	DataDir string
	// Overrides are Kafka broker properties (e.g. "num.partitions": "3").
	Overrides map[string]string
	// Logger receives the broker's logs; nil discards them.
	Logger *slog.Logger
}

// Broker is a running embedded broker.
type Broker struct {
	s       *server.Server
	addr    string
	tempDir string
}

// Start starts a broker and returns once it accepts connections.
func Start(ctx context.Context, opts Options) (*Broker, error) {
	b := &Broker{}
	dir := opts.DataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "sluice-embed-")
		if err != nil {
			return nil, err
		}
		dir, b.tempDir = d, d
	}
	overrides := []string{"log.dirs=" + dir, "listeners=PLAINTEXT://127.0.0.1:0"}
	keys := make([]string, 0, len(opts.Overrides))
	for k := range opts.Overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		overrides = append(overrides, k+"="+opts.Overrides[k])
	}
	cfg, err := config.Load("", overrides)
	if err != nil {
		b.cleanup()
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := server.Start(ctx, cfg, logger)
	if err != nil {
		b.cleanup()
		return nil, err
	}
	b.s = s
	b.addr = s.Addrs()[0].String()
	return b, nil
}

// Addr returns the broker's host:port.
func (b *Broker) Addr() string { return b.addr }

// Close stops the broker (and removes a temporary data directory).
func (b *Broker) Close() error {
	err := b.s.Close()
	b.cleanup()
	return err
}

func (b *Broker) cleanup() {
	if b.tempDir != "" {
		os.RemoveAll(b.tempDir)
	}
}
