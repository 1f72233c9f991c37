package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/batch"
)

func TestDumpLog(t *testing.T) {
	dir := t.TempDir()
	seg := batch.AppendBatch(nil, 0, 1700000000000, []batch.Record{
		{Key: []byte("k1"), Value: []byte("v1"), Headers: []batch.RecordHeader{{Key: "h", Value: []byte("x")}}},
		{Value: []byte("v2")},
	})
	seg = batch.AppendBatch(seg, 2, 1700000000001, []batch.Record{{Key: []byte("k3"), Value: []byte("v3")}})
	path := filepath.Join(dir, "00000000000000000000.log")
	if err := os.WriteFile(path, seg, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "", "kafka-dump-log.sh", "--files", path, "--print-data-log")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Dumping " + path,
		"Log starting offset: 0",
		"baseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1",
		"position: 0 CreateTime: 1700000000000",
		"compresscodec: none",
		"isvalid: true",
		"| offset: 0 CreateTime: 1700000000000 keySize: 2 valueSize: 2 sequence: -1 headerKeys: [h] key: k1 payload: v1",
		"| offset: 1 CreateTime: 1700000000000 keySize: -1 valueSize: 2 sequence: -1 headerKeys: [] payload: v2",
		"baseOffset: 2 lastOffset: 2 count: 1",
		"| offset: 2 CreateTime: 1700000000001 keySize: 2 valueSize: 2 sequence: -1 headerKeys: [] key: k3 payload: v3",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// A corrupted byte shows as isvalid: false, not a crash.
	seg[len(seg)-1] ^= 0xff
	if err := os.WriteFile(path, seg, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code = runCLI(t, "", "kafka-dump-log.sh", "--files", path)
	if code != 0 || !strings.Contains(out, "isvalid: false") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	if _, _, code := runCLI(t, "", "kafka-dump-log.sh"); code != ExitUsage {
		t.Fatalf("no --files: exit %d, want %d", code, ExitUsage)
	}
}
