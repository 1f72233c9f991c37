package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKill9LosesNoAcknowledgedRecord kills the server with SIGKILL many
// times while a producer writes, restarts it on the same data, and checks
// that every acknowledged record is there, and that the log reads cleanly.
func TestKill9LosesNoAcknowledgedRecord(t *testing.T) {
	srv := start(t, "--override", "num.partitions=4")
	ctx := ctxFor(t, 4*time.Minute)
	createTopic(t, ctx, srv.Addr(), "crash", 4, nil)
	acked := map[string]bool{}
	var mu sync.Mutex
	seq := 0
	const rounds = 8
	for round := 0; round < rounds; round++ {
		for _, acks := range []kgo.Acks{kgo.AllISRAcks(), kgo.LeaderAck()} {
			opts := []kgo.Opt{kgo.DefaultProduceTopic("crash"), kgo.RequiredAcks(acks), kgo.RecordRetries(2),
				kgo.ProduceRequestTimeout(2 * time.Second), kgo.RetryTimeout(2 * time.Second)}
			if acks != kgo.AllISRAcks() {
				opts = append(opts, kgo.DisableIdempotentWrite())
			}
			p, err := kgo.NewClient(append(opts, kgo.SeedBrokers(srv.Addr()))...)
			if err != nil {
				t.Fatal(err)
			}
			roundCtx, cancelRound := context.WithCancel(ctx)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					v := fmt.Sprintf("r%d-%d", round, seq)
					seq++
					p.Produce(roundCtx, &kgo.Record{Value: []byte(v)}, func(r *kgo.Record, err error) {
						if err == nil {
							mu.Lock()
							acked[string(r.Value)] = true
							mu.Unlock()
						}
					})
				}
			}()
			time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond)
			srv.Kill()
			close(stop)
			cancelRound()
			wg.Wait()
			p.Close() // fails what is outstanding: those were never acknowledged
			srv.Start()
		}
	}
	mu.Lock()
	want := len(acked)
	mu.Unlock()
	if want == 0 {
		t.Fatal("nothing was acknowledged")
	}
	c := client(t, srv.Addr(), kgo.ConsumeTopics("crash"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	offsets, err := kadmEnd(ctx, c, "crash")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, o := range offsets {
		total += o
	}
	seen := map[string]bool{}
	var read int64
	for read < total {
		fs := c.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records", read, total)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("%s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) { read++; seen[string(r.Value)] = true })
	}
	missing := 0
	for v := range acked {
		if !seen[v] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged records lost", missing, want)
	}
	t.Logf("%d rounds: %d records acknowledged, all %d present after restarts (%d in the log)", rounds*2, want, want, total)
}
