package batch

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// kmsgBatch encodes records the way franz-go's producer does (kmsg types;
// the records section compressed with codec when not none).
func kmsgBatch(t testing.TB, codec Codec, n int) []byte {
	var raw []byte
	for i := 0; i < n; i++ {
		r := kmsg.Record{
			TimestampDelta64: int64(i * 3),
			OffsetDelta:      int32(i),
			Key:              []byte{byte(i)},
			Value:            bytes.Repeat([]byte("franz"), i+1),
			Headers:          []kmsg.Header{{Key: "h", Value: []byte{1, 2}}},
		}
		if i%2 == 1 {
			r.Key = nil
		}
		body := r.AppendTo(nil)
		_, k := binary.Varint(body) // Length 0 encoded as one byte
		r.Length = int32(len(body) - k)
		raw = r.AppendTo(raw)
	}
	recs := raw
	if codec != CodecNone {
		var err error
		if recs, err = compress(nil, codec, raw); err != nil {
			t.Fatal(err)
		}
	}
	rb := kmsg.RecordBatch{
		FirstOffset:     0,
		Magic:           2,
		Attributes:      int16(codec),
		LastOffsetDelta: int32(n - 1),
		FirstTimestamp:  1700000000000,
		MaxTimestamp:    1700000000000 + int64((n-1)*3),
		ProducerID:      12,
		ProducerEpoch:   1,
		FirstSequence:   100,
		NumRecords:      int32(n),
		Records:         recs,
	}
	rb.Length = int32(HeaderSize - LengthOverhead + len(recs))
	b := rb.AppendTo(nil)
	UpdateCRC(b)
	return b
}

func TestFranzGoCompat(t *testing.T) {
	for _, c := range []Codec{CodecNone, CodecGzip, CodecSnappy, CodecLZ4, CodecZstd} {
		t.Run(c.String(), func(t *testing.T) {
			b := kmsgBatch(t, c, 7)
			s, err := Validate(b, 0)
			if err != nil {
				t.Fatal(err)
			}
			if s.Records != 7 || s.FirstHeader.ProducerID != 12 || s.FirstHeader.LastSequence() != 106 {
				t.Fatalf("%+v", s)
			}
			i := 0
			err = ForEachRecord(b, func(r Record) error {
				if r.Offset != int64(i) || r.Timestamp != 1700000000000+int64(3*i) ||
					!bytes.Equal(r.Value, bytes.Repeat([]byte("franz"), i+1)) ||
					(i%2 == 1) != (r.Key == nil) || len(r.Headers) != 1 || r.Headers[0].Key != "h" {
					t.Errorf("record %d: %+v", i, r)
				}
				i++
				return nil
			})
			if err != nil || i != 7 {
				t.Fatal(err, i)
			}
		})
	}
	// And franz-go reads what AppendBatch writes.
	ours := AppendBatch(nil, 5, 1000, testRecords(3, 10))
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(ours); err != nil {
		t.Fatal(err)
	}
	if rb.NumRecords != 3 || rb.FirstOffset != 5 || uint32(rb.CRC) != ComputeCRC(ours) {
		t.Fatalf("%+v", rb)
	}
	var r kmsg.Record
	if err := r.ReadFrom(rb.Records); err != nil || string(r.Key) != "key-0" {
		t.Fatal(err, r)
	}
}

func FuzzValidate(f *testing.F) {
	f.Add(AppendBatch(nil, 0, 1, testRecords(3, 20)))
	f.Add(AppendBatch(nil, 0, 1, nil))
	two := AppendBatch(nil, 0, 1, testRecords(1, 5))
	f.Add(AppendBatch(two, 1, 2, []Record{{Headers: []RecordHeader{{Key: "a"}}}}))
	for _, c := range []Codec{CodecNone, CodecGzip, CodecSnappy, CodecLZ4, CodecZstd} {
		f.Add(kmsgBatch(f, c, 4))
		b, _ := AppendBatchWith(nil, BatchOptions{Codec: c, ProducerID: 1, BaseSequence: 0}, testRecords(2, 30))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The fuzzer mutates bytes under the CRC; also try with it fixed
		// so the record walk is reached.
		for _, fix := range []bool{false, true} {
			b := data
			if fix {
				b = bytes.Clone(data)
				if n := BatchSize(b); n >= HeaderSize && n <= len(b) {
					UpdateCRC(b[:n])
				}
			}
			s, err := Validate(b, 1<<20)
			if err != nil {
				continue
			}
			for p := b; len(p) > 0; {
				n := BatchSize(p)
				h, _ := ParseHeader(p)
				ferr := ForEachRecord(p[:n], func(Record) error { return nil })
				if h.Codec() == CodecNone && ferr != nil {
					t.Fatalf("Validate accepted a batch ForEachRecord rejects: %v", ferr)
				}
				p = p[n:]
			}
			if s.Bytes != len(b) {
				t.Fatal("summary bytes")
			}
		}
	})
}

// BenchmarkValidate: one 16 KiB batch of 1 KiB records.
func BenchmarkValidate(b *testing.B) {
	recs := testRecords(16, 1000)
	buf := AppendBatch(nil, 0, 1, recs)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Validate(buf, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateSmallRecords: a 16 KiB batch of 100-byte records (the
// record walk dominates).
func BenchmarkValidateSmallRecords(b *testing.B) {
	buf := AppendBatch(nil, 0, 1, testRecords(150, 90))
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Validate(buf, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkForEachRecordZstd(b *testing.B) {
	buf, _ := AppendBatchWith(nil, BatchOptions{Codec: CodecZstd, ProducerID: -1, BaseSequence: -1}, testRecords(16, 1000))
	b.SetBytes(16 * 1000)
	b.ReportAllocs()
	for b.Loop() {
		if err := ForEachRecord(buf, func(Record) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
