package batch

import (
	"encoding/binary"
	"fmt"
)

// RecordHeader is one record header (key, value).
type RecordHeader struct {
	Key   string
	Value []byte
}

// Record is one decoded record. In ForEachRecord, Key, Value and Headers
// alias buffers that are reused after the callback returns: copy to retain.
type Record struct {
	Offset    int64
	Timestamp int64
	Key       []byte // nil: null key
	Value     []byte // nil: null value (a tombstone)
	Headers   []RecordHeader
	// Attributes is the record's own attributes byte (unused by Kafka today).
	Attributes int8
}

// BatchOptions describe the batch AppendBatchWith builds.
type BatchOptions struct {
	BaseOffset           int64
	PartitionLeaderEpoch int32
	// Timestamp is the batch base timestamp; records whose Timestamp is 0
	// get it.
	Timestamp     int64
	ProducerID    int64 // -1 for none
	ProducerEpoch int16 // -1 for none
	BaseSequence  int32 // -1 for none
	Transactional bool
	Control       bool
	LogAppendTime bool
	Codec         Codec
}

// AppendBatch appends to dst an uncompressed, non-idempotent batch holding
// recs, with offsets baseOffset, baseOffset+1, ... (Record.Offset is ignored)
// and the CRC set. Records whose Timestamp is 0 get timestamp. It is used to
// write internal topics such as __consumer_offsets.
func AppendBatch(dst []byte, baseOffset, timestamp int64, recs []Record) []byte {
	out, err := AppendBatchWith(dst, BatchOptions{
		BaseOffset: baseOffset, Timestamp: timestamp,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
	}, recs)
	if err != nil { // only compression can fail
		panic("batch: uncompressed AppendBatch failed: " + err.Error())
	}
	return out
}

// AppendBatchWith appends to dst a batch described by o holding recs. It
// fails only if compression fails or the codec is unknown.
func AppendBatchWith(dst []byte, o BatchOptions, recs []Record) ([]byte, error) {
	start := len(dst)
	var hdr [HeaderSize]byte
	dst = append(dst, hdr[:]...)

	maxTS := int64(-1)
	for i := range recs {
		ts := recs[i].Timestamp
		if ts == 0 {
			ts = o.Timestamp
		}
		if ts > maxTS {
			maxTS = ts
		}
	}
	if len(recs) == 0 {
		maxTS = o.Timestamp
	}
	var body []byte
	if o.Codec == CodecNone {
		body = dst
	}
	for i := range recs {
		body = appendRecord(body, &recs[i], int32(i), o.Timestamp)
	}
	if o.Codec == CodecNone {
		dst = body
	} else {
		var err error
		dst, err = compress(dst, o.Codec, body)
		if err != nil {
			return dst[:start], err
		}
	}

	b := dst[start:]
	be := binary.BigEndian
	attrs := uint16(o.Codec) & codecMask
	if o.LogAppendTime {
		attrs |= attrLogAppendTime
	}
	if o.Transactional {
		attrs |= attrTransactional
	}
	if o.Control {
		attrs |= attrControl
	}
	lastDelta := int32(len(recs) - 1)
	if len(recs) == 0 {
		lastDelta = 0
	}
	be.PutUint64(b[offBaseOffset:], uint64(o.BaseOffset))
	be.PutUint32(b[offLength:], uint32(len(b)-LengthOverhead))
	be.PutUint32(b[offLeaderEpoch:], uint32(o.PartitionLeaderEpoch))
	b[offMagic] = 2
	be.PutUint16(b[offAttributes:], attrs)
	be.PutUint32(b[offLastOffsetDelta:], uint32(lastDelta))
	be.PutUint64(b[offBaseTimestamp:], uint64(o.Timestamp))
	be.PutUint64(b[offMaxTimestamp:], uint64(maxTS))
	be.PutUint64(b[offProducerID:], uint64(o.ProducerID))
	be.PutUint16(b[offProducerEpoch:], uint16(o.ProducerEpoch))
	be.PutUint32(b[offBaseSequence:], uint32(o.BaseSequence))
	be.PutUint32(b[offNumRecords:], uint32(len(recs)))
	UpdateCRC(b)
	return dst, nil
}

func appendRecord(dst []byte, r *Record, delta int32, baseTS int64) []byte {
	ts := r.Timestamp
	if ts == 0 {
		ts = baseTS
	}
	// Body size first: compute into a scratch varint count.
	n := 1 + varintLen(ts-baseTS) + varintLen(int64(delta))
	n += bytesLen(r.Key) + bytesLen(r.Value) + varintLen(int64(len(r.Headers)))
	for _, h := range r.Headers {
		n += varintLen(int64(len(h.Key))) + len(h.Key) + bytesLen(h.Value)
	}
	dst = binary.AppendVarint(dst, int64(n))
	dst = append(dst, byte(r.Attributes))
	dst = binary.AppendVarint(dst, ts-baseTS)
	dst = binary.AppendVarint(dst, int64(delta))
	dst = appendBytes(dst, r.Key)
	dst = appendBytes(dst, r.Value)
	dst = binary.AppendVarint(dst, int64(len(r.Headers)))
	for _, h := range r.Headers {
		dst = binary.AppendVarint(dst, int64(len(h.Key)))
		dst = append(dst, h.Key...)
		dst = appendBytes(dst, h.Value)
	}
	return dst
}

func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

func bytesLen(b []byte) int {
	if b == nil {
		return varintLen(-1)
	}
	return varintLen(int64(len(b))) + len(b)
}

func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

// ForEachRecord decodes every record of the single batch b (exactly one whole
// batch; the CRC is checked), decompressing if needed, and calls fn with each.
// Offsets are BaseOffset+offsetDelta; for LogAppendTime batches every record's
// Timestamp is the batch MaxTimestamp. The Record's slices alias internal
// buffers and are valid only during fn. fn returning an error stops the walk
// and ForEachRecord returns that error.
func ForEachRecord(b []byte, fn func(Record) error) error {
	h, err := ParseHeader(b)
	if err != nil {
		return err
	}
	if h.Size() != len(b) || h.Length < HeaderSize-LengthOverhead {
		return fmt.Errorf("%w: batch length %d does not match %d bytes", ErrCorrupt, h.Size(), len(b))
	}
	if err := CheckCRC(b); err != nil {
		return err
	}
	if h.NumRecords < 0 {
		return fmt.Errorf("%w: negative record count %d", ErrInvalidRecord, h.NumRecords)
	}
	recs := b[HeaderSize:]
	if c := h.Codec(); c != CodecNone {
		recs, err = decompress(c, recs)
		if err != nil {
			return err
		}
	}
	var hdrs []RecordHeader
	for i := 0; i < int(h.NumRecords); i++ {
		l, k := binary.Varint(recs)
		if k <= 0 || l < 0 || l > int64(len(recs)-k) {
			return fmt.Errorf("%w: record %d: bad length", ErrCorrupt, i)
		}
		body := recs[k : k+int(l)]
		recs = recs[k+int(l):]
		var r Record
		r, hdrs, err = decodeRecord(body, &h, hdrs[:0])
		if err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if len(recs) != 0 {
		return fmt.Errorf("%w: %d bytes after the last of %d records", ErrCorrupt, len(recs), h.NumRecords)
	}
	return nil
}

func decodeRecord(b []byte, h *Header, hdrs []RecordHeader) (Record, []RecordHeader, error) {
	var r Record
	bad := func(what string) (Record, []RecordHeader, error) {
		return r, hdrs, fmt.Errorf("%w: bad %s", ErrInvalidRecord, what)
	}
	if len(b) < 1 {
		return bad("attributes")
	}
	r.Attributes = int8(b[0])
	b = b[1:]
	tsDelta, k := binary.Varint(b)
	if k <= 0 {
		return bad("timestamp delta")
	}
	b = b[k:]
	offDelta, k := binary.Varint(b)
	if k <= 0 || offDelta < 0 || offDelta > 1<<31-1 {
		return bad("offset delta")
	}
	b = b[k:]
	r.Offset = h.BaseOffset + offDelta
	if h.LogAppendTime() {
		r.Timestamp = h.MaxTimestamp
	} else {
		r.Timestamp = h.BaseTimestamp + tsDelta
	}
	var ok bool
	if r.Key, b, ok = readBytes(b, true); !ok {
		return bad("key")
	}
	if r.Value, b, ok = readBytes(b, true); !ok {
		return bad("value")
	}
	nh, k := binary.Varint(b)
	if k <= 0 || nh < 0 || nh > int64(len(b)) {
		return bad("header count")
	}
	b = b[k:]
	for j := int64(0); j < nh; j++ {
		var key, val []byte
		if key, b, ok = readBytes(b, false); !ok {
			return bad("header key")
		}
		if val, b, ok = readBytes(b, true); !ok {
			return bad("header value")
		}
		hdrs = append(hdrs, RecordHeader{Key: string(key), Value: val})
	}
	if len(b) != 0 {
		return bad("record length")
	}
	if len(hdrs) > 0 {
		r.Headers = hdrs
	}
	return r, hdrs, nil
}

func readBytes(b []byte, nullable bool) (v, rest []byte, ok bool) {
	l, k := binary.Varint(b)
	if k <= 0 {
		return nil, b, false
	}
	b = b[k:]
	if l == -1 && nullable {
		return nil, b, true
	}
	if l < 0 || l > int64(len(b)) {
		return nil, b, false
	}
	return b[:l:l], b[l:], true
}
