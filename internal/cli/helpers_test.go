package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runCLI runs a command in-process as the binary would with argv, returning
// its stdout, stderr and exit code.
func runCLI(t testing.TB, stdin string, argv ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	root := NewRoot()
	var out, errb lockedBuffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(stdin))
	code := ExecuteContext(ctx, root, argv)
	return out.String(), errb.String(), code
}

func readlink(p string) (string, error) { return os.Readlink(p) }

func ptrOf[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }
