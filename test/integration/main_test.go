// Package integration holds black-box tests: each starts the real sluice
// binary as a separate process on a free 127.0.0.1 port with a temporary
// data directory, and drives it with real clients (franz-go, kcat).
package integration

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/clustertest"
)

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func client(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	c, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func createTopic(t *testing.T, ctx context.Context, addr, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	adm := kadm.NewClient(client(t, addr))
	resp, err := adm.CreateTopic(ctx, partitions, 1, configs, topic)
	if resp.Err != nil {
		t.Fatalf("create %s: %v (%s)", topic, resp.Err, resp.ErrMessage)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func needKcat(t *testing.T) string {
	path, err := exec.LookPath("kcat")
	if err != nil {
		path, err = exec.LookPath("kafkacat")
	}
	if err != nil {
		t.Skip("kcat not installed (the README's test command installs it)")
	}
	return path
}

func start(t *testing.T, extra ...string) *clustertest.Process {
	return clustertest.StartProcess(t, extra...)
}

// kadmEnd returns each partition's end offset.
func kadmEnd(ctx context.Context, c *kgo.Client, topic string) (map[int32]int64, error) {
	offs, err := kadm.NewClient(c).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	offs.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out, nil
}
