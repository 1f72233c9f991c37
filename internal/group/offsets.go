package group

import (
	"cmp"
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/batch"
)

// offsetCommit: OffsetCommit v0-10 (Kafka's OffsetMetadataManager.commitOffset).
// A rejected commit (bad generation, unknown member, ...) writes nothing.
func (c *Coordinator) offsetCommit(ctx context.Context, req *kmsg.OffsetCommitRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	// names[i] is the topic name of req.Topics[i] ("" if unknown).
	names := make([]string, len(req.Topics))
	for i, rt := range req.Topics {
		st := kmsg.OffsetCommitResponseTopic{Topic: rt.Topic, TopicID: rt.TopicID}
		name, code := c.resolveTopic(req.Version >= 10, rt.Topic, rt.TopicID)
		names[i] = name
		for _, rp := range rt.Partitions {
			pcode := code
			if pcode == 0 && !c.partitionExists(name, rp.Partition) {
				pcode = kerr.UnknownTopicOrPartition.Code
			}
			st.Partitions = append(st.Partitions, kmsg.OffsetCommitResponseTopicPartition{Partition: rp.Partition, ErrorCode: pcode})
		}
		resp.Topics = append(resp.Topics, st)
	}
	setAll := func(code int16) kmsg.Response {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				if resp.Topics[i].Partitions[j].ErrorCode == 0 {
					resp.Topics[i].Partitions[j].ErrorCode = code
				}
			}
		}
		return resp
	}
	if code := c.coordinatorError(req.Group); code != 0 {
		return setAll(code)
	}
	if req.Group == "" {
		return setAll(kerr.InvalidGroupID.Code)
	}
	g := c.lockGroup(req.Group, false)
	if g == nil {
		if req.Generation >= 0 {
			// Kafka: GROUP_ID_NOT_FOUND from v9, ILLEGAL_GENERATION before.
			if req.Version >= 9 {
				return setAll(kerr.GroupIDNotFound.Code)
			}
			return setAll(kerr.IllegalGeneration.Code)
		}
		g = c.lockGroup(req.Group, true) // a "simple" group
	}
	defer g.mu.Unlock()
	var code int16
	if g.typ == typeConsumer {
		code = g.validateConsumerCommitLocked(req)
	} else {
		code = g.validateClassicCommitLocked(req)
	}
	if code != 0 {
		return setAll(code)
	}

	now := c.now().UnixMilli()
	type pending struct {
		tp topicPartition
		e  offsetEntry
	}
	// One buffer holds every key and value (sized exactly first, so the
	// subslices handed to the store never move).
	size, n := 0, 0
	for i, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			md := 0
			if rp.Metadata != nil {
				md = len(*rp.Metadata)
			}
			size += offsetCommitKeySize(g.id, names[i]) + offsetCommitValueSize(md)
			n++
		}
	}
	buf := make([]byte, 0, size)
	recs := make([]batch.Record, 0, n)
	ok := make([]pending, 0, n)
	for i, rt := range req.Topics {
		for j, rp := range rt.Partitions {
			out := &resp.Topics[i].Partitions[j]
			if out.ErrorCode != 0 {
				continue
			}
			md := ""
			if rp.Metadata != nil {
				md = *rp.Metadata
			}
			if len(md) > c.cfg.OffsetMetadataMaxBytes {
				out.ErrorCode = kerr.OffsetMetadataTooLarge.Code
				continue
			}
			e := offsetEntry{offset: rp.Offset, leaderEpoch: -1, metadata: md, commitTimestamp: now}
			if req.Version >= 6 {
				e.leaderEpoch = rp.LeaderEpoch
			}
			tp := topicPartition{names[i], rp.Partition}
			start := len(buf)
			buf = appendOffsetCommitKey(buf, g.id, tp.topic, tp.partition)
			mid := len(buf)
			buf = appendOffsetCommitValue(buf, e)
			recs = append(recs, batch.Record{Timestamp: now, Key: buf[start:mid:mid], Value: buf[mid:len(buf):len(buf)]})
			ok = append(ok, pending{tp, e})
		}
	}
	if len(recs) == 0 {
		return resp
	}
	if err := c.store.Append(ctx, g.partition, recs); err != nil {
		c.log.Warn("appending offset commit", "group", g.id, "err", err)
		return setAll(appendErrorCode(err))
	}
	for _, p := range ok {
		g.offsets[p.tp] = p.e
	}
	return resp
}

// resolveTopic returns the topic name for a request topic (by id from
// version 10 of OffsetCommit/OffsetFetch), or the error code for it.
func (c *Coordinator) resolveTopic(byID bool, name string, id [16]byte) (string, int16) {
	if c.topics == nil {
		return name, 0
	}
	if byID {
		n, _, ok := c.topics.LookupID(id)
		if !ok {
			return "", kerr.UnknownTopicID.Code
		}
		return n, 0
	}
	if _, _, ok := c.topics.Lookup(name); !ok {
		return name, kerr.UnknownTopicOrPartition.Code
	}
	return name, 0
}

func (c *Coordinator) partitionExists(topic string, p int32) bool {
	if c.topics == nil {
		return true
	}
	_, n, ok := c.topics.Lookup(topic)
	return ok && p >= 0 && p < n
}

// validateClassicCommitLocked is Kafka's ClassicGroup.validateOffsetCommit.
func (g *group) validateClassicCommitLocked(req *kmsg.OffsetCommitRequest) int16 {
	cg := &g.classic
	if req.Generation < 0 && cg.state == stateEmpty {
		return 0 // a simple commit from outside the group (or an admin)
	}
	if req.Generation >= 0 || req.MemberID != "" || req.InstanceID != nil {
		if code := cg.validateMember(req.MemberID, req.InstanceID); code != 0 {
			return code
		}
		if req.Generation != cg.generation {
			return kerr.IllegalGeneration.Code
		}
	} else if cg.state != stateEmpty {
		return kerr.UnknownMemberID.Code
	}
	if cg.state == stateCompletingRebalance {
		return kerr.RebalanceInProgress.Code
	}
	if m := cg.members[req.MemberID]; m != nil {
		m.deadline = g.c.now().Add(m.sessionTimeout)
	}
	return 0
}

// validateConsumerCommitLocked is Kafka's ConsumerGroup.validateOffsetCommit,
// with the later relaxation that a member one epoch behind may still commit
// partitions it owns.
func (g *group) validateConsumerCommitLocked(req *kmsg.OffsetCommitRequest) int16 {
	cs := &g.consumer
	if req.Generation < 0 && len(cs.members) == 0 {
		return 0
	}
	m := cs.members[req.MemberID]
	if m == nil {
		return kerr.UnknownMemberID.Code
	}
	if req.Version < 9 {
		return kerr.UnsupportedVersion.Code
	}
	switch {
	case req.Generation > m.epoch:
		return kerr.FencedMemberEpoch.Code
	case req.Generation < m.epoch:
		for _, rt := range req.Topics {
			id := rt.TopicID
			if req.Version < 10 && g.c.topics != nil {
				id, _, _ = g.c.topics.Lookup(rt.Topic)
			}
			for _, rp := range rt.Partitions {
				if !m.assigned.has(id, rp.Partition) && !m.revoking.has(id, rp.Partition) {
					return kerr.StaleMemberEpoch.Code
				}
			}
		}
	}
	return 0
}

// offsetFetch: OffsetFetch v0-10; v8+ fetches many groups at once.
func (c *Coordinator) offsetFetch(req *kmsg.OffsetFetchRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			resp.Groups = append(resp.Groups, c.fetchGroup(req.Version, rg))
		}
		return resp
	}
	rg := kmsg.OffsetFetchRequestGroup{Group: req.Group, MemberEpoch: -1}
	if req.Topics != nil {
		rg.Topics = []kmsg.OffsetFetchRequestGroupTopic{}
		for _, t := range req.Topics {
			rg.Topics = append(rg.Topics, kmsg.OffsetFetchRequestGroupTopic{Topic: t.Topic, Partitions: t.Partitions})
		}
	}
	out := c.fetchGroup(req.Version, rg)
	resp.ErrorCode = out.ErrorCode
	for _, t := range out.Topics {
		rt := kmsg.OffsetFetchResponseTopic{Topic: t.Topic}
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions, kmsg.OffsetFetchResponseTopicPartition{
				Partition: p.Partition, Offset: p.Offset, LeaderEpoch: p.LeaderEpoch, Metadata: p.Metadata, ErrorCode: p.ErrorCode,
			})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if req.Version < 2 && out.ErrorCode != 0 {
		// No top-level error before v2: put it on every partition.
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				resp.Topics[i].Partitions[j].ErrorCode = out.ErrorCode
			}
		}
	}
	return resp
}

// fetchGroup answers one group of an OffsetFetch. Nothing committed is
// offset -1 with no error, as Kafka (sarama relies on it).
func (c *Coordinator) fetchGroup(version int16, rg kmsg.OffsetFetchRequestGroup) kmsg.OffsetFetchResponseGroup {
	out := kmsg.OffsetFetchResponseGroup{Group: rg.Group}
	if code := c.coordinatorError(rg.Group); code != 0 {
		out.ErrorCode = code
		return out
	}
	byID := version >= 10
	unknown := func(p int32, code int16) kmsg.OffsetFetchResponseGroupTopicPartition {
		return kmsg.OffsetFetchResponseGroupTopicPartition{Partition: p, Offset: -1, LeaderEpoch: -1, Metadata: strp(""), ErrorCode: code}
	}
	g := c.lockGroup(rg.Group, false)
	if g != nil {
		defer g.mu.Unlock()
		if g.typ == typeConsumer && version >= 9 && rg.MemberID != nil {
			if m := g.consumer.members[*rg.MemberID]; m == nil {
				out.ErrorCode = kerr.UnknownMemberID.Code
				return out
			} else if rg.MemberEpoch != m.epoch {
				out.ErrorCode = kerr.StaleMemberEpoch.Code
				return out
			}
		}
	}
	if rg.Topics == nil {
		if g == nil {
			return out
		}
		byTopic := make(map[string][]kmsg.OffsetFetchResponseGroupTopicPartition)
		for tp, e := range g.offsets {
			byTopic[tp.topic] = append(byTopic[tp.topic], kmsg.OffsetFetchResponseGroupTopicPartition{
				Partition: tp.partition, Offset: e.offset, LeaderEpoch: e.leaderEpoch, Metadata: strp(e.metadata),
			})
		}
		for topic, ps := range byTopic {
			slices.SortFunc(ps, func(a, b kmsg.OffsetFetchResponseGroupTopicPartition) int {
				return cmp.Compare(a.Partition, b.Partition)
			})
			t := kmsg.OffsetFetchResponseGroupTopic{Topic: topic, Partitions: ps}
			if byID {
				if c.topics == nil {
					continue
				}
				id, _, ok := c.topics.Lookup(topic)
				if !ok {
					continue // deleted topic: no id to report it under
				}
				t.TopicID = id
			}
			out.Topics = append(out.Topics, t)
		}
		slices.SortFunc(out.Topics, func(a, b kmsg.OffsetFetchResponseGroupTopic) int { return cmp.Compare(a.Topic, b.Topic) })
		return out
	}
	for _, rt := range rg.Topics {
		t := kmsg.OffsetFetchResponseGroupTopic{Topic: rt.Topic, TopicID: rt.TopicID}
		name, code := rt.Topic, int16(0)
		if byID {
			name, code = c.resolveTopic(true, rt.Topic, rt.TopicID)
		}
		for _, p := range rt.Partitions {
			if code != 0 {
				t.Partitions = append(t.Partitions, unknown(p, code))
				continue
			}
			var e offsetEntry
			var ok bool
			if g != nil {
				e, ok = g.offsets[topicPartition{name, p}]
			}
			if !ok {
				t.Partitions = append(t.Partitions, unknown(p, 0))
				continue
			}
			t.Partitions = append(t.Partitions, kmsg.OffsetFetchResponseGroupTopicPartition{
				Partition: p, Offset: e.offset, LeaderEpoch: e.leaderEpoch, Metadata: strp(e.metadata),
			})
		}
		out.Topics = append(out.Topics, t)
	}
	return out
}

// offsetDelete: OffsetDelete v0 (KIP-496).
func (c *Coordinator) offsetDelete(ctx context.Context, req *kmsg.OffsetDeleteRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if code := c.coordinatorError(req.Group); code != 0 {
		resp.ErrorCode = code
		return resp
	}
	g := c.lockGroup(req.Group, false)
	if g == nil {
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		return resp
	}
	defer g.mu.Unlock()
	subscribed, code := g.subscribedTopicsLocked()
	if code != 0 {
		resp.ErrorCode = code
		return resp
	}
	now := c.now().UnixMilli()
	var recs []batch.Record
	var del []topicPartition
	for _, rt := range req.Topics {
		ot := kmsg.OffsetDeleteResponseTopic{Topic: rt.Topic}
		for _, rp := range rt.Partitions {
			op := kmsg.OffsetDeleteResponseTopicPartition{Partition: rp.Partition}
			tp := topicPartition{rt.Topic, rp.Partition}
			if subscribed[rt.Topic] {
				op.ErrorCode = kerr.GroupSubscribedToTopic.Code
			} else if _, ok := g.offsets[tp]; ok {
				recs = append(recs, batch.Record{Timestamp: now, Key: offsetCommitKey(g.id, tp.topic, tp.partition)})
				del = append(del, tp)
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	if len(recs) > 0 {
		if err := c.store.Append(ctx, g.partition, recs); err != nil {
			resp.ErrorCode = appendErrorCode(err)
			resp.Topics = nil
			return resp
		}
		for _, tp := range del {
			delete(g.offsets, tp)
		}
	}
	return resp
}

// subscribedTopicsLocked is the set of topics the group's members consume
// (Kafka's isSubscribedToTopic), or NON_EMPTY_GROUP for a non-empty classic
// group whose protocol type is not "consumer" (its subscriptions are opaque).
func (g *group) subscribedTopicsLocked() (map[string]bool, int16) {
	subs := make(map[string]bool)
	if g.typ == typeConsumer {
		for _, m := range g.consumer.members {
			for _, t := range g.consumer.memberTopics(g.c, m) {
				subs[t] = true
			}
		}
		return subs, 0
	}
	cg := &g.classic
	if cg.state == stateEmpty {
		return subs, 0
	}
	if cg.protocolType != "consumer" {
		return nil, kerr.NonEmptyGroup.Code
	}
	for _, m := range cg.members {
		var md kmsg.ConsumerMemberMetadata
		if err := md.ReadFrom(m.metadataFor(cg.protocol)); err != nil {
			continue
		}
		for _, t := range md.Topics {
			subs[t] = true
		}
	}
	return subs, 0
}
