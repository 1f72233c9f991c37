package commitlog

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sort"
)

// Index file formats (Kafka's OffsetIndex and TimeIndex):
//
//	.index      8-byte entries: relative offset uint32, file position uint32
//	.timeindex 12-byte entries: timestamp int64, relative offset uint32
//
// Offset index entries map the last offset of a batch to the position of that
// batch; an entry is written when more than IndexIntervalBytes were appended
// since the previous one. Time index entries record (max timestamp so far,
// last offset of the batch that carried it) at the same points, only when the
// max timestamp grew, and once more when a segment becomes inactive.
//
// NB: entries are kept in memory (a sorted slice per segment) and appended to
// the files with pwrite; the files are read only when a log is opened. The
// files are never preallocated, so their length is the number of entries
// written; a crash can leave them shorter or longer than the log, which the
// loader detects (sanity check) or repairs (recovery rebuilds them).
const (
	offsetEntrySize = 8
	timeEntrySize   = 12
)

type offsetEntry struct {
	rel uint32 // offset - segment base
	pos uint32 // byte position of the batch in the .log file
}

type timeEntry struct {
	ts  int64
	rel uint32
}

// lookupOffset returns the position of the last entry whose offset is <= rel,
// or 0.
func lookupOffset(entries []offsetEntry, rel uint32) int64 {
	i := sort.Search(len(entries), func(i int) bool { return entries[i].rel > rel })
	if i == 0 {
		return 0
	}
	return int64(entries[i-1].pos)
}

// lookupTime returns the relative offset of the last entry whose timestamp is
// <= ts, and whether there is one.
func lookupTime(entries []timeEntry, ts int64) (uint32, bool) {
	i := sort.Search(len(entries), func(i int) bool { return entries[i].ts > ts })
	if i == 0 {
		return 0, false
	}
	return entries[i-1].rel, true
}

func readAllFile(f *os.File) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return b, nil
}

// loadOffsetIndex parses an .index file and checks it against the log: entries
// strictly increasing in offset and position, positions inside the log.
func loadOffsetIndex(b []byte, logSize int64) ([]offsetEntry, error) {
	if len(b)%offsetEntrySize != 0 {
		return nil, fmt.Errorf("offset index size %d is not a multiple of %d", len(b), offsetEntrySize)
	}
	entries := make([]offsetEntry, 0, len(b)/offsetEntrySize)
	for i := 0; i < len(b); i += offsetEntrySize {
		e := offsetEntry{rel: binary.BigEndian.Uint32(b[i:]), pos: binary.BigEndian.Uint32(b[i+4:])}
		if n := len(entries); n > 0 && (e.rel <= entries[n-1].rel || e.pos <= entries[n-1].pos) {
			return nil, fmt.Errorf("offset index entry %d (%d@%d) not after the previous one", n, e.rel, e.pos)
		}
		if int64(e.pos) >= logSize {
			return nil, fmt.Errorf("offset index entry %d position %d beyond the log size %d", len(entries), e.pos, logSize)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// loadTimeIndex parses a .timeindex file: timestamps and offsets increasing.
func loadTimeIndex(b []byte) ([]timeEntry, error) {
	if len(b)%timeEntrySize != 0 {
		return nil, fmt.Errorf("time index size %d is not a multiple of %d", len(b), timeEntrySize)
	}
	entries := make([]timeEntry, 0, len(b)/timeEntrySize)
	for i := 0; i < len(b); i += timeEntrySize {
		e := timeEntry{ts: int64(binary.BigEndian.Uint64(b[i:])), rel: binary.BigEndian.Uint32(b[i+8:])}
		if n := len(entries); n > 0 && (e.ts <= entries[n-1].ts || e.rel < entries[n-1].rel) {
			return nil, fmt.Errorf("time index entry %d not after the previous one", n)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func encodeOffsetIndex(entries []offsetEntry) []byte {
	b := make([]byte, 0, len(entries)*offsetEntrySize)
	for _, e := range entries {
		b = binary.BigEndian.AppendUint32(b, e.rel)
		b = binary.BigEndian.AppendUint32(b, e.pos)
	}
	return b
}

func encodeTimeIndex(entries []timeEntry) []byte {
	b := make([]byte, 0, len(entries)*timeEntrySize)
	for _, e := range entries {
		b = binary.BigEndian.AppendUint64(b, uint64(e.ts))
		b = binary.BigEndian.AppendUint32(b, e.rel)
	}
	return b
}
