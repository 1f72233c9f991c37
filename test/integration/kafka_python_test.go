package integration

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestKafkaPython: a third client family (kafka-python, which still sends
// old API versions) creates a topic, produces with keys and headers, and
// consumes in a group with a commit, against the real server.
func TestKafkaPython(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import kafka").Run(); err != nil {
		t.Skip("kafka-python not installed (the README's test command installs python3-kafka)")
	}
	srv := start(t)
	ctx := ctxFor(t, 2*time.Minute)
	script := `
import sys
from kafka import KafkaProducer, KafkaConsumer, KafkaAdminClient
from kafka.admin import NewTopic
addr = sys.argv[1]
KafkaAdminClient(bootstrap_servers=addr).create_topics([NewTopic("py", 2, 1)])
p = KafkaProducer(bootstrap_servers=addr, acks="all")
for i in range(10):
    p.send("py", key=b"k%d" % i, value=b"v%d" % i, headers=[("h", b"x")])
p.flush()
c = KafkaConsumer("py", bootstrap_servers=addr, group_id="pyg", auto_offset_reset="earliest", consumer_timeout_ms=8000)
got = sorted(m.value.decode() + "/" + m.key.decode() + "/" + m.headers[0][0] for m in c)
c.commit()
committed = sum(c.committed(tp) or 0 for tp in c.assignment())
print(" ".join(got))
print("committed", committed)
`
	out, err := exec.CommandContext(ctx, py, "-c", script, srv.Addr()).CombinedOutput()
	if err != nil {
		t.Fatalf("kafka-python: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := "v0/k0/h v1/k1/h v2/k2/h v3/k3/h v4/k4/h v5/k5/h v6/k6/h v7/k7/h v8/k8/h v9/k9/h"
	if len(lines) < 2 || lines[len(lines)-2] != want || lines[len(lines)-1] != "committed 10" {
		t.Fatalf("kafka-python output:\n%s\nwant the ten records and 10 committed", out)
	}
}
