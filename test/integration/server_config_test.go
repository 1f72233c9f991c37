package integration

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/clustertest"
)

// TestServerConfigErrors: unknown or invalid properties stop the server with
// exit code 2 and an error naming the property.
func TestServerConfigErrors(t *testing.T) {
	bin := clustertest.Binary(t)
	props := filepath.Join(t.TempDir(), "server.properties")
	if err := os.WriteFile(props, []byte("node.id=1\nlog.retension.ms=5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--override", "bogus.key=1"}, `unknown property "bogus.key"`},
		{[]string{"--override", "log.retention.hours=abc"}, `log.retention.hours: "abc" is not a number`},
		{[]string{"--config", props}, `log.retension.ms`},
		{[]string{"--override", "zookeeper.connect=localhost:2181"}, `zookeeper.connect`},
	} {
		cmd := exec.Command(bin, append([]string{"server", "--data-dir", t.TempDir()}, tc.args...)...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Fatalf("%v: %v, want exit code 2\n%s", tc.args, err, out)
		}
		if !strings.Contains(string(out), tc.want) || strings.Contains(string(out), "goroutine") {
			t.Fatalf("%v: output %q, want a one-line error naming %s", tc.args, out, tc.want)
		}
	}
}
