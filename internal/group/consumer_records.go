package group

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"

	"github.com/twmb/franz-go/pkg/kbin"

	"github.com/sluicehq/sluice/internal/batch"
)

// KIP-848 consumer group records on __consumer_offsets, in Kafka's schemas
// (group-coordinator/src/main/resources/common/message): the key is an int16
// record type followed by non-flexible strings; the value is an int16
// version (0) followed by a flexible body ending in tagged fields (we write
// none and skip any on read).
//
//	3 ConsumerGroupMetadata                {group}         -> {epoch}
//	5 ConsumerGroupMemberMetadata          {group, member} -> {instance, rack, client id/host, topics, regex, rebalance timeout, assignor}
//	6 ConsumerGroupTargetAssignmentMetadata{group}         -> {assignment epoch}
//	7 ConsumerGroupTargetAssignmentMember  {group, member} -> {topic partitions}
//	8 ConsumerGroupCurrentMemberAssignment {group, member} -> {epoch, previous epoch, state, assigned, pending revocation}
//
// Persistence is by difference: consumerPersisted holds the encoded values
// last written; after every change the group's encoded values are compared
// with it and only what differs is appended (tombstones for what is gone).
// A failed append leaves consumerPersisted as it was, so the next change
// writes the difference again.
const (
	recConsumerGroupMetadata       = 3
	recConsumerMemberMetadata      = 5
	recConsumerTargetMetadata      = 6
	recConsumerTargetMember        = 7
	recConsumerCurrentAssignment   = 8
	consumerRecordValueVersion     = 0
	consumerRecordNoGroupEpochSent = -1
)

// consumerPersisted is what was last written for a consumer group.
type consumerPersisted struct {
	groupEpoch      int32 // consumerRecordNoGroupEpochSent before the first write
	assignmentEpoch int32
	memberMeta      map[string][]byte
	target          map[string][]byte
	current         map[string][]byte
}

func newConsumerPersisted() consumerPersisted {
	return consumerPersisted{
		groupEpoch:      consumerRecordNoGroupEpochSent,
		assignmentEpoch: consumerRecordNoGroupEpochSent,
		memberMeta:      map[string][]byte{},
		target:          map[string][]byte{},
		current:         map[string][]byte{},
	}
}

func consumerKey(typ int16, group string, member *string) []byte {
	k := kbin.AppendInt16(nil, typ)
	k = kbin.AppendString(k, group)
	if member != nil {
		k = kbin.AppendString(k, *member)
	}
	return k
}

func appendTopicPartitions(dst []byte, a assignment) []byte {
	ids := a.sortedIDs()
	dst = kbin.AppendCompactArrayLen(dst, len(ids))
	for _, id := range ids {
		dst = kbin.AppendUuid(dst, id)
		dst = kbin.AppendCompactArrayLen(dst, len(a[id]))
		for _, p := range a[id] {
			dst = kbin.AppendInt32(dst, p)
		}
		dst = kbin.AppendUvarint(dst, 0) // no tagged fields
	}
	return dst
}

func epochValue(epoch int32) []byte {
	v := kbin.AppendInt16(nil, consumerRecordValueVersion)
	v = kbin.AppendInt32(v, epoch)
	return kbin.AppendUvarint(v, 0)
}

func memberMetadataValue(m *consumerMember) []byte {
	v := kbin.AppendInt16(nil, consumerRecordValueVersion)
	v = kbin.AppendCompactNullableString(v, m.instanceID)
	v = kbin.AppendCompactNullableString(v, m.rackID)
	v = kbin.AppendCompactString(v, m.clientID)
	v = kbin.AppendCompactString(v, m.clientHost)
	v = kbin.AppendCompactArrayLen(v, len(m.subscribed))
	for _, t := range m.subscribed {
		v = kbin.AppendCompactString(v, t)
	}
	var regex *string
	if m.regex != "" {
		regex = &m.regex
	}
	v = kbin.AppendCompactNullableString(v, regex)
	v = kbin.AppendInt32(v, int32(m.rebalanceTimeout.Milliseconds()))
	var assignor *string
	if m.assignor != "" {
		assignor = &m.assignor
	}
	v = kbin.AppendCompactNullableString(v, assignor)
	return kbin.AppendUvarint(v, 0)
}

func targetMemberValue(a assignment) []byte {
	v := kbin.AppendInt16(nil, consumerRecordValueVersion)
	v = appendTopicPartitions(v, a)
	return kbin.AppendUvarint(v, 0)
}

func currentAssignmentValue(m *consumerMember) []byte {
	v := kbin.AppendInt16(nil, consumerRecordValueVersion)
	v = kbin.AppendInt32(v, m.epoch)
	v = kbin.AppendInt32(v, m.prevEpoch)
	v = kbin.AppendInt8(v, int8(m.state))
	v = appendTopicPartitions(v, m.assigned)
	v = appendTopicPartitions(v, m.revoking)
	return kbin.AppendUvarint(v, 0)
}

// persistConsumerLocked appends what changed in the consumer group since the
// last successful write. It returns the error of the append, if any. focus,
// if set, is the only member a heartbeat may have changed: when the epochs
// and the member set are as persisted, only it is compared.
func (g *group) persistConsumerLocked(ctx context.Context, focus *consumerMember) error {
	cs := &g.consumer
	p := &cs.persisted
	now := g.c.now().UnixMilli()
	var recs []batch.Record
	add := func(key, value []byte) {
		recs = append(recs, batch.Record{Timestamp: now, Key: key, Value: value})
	}
	if focus != nil && p.groupEpoch == cs.epoch && p.assignmentEpoch == cs.assignmentEpoch &&
		len(p.memberMeta) == len(cs.members) && p.memberMeta[focus.id] != nil {
		id := focus.id
		meta, cur := memberMetadataValue(focus), currentAssignmentValue(focus)
		if !bytes.Equal(p.memberMeta[id], meta) {
			add(consumerKey(recConsumerMemberMetadata, g.id, &id), meta)
		}
		if !bytes.Equal(p.current[id], cur) {
			add(consumerKey(recConsumerCurrentAssignment, g.id, &id), cur)
		}
		if len(recs) == 0 {
			return nil
		}
		if err := g.c.store.Append(ctx, g.partition, recs); err != nil {
			return fmt.Errorf("group %q: appending consumer group records: %w", g.id, err)
		}
		p.memberMeta[id], p.current[id] = meta, cur
		return nil
	}
	next := newConsumerPersisted()
	next.groupEpoch, next.assignmentEpoch = cs.epoch, cs.assignmentEpoch
	if p.groupEpoch != cs.epoch {
		add(consumerKey(recConsumerGroupMetadata, g.id, nil), epochValue(cs.epoch))
	}
	ids := make([]string, 0, len(cs.members))
	for id := range cs.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		v := memberMetadataValue(cs.members[id])
		next.memberMeta[id] = v
		if !bytes.Equal(p.memberMeta[id], v) {
			add(consumerKey(recConsumerMemberMetadata, g.id, &id), v)
		}
	}
	for _, id := range ids {
		v := targetMemberValue(cs.target[id])
		next.target[id] = v
		if !bytes.Equal(p.target[id], v) {
			add(consumerKey(recConsumerTargetMember, g.id, &id), v)
		}
	}
	if p.assignmentEpoch != cs.assignmentEpoch {
		add(consumerKey(recConsumerTargetMetadata, g.id, nil), epochValue(cs.assignmentEpoch))
	}
	for _, id := range ids {
		v := currentAssignmentValue(cs.members[id])
		next.current[id] = v
		if !bytes.Equal(p.current[id], v) {
			add(consumerKey(recConsumerCurrentAssignment, g.id, &id), v)
		}
	}
	// Members gone: tombstones in Kafka's order.
	for id := range p.memberMeta {
		if cs.members[id] == nil {
			add(consumerKey(recConsumerCurrentAssignment, g.id, &id), nil)
			add(consumerKey(recConsumerTargetMember, g.id, &id), nil)
			add(consumerKey(recConsumerMemberMetadata, g.id, &id), nil)
		}
	}
	if len(recs) == 0 {
		return nil
	}
	if err := g.c.store.Append(ctx, g.partition, recs); err != nil {
		return fmt.Errorf("group %q: appending consumer group records: %w", g.id, err)
	}
	*p = next
	return nil
}

// consumerTombstones are the records deleting a consumer group entirely.
func (g *group) consumerTombstonesLocked(now int64) []batch.Record {
	p := &g.consumer.persisted
	var recs []batch.Record
	for id := range p.memberMeta {
		for _, typ := range []int16{recConsumerCurrentAssignment, recConsumerTargetMember, recConsumerMemberMetadata} {
			recs = append(recs, batch.Record{Timestamp: now, Key: consumerKey(typ, g.id, &id)})
		}
	}
	if p.assignmentEpoch != consumerRecordNoGroupEpochSent {
		recs = append(recs, batch.Record{Timestamp: now, Key: consumerKey(recConsumerTargetMetadata, g.id, nil)})
	}
	if p.groupEpoch != consumerRecordNoGroupEpochSent {
		recs = append(recs, batch.Record{Timestamp: now, Key: consumerKey(recConsumerGroupMetadata, g.id, nil)})
	}
	return recs
}

// replayConsumerRecord applies a record of type 3-8 during load.
func (c *Coordinator) replayConsumerRecord(groups map[string]*group, typ int16, r batch.Record) error {
	kr := kbin.Reader{Src: r.Key[2:]}
	groupID := kr.String()
	var memberID string
	if typ == recConsumerMemberMetadata || typ == recConsumerTargetMember || typ == recConsumerCurrentAssignment {
		memberID = kr.String()
	}
	if err := kr.Complete(); err != nil {
		return fmt.Errorf("consumer group record key (type %d) at offset %d: %w", typ, r.Offset, err)
	}
	g := groups[groupID]
	if r.Value == nil && (g == nil || g.typ != typeConsumer) {
		return nil
	}
	if g == nil {
		g = newGroup(c, groupID)
		groups[groupID] = g
	}
	if g.typ != typeConsumer {
		g.typ = typeConsumer
		g.classic.init()
		g.consumer.init()
	}
	cs := &g.consumer
	member := func() *consumerMember {
		m := cs.members[memberID]
		if m == nil {
			m = &consumerMember{id: memberID, assigned: assignment{}, prevEpoch: -1}
			cs.members[memberID] = m
		}
		return m
	}
	if r.Value == nil {
		switch typ {
		case recConsumerGroupMetadata:
			// The group is gone (deleted or converted); offsets stay.
			g.typ = typeClassic
			g.consumer.init()
		case recConsumerMemberMetadata:
			delete(cs.members, memberID)
		case recConsumerTargetMember:
			delete(cs.target, memberID)
		case recConsumerCurrentAssignment:
			if m := cs.members[memberID]; m != nil {
				m.assigned, m.revoking = assignment{}, nil
			}
		}
		return nil
	}
	vr := kbin.Reader{Src: r.Value}
	if version := vr.Int16(); version != consumerRecordValueVersion {
		return nil // a future version we cannot read: skip it
	}
	switch typ {
	case recConsumerGroupMetadata:
		cs.epoch = vr.Int32()
		cs.persisted.groupEpoch = cs.epoch
	case recConsumerTargetMetadata:
		cs.assignmentEpoch = vr.Int32()
		cs.persisted.assignmentEpoch = cs.assignmentEpoch
	case recConsumerMemberMetadata:
		m := member()
		m.instanceID = vr.CompactNullableString()
		m.rackID = vr.CompactNullableString()
		m.clientID = vr.CompactString()
		m.clientHost = vr.CompactString()
		m.subscribed = nil
		for n := vr.CompactArrayLen(); n > 0 && vr.Ok(); n-- {
			m.subscribed = append(m.subscribed, vr.CompactString())
		}
		m.regex, m.re = "", nil
		if re := vr.CompactNullableString(); re != nil && *re != "" {
			m.regex = *re
			m.re, _ = regexp.Compile("^(?:" + *re + ")$")
		}
		m.rebalanceTimeout = msDuration(vr.Int32())
		m.assignor = ""
		if a := vr.CompactNullableString(); a != nil {
			m.assignor = *a
		}
	case recConsumerTargetMember:
		cs.target[memberID] = readTopicPartitions(&vr)
	case recConsumerCurrentAssignment:
		m := member()
		m.epoch = vr.Int32()
		m.prevEpoch = vr.Int32()
		m.state = memberState(vr.Int8())
		m.assigned = readTopicPartitions(&vr)
		m.revoking = readTopicPartitions(&vr)
	}
	if !vr.Ok() {
		return fmt.Errorf("consumer group record value (type %d) at offset %d: truncated", typ, r.Offset)
	}
	return nil
}

func readTopicPartitions(r *kbin.Reader) assignment {
	a := assignment{}
	for n := r.CompactArrayLen(); n > 0 && r.Ok(); n-- {
		id := r.Uuid()
		for k := r.CompactArrayLen(); k > 0 && r.Ok(); k-- {
			a.add(id, r.Int32())
		}
		skipTags(r)
	}
	return a
}

func skipTags(r *kbin.Reader) {
	for n := r.Uvarint(); n > 0 && r.Ok(); n-- {
		r.Uvarint()
		r.Span(int(r.Uvarint()))
	}
}

// finishConsumerLoad rebuilds what is derived from the replayed records:
// partition owners, static members, session deadlines, and what was persisted.
func (g *group) finishConsumerLoadLocked() {
	cs := &g.consumer
	now := g.c.now()
	for id, m := range cs.members {
		m.assigned.each(func(tid [16]byte, p int32) { cs.owners[tpKey{tid, p}] = id })
		m.revoking.each(func(tid [16]byte, p int32) { cs.owners[tpKey{tid, p}] = id })
		if m.instanceID != nil {
			cs.static[*m.instanceID] = id
		}
		if m.rebalanceTimeout <= 0 {
			m.rebalanceTimeout = g.c.cfg.ConsumerSessionTimeout
		}
		m.deadline = now.Add(g.c.cfg.ConsumerSessionTimeout)
		if m.state == memberUnrevoked {
			m.revokeDeadline = now.Add(m.rebalanceTimeout)
		}
		cs.persisted.memberMeta[id] = memberMetadataValue(m)
		cs.persisted.current[id] = currentAssignmentValue(m)
	}
	for id, t := range cs.target {
		if cs.members[id] == nil {
			delete(cs.target, id)
			continue
		}
		cs.persisted.target[id] = targetMemberValue(t)
	}
	for _, m := range cs.members {
		if cs.assignor == "" && m.assignor != "" {
			cs.assignor = m.assignor
		}
	}
	cs.metaSig = g.metadataSignatureLocked()
	cs.metaCheckedAt = now
	if len(cs.members) > 0 {
		g.scheduleLocked()
	}
}

// isConsumerRecordType reports whether a key version is a KIP-848 record.
func isConsumerRecordType(key []byte) (int16, bool) {
	if len(key) < 2 {
		return 0, false
	}
	typ := int16(binary.BigEndian.Uint16(key))
	switch typ {
	case recConsumerGroupMetadata, recConsumerMemberMetadata, recConsumerTargetMetadata, recConsumerTargetMember, recConsumerCurrentAssignment:
		return typ, true
	}
	return typ, false
}
