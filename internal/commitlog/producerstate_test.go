package commitlog

import (
	"errors"
	"fmt"
	"testing"
)

// TestIdempotentScript runs a script of idempotent appends against one log;
// each step states the expected first offset, duplicate flag or error.
// Semantics follow Kafka's ProducerStateManager (see producerstate.go).
func TestIdempotentScript(t *testing.T) {
	type step struct {
		pid     int64
		epoch   int16
		seq     int32
		n       int
		first   int64 // expected first offset
		dup     bool
		err     error
		reopen  bool // close and reopen the log before the step
		comment string
	}
	script := []step{
		{pid: 1, epoch: 0, seq: 0, n: 3, first: 0, comment: "new producer"},
		{pid: 1, epoch: 0, seq: 3, n: 2, first: 3, comment: "in sequence"},
		{pid: 1, epoch: 0, seq: 3, n: 2, first: 3, dup: true, comment: "retry of the last batch"},
		{pid: 1, epoch: 0, seq: 0, n: 3, first: 0, dup: true, comment: "retry of an older batch"},
		{pid: 1, epoch: 0, seq: 0, n: 2, err: ErrOutOfOrderSequence, comment: "same start, other length: not a duplicate"},
		{pid: 1, epoch: 0, seq: 6, n: 1, err: ErrOutOfOrderSequence, comment: "gap"},
		{pid: 2, epoch: 4, seq: 17, n: 1, first: 5, comment: "unknown producer may start at any sequence"},
		{pid: 1, epoch: 0, seq: 5, n: 1, first: 6},
		{pid: 1, epoch: 1, seq: 2, n: 1, err: ErrOutOfOrderSequence, comment: "new epoch must start at 0"},
		{pid: 1, epoch: 1, seq: 0, n: 1, first: 7, comment: "epoch bump"},
		{pid: 1, epoch: 0, seq: 6, n: 1, err: ErrInvalidProducerEpoch, comment: "fenced epoch"},
		{pid: 1, epoch: 0, seq: 5, n: 1, err: ErrInvalidProducerEpoch, comment: "old epoch duplicate is fenced too"},
		{pid: 1, epoch: 1, seq: 1, n: 1, first: 8},
		{pid: 1, epoch: 1, seq: 2, n: 1, first: 9},
		{pid: 1, epoch: 1, seq: 3, n: 1, first: 10},
		{pid: 1, epoch: 1, seq: 4, n: 1, first: 11},
		{pid: 1, epoch: 1, seq: 5, n: 1, first: 12},
		{pid: 1, epoch: 1, seq: 0, n: 1, err: ErrOutOfOrderSequence, comment: "6 batches back: no longer a known duplicate"},
		{pid: 1, epoch: 1, seq: 1, n: 1, first: 8, dup: true, comment: "5 batches back: duplicate"},
		{pid: 1, epoch: 1, seq: 5, n: 1, first: 12, dup: true, reopen: true, comment: "state rebuilt on open"},
		{pid: 1, epoch: 1, seq: 6, n: 1, first: 13},
		{pid: 2, epoch: 4, seq: 18, n: 1, first: 14},
		{pid: 3, epoch: 0, seq: 1<<31 - 1, n: 1, first: 15, comment: "sequence wraps"},
		{pid: 3, epoch: 0, seq: 0, n: 2, first: 16},
	}
	dir := t.TempDir()
	l := openT(t, dir, smallConfig())
	defer func() { l.Close() }()
	for i, s := range script {
		name := fmt.Sprintf("step %d (%s)", i, s.comment)
		if s.reopen {
			must(t, l.Close())
			l = openT(t, dir, smallConfig())
		}
		end := l.EndOffset()
		res, err := l.Append(mkIdem(s.pid, s.epoch, s.seq, s.n), AppendOptions{AssignOffsets: true})
		if s.err != nil {
			if !errors.Is(err, s.err) {
				t.Fatalf("%s: err %v want %v", name, err, s.err)
			}
			if l.EndOffset() != end {
				t.Fatalf("%s: failed append moved the end", name)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.FirstOffset != s.first || res.LastOffset != s.first+int64(s.n)-1 || res.Duplicate != s.dup {
			t.Fatalf("%s: %+v, want first %d dup %v", name, res, s.first, s.dup)
		}
		if s.dup && l.EndOffset() != end {
			t.Fatalf("%s: duplicate was written", name)
		}
	}
}

// Replicated appends keep offsets and update producer state without checks.
func TestReplicatedAppend(t *testing.T) {
	l := openT(t, t.TempDir(), smallConfig())
	defer l.Close()
	b := mkIdem(9, 0, 40, 2)
	setBase(b, 10)
	res, err := l.Append(b, AppendOptions{})
	if err != nil || res.FirstOffset != 10 || l.EndOffset() != 12 {
		t.Fatal(res, err)
	}
	b = mkIdem(9, 0, 0, 1)
	setBase(b, 11)
	if _, err := l.Append(b, AppendOptions{}); !errors.Is(err, ErrUnexpectedOffset) {
		t.Fatal(err)
	}
	// The leader-side state knows the follower's batches.
	res, err = l.Append(mkIdem(9, 0, 40, 2), AppendOptions{AssignOffsets: true})
	if err != nil || !res.Duplicate || res.FirstOffset != 10 {
		t.Fatal(res, err)
	}
	// Reads from below the first batch's offset start at it.
	r, err := l.Read(0, 1000, -1, true)
	if err != nil || r.Size == 0 {
		t.Fatal(r, err)
	}
	r.Release()
}
