package broker

// Fetch: v4-18
//
// Behavior:
//   - Returns whole record batches from each partition's fetch offset, below
//     the high watermark (read_uncommitted) or the last stable offset
//     (read_committed), at most partition_max_bytes per partition and
//     max_bytes in all, but always at least one batch for the first
//     partition with data (KIP-74).
//   - Record data goes from the segment files with sendfile: the response is
//     encoded by wire.AppendFetchResponse with file regions, never copied
//     into the heap.
//   - Long poll: with less than min_bytes available, waits up to
//     max_wait_ms for appends to any requested partition.
//   - Fetch sessions (KIP-227): session 0 epoch 0 creates a session; later
//     incremental requests name only changed partitions and get only
//     partitions with news.
//   - Errors per partition: UNKNOWN_TOPIC_OR_PARTITION / UNKNOWN_TOPIC_ID,
//     OFFSET_OUT_OF_RANGE; per request: FETCH_SESSION_ID_NOT_FOUND,
//     INVALID_FETCH_SESSION_EPOCH.
//
// Version notes:
//   - v0-v3 are not offered: they carry message sets of magic 0/1.
//   - v13+ names topics by id.

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/commitlog"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/wire"
)

// fetchPart is one partition of a fetch: the request's view, resolved.
type fetchPart struct {
	topic    string
	topicID  uuid.UUID
	index    int32
	offset   int64
	maxBytes int32
	// p is nil for an unknown topic or partition.
	p *replica.Partition
	// unknown is the error for an unresolvable partition.
	unknown int16
	// sess is the session's entry, if fetched through a session.
	sess *sessionPart
}

func (b *Broker) handleFetch(ctx context.Context, req *kmsg.FetchRequest, f *wire.Frame) {
	im := b.image()
	parts, sessionID, code := b.resolveFetch(im, req)
	if code != 0 {
		wire.AppendFetchResponse(f, req.Version, 0, code, 0, nil)
		return
	}
	committed := req.IsolationLevel == 1
	wait := deadline(req.MaxWaitMillis)
	var until time.Time
	var wake chan struct{}
	if wait > 0 && req.MinBytes > 0 {
		// Watch before the first read, so an append between the read and
		// the wait is not missed.
		wake = make(chan struct{}, 1)
		until = time.Now().Add(wait)
		b.watch(parts, wake)
	}
	for {
		topics, size, errs := b.readFetch(parts, req, committed, sessionID != 0)
		done := size >= int(req.MinBytes) || errs || wake == nil || ctx.Err() != nil || !time.Now().Before(until)
		if done {
			if wake != nil {
				b.unwatch(parts, wake)
			}
			if sessionID != 0 {
				recordSent(parts, topics)
			}
			wire.AppendFetchResponse(f, req.Version, 0, 0, sessionID, topics)
			return
		}
		releaseTopics(topics)
		t := time.NewTimer(time.Until(until))
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
}

func (b *Broker) watch(parts []fetchPart, ch chan struct{}) {
	for i := range parts {
		if parts[i].p != nil {
			parts[i].p.AddWaiter(ch)
		}
	}
}

func (b *Broker) unwatch(parts []fetchPart, ch chan struct{}) {
	for i := range parts {
		if parts[i].p != nil {
			parts[i].p.RemoveWaiter(ch)
		}
	}
}

// recordSent remembers in the session what each returned partition told
// the client.
func recordSent(parts []fetchPart, topics []wire.FetchTopic) {
	i := 0
	for ti := range topics {
		t := &topics[ti]
		for pi := range t.Partitions {
			out := &t.Partitions[pi]
			for i < len(parts) && (parts[i].index != out.Partition || parts[i].topic != t.Topic) {
				i++
			}
			if i < len(parts) && parts[i].sess != nil {
				parts[i].sess.record(out)
			}
		}
	}
}

func releaseTopics(topics []wire.FetchTopic) {
	for _, t := range topics {
		for _, p := range t.Partitions {
			if p.Records.Release != nil {
				p.Records.Release()
			}
		}
	}
}

// readFetch reads every partition once. With a session (incremental), only
// partitions with news are returned. errs reports a partition error, which
// ends a long poll at once.
func (b *Broker) readFetch(parts []fetchPart, req *kmsg.FetchRequest, committed, incremental bool) ([]wire.FetchTopic, int, bool) {
	var topics []wire.FetchTopic
	left := int(req.MaxBytes)
	if req.Version < 3 || left <= 0 {
		left = 1 << 30
	}
	size := 0
	errs := false
	for i := range parts {
		fp := &parts[i]
		out := wire.FetchPartition{Partition: fp.index, HighWatermark: -1, LastStableOffset: -1, LogStartOffset: -1}
		if fp.p == nil {
			out.ErrorCode = fp.unknown
			errs = true
		} else {
			p := fp.p
			hw := p.HighWatermark()
			out.HighWatermark, out.LastStableOffset, out.LogStartOffset = hw, hw, p.Log.StartOffset()
			if committed {
				out.Aborted = [][2]int64{}
			}
			max := min(int(fp.maxBytes), left)
			if fp.offset < hw && max > 0 {
				r, err := p.Read(fp.offset, max, size == 0)
				switch {
				case errors.Is(err, commitlog.ErrOffsetOutOfRange):
					out.ErrorCode = kerr.OffsetOutOfRange.Code
					errs = true
				case err != nil:
					b.logger.Error("fetch read", "topic", fp.topic, "partition", fp.index, "err", err)
					out.ErrorCode = kerr.KafkaStorageError.Code
					errs = true
				case r.Size > 0:
					out.Records = wire.FileRegion{File: r.File, Pos: r.Pos, Size: r.Size, Release: r.Release}
					size += r.Size
					left -= r.Size
				default:
					r.Release()
				}
			} else if fp.offset > p.Log.EndOffset() || fp.offset < out.LogStartOffset {
				out.ErrorCode = kerr.OffsetOutOfRange.Code
				errs = true
			}
		}
		if incremental && fp.sess != nil && !fp.sess.changed(&out) {
			continue
		}
		if n := len(topics); n == 0 || topics[n-1].Topic != fp.topic || topics[n-1].TopicID != fp.topicID {
			topics = append(topics, wire.FetchTopic{Topic: fp.topic, TopicID: fp.topicID})
		}
		t := &topics[len(topics)-1]
		t.Partitions = append(t.Partitions, out)
	}
	return topics, size, errs
}

// resolveFetch turns the request (and its session) into the partitions to
// read.
func (b *Broker) resolveFetch(im *metadata.Image, req *kmsg.FetchRequest) ([]fetchPart, int32, int16) {
	resolve := func(topic string, id uuid.UUID, index int32) fetchPart {
		fp := fetchPart{topic: topic, topicID: id, index: index, unknown: kerr.UnknownTopicOrPartition.Code}
		if req.Version >= 13 {
			fp.unknown = kerr.UnknownTopicID.Code
			if t := im.TopicIDs[id]; t != nil {
				fp.topic = t.Name
			}
		} else if t := im.Topics[topic]; t != nil {
			fp.topicID = t.ID
		}
		fp.p = b.replicas.Get(fp.topic, index)
		return fp
	}
	if req.Version < 7 || (req.SessionID == 0 && req.SessionEpoch == -1) {
		return b.sessionless(req, resolve), 0, 0
	}
	if req.SessionEpoch == -1 { // close the session, fetch without one
		b.sessions.remove(req.SessionID)
		return b.sessionless(req, resolve), 0, 0
	}
	if req.SessionID == 0 || req.SessionEpoch == 0 {
		if req.SessionEpoch != 0 {
			return nil, 0, kerr.InvalidFetchSessionEpoch.Code
		}
		// Epoch 0 with an id: the client resets its session (Kafka's
		// FetchManager closes the old one and starts a new one).
		if req.SessionID != 0 {
			b.sessions.remove(req.SessionID)
		}
		s := b.sessions.create()
		parts := b.sessionless(req, resolve)
		if s == nil { // cache full: answer without a session
			return parts, 0, 0
		}
		s.update(req, parts)
		return s.parts(resolve), s.id, 0
	}
	s, code := b.sessions.next(req.SessionID, req.SessionEpoch)
	if code != 0 {
		return nil, 0, code
	}
	s.update(req, b.sessionless(req, resolve))
	return s.parts(resolve), s.id, 0
}

func (b *Broker) sessionless(req *kmsg.FetchRequest, resolve func(string, uuid.UUID, int32) fetchPart) []fetchPart {
	var parts []fetchPart
	for i := range req.Topics {
		t := &req.Topics[i]
		for j := range t.Partitions {
			p := &t.Partitions[j]
			fp := resolve(t.Topic, t.TopicID, p.Partition)
			fp.offset, fp.maxBytes = p.FetchOffset, p.PartitionMaxBytes
			parts = append(parts, fp)
		}
	}
	return parts
}
