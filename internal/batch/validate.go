package batch

import (
	"encoding/binary"
	"fmt"
)

// Summary describes a records blob that passed Validate.
type Summary struct {
	Batches      int   // number of batches
	Records      int   // sum of NumRecords
	Bytes        int   // total bytes (len of the blob)
	MaxTimestamp int64 // largest MaxTimestamp of all batches (-1 if none)
	// FirstHeader is the header of the first batch: for a Produce request
	// (v3+: exactly one batch) it carries the producer id, epoch and sequence.
	FirstHeader Header
	// Control is true if any batch is a control batch. Clients may not
	// produce control batches (Kafka: INVALID_RECORD); the caller decides.
	Control bool
	// Transactional is true if any batch is transactional.
	Transactional bool
	// Compressed is true if any batch is compressed.
	Compressed bool
}

// Validate checks every batch of a Produce records blob without allocating:
//
//   - each batch's length is sane and fits in the blob; a batch larger than
//     maxBatchBytes (if > 0) is ErrTooLarge;
//   - magic is 2 (ErrUnsupportedMagic);
//   - the CRC-32C matches (ErrCorrupt);
//   - for non-control batches NumRecords > 0 and NumRecords ==
//     LastOffsetDelta+1 (ErrInvalidRecord), as Kafka's LogValidator checks;
//   - for uncompressed batches every record is walked: its varint length,
//     attributes, offset delta (must equal its index), key, value and headers
//     must exactly fill the record, and the records must exactly fill the
//     batch (ErrCorrupt / ErrInvalidRecord).
//
// Compressed batches are not decompressed: their record counts are checked
// from the header only.
func Validate(records []byte, maxBatchBytes int) (Summary, error) {
	s := Summary{MaxTimestamp: -1, Bytes: len(records)}
	if len(records) == 0 {
		return s, fmt.Errorf("%w: empty records", ErrCorrupt)
	}
	b := records
	for len(b) > 0 {
		h, err := validateBatch(b, maxBatchBytes)
		if err != nil {
			return s, fmt.Errorf("batch %d at byte %d: %w", s.Batches, len(records)-len(b), err)
		}
		if s.Batches == 0 {
			s.FirstHeader = h
		}
		s.Batches++
		s.Records += int(h.NumRecords)
		if h.MaxTimestamp > s.MaxTimestamp {
			s.MaxTimestamp = h.MaxTimestamp
		}
		s.Control = s.Control || h.Control()
		s.Transactional = s.Transactional || h.Transactional()
		s.Compressed = s.Compressed || h.Codec() != CodecNone
		b = b[h.Size():]
	}
	return s, nil
}

// ValidateBatch validates the single batch at the start of b (b may hold more
// bytes after it) the way Validate does, and returns its header.
func ValidateBatch(b []byte, maxBatchBytes int) (Header, error) {
	return validateBatch(b, maxBatchBytes)
}

// checkFrame checks what every batch must have, produced or stored: a length
// that fits (and is at most maxBatchBytes, if positive), a parsable header,
// a matching CRC-32C and a known codec. It returns the header and the batch
// cut to its length.
func checkFrame(b []byte, maxBatchBytes int) (Header, []byte, error) {
	if len(b) < LengthOverhead {
		return Header{}, nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(b))
	}
	length := int32(binary.BigEndian.Uint32(b[offLength:]))
	if length < HeaderSize-LengthOverhead {
		return Header{}, nil, fmt.Errorf("%w: batch length %d below the header size", ErrCorrupt, length)
	}
	size := int(length) + LengthOverhead
	if maxBatchBytes > 0 && size > maxBatchBytes {
		return Header{}, nil, fmt.Errorf("%w: %d bytes exceeds the limit %d", ErrTooLarge, size, maxBatchBytes)
	}
	if size > len(b) {
		return Header{}, nil, fmt.Errorf("%w: batch of %d bytes truncated to %d", ErrCorrupt, size, len(b))
	}
	b = b[:size]
	h, err := ParseHeader(b)
	if err != nil {
		return h, nil, err
	}
	if err := CheckCRC(b); err != nil {
		return h, nil, err
	}
	if h.Codec() > CodecZstd {
		return h, nil, fmt.Errorf("%w: %d", ErrUnsupportedCodec, int8(h.Codec()))
	}
	return h, b, nil
}

func validateBatch(b []byte, maxBatchBytes int) (Header, error) {
	h, b, err := checkFrame(b, maxBatchBytes)
	if err != nil {
		return h, err
	}
	if h.NumRecords < 0 {
		return h, fmt.Errorf("%w: negative record count %d", ErrInvalidRecord, h.NumRecords)
	}
	if !h.Control() {
		if h.LastOffsetDelta < 0 {
			return h, fmt.Errorf("%w: negative last offset delta %d", ErrInvalidRecord, h.LastOffsetDelta)
		}
		if h.NumRecords == 0 {
			return h, fmt.Errorf("%w: batch has no records", ErrInvalidRecord)
		}
		if int64(h.NumRecords) != int64(h.LastOffsetDelta)+1 {
			return h, fmt.Errorf("%w: record count %d does not match last offset delta %d",
				ErrInvalidRecord, h.NumRecords, h.LastOffsetDelta)
		}
	}
	if h.Codec() == CodecNone {
		if err := walkRecords(b[HeaderSize:], int(h.NumRecords), !h.Control()); err != nil {
			return h, err
		}
	}
	return h, nil
}

// walkRecords checks that recs holds exactly n well-framed records.
// If strictDeltas, record i must have offset delta i.
func walkRecords(recs []byte, n int, strictDeltas bool) error {
	for i := 0; i < n; i++ {
		if len(recs) == 0 {
			return fmt.Errorf("%w: %d records declared, %d present", ErrCorrupt, n, i)
		}
		l, k := binary.Varint(recs)
		if k <= 0 || l < 0 || l > int64(len(recs)-k) {
			return fmt.Errorf("%w: record %d: bad length", ErrCorrupt, i)
		}
		body := recs[k : k+int(l)]
		recs = recs[k+int(l):]
		delta, err := walkRecord(body)
		if err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
		if strictDeltas && delta != int64(i) {
			return fmt.Errorf("%w: record %d has offset delta %d", ErrInvalidRecord, i, delta)
		}
	}
	if len(recs) != 0 {
		return fmt.Errorf("%w: %d bytes after the last of %d records", ErrCorrupt, len(recs), n)
	}
	return nil
}

// walkRecord checks a record body (after its length) and returns its offset
// delta.
func walkRecord(b []byte) (int64, error) {
	if len(b) < 1 {
		return 0, fmt.Errorf("%w: empty record", ErrInvalidRecord)
	}
	b = b[1:] // attributes
	var ok bool
	if b, ok = skipVarint(b); !ok { // timestamp delta
		return 0, fmt.Errorf("%w: bad timestamp delta", ErrInvalidRecord)
	}
	delta, k := binary.Varint(b)
	if k <= 0 || delta < 0 || delta > 1<<31-1 {
		return 0, fmt.Errorf("%w: bad offset delta", ErrInvalidRecord)
	}
	b = b[k:]
	if b, ok = skipBytes(b, true); !ok {
		return 0, fmt.Errorf("%w: bad key", ErrInvalidRecord)
	}
	if b, ok = skipBytes(b, true); !ok {
		return 0, fmt.Errorf("%w: bad value", ErrInvalidRecord)
	}
	nh, k := binary.Varint(b)
	if k <= 0 || nh < 0 || nh > int64(len(b)) {
		return 0, fmt.Errorf("%w: bad header count", ErrInvalidRecord)
	}
	b = b[k:]
	for j := int64(0); j < nh; j++ {
		if b, ok = skipBytes(b, false); !ok {
			return 0, fmt.Errorf("%w: bad header key", ErrInvalidRecord)
		}
		if b, ok = skipBytes(b, true); !ok {
			return 0, fmt.Errorf("%w: bad header value", ErrInvalidRecord)
		}
	}
	if len(b) != 0 {
		return 0, fmt.Errorf("%w: %d bytes after the record's fields", ErrInvalidRecord, len(b))
	}
	return delta, nil
}

func skipVarint(b []byte) ([]byte, bool) {
	_, k := binary.Varint(b)
	if k <= 0 {
		return b, false
	}
	return b[k:], true
}

// skipBytes skips a varint-length-prefixed byte string; -1 means null when
// nullable.
func skipBytes(b []byte, nullable bool) ([]byte, bool) {
	l, k := binary.Varint(b)
	if k <= 0 {
		return b, false
	}
	b = b[k:]
	if l == -1 && nullable {
		return b, true
	}
	if l < 0 || l > int64(len(b)) {
		return b, false
	}
	return b[l:], true
}
