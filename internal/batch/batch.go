// Package batch owns the Kafka RecordBatch v2 (magic 2) format: parsing the
// 61-byte header, validating a Produce records blob (sizes, CRC-32C, record
// counts), rewriting the fields a broker may change in place (base offset,
// partition leader epoch, LogAppendTime), building uncompressed batches for
// internal topics, and decoding records (decompressing when needed).
//
// The package does no I/O and keeps no state. The hot paths (ParseHeader,
// Validate, the Set* functions) never allocate; ForEachRecord allocates a
// decompression buffer per compressed batch and a string per record header
// key, nothing else per record.
//
// Layout (Kafka's DefaultRecordBatch):
//
//	offset  size  field
//	 0      8     baseOffset
//	 8      4     batchLength (bytes after this field)
//	12      4     partitionLeaderEpoch
//	16      1     magic (2)
//	17      4     crc (CRC-32C of bytes 21..end)
//	21      2     attributes
//	23      4     lastOffsetDelta
//	27      8     baseTimestamp
//	35      8     maxTimestamp
//	43      8     producerId
//	51      2     producerEpoch
//	53      4     baseSequence
//	57      4     recordCount
//	61            records
//
// The package must not know about segments, partitions or the network.
package batch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// HeaderSize is the size of a v2 record batch header in bytes.
const HeaderSize = 61

// LengthOverhead is the number of bytes before and including the batchLength
// field: a batch occupies Length+LengthOverhead bytes.
const LengthOverhead = 12

// Field offsets inside the header.
const (
	offBaseOffset      = 0
	offLength          = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offBaseTimestamp   = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offNumRecords      = 57
)

// Attribute bits.
const (
	codecMask         = 0x07
	attrLogAppendTime = 0x08
	attrTransactional = 0x10
	attrControl       = 0x20
)

// Sentinel errors. Every error returned by this package wraps one of them with
// a message saying what is wrong; test with errors.Is.
var (
	// ErrCorrupt: bytes do not form a batch (sizes, CRC). Kafka: CORRUPT_MESSAGE.
	ErrCorrupt = errors.New("corrupt record batch")
	// ErrInvalidRecord: the batch is intact but its contents are inconsistent
	// (record count, offset deltas, record framing). Kafka: INVALID_RECORD.
	ErrInvalidRecord = errors.New("invalid record")
	// ErrUnsupportedMagic: magic is not 2. Kafka: UNSUPPORTED_FOR_MESSAGE_FORMAT
	// (or CORRUPT_MESSAGE for garbage).
	ErrUnsupportedMagic = errors.New("unsupported record batch magic")
	// ErrTooLarge: a batch exceeds the size limit. Kafka: MESSAGE_TOO_LARGE.
	ErrTooLarge = errors.New("record batch too large")
	// ErrUnsupportedCodec: compression codec bits 5..7. Kafka:
	// UNSUPPORTED_COMPRESSION_TYPE.
	ErrUnsupportedCodec = errors.New("unsupported compression codec")
)

// Codec is the compression codec of a batch (attributes bits 0-2).
type Codec int8

// Compression codecs as numbered by Kafka.
const (
	CodecNone   Codec = 0
	CodecGzip   Codec = 1
	CodecSnappy Codec = 2
	CodecLZ4    Codec = 3
	CodecZstd   Codec = 4
)

func (c Codec) String() string {
	switch c {
	case CodecNone:
		return "none"
	case CodecGzip:
		return "gzip"
	case CodecSnappy:
		return "snappy"
	case CodecLZ4:
		return "lz4"
	case CodecZstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

// Header is a decoded v2 record batch header.
type Header struct {
	BaseOffset           int64
	Length               int32 // bytes after the Length field; the batch is Length+12 bytes
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64 // -1: not idempotent
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// Codec returns the compression codec.
func (h Header) Codec() Codec { return Codec(h.Attributes & codecMask) }

// Transactional reports attributes bit 4.
func (h Header) Transactional() bool { return h.Attributes&attrTransactional != 0 }

// Control reports attributes bit 5 (transaction markers).
func (h Header) Control() bool { return h.Attributes&attrControl != 0 }

// LogAppendTime reports attributes bit 3 (timestamp type LogAppendTime).
func (h Header) LogAppendTime() bool { return h.Attributes&attrLogAppendTime != 0 }

// LastOffset is BaseOffset + LastOffsetDelta.
func (h Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// Size is the number of bytes the whole batch occupies.
func (h Header) Size() int { return int(h.Length) + LengthOverhead }

// Idempotent reports whether the batch carries a producer id.
func (h Header) Idempotent() bool { return h.ProducerID >= 0 }

// LastSequence is the sequence number of the last record, wrapping at
// MaxInt32 as Kafka does (DefaultRecordBatch.incrementSequence).
func (h Header) LastSequence() int32 {
	if h.BaseSequence < 0 {
		return -1
	}
	return IncrementSequence(h.BaseSequence, h.LastOffsetDelta)
}

// IncrementSequence adds inc to seq, wrapping past MaxInt32 to 0.
func IncrementSequence(seq, inc int32) int32 {
	if seq > (1<<31-1)-inc {
		return inc - ((1<<31 - 1) - seq) - 1
	}
	return seq + inc
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ParseHeader decodes the header at the start of b. It checks only that b is
// long enough for a header and that the magic is 2; it does not check the CRC
// or that b holds the whole batch (see Validate).
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderSize {
		if len(b) > offMagic && b[offMagic] != 2 {
			return h, fmt.Errorf("%w: magic %d", ErrUnsupportedMagic, int8(b[offMagic]))
		}
		return h, fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorrupt, len(b))
	}
	be := binary.BigEndian
	h.BaseOffset = int64(be.Uint64(b[offBaseOffset:]))
	h.Length = int32(be.Uint32(b[offLength:]))
	h.PartitionLeaderEpoch = int32(be.Uint32(b[offLeaderEpoch:]))
	h.Magic = int8(b[offMagic])
	h.CRC = be.Uint32(b[offCRC:])
	h.Attributes = int16(be.Uint16(b[offAttributes:]))
	h.LastOffsetDelta = int32(be.Uint32(b[offLastOffsetDelta:]))
	h.BaseTimestamp = int64(be.Uint64(b[offBaseTimestamp:]))
	h.MaxTimestamp = int64(be.Uint64(b[offMaxTimestamp:]))
	h.ProducerID = int64(be.Uint64(b[offProducerID:]))
	h.ProducerEpoch = int16(be.Uint16(b[offProducerEpoch:]))
	h.BaseSequence = int32(be.Uint32(b[offBaseSequence:]))
	h.NumRecords = int32(be.Uint32(b[offNumRecords:]))
	if h.Magic != 2 {
		return h, fmt.Errorf("%w: magic %d", ErrUnsupportedMagic, h.Magic)
	}
	return h, nil
}

// BatchSize returns the size in bytes of the batch starting at b from its
// length field, or -1 if b is shorter than 12 bytes or the length is negative.
func BatchSize(b []byte) int {
	if len(b) < LengthOverhead {
		return -1
	}
	n := int32(binary.BigEndian.Uint32(b[offLength:]))
	if n < 0 {
		return -1
	}
	return int(n) + LengthOverhead
}

// ComputeCRC returns the CRC-32C of b[21:], the checksum a v2 batch carries.
// b must be one whole batch of at least HeaderSize bytes.
func ComputeCRC(b []byte) uint32 { return crc32.Checksum(b[offAttributes:], castagnoli) }

// UpdateCRC recomputes and stores the CRC of the whole batch b.
func UpdateCRC(b []byte) {
	binary.BigEndian.PutUint32(b[offCRC:], ComputeCRC(b))
}

// CheckCRC verifies the stored CRC of the whole batch b.
func CheckCRC(b []byte) error {
	if len(b) < HeaderSize {
		return fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorrupt, len(b))
	}
	stored := binary.BigEndian.Uint32(b[offCRC:])
	if got := ComputeCRC(b); got != stored {
		return fmt.Errorf("%w: crc mismatch (stored %08x, computed %08x)", ErrCorrupt, stored, got)
	}
	return nil
}

// SetBaseOffset rewrites the base offset of the batch at b. The base offset is
// not covered by the CRC.
func SetBaseOffset(b []byte, off int64) {
	binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(off))
}

// SetPartitionLeaderEpoch rewrites the partition leader epoch of the batch at
// b. It is not covered by the CRC.
func SetPartitionLeaderEpoch(b []byte, epoch int32) {
	binary.BigEndian.PutUint32(b[offLeaderEpoch:], uint32(epoch))
}

// SetLogAppendTime sets the timestamp type bit to LogAppendTime and the max
// timestamp to ts, then recomputes the CRC over the whole batch b (which must
// be exactly one batch). Kafka keeps record timestamp deltas unchanged; readers
// use MaxTimestamp for every record of a LogAppendTime batch.
func SetLogAppendTime(b []byte, ts int64) {
	be := binary.BigEndian
	attrs := be.Uint16(b[offAttributes:]) | attrLogAppendTime
	be.PutUint16(b[offAttributes:], attrs)
	be.PutUint64(b[offMaxTimestamp:], uint64(ts))
	UpdateCRC(b)
}
