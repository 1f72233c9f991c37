package broker

// Produce: v0-13
//
// Behavior:
//   - Record batches are validated (magic 2, CRC-32C, sizes, record count)
//     and appended as sent; only offsets are assigned (and the timestamp,
//     for LogAppendTime topics).
//   - acks=0 gets no response; acks=1 answers once appended; acks=-1 waits
//     for the high watermark to pass the batch (WaitForHighWatermark), up to
//     the request timeout (REQUEST_TIMED_OUT).
//   - Idempotent batches are de-duplicated by producer id and sequence: a
//     retried batch is answered with the offsets it got the first time.
//   - Errors are per partition: UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID
//     for v13+), CORRUPT_MESSAGE, INVALID_RECORD, MESSAGE_TOO_LARGE,
//     OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, with a message
//     from v8.
//
// Version notes:
//   - v0-v2 carry message sets of magic 0/1: refused with
//     UNSUPPORTED_FOR_MESSAGE_FORMAT (Sluice stores RecordBatch v2 only).
//   - v13 names topics by id (KIP-516).

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/batch"
	"github.com/sluicehq/sluice/internal/commitlog"
	"github.com/sluicehq/sluice/internal/replica"
)

func (b *Broker) handleProduce(ctx context.Context, req *kmsg.ProduceRequest) *kmsg.ProduceResponse {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	im := b.image()
	now := time.Now()
	type pending struct {
		p    *replica.Partition
		last int64
		rp   *kmsg.ProduceResponseTopicPartition
	}
	var waits []pending
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	for i := range req.Topics {
		rt := &req.Topics[i]
		st := &resp.Topics[i]
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		name := rt.Topic
		unknown := kerr.UnknownTopicOrPartition
		if req.Version >= 13 {
			unknown = kerr.UnknownTopicID
			if t := im.TopicIDs[rt.TopicID]; t != nil {
				name = t.Name
			}
		}
		st.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		for j := range rt.Partitions {
			rp := &rt.Partitions[j]
			sp := &st.Partitions[j]
			*sp = kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = -1, -1, -1
			p := b.replicas.Get(name, rp.Partition)
			if p == nil {
				sp.ErrorCode = unknown.Code
				continue
			}
			if req.Version < 3 {
				sp.ErrorCode = kerr.UnsupportedForMessageFormat.Code
				sp.ErrorMessage = errMsg("message format v0/v1 is not supported; use a client that produces record batches (magic 2)")
				continue
			}
			res, err := b.appendRecords(p, rp.Records, now)
			if err != nil {
				sp.ErrorCode, sp.ErrorMessage = produceError(err)
				continue
			}
			sp.BaseOffset, sp.LogStartOffset = res.FirstOffset, res.LogStartOffset
			if res.LogAppendTime > 0 {
				sp.LogAppendTime = res.LogAppendTime
			}
			if req.Acks == -1 {
				waits = append(waits, pending{p, res.LastOffset, sp})
			}
		}
	}
	if len(waits) > 0 {
		wctx, cancel := context.WithTimeout(ctx, time.Duration(max(req.TimeoutMillis, 1))*time.Millisecond)
		for _, w := range waits {
			if err := w.p.WaitForHighWatermark(wctx, w.last); err != nil {
				w.rp.ErrorCode = kerr.RequestTimedOut.Code
				w.rp.ErrorMessage = errMsg("timed out waiting for in-sync replicas")
			}
		}
		cancel()
	}
	if req.Acks == 0 {
		return nil
	}
	return resp
}

func (b *Broker) appendRecords(p *replica.Partition, records []byte, now time.Time) (commitlog.AppendResult, error) {
	pol := p.Policy()
	maxBytes := pol.MaxMessageBytes
	if maxBytes <= 0 {
		maxBytes = b.cfg.MessageMaxBytes
	}
	sum, err := batch.Validate(records, maxBytes)
	if err != nil {
		return commitlog.AppendResult{}, err
	}
	if sum.Control {
		return commitlog.AppendResult{}, kerr.InvalidRecord
	}
	if !pol.LogAppendTime {
		if err := checkTimestamps(records, now.UnixMilli(), pol); err != nil {
			return commitlog.AppendResult{}, err
		}
	}
	if pol.Compact {
		if err := checkKeys(records); err != nil {
			return commitlog.AppendResult{}, err
		}
	}
	if pol.Codec >= 0 {
		if records, err = recompress(records, batch.Codec(pol.Codec)); err != nil {
			return commitlog.AppendResult{}, err
		}
	}
	return p.AppendAsLeader(records, now)
}

func produceError(err error) (int16, *string) {
	var code *kerr.Error
	switch {
	case errors.Is(err, batch.ErrCorrupt):
		code = kerr.CorruptMessage
	case errors.Is(err, batch.ErrTooLarge):
		code = kerr.MessageTooLarge
	case errors.Is(err, batch.ErrUnsupportedMagic):
		code = kerr.UnsupportedForMessageFormat
	case errors.Is(err, batch.ErrUnsupportedCodec):
		code = kerr.UnsupportedCompressionType
	case errors.Is(err, batch.ErrInvalidRecord):
		code = kerr.InvalidRecord
	case errors.Is(err, commitlog.ErrOutOfOrderSequence):
		code = kerr.OutOfOrderSequenceNumber
	case errors.Is(err, commitlog.ErrInvalidProducerEpoch):
		code = kerr.InvalidProducerEpoch
	case errors.Is(err, errTimestamp):
		code = kerr.InvalidTimestamp
	case errors.Is(err, commitlog.ErrUnknownProducerID):
		code = kerr.UnknownProducerID
	default:
		var ke *kerr.Error
		if errors.As(err, &ke) {
			return ke.Code, errMsg(ke.Description)
		}
		code = kerr.KafkaStorageError
	}
	return code.Code, errMsg(err.Error())
}

// checkKeys refuses records without a key, which a compacted topic cannot
// keep (Kafka: INVALID_RECORD). It decompresses: compacted topics pay for it.
func checkKeys(records []byte) error {
	for len(records) > 0 {
		n := batch.BatchSize(records)
		if n <= 0 || n > len(records) {
			return batch.ErrCorrupt
		}
		err := batch.ForEachRecord(records[:n], func(r batch.Record) error {
			if r.Key == nil {
				return fmt.Errorf("%w: compacted topic %s", errNoKey, "requires a key on every record")
			}
			return nil
		})
		if err != nil {
			return err
		}
		records = records[n:]
	}
	return nil
}

var errNoKey = fmt.Errorf("%w: record without a key", batch.ErrInvalidRecord)
