package batch

import (
	"encoding/binary"
	"fmt"
)

// AttrDeleteHorizon is attributes bit 6 (KIP-534): the batch's base
// timestamp holds the delete horizon set by the log cleaner, and record
// timestamp deltas are relative to it. Tombstones (and later, transaction
// markers) in the batch may be removed once the horizon has passed.
const AttrDeleteHorizon = 0x40

// PutHeader writes h into the first HeaderSize bytes of b and recomputes
// the CRC over the whole batch b (which must be exactly one batch whose
// records follow the header). h.Magic is written as 2. Used by the log
// cleaner to rebuild a filtered batch with the original's producer fields.
func PutHeader(b []byte, h Header) {
	be := binary.BigEndian
	be.PutUint64(b[offBaseOffset:], uint64(h.BaseOffset))
	be.PutUint32(b[offLength:], uint32(h.Length))
	be.PutUint32(b[offLeaderEpoch:], uint32(h.PartitionLeaderEpoch))
	b[offMagic] = 2
	be.PutUint16(b[offAttributes:], uint16(h.Attributes))
	be.PutUint32(b[offLastOffsetDelta:], uint32(h.LastOffsetDelta))
	be.PutUint64(b[offBaseTimestamp:], uint64(h.BaseTimestamp))
	be.PutUint64(b[offMaxTimestamp:], uint64(h.MaxTimestamp))
	be.PutUint64(b[offProducerID:], uint64(h.ProducerID))
	be.PutUint16(b[offProducerEpoch:], uint16(h.ProducerEpoch))
	be.PutUint32(b[offBaseSequence:], uint32(h.BaseSequence))
	be.PutUint32(b[offNumRecords:], uint32(h.NumRecords))
	UpdateCRC(b)
}

// CodecMask selects the compression codec bits of the attributes.
const CodecMask = codecMask

// DeleteHorizon returns the batch's delete horizon (KIP-534) and whether it
// has one.
func (h Header) DeleteHorizon() (int64, bool) {
	if h.Attributes&AttrDeleteHorizon == 0 {
		return -1, false
	}
	return h.BaseTimestamp, true
}

// Decompress returns the decompressed records section of a batch compressed
// with c (the log cleaner decompresses, filters and recompresses).
func Decompress(c Codec, src []byte) ([]byte, error) { return decompress(c, src) }

// Compress appends the compression of src with c to dst.
func Compress(dst []byte, c Codec, src []byte) ([]byte, error) { return compress(dst, c, src) }

// ValidateStored validates one batch at the start of b the way it may sit in
// a log: framing, magic, CRC32C and, for uncompressed batches, the framing of
// every record. Unlike ValidateBatch (which checks what a producer sends) it
// accepts what the log cleaner writes: fewer records than offsets (a
// compacted batch keeps its base and last offset, so offset deltas have
// gaps) and empty batches (NumRecords 0, kept to preserve an idempotent
// producer's last sequence).
func ValidateStored(b []byte) (Header, error) {
	h, b, err := checkFrame(b, 0)
	if err != nil {
		return h, err
	}
	if h.NumRecords < 0 || h.LastOffsetDelta < 0 {
		return h, fmt.Errorf("%w: record count %d, last offset delta %d", ErrInvalidRecord, h.NumRecords, h.LastOffsetDelta)
	}
	if !h.Control() && int64(h.NumRecords) > int64(h.LastOffsetDelta)+1 {
		return h, fmt.Errorf("%w: record count %d exceeds last offset delta %d + 1",
			ErrInvalidRecord, h.NumRecords, h.LastOffsetDelta)
	}
	if h.Codec() == CodecNone {
		if err := walkRecords(b[HeaderSize:], int(h.NumRecords), false); err != nil {
			return h, err
		}
	}
	return h, nil
}
