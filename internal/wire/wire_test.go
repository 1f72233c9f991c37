package wire

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestFetchEncoderMatchesKmsg checks the hand-written Fetch encoder against
// kmsg's for every version we advertise, with record data both in memory and
// spliced from a file.
func TestFetchEncoderMatchesKmsg(t *testing.T) {
	data := []byte("record-batch-bytes-stand-in")
	path := filepath.Join(t.TempDir(), "seg")
	if err := os.WriteFile(path, append([]byte("xx"), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	id := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	for v := Versions[1].Min; v <= Versions[1].Max; v++ {
		want := kmsg.NewPtrFetchResponse()
		want.SetVersion(v)
		want.ThrottleMillis, want.SessionID = 7, 42
		kt := kmsg.NewFetchResponseTopic()
		kt.Topic, kt.TopicID = "orders", id
		for i, recs := range [][]byte{data, data, nil} {
			kp := kmsg.NewFetchResponseTopicPartition()
			kp.Partition, kp.HighWatermark, kp.LastStableOffset, kp.LogStartOffset = int32(i), 100, 90, 3
			kp.RecordBatches = append([]byte{}, recs...)
			if i == 2 {
				kp.ErrorCode = 1
				kp.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{{ProducerID: 5, FirstOffset: 6}}
			}
			kt.Partitions = append(kt.Partitions, kp)
		}
		want.Topics = append(want.Topics, kt)
		wantBytes := want.AppendTo(nil)

		f := Frame{}
		AppendFetchResponse(&f, v, 7, 0, 42, []FetchTopic{{Topic: "orders", TopicID: id, Partitions: []FetchPartition{
			{Partition: 0, HighWatermark: 100, LastStableOffset: 90, LogStartOffset: 3, Bytes: data},
			{Partition: 1, HighWatermark: 100, LastStableOffset: 90, LogStartOffset: 3, Records: FileRegion{File: file, Pos: 2, Size: len(data)}},
			{Partition: 2, ErrorCode: 1, HighWatermark: 100, LastStableOffset: 90, LogStartOffset: 3, Aborted: [][2]int64{{5, 6}}},
		}}})
		got := splice(t, f)
		if !bytes.Equal(got, wantBytes) {
			t.Fatalf("v%d: encoder differs from kmsg\n got %x\nwant %x", v, got, wantBytes)
		}
	}
}

func splice(t *testing.T, f Frame) []byte {
	var out []byte
	last := 0
	for _, r := range f.Regions {
		out = append(out, f.Buf[last:r.At]...)
		buf := make([]byte, r.Size)
		if _, err := r.File.ReadAt(buf, r.Pos); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf...)
		last = r.At
	}
	return append(out, f.Buf[last:]...)
}

// TestVersionsWithinKmsg checks every advertised range against what kmsg
// can encode and decode.
func TestVersionsWithinKmsg(t *testing.T) {
	for k, r := range Versions {
		req := kmsg.RequestForKey(k)
		if req == nil {
			t.Errorf("key %d: kmsg has no such request", k)
			continue
		}
		if r.Min < 0 || r.Min > r.Max {
			t.Errorf("%s: bad range %d-%d", kmsg.NameForKey(k), r.Min, r.Max)
		}
		if r.Max != req.MaxVersion() {
			t.Errorf("%s: advertised max v%d, kmsg encodes up to v%d", kmsg.NameForKey(k), r.Max, req.MaxVersion())
		}
	}
}

func TestParseHeader(t *testing.T) {
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(12)
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("client-x")).AppendRequest(nil, req, 99) // includes the size prefix
	h, r, err := DecodeRequest(frame[4:])
	if err != nil {
		t.Fatal(err)
	}
	if h.Key != 3 || h.Version != 12 || h.CorrelationID != 99 || h.ClientID != "client-x" {
		t.Fatalf("header %+v", h)
	}
	if r.(*kmsg.MetadataRequest).Topics != nil {
		t.Fatalf("want all topics (null)")
	}
	for _, bad := range [][]byte{nil, {0, 3}, {0, 3, 0, 12, 0, 0, 0, 1, 0, 50}, {0, 3, 0, 12, 0, 0, 0, 1, 0xff, 0xf0}} {
		if _, _, err := DecodeRequest(bad); err == nil {
			t.Errorf("%x: want error", bad)
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for k := range Versions {
		req := kmsg.RequestForKey(k)
		req.SetVersion(Versions[k].Max)
		f.Add(kmsg.NewRequestFormatter(kmsg.FormatterClientID("c")).AppendRequest(nil, req, 1)[4:])
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		h, _, err := ParseHeader(frame)
		if err != nil || !Supported(h.Key, h.Version) {
			return
		}
		_, _, _ = DecodeRequest(frame)
	})
}
