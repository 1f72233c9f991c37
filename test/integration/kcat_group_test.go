package integration

import (
	"bufio"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKcatBalancedGroups: the quickstart's group scenario with librdkafka's
// balanced consumer (kcat -G): two groups of two consumers on a 3-partition
// topic; each group sees every message exactly once, split between its
// members.
func TestKcatBalancedGroups(t *testing.T) {
	kcat := needKcat(t)
	srv := start(t, "--override", "group.initial.rebalance.delay.ms=0")
	ctx := ctxFor(t, 2*time.Minute)
	createTopic(t, ctx, srv.Addr(), "walk", 3, nil)

	type line struct{ member, value string }
	var mu sync.Mutex
	seen := map[string][]line{} // group -> lines
	var cmds []*exec.Cmd
	for _, g := range []string{"g1", "g2"} {
		for m := 0; m < 2; m++ {
			member := fmt.Sprintf("%s-m%d", g, m)
			cmd := exec.CommandContext(ctx, kcat, "-b", srv.Addr(), "-G", g, "-u", "-f", "%p %o %s\n",
				"-X", "auto.offset.reset=earliest", "walk")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds = append(cmds, cmd)
			go func(g, member string) {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					mu.Lock()
					seen[g] = append(seen[g], line{member, sc.Text()})
					mu.Unlock()
				}
			}(g, member)
		}
	}
	t.Cleanup(func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	})

	// Produce once both groups are Stable with two members each, so no
	// rebalance replays anything.
	adm := kadm.NewClient(client(t, srv.Addr()))
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		groups, err := adm.DescribeGroups(ctx, "g1", "g2")
		ready := err == nil
		for _, g := range groups {
			ready = ready && g.State == "Stable" && len(g.Members) == 2
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("groups not stable with two members each: %v %+v", err, groups)
		}
	}
	p := client(t, srv.Addr(), kgo.DefaultProduceTopic("walk"))
	const n = 300
	for i := 0; i < n; i++ {
		p.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("msg-%d", i))}, nil)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		mu.Lock()
		done := len(seen["g1"]) >= n && len(seen["g2"]) >= n
		mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(500 * time.Millisecond) // anything extra (a duplicate) shows up too
	mu.Lock()
	defer mu.Unlock()
	for _, g := range []string{"g1", "g2"} {
		values := map[string]int{}
		members := map[string]map[string]bool{} // member -> partitions
		for _, l := range seen[g] {
			f := strings.Fields(l.value)
			if len(f) != 3 {
				t.Fatalf("%s: odd line %q", g, l.value)
			}
			values[f[2]]++
			if members[l.member] == nil {
				members[l.member] = map[string]bool{}
			}
			members[l.member][f[0]] = true
		}
		for i := 0; i < n; i++ {
			if c := values[fmt.Sprintf("msg-%d", i)]; c != 1 {
				t.Fatalf("group %s saw msg-%d %d times (%d lines in all)", g, i, c, len(seen[g]))
			}
		}
		if len(members) != 2 {
			t.Fatalf("group %s: records went to %d members, want the partitions split over 2", g, len(members))
		}
		for m, parts := range members {
			for p := range parts {
				for m2, parts2 := range members {
					if m2 != m && parts2[p] {
						t.Fatalf("group %s: partition %s read by both %s and %s", g, p, m, m2)
					}
				}
			}
		}
	}
}
