package batch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

func testRecords(n, valueSize int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{
			Key:   []byte(fmt.Sprintf("key-%d", i)),
			Value: bytes.Repeat([]byte{byte('a' + i%26)}, valueSize),
		}
	}
	return recs
}

func TestAppendBatchRoundTrip(t *testing.T) {
	recs := []Record{
		{Key: []byte("k1"), Value: []byte("v1"), Timestamp: 1000},
		{Key: nil, Value: nil, Timestamp: 1005},
		{Key: []byte("k3"), Value: []byte{}, Headers: []RecordHeader{{Key: "h", Value: []byte("x")}, {Key: "n", Value: nil}}},
	}
	b := AppendBatch(nil, 42, 999, recs)
	h, err := ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.BaseOffset != 42 || h.NumRecords != 3 || h.LastOffsetDelta != 2 || h.LastOffset() != 44 ||
		h.BaseTimestamp != 999 || h.MaxTimestamp != 1005 || h.ProducerID != -1 || h.Size() != len(b) {
		t.Fatalf("header %+v", h)
	}
	s, err := Validate(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Batches != 1 || s.Records != 3 || s.MaxTimestamp != 1005 {
		t.Fatalf("summary %+v", s)
	}
	var got []Record
	err = ForEachRecord(b, func(r Record) error {
		r.Key = bytes.Clone(r.Key)
		r.Value = bytes.Clone(r.Value)
		r.Headers = append([]RecordHeader(nil), r.Headers...)
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		off, ts    int64
		key, value []byte
		nh         int
	}{
		{42, 1000, []byte("k1"), []byte("v1"), 0},
		{43, 1005, nil, nil, 0},
		{44, 999, []byte("k3"), []byte{}, 2},
	}
	for i, w := range want {
		r := got[i]
		if r.Offset != w.off || r.Timestamp != w.ts || !bytes.Equal(r.Key, w.key) ||
			(r.Key == nil) != (w.key == nil) || !bytes.Equal(r.Value, w.value) ||
			(r.Value == nil) != (w.value == nil) || len(r.Headers) != w.nh {
			t.Errorf("record %d = %+v, want %+v", i, r, w)
		}
	}
	if got[2].Headers[0].Key != "h" || string(got[2].Headers[0].Value) != "x" || got[2].Headers[1].Value != nil {
		t.Errorf("headers %+v", got[2].Headers)
	}
}

func TestCodecsRoundTrip(t *testing.T) {
	recs := testRecords(20, 300)
	for _, c := range []Codec{CodecNone, CodecGzip, CodecSnappy, CodecLZ4, CodecZstd} {
		t.Run(c.String(), func(t *testing.T) {
			b, err := AppendBatchWith(nil, BatchOptions{BaseOffset: 7, Timestamp: 5, ProducerID: 3,
				ProducerEpoch: 1, BaseSequence: 10, Codec: c}, recs)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Validate(b, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if s.Records != 20 || s.FirstHeader.Codec() != c || s.FirstHeader.LastSequence() != 29 {
				t.Fatalf("summary %+v", s)
			}
			i := 0
			err = ForEachRecord(b, func(r Record) error {
				if r.Offset != int64(7+i) || !bytes.Equal(r.Value, recs[i].Value) || !bytes.Equal(r.Key, recs[i].Key) {
					return fmt.Errorf("record %d mismatch: %+v", i, r)
				}
				i++
				return nil
			})
			if err != nil || i != 20 {
				t.Fatal(err, i)
			}
		})
	}
}

func TestXerialSnappy(t *testing.T) {
	recs := testRecords(5, 100)
	raw := AppendBatch(nil, 0, 1, recs)
	plain := raw[HeaderSize:]
	// Build xerial framing by hand: header, two chunks.
	x := append([]byte{}, xerialHeader...)
	x = binary.BigEndian.AppendUint32(x, 1)
	x = binary.BigEndian.AppendUint32(x, 1)
	for _, part := range [][]byte{plain[:len(plain)/2], plain[len(plain)/2:]} {
		blk, _ := compress(nil, CodecSnappy, part)
		x = binary.BigEndian.AppendUint32(x, uint32(len(blk)))
		x = append(x, blk...)
	}
	b := append([]byte{}, raw[:HeaderSize]...)
	b = append(b, x...)
	binary.BigEndian.PutUint32(b[offLength:], uint32(len(b)-LengthOverhead))
	binary.BigEndian.PutUint16(b[offAttributes:], uint16(CodecSnappy))
	UpdateCRC(b)
	if _, err := Validate(b, 0); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := ForEachRecord(b, func(r Record) error { n++; return nil }); err != nil || n != 5 {
		t.Fatal(err, n)
	}
}

func TestSetters(t *testing.T) {
	b := AppendBatch(nil, 0, 100, testRecords(3, 10))
	SetBaseOffset(b, 1234)
	SetPartitionLeaderEpoch(b, 9)
	if err := CheckCRC(b); err != nil {
		t.Fatal("base offset / epoch must not be covered by the CRC:", err)
	}
	SetLogAppendTime(b, 5555)
	h, _ := ParseHeader(b)
	if h.BaseOffset != 1234 || h.PartitionLeaderEpoch != 9 || !h.LogAppendTime() || h.MaxTimestamp != 5555 {
		t.Fatalf("%+v", h)
	}
	if _, err := Validate(b, 0); err != nil {
		t.Fatal(err)
	}
	_ = ForEachRecord(b, func(r Record) error {
		if r.Timestamp != 5555 {
			t.Errorf("LogAppendTime record timestamp %d", r.Timestamp)
		}
		return nil
	})
}

func TestIncrementSequence(t *testing.T) {
	for _, c := range []struct{ seq, inc, want int32 }{
		{0, 0, 0}, {5, 3, 8}, {1<<31 - 1, 1, 0}, {1<<31 - 2, 3, 1},
	} {
		if got := IncrementSequence(c.seq, c.inc); got != c.want {
			t.Errorf("IncrementSequence(%d,%d)=%d want %d", c.seq, c.inc, got, c.want)
		}
	}
}

// mutate returns a copy of b changed by f, with the CRC recomputed if fixCRC.
func mutate(b []byte, fixCRC bool, f func(b []byte) []byte) []byte {
	c := f(bytes.Clone(b))
	if fixCRC && len(c) >= HeaderSize {
		UpdateCRC(c[:min(len(c), BatchSize(c))])
	}
	return c
}

func TestValidateErrors(t *testing.T) {
	good := AppendBatch(nil, 0, 100, testRecords(4, 20))
	two := append(bytes.Clone(good), good...)
	be := binary.BigEndian
	cases := []struct {
		name string
		b    []byte
		max  int
		want error
	}{
		{"ok", good, 0, nil},
		{"two batches", two, 0, nil},
		{"empty", nil, 0, ErrCorrupt},
		{"short", good[:10], 0, ErrCorrupt},
		{"truncated", good[:len(good)-1], 0, ErrCorrupt},
		{"trailing bytes", append(bytes.Clone(good), 1, 2, 3), 0, ErrCorrupt},
		{"too large", good, len(good) - 1, ErrTooLarge},
		{"length below header", mutate(good, false, func(b []byte) []byte { be.PutUint32(b[8:], 10); return b }), 0, ErrCorrupt},
		{"negative length", mutate(good, false, func(b []byte) []byte { be.PutUint32(b[8:], 0xffffffff); return b }), 0, ErrCorrupt},
		{"magic 1", mutate(good, false, func(b []byte) []byte { b[offMagic] = 1; return b }), 0, ErrUnsupportedMagic},
		{"crc", mutate(good, false, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), 0, ErrCorrupt},
		{"crc covers attributes", mutate(good, false, func(b []byte) []byte { b[offAttributes+1] ^= 8; return b }), 0, ErrCorrupt},
		{"count mismatch", mutate(good, true, func(b []byte) []byte { be.PutUint32(b[offNumRecords:], 3); return b }), 0, ErrInvalidRecord},
		{"zero records", mutate(good, true, func(b []byte) []byte {
			be.PutUint32(b[offNumRecords:], 0)
			be.PutUint32(b[offLastOffsetDelta:], 0xffffffff)
			return b
		}), 0, ErrInvalidRecord},
		{"delta mismatch", mutate(good, true, func(b []byte) []byte { be.PutUint32(b[offLastOffsetDelta:], 4); return b }), 0, ErrInvalidRecord},
		{"codec 6", mutate(good, true, func(b []byte) []byte { b[offAttributes+1] |= 6; return b }), 0, ErrUnsupportedCodec},
		{"record length negative", mutate(good, true, func(b []byte) []byte { b[HeaderSize] = 0x7f; return b }), 0, ErrCorrupt},
		{"record length short", mutate(good, true, func(b []byte) []byte { b[HeaderSize] = 0x7e; return b }), 0, ErrInvalidRecord},
		{"extra record bytes", mutate(good, true, func(b []byte) []byte {
			b = append(b, 0)
			be.PutUint32(b[offLength:], uint32(len(b)-LengthOverhead))
			return b
		}), 0, ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Validate(c.b, c.max)
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			t.Log(err)
		})
	}
}

func TestValidateZeroAllocs(t *testing.T) {
	b := AppendBatch(nil, 0, 100, testRecords(16, 1000))
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Validate(b, 1<<20); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Validate allocates %v times", allocs)
	}
}
