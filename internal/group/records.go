package group

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/batch"
)

// Record formats on __consumer_offsets, as Kafka writes them
// (coordinator-common's OffsetCommitKey/Value, GroupMetadataKey/Value):
//
//	key version 0/1: OffsetCommitKey{group, topic, partition}; we write 1
//	  value: OffsetCommitValue v3 {offset, leader epoch, metadata, commit ts}
//	key version 2: GroupMetadataKey{group}
//	  value: GroupMetadataValue v3 (classic group members and assignment)
//	key versions 3, 5-8: KIP-848 consumer group records (consumer_records.go)
//	other key versions (4: partition metadata, share and streams groups):
//	  skipped on replay.
//
// A nil value is a tombstone.
const (
	offsetCommitKeyVersion   = 1
	offsetCommitValueVersion = 3
	groupMetadataKeyVersion  = 2
	groupMetadataValueVer    = 3
)

func offsetCommitKeySize(group, topic string) int { return 2 + 2 + len(group) + 2 + len(topic) + 4 }

func offsetCommitValueSize(metadata int) int { return 2 + 8 + 4 + 2 + metadata + 8 }

func offsetCommitKey(group, topic string, partition int32) []byte {
	return appendOffsetCommitKey(make([]byte, 0, offsetCommitKeySize(group, topic)), group, topic, partition)
}

func appendOffsetCommitKey(dst []byte, group, topic string, partition int32) []byte {
	k := kmsg.OffsetCommitKey{Version: offsetCommitKeyVersion, Group: group, Topic: topic, Partition: partition}
	return k.AppendTo(dst)
}

func appendOffsetCommitValue(dst []byte, e offsetEntry) []byte {
	v := kmsg.OffsetCommitValue{
		Version:         offsetCommitValueVersion,
		Offset:          e.offset,
		LeaderEpoch:     e.leaderEpoch,
		Metadata:        e.metadata,
		CommitTimestamp: e.commitTimestamp,
	}
	return v.AppendTo(dst)
}

func groupMetadataKey(group string) []byte {
	k := kmsg.GroupMetadataKey{Version: groupMetadataKeyVersion, Group: group}
	return k.AppendTo(nil)
}

// classicMetadataValue encodes the classic group as GroupMetadataValue v3.
func (g *group) classicMetadataValueLocked(now int64) []byte {
	cg := &g.classic
	v := kmsg.GroupMetadataValue{
		Version:               groupMetadataValueVer,
		ProtocolType:          cg.protocolType,
		Generation:            cg.generation,
		CurrentStateTimestamp: now,
	}
	if cg.protocol != "" {
		v.Protocol = strp(cg.protocol)
	}
	if cg.leader != "" {
		v.Leader = strp(cg.leader)
	}
	for _, id := range cg.order {
		m := cg.members[id]
		v.Members = append(v.Members, kmsg.GroupMetadataValueMember{
			MemberID:               m.id,
			InstanceID:             m.instanceID,
			ClientID:               m.clientID,
			ClientHost:             m.clientHost,
			RebalanceTimeoutMillis: int32(m.rebalanceTimeout.Milliseconds()),
			SessionTimeoutMillis:   int32(m.sessionTimeout.Milliseconds()),
			Subscription:           m.metadataFor(cg.protocol),
			Assignment:             m.assignment,
		})
	}
	return v.AppendTo(nil)
}

// writeClassicMetadataLocked appends the group's GroupMetadata record.
func (g *group) writeClassicMetadataLocked(ctx context.Context) error {
	now := g.c.now().UnixMilli()
	rec := batch.Record{Timestamp: now, Key: groupMetadataKey(g.id), Value: g.classicMetadataValueLocked(now)}
	if err := g.c.store.Append(ctx, g.partition, []batch.Record{rec}); err != nil {
		return fmt.Errorf("group %q: appending group metadata: %w", g.id, err)
	}
	g.hasMetadata = true
	return nil
}

// replayRecord applies one __consumer_offsets record during load. Buffers
// in r are not retained.
func (c *Coordinator) replayRecord(groups map[string]*group, r batch.Record) error {
	if len(r.Key) < 2 {
		return nil
	}
	if typ, ok := isConsumerRecordType(r.Key); ok {
		return c.replayConsumerRecord(groups, typ, r)
	}
	switch version := int16(binary.BigEndian.Uint16(r.Key)); version {
	case 0, 1:
		var k kmsg.OffsetCommitKey
		if err := k.ReadFrom(r.Key); err != nil {
			return fmt.Errorf("offset commit key at offset %d: %w", r.Offset, err)
		}
		g := groups[k.Group]
		tp := topicPartition{k.Topic, k.Partition}
		if r.Value == nil {
			if g != nil {
				delete(g.offsets, tp)
			}
			return nil
		}
		var v kmsg.OffsetCommitValue
		if err := v.ReadFrom(r.Value); err != nil {
			return fmt.Errorf("offset commit value at offset %d: %w", r.Offset, err)
		}
		if g == nil {
			g = newGroup(c, k.Group)
			groups[k.Group] = g
		}
		e := offsetEntry{offset: v.Offset, leaderEpoch: -1, metadata: v.Metadata, commitTimestamp: v.CommitTimestamp}
		if v.Version >= 3 {
			e.leaderEpoch = v.LeaderEpoch
		}
		g.offsets[tp] = e
	case 2:
		var k kmsg.GroupMetadataKey
		if err := k.ReadFrom(r.Key); err != nil {
			return fmt.Errorf("group metadata key at offset %d: %w", r.Offset, err)
		}
		g := groups[k.Group]
		if r.Value == nil {
			if g != nil {
				// Kafka writes offset tombstones with a group's; drop
				// the group but keep anything committed after.
				g.classic.init()
				g.hasMetadata = false
			}
			return nil
		}
		var v kmsg.GroupMetadataValue
		if err := v.ReadFrom(r.Value); err != nil {
			return fmt.Errorf("group metadata value at offset %d: %w", r.Offset, err)
		}
		if g == nil {
			g = newGroup(c, k.Group)
			groups[k.Group] = g
		}
		g.loadClassicMetadata(&v)
	}
	return nil
}

// loadClassicMetadata rebuilds a classic group from its GroupMetadataValue:
// with members it is Stable (members keep their generation and must
// heartbeat within their session timeout), without it is Empty.
func (g *group) loadClassicMetadata(v *kmsg.GroupMetadataValue) {
	cg := &g.classic
	cg.init()
	g.hasMetadata = true
	g.typ = typeClassic
	cg.protocolType = v.ProtocolType
	cg.generation = v.Generation
	if v.Protocol != nil {
		cg.protocol = *v.Protocol
	}
	if v.Leader != nil {
		cg.leader = *v.Leader
	}
	if v.CurrentStateTimestamp > 0 {
		g.emptySince = v.CurrentStateTimestamp
	}
	for _, vm := range v.Members {
		m := &classicMember{
			id:               vm.MemberID,
			clientID:         vm.ClientID,
			clientHost:       vm.ClientHost,
			sessionTimeout:   msDuration(vm.SessionTimeoutMillis),
			rebalanceTimeout: msDuration(vm.RebalanceTimeoutMillis),
			protocolType:     v.ProtocolType,
			protocols:        []kmsg.JoinGroupRequestProtocol{{Name: cg.protocol, Metadata: slices.Clone(vm.Subscription)}},
			assignment:       slices.Clone(vm.Assignment),
		}
		if m.rebalanceTimeout <= 0 {
			m.rebalanceTimeout = m.sessionTimeout
		}
		if vm.InstanceID != nil {
			id := *vm.InstanceID
			m.instanceID = &id
			cg.static[id] = m.id
		}
		cg.members[m.id] = m
		cg.order = append(cg.order, m.id)
	}
	if len(cg.members) > 0 {
		cg.state = stateStable
	} else {
		cg.state = stateEmpty
		cg.leader = ""
	}
}
