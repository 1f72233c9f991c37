package group

import (
	"sync"
	"time"
)

// groupType is Kafka's GroupType: a group id belongs to one protocol at a time.
type groupType int8

const (
	typeClassic  groupType = iota // JoinGroup/SyncGroup, and "simple" groups that only commit offsets
	typeConsumer                  // KIP-848 ConsumerGroupHeartbeat
)

func (t groupType) String() string {
	if t == typeConsumer {
		return "consumer"
	}
	return "classic"
}

// Classic group states (Kafka's ClassicGroupState).
const (
	stateEmpty               = "Empty"
	statePreparingRebalance  = "PreparingRebalance"
	stateCompletingRebalance = "CompletingRebalance"
	stateStable              = "Stable"
	stateDead                = "Dead"
)

// Consumer group states (Kafka's ConsumerGroup.ConsumerGroupState), besides
// Empty, Stable and Dead.
const (
	stateAssigning   = "Assigning"
	stateReconciling = "Reconciling"
)

type topicPartition struct {
	topic     string
	partition int32
}

// offsetEntry is one committed offset (OffsetCommitValue).
type offsetEntry struct {
	offset          int64
	leaderEpoch     int32
	metadata        string
	commitTimestamp int64 // ms
}

// group is one group id: its membership (classic or consumer) and its
// committed offsets. Every field is guarded by mu.
type group struct {
	c         *Coordinator
	id        string
	partition int32 // of __consumer_offsets

	mu sync.Mutex
	// dead is set when the group is removed from the coordinator; a holder
	// of a stale pointer must look the id up again.
	dead bool
	typ  groupType
	// offsets committed for this group.
	offsets map[topicPartition]offsetEntry
	// emptySince is when the group last became empty (ms); offsets of an
	// empty group expire OffsetsRetention after max(commit, emptySince).
	emptySince int64
	// hasMetadata: a GroupMetadata record exists on the log (so deleting
	// the group writes its tombstone).
	hasMetadata bool

	classic  classicGroup
	consumer consumerGroup

	// timer fires at the earliest deadline of the group (tickLocked);
	// timerGen tells a superseded timer's callback apart.
	timer    *time.Timer
	timerAt  time.Time
	timerGen uint64
}

func newGroup(c *Coordinator, id string) *group {
	g := &group{
		c:         c,
		id:        id,
		partition: c.PartitionFor(id),
		offsets:   make(map[topicPartition]offsetEntry),
	}
	g.emptySince = c.now().UnixMilli()
	g.classic.init()
	return g
}

// isEmpty: no members of either protocol.
func (g *group) isEmptyLocked() bool {
	if g.typ == typeConsumer {
		return len(g.consumer.members) == 0
	}
	return len(g.classic.members) == 0 && len(g.classic.pending) == 0
}

// stateLocked is the state string DescribeGroups/ListGroups report.
func (g *group) stateLocked() string {
	if g.dead {
		return stateDead
	}
	if g.typ == typeConsumer {
		return g.consumer.state()
	}
	return g.classic.state
}

// protocolTypeLocked is what ListGroups reports.
func (g *group) protocolTypeLocked() string {
	if g.typ == typeConsumer {
		return "consumer"
	}
	return g.classic.protocolType
}

// scheduleLocked (re)arms the group's timer at its earliest deadline.
func (g *group) scheduleLocked() {
	if g.dead || g.c.closed.Load() {
		g.stopTimerLocked()
		return
	}
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if g.typ == typeConsumer {
		g.consumer.deadlines(consider)
	} else {
		g.classic.deadlines(consider)
	}
	if next.IsZero() {
		g.stopTimerLocked()
		return
	}
	if g.timer != nil && g.timerAt.Equal(next) {
		return
	}
	g.stopTimerLocked()
	g.timerAt = next
	g.timerGen++
	gen := g.timerGen
	g.timer = time.AfterFunc(time.Until(next), func() { g.fire(gen) })
}

func (g *group) stopTimerLocked() {
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
		g.timerAt = time.Time{}
	}
}

// fire runs the expired deadlines. A timer stopped too late to prevent its
// callback still runs it: deadlines are data, so a spurious tick is harmless.
func (g *group) fire(gen uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.dead || g.c.closed.Load() {
		return
	}
	if gen == g.timerGen {
		g.timer = nil
		g.timerAt = time.Time{}
	}
	now := g.c.now()
	if g.typ == typeConsumer {
		g.consumerTickLocked(now)
	} else {
		g.classicTickLocked(now)
	}
	g.scheduleLocked()
}

// markEmptyLocked records when the group became empty (offset retention).
func (g *group) markEmptyLocked() {
	g.emptySince = g.c.now().UnixMilli()
}
