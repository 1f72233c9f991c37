package integration

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/batch"
)

// rawConn is a bare TCP connection speaking the protocol by hand.
type rawConn struct {
	t *testing.T
	c net.Conn
}

func dial(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t, c}
}

func (r *rawConn) send(b []byte) {
	r.t.Helper()
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

// request sends req (non-flexible versions only) and returns the response
// body after the correlation id.
func (r *rawConn) request(req kmsg.Request, corr int32) []byte {
	r.t.Helper()
	r.send(kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw")).AppendRequest(nil, req, corr))
	var hdr [8]byte
	if _, err := io.ReadFull(r.c, hdr[:]); err != nil {
		r.t.Fatalf("reading response: %v", err)
	}
	if got := int32(binary.BigEndian.Uint32(hdr[4:])); got != corr {
		r.t.Fatalf("correlation id %d, want %d", got, corr)
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[:4])-4)
	if _, err := io.ReadFull(r.c, body); err != nil {
		r.t.Fatal(err)
	}
	return body
}

// closed reports whether the server closed the connection.
func (r *rawConn) closed() bool {
	_ = r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := r.c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func produceRaw(t *testing.T, addr, topic string, records []byte) int16 {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(7)
	req.Acks, req.TimeoutMillis = -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = 0, records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	body := dial(t, addr).request(req, 11)
	resp := kmsg.NewPtrProduceResponse()
	resp.SetVersion(7)
	if err := resp.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

func TestBadInput(t *testing.T) {
	srv := start(t)
	ctx := ctxFor(t, time.Minute)
	createTopic(t, ctx, srv.Addr(), "safe", 1, nil)

	// Something stored before the abuse, which must survive it.
	p := client(t, srv.Addr(), kgo.DefaultProduceTopic("safe"))
	if err := p.ProduceSync(ctx, &kgo.Record{Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	t.Run("garbage", func(t *testing.T) {
		c := dial(t, srv.Addr())
		c.send([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		if !c.closed() {
			t.Fatal("connection not closed after garbage")
		}
	})
	t.Run("size above socket.request.max.bytes", func(t *testing.T) {
		c := dial(t, srv.Addr())
		c.send([]byte{0x7f, 0, 0, 0, 0, 18})
		if !c.closed() {
			t.Fatal("connection not closed")
		}
	})
	t.Run("truncated frame", func(t *testing.T) {
		c := dial(t, srv.Addr())
		c.send([]byte{0, 0, 0, 100, 0, 18, 0, 0})
		c.c.Close()
	})
	t.Run("unknown api key", func(t *testing.T) {
		c := dial(t, srv.Addr())
		c.send([]byte{0, 0, 0, 10, 0x03, 0xe7, 0, 0, 0, 0, 0, 1, 0xff, 0xff})
		if !c.closed() {
			t.Fatal("connection not closed")
		}
	})
	t.Run("unsupported ApiVersions version", func(t *testing.T) {
		c := dial(t, srv.Addr())
		// ApiVersions v99: answered in v0 with UNSUPPORTED_VERSION (KIP-511).
		c.send([]byte{0, 0, 0, 10, 0, 18, 0, 99, 0, 0, 0, 5, 0xff, 0xff})
		var hdr [10]byte
		if _, err := io.ReadFull(c.c, hdr[:]); err != nil {
			t.Fatal(err)
		}
		if code := int16(binary.BigEndian.Uint16(hdr[8:])); code != kerr.UnsupportedVersion.Code {
			t.Fatalf("error code %d, want UNSUPPORTED_VERSION", code)
		}
	})
	t.Run("unsupported produce version", func(t *testing.T) {
		c := dial(t, srv.Addr())
		c.send([]byte{0, 0, 0, 10, 0, 0, 0, 99, 0, 0, 0, 5, 0xff, 0xff})
		if !c.closed() {
			t.Fatal("connection not closed")
		}
	})
	good := batch.AppendBatch(nil, 0, time.Now().UnixMilli(), []batch.Record{{Value: []byte("a")}, {Value: []byte("b")}, {Value: []byte("c")}})
	t.Run("wrong crc", func(t *testing.T) {
		b := append([]byte(nil), good...)
		b[len(b)-1] ^= 0xff
		if code := produceRaw(t, srv.Addr(), "safe", b); code != kerr.CorruptMessage.Code {
			t.Fatalf("error code %d, want CORRUPT_MESSAGE", code)
		}
	})
	t.Run("wrong record count", func(t *testing.T) {
		b := append([]byte(nil), good...)
		binary.BigEndian.PutUint32(b[57:], 5) // NumRecords
		binary.BigEndian.PutUint32(b[23:], 4) // LastOffsetDelta, consistent with the count
		binary.BigEndian.PutUint32(b[17:], batch.ComputeCRC(b))
		code := produceRaw(t, srv.Addr(), "safe", b)
		if code != kerr.InvalidRecord.Code && code != kerr.CorruptMessage.Code {
			t.Fatalf("error code %d, want INVALID_RECORD or CORRUPT_MESSAGE", code)
		}
	})
	t.Run("valid raw batch", func(t *testing.T) {
		if code := produceRaw(t, srv.Addr(), "safe", good); code != 0 {
			t.Fatalf("error code %d for a valid batch", code)
		}
	})

	// The server is up, other clients work, and the log holds exactly the
	// good records.
	if err := p.ProduceSync(ctx, &kgo.Record{Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	c := client(t, srv.Addr(), kgo.ConsumeTopics("safe"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	for len(got) < 5 {
		fs := c.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("got %q", got)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	want := []string{"before", "a", "b", "c", "after"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("log holds %q, want %q", got, want)
		}
	}
}
