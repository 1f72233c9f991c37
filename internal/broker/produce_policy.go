package broker

import (
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/internal/batch"
	"github.com/sluicehq/sluice/internal/replica"
)

var errTimestamp = errors.New("timestamp out of range")

// checkTimestamps applies message.timestamp.before.max.ms and
// .after.max.ms to CreateTime batches (Kafka: INVALID_TIMESTAMP). It reads
// batch headers only: the first and the largest timestamp of each batch are
// checked, not every record's, so the hot path never decompresses.
func checkTimestamps(records []byte, nowMs int64, pol *replica.Policy) error {
	const unlimited = 1<<63 - 1
	if pol.TimestampBeforeMaxMs == unlimited && pol.TimestampAfterMaxMs == unlimited {
		return nil
	}
	for len(records) > 0 {
		h, err := batch.ParseHeader(records)
		if err != nil {
			return err
		}
		for _, ts := range []int64{h.BaseTimestamp, h.MaxTimestamp} {
			if ts < 0 {
				continue
			}
			if nowMs-ts > pol.TimestampBeforeMaxMs {
				return fmt.Errorf("%w: timestamp %d is more than message.timestamp.before.max.ms=%d before the broker's time %d",
					errTimestamp, ts, pol.TimestampBeforeMaxMs, nowMs)
			}
			if ts-nowMs > pol.TimestampAfterMaxMs {
				return fmt.Errorf("%w: timestamp %d is more than message.timestamp.after.max.ms=%d after the broker's time %d",
					errTimestamp, ts, pol.TimestampAfterMaxMs, nowMs)
			}
		}
		records = records[h.Size():]
	}
	return nil
}

// recompress rewrites every batch whose codec is not the topic's
// compression.type into that codec, keeping producer id, epoch, sequence,
// timestamps and keys, values and headers (Kafka recompresses on the broker
// the same way). Batches already in the codec are kept as sent, and the
// input is returned unchanged when none needs rewriting.
func recompress(records []byte, codec batch.Codec) ([]byte, error) {
	need := false
	for b := records; len(b) > 0; {
		h, err := batch.ParseHeader(b)
		if err != nil {
			return nil, err
		}
		if h.Codec() != codec {
			need = true
			break
		}
		b = b[h.Size():]
	}
	if !need {
		return records, nil
	}
	out := make([]byte, 0, len(records))
	for len(records) > 0 {
		h, err := batch.ParseHeader(records)
		if err != nil {
			return nil, err
		}
		one := records[:h.Size()]
		records = records[h.Size():]
		if h.Codec() == codec {
			out = append(out, one...)
			continue
		}
		var recs []batch.Record
		err = batch.ForEachRecord(one, func(r batch.Record) error {
			c := batch.Record{Offset: r.Offset, Timestamp: r.Timestamp, Key: clone(r.Key), Value: clone(r.Value)}
			for _, hd := range r.Headers {
				c.Headers = append(c.Headers, batch.RecordHeader{Key: hd.Key, Value: clone(hd.Value)})
			}
			recs = append(recs, c)
			return nil
		})
		if err != nil {
			return nil, err
		}
		out, err = batch.AppendBatchWith(out, batch.BatchOptions{
			PartitionLeaderEpoch: h.PartitionLeaderEpoch,
			Timestamp:            h.BaseTimestamp,
			ProducerID:           h.ProducerID,
			ProducerEpoch:        h.ProducerEpoch,
			BaseSequence:         h.BaseSequence,
			Transactional:        h.Transactional(),
			Codec:                codec,
		}, recs)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// clone copies b, keeping nil as nil (a null key or value).
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
