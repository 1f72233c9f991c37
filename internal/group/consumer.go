package group

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/batch"
)

// KIP-848 consumer groups (Kafka's ConsumerGroup, CurrentAssignmentBuilder
// and GroupMetadataManager.consumerGroupHeartbeat).
//
// The group epoch moves whenever membership, a subscription, or the
// partition count of a subscribed topic changes; the target assignment is
// recomputed at once (so the assignment epoch equals the group epoch). Each
// member then converges on its target at its own heartbeats: partitions it
// must give up are first revoked (the member stays at its epoch until a
// heartbeat no longer lists them), and a partition is handed to its new
// owner only once no other member holds it.
//
// Group state is written to __consumer_offsets as Kafka's consumer group
// records (consumer_records.go) and reloaded on Start, so members carry on
// after a restart. Unlike offsets, it is applied in memory before the write.

// Member states of the reconciliation (Kafka's MemberState).
type memberState int8

const (
	memberStable     memberState = iota // at the target epoch, owns its whole target
	memberUnrevoked                     // must revoke partitions before moving to the new epoch
	memberUnreleased                    // at the target epoch, waits for partitions others still hold
)

func (s memberState) String() string {
	switch s {
	case memberUnrevoked:
		return "unrevoked_partitions"
	case memberUnreleased:
		return "unreleased_partitions"
	}
	return "stable"
}

type consumerMember struct {
	id         string
	instanceID *string
	rackID     *string
	clientID   string
	clientHost string

	epoch     int32 // member epoch
	prevEpoch int32
	state     memberState

	rebalanceTimeout time.Duration
	subscribed       []string // sorted topic names
	regex            string
	re               *regexp.Regexp
	assignor         string // server assignor asked for; "" = default

	assigned assignment // owned, as last told to the member
	revoking assignment // to be revoked by the member

	deadline       time.Time // session expiry
	revokeDeadline time.Time // rebalance timeout while unrevoked
	// leftStatic: a static member left with epoch -2; its assignment is kept
	// for its instance id until the session times out.
	leftStatic bool
}

type consumerGroup struct {
	epoch           int32 // group epoch
	assignmentEpoch int32
	assignor        string // the assignor of the current target
	members         map[string]*consumerMember
	static          map[string]string // instance id -> member id
	target          map[string]assignment
	// owners: which member holds each partition (assigned or revoking).
	owners map[tpKey]string
	// metaSig is the subscribed topics' metadata the target was computed
	// from; metaCheckedAt rate-limits rechecking it.
	metaSig       string
	metaCheckedAt time.Time
	// persisted is what __consumer_offsets holds for this group.
	persisted consumerPersisted
}

func (cs *consumerGroup) init() {
	*cs = consumerGroup{
		members:   make(map[string]*consumerMember),
		static:    make(map[string]string),
		target:    make(map[string]assignment),
		owners:    make(map[tpKey]string),
		persisted: newConsumerPersisted(),
	}
}

func (cs *consumerGroup) state() string {
	switch {
	case len(cs.members) == 0:
		return stateEmpty
	case cs.epoch > cs.assignmentEpoch:
		return stateAssigning
	}
	for _, m := range cs.members {
		if m.epoch != cs.assignmentEpoch || m.state != memberStable {
			return stateReconciling
		}
	}
	return stateStable
}

func (cs *consumerGroup) deadlines(consider func(time.Time)) {
	for _, m := range cs.members {
		consider(m.deadline)
		if m.state == memberUnrevoked {
			consider(m.revokeDeadline)
		}
	}
}

// memberTopics are the names m subscribes to, regex matches included.
func (cs *consumerGroup) memberTopics(c *Coordinator, m *consumerMember) []string {
	if m.re == nil {
		return m.subscribed
	}
	lister, ok := c.topics.(TopicLister)
	if !ok {
		return m.subscribed
	}
	out := slices.Clone(m.subscribed)
	for _, t := range lister.TopicNames() {
		if m.re.MatchString(t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// metadataSignature describes every subscribed topic's id and partition
// count; a change means a new target assignment.
func (g *group) metadataSignatureLocked() string {
	cs := &g.consumer
	names := make(map[string]bool)
	for _, m := range cs.members {
		for _, t := range cs.memberTopics(g.c, m) {
			names[t] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for t := range names {
		sorted = append(sorted, t)
	}
	slices.Sort(sorted)
	var b strings.Builder
	for _, t := range sorted {
		id, n, ok := g.c.lookupTopic(t)
		if ok {
			fmt.Fprintf(&b, "%s/%x/%d;", t, id, n)
		}
	}
	return b.String()
}

func (c *Coordinator) lookupTopic(name string) ([16]byte, int32, bool) {
	if c.topics == nil {
		return [16]byte{}, 0, false
	}
	return c.topics.Lookup(name)
}

// bumpEpochLocked starts a new group epoch and computes its target.
func (g *group) bumpEpochLocked(reason string) {
	cs := &g.consumer
	cs.epoch++
	g.computeTargetLocked()
	g.c.log.Debug("consumer group epoch bumped", "group", g.id, "epoch", cs.epoch, "members", len(cs.members), "reason", reason)
}

// computeTargetLocked runs the group's assignor (the one most members ask
// for, else the first configured).
func (g *group) computeTargetLocked() {
	cs := &g.consumer
	votes := make(map[string]int)
	for _, m := range cs.members {
		if m.assignor != "" {
			votes[m.assignor]++
		}
	}
	name := g.c.cfg.ConsumerAssignors[0]
	best := 0
	for _, a := range g.c.cfg.ConsumerAssignors {
		if votes[a] > best {
			name, best = a, votes[a]
		}
	}
	ids := make([]string, 0, len(cs.members))
	for id := range cs.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	partitions := make(map[[16]byte]int32)
	members := make([]assignMember, 0, len(ids))
	for _, id := range ids {
		m := cs.members[id]
		am := assignMember{id: id, previous: cs.target[id]}
		for _, t := range cs.memberTopics(g.c, m) {
			if tid, n, ok := g.c.lookupTopic(t); ok && n > 0 {
				partitions[tid] = n
				am.topics = append(am.topics, tid)
			}
		}
		members = append(members, am)
	}
	cs.target = assignorByName(name)(members, partitions)
	cs.assignor = name
	cs.assignmentEpoch = cs.epoch
	cs.metaSig = g.metadataSignatureLocked()
	cs.metaCheckedAt = g.c.now()
}

// releaseLocked drops m's hold on parts.
func (cs *consumerGroup) release(m *consumerMember, parts assignment) {
	parts.each(func(id [16]byte, p int32) {
		k := tpKey{id, p}
		if cs.owners[k] == m.id {
			delete(cs.owners, k)
		}
	})
}

// removeConsumerMemberLocked forgets m and frees its partitions; the caller
// bumps the epoch.
func (g *group) removeConsumerMemberLocked(m *consumerMember) {
	cs := &g.consumer
	cs.release(m, m.assigned)
	cs.release(m, m.revoking)
	delete(cs.members, m.id)
	delete(cs.target, m.id)
	if m.instanceID != nil && cs.static[*m.instanceID] == m.id {
		delete(cs.static, *m.instanceID)
	}
	if len(cs.members) == 0 {
		g.markEmptyLocked()
	}
}

// reconcileLocked moves m toward its target (Kafka's CurrentAssignmentBuilder).
// owned is what the member reports owning (nil: not reported).
func (g *group) reconcileLocked(m *consumerMember, owned assignment, now time.Time) {
	cs := &g.consumer
	if m.state == memberUnrevoked {
		if owned == nil || owned.intersects(m.revoking) {
			return // still revoking
		}
		cs.release(m, m.revoking)
		m.revoking = nil
	} else if m.state == memberStable && m.epoch == cs.assignmentEpoch {
		return
	}
	target := cs.target[m.id]
	kept, revoke := m.assigned.split(target)
	if len(revoke) > 0 && (owned == nil || owned.intersects(revoke)) {
		m.state = memberUnrevoked
		m.assigned = kept
		m.revoking = revoke
		m.revokeDeadline = now.Add(m.rebalanceTimeout)
		return
	}
	cs.release(m, revoke) // the member already let them go
	unreleased := false
	target.each(func(id [16]byte, p int32) {
		if kept.has(id, p) {
			return
		}
		k := tpKey{id, p}
		if holder, held := cs.owners[k]; held && holder != m.id {
			unreleased = true
			return
		}
		cs.owners[k] = m.id
		kept.add(id, p)
	})
	m.assigned = kept
	m.revoking = nil
	if m.epoch != cs.assignmentEpoch {
		m.prevEpoch, m.epoch = m.epoch, cs.assignmentEpoch
	}
	if unreleased {
		m.state = memberUnreleased
	} else {
		m.state = memberStable
	}
}

func ownedFromRequest(topics []kmsg.ConsumerGroupHeartbeatRequestTopic) assignment {
	if topics == nil {
		return nil
	}
	a := assignment{}
	for _, t := range topics {
		for _, p := range t.Partitions {
			a.add(t.TopicID, p)
		}
	}
	return a
}

// consumerGroupHeartbeat: ConsumerGroupHeartbeat v0-1 (KIP-848).
func (c *Coordinator) consumerGroupHeartbeat(ctx context.Context, req *kmsg.ConsumerGroupHeartbeatRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	resp.HeartbeatIntervalMillis = int32(c.cfg.ConsumerHeartbeatInterval.Milliseconds())
	fail := func(code int16, msg string) kmsg.Response {
		resp.ErrorCode = code
		if msg != "" {
			resp.ErrorMessage = &msg
		}
		return resp
	}
	if code := c.coordinatorError(req.Group); code != 0 {
		return fail(code, "")
	}
	switch {
	case req.Group == "":
		return fail(kerr.InvalidRequest.Code, "GroupId can't be empty.")
	case req.MemberEpoch < -2:
		return fail(kerr.InvalidRequest.Code, "MemberEpoch is invalid.")
	case req.MemberEpoch != 0 && req.MemberID == "":
		return fail(kerr.InvalidRequest.Code, "MemberId can't be empty.")
	case req.MemberEpoch == 0 && req.SubscribedTopicNames == nil && req.SubscribedTopicRegex == nil:
		return fail(kerr.InvalidRequest.Code, "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.")
	}
	if req.ServerAssignor != nil && assignorByName(*req.ServerAssignor) == nil {
		return fail(kerr.UnsupportedAssignor.Code, "ServerAssignor "+*req.ServerAssignor+" is not supported.")
	}
	var re *regexp.Regexp
	if req.SubscribedTopicRegex != nil && *req.SubscribedTopicRegex != "" {
		var err error
		if re, err = regexp.Compile("^(?:" + *req.SubscribedTopicRegex + ")$"); err != nil {
			return fail(kerr.InvalidRegularExpression.Code, err.Error())
		}
	}
	if req.MemberEpoch < 0 {
		return c.consumerLeave(ctx, req, resp)
	}

	g := c.lockGroup(req.Group, req.MemberEpoch == 0)
	if g == nil {
		return fail(kerr.UnknownMemberID.Code, "")
	}
	defer g.mu.Unlock()
	if g.typ == typeClassic {
		if !g.isEmptyLocked() {
			return fail(kerr.GroupIDNotFound.Code, "Group "+req.Group+" is not a consumer group.")
		}
		if req.MemberEpoch != 0 {
			return fail(kerr.UnknownMemberID.Code, "")
		}
		// An empty classic group (perhaps only offsets) becomes a consumer
		// group; its classic metadata record is deleted.
		if g.hasMetadata {
			now := c.now().UnixMilli()
			if err := c.store.Append(ctx, g.partition, []batch.Record{{Timestamp: now, Key: groupMetadataKey(g.id)}}); err != nil {
				return fail(appendErrorCode(err), "")
			}
			g.hasMetadata = false
		}
		g.typ = typeConsumer
		g.classic.init()
		g.consumer.init()
	}
	cs := &g.consumer
	now := c.now()
	info := requestInfo(ctx)

	var m *consumerMember
	newMember := false
	if req.MemberEpoch == 0 {
		if req.InstanceID != nil {
			if oldID, ok := cs.static[*req.InstanceID]; ok && oldID != req.MemberID {
				old := cs.members[oldID]
				if !old.leftStatic {
					return fail(kerr.UnreleasedInstanceID.Code, "Static member "+*req.InstanceID+" is still in use.")
				}
				m = g.replaceStaticConsumerLocked(old, req.MemberID)
			}
		}
		if m == nil {
			m = cs.members[req.MemberID]
		}
		if m == nil {
			if c.cfg.ConsumerMaxSize > 0 && len(cs.members) >= c.cfg.ConsumerMaxSize {
				return fail(kerr.GroupMaxSizeReached.Code, "")
			}
			id := req.MemberID
			if id == "" {
				id = uuid.NewString()
			}
			m = &consumerMember{id: id, assigned: assignment{}, prevEpoch: -1}
			cs.members[id] = m
			newMember = true
		}
		if req.InstanceID != nil {
			inst := *req.InstanceID
			m.instanceID = &inst
			cs.static[inst] = m.id
		}
	} else {
		m = cs.members[req.MemberID]
		if m == nil {
			return fail(kerr.UnknownMemberID.Code, "")
		}
		if req.InstanceID != nil && cs.static[*req.InstanceID] != m.id {
			return fail(kerr.FencedInstanceID.Code, "")
		}
		if code := validateMemberEpoch(m, req); code != 0 {
			return fail(code, "")
		}
	}

	// Update the member from the request; nil fields mean "unchanged".
	m.leftStatic = false
	m.deadline = now.Add(c.cfg.ConsumerSessionTimeout)
	if info.ClientID != "" {
		m.clientID, m.clientHost = info.ClientID, info.ClientHost
	}
	if req.RackID != nil {
		rack := *req.RackID
		m.rackID = &rack
	}
	if req.RebalanceTimeoutMillis > 0 {
		m.rebalanceTimeout = msDuration(req.RebalanceTimeoutMillis)
	} else if m.rebalanceTimeout == 0 {
		m.rebalanceTimeout = time.Minute
	}
	if req.ServerAssignor != nil {
		m.assignor = *req.ServerAssignor
	}
	changed := newMember
	if req.SubscribedTopicNames != nil {
		names := slices.Clone(req.SubscribedTopicNames)
		slices.Sort(names)
		names = slices.Compact(names)
		if !slices.Equal(names, m.subscribed) {
			m.subscribed = names
			changed = true
		}
	}
	if req.SubscribedTopicRegex != nil && *req.SubscribedTopicRegex != m.regex {
		m.regex, m.re = *req.SubscribedTopicRegex, re
		changed = true
	}
	if changed {
		g.bumpEpochLocked("member " + m.id + " joined or changed its subscription")
	} else if now.Sub(cs.metaCheckedAt) >= time.Second {
		cs.metaCheckedAt = now
		if g.metadataSignatureLocked() != cs.metaSig {
			g.bumpEpochLocked("subscribed topic metadata changed")
		}
	}

	before := m.assigned.clone()
	g.reconcileLocked(m, ownedFromRequest(req.Topics), now)
	g.scheduleLocked()
	if code := g.persistConsumerCodeLocked(ctx, m); code != 0 {
		return fail(code, "")
	}

	resp.MemberID = &m.id
	resp.MemberEpoch = m.epoch
	if req.MemberEpoch == 0 || req.Topics != nil || !before.equal(m.assigned) {
		resp.Assignment = &kmsg.ConsumerGroupHeartbeatResponseAssignment{}
		for _, id := range m.assigned.sortedIDs() {
			resp.Assignment.Topics = append(resp.Assignment.Topics, kmsg.ConsumerGroupHeartbeatResponseAssignmentTopic{
				TopicID: id, Partitions: slices.Clone(m.assigned[id]),
			})
		}
	}
	return resp
}

// validateMemberEpoch is Kafka's throwIfMemberEpochIsInvalid: a member may
// be one epoch behind only if it lost the response that moved it and owns
// nothing it should not.
func validateMemberEpoch(m *consumerMember, req *kmsg.ConsumerGroupHeartbeatRequest) int16 {
	switch {
	case req.MemberEpoch > m.epoch:
		return kerr.FencedMemberEpoch.Code
	case req.MemberEpoch < m.epoch:
		if req.MemberEpoch != m.prevEpoch || req.Topics == nil {
			return kerr.FencedMemberEpoch.Code
		}
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				if !m.assigned.has(t.TopicID, p) {
					return kerr.FencedMemberEpoch.Code
				}
			}
		}
	}
	return 0
}

// replaceStaticConsumerLocked hands a departed static member's place (epoch
// and assignment) to the member rejoining with its instance id.
func (g *group) replaceStaticConsumerLocked(old *consumerMember, newID string) *consumerMember {
	cs := &g.consumer
	if newID == "" {
		newID = uuid.NewString()
	}
	m := *old
	m.id = newID
	nm := &m
	delete(cs.members, old.id)
	cs.members[newID] = nm
	if t, ok := cs.target[old.id]; ok {
		delete(cs.target, old.id)
		cs.target[newID] = t
	}
	for k, holder := range cs.owners {
		if holder == old.id {
			cs.owners[k] = newID
		}
	}
	return nm
}

// consumerLeave handles MemberEpoch -1 (leave) and -2 (static member leaves
// for now, keeping its assignment until its session expires).
func (c *Coordinator) consumerLeave(ctx context.Context, req *kmsg.ConsumerGroupHeartbeatRequest, resp *kmsg.ConsumerGroupHeartbeatResponse) kmsg.Response {
	g := c.lockGroup(req.Group, false)
	if g == nil {
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		return resp
	}
	defer g.mu.Unlock()
	if g.typ != typeConsumer {
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		return resp
	}
	cs := &g.consumer
	m := cs.members[req.MemberID]
	if m == nil && req.InstanceID != nil {
		m = cs.members[cs.static[*req.InstanceID]]
	}
	if m == nil {
		resp.ErrorCode = kerr.UnknownMemberID.Code
		return resp
	}
	if req.InstanceID != nil && m.id != req.MemberID {
		resp.ErrorCode = kerr.FencedInstanceID.Code
		return resp
	}
	resp.MemberID = &m.id
	resp.MemberEpoch = req.MemberEpoch
	if req.MemberEpoch == -2 && m.instanceID != nil {
		m.leftStatic = true
		g.scheduleLocked()
		return resp
	}
	g.removeConsumerMemberLocked(m)
	g.bumpEpochLocked("member " + m.id + " left")
	g.scheduleLocked()
	if code := g.persistConsumerCodeLocked(ctx, nil); code != 0 {
		resp.ErrorCode = code
	}
	return resp
}

// persistConsumerCodeLocked writes the group's changes. Group state is
// applied in memory first (unlike offsets, which are written before they
// count): a failed write is logged and retried with the next change, and
// only NOT_COORDINATOR is reported to the client.
func (g *group) persistConsumerCodeLocked(ctx context.Context, focus *consumerMember) int16 {
	err := g.persistConsumerLocked(ctx, focus)
	if err == nil {
		return 0
	}
	g.c.log.Warn("persisting consumer group", "group", g.id, "err", err)
	if code := appendErrorCode(err); code == kerr.NotCoordinator.Code {
		return code
	}
	return 0
}

// consumerTickLocked fences members whose session expired or who did not
// revoke within their rebalance timeout.
func (g *group) consumerTickLocked(now time.Time) {
	cs := &g.consumer
	removed := 0
	for _, m := range cs.members {
		switch {
		case !m.deadline.IsZero() && !now.Before(m.deadline):
			g.c.log.Info("consumer group member session expired", "group", g.id, "member", m.id)
		case m.state == memberUnrevoked && !now.Before(m.revokeDeadline):
			g.c.log.Info("consumer group member did not revoke in its rebalance timeout", "group", g.id, "member", m.id)
		default:
			continue
		}
		g.removeConsumerMemberLocked(m)
		removed++
	}
	if removed > 0 {
		g.bumpEpochLocked("members fenced")
		g.persistConsumerCodeLocked(g.c.ctx, nil)
	}
}

// consumerGroupDescribe: ConsumerGroupDescribe v0-1.
func (c *Coordinator) consumerGroupDescribe(req *kmsg.ConsumerGroupDescribeRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	for _, id := range req.Groups {
		dg := kmsg.ConsumerGroupDescribeResponseGroup{Group: id, AuthorizedOperations: authorizedOperationsOmitted}
		if code := c.coordinatorError(id); code != 0 {
			dg.ErrorCode = code
			resp.Groups = append(resp.Groups, dg)
			continue
		}
		g := c.lockGroup(id, false)
		if g == nil || g.typ != typeConsumer {
			msg := "Group " + id + " not found."
			if g != nil {
				msg = "Group " + id + " is not a consumer group."
				g.mu.Unlock()
			}
			dg.ErrorCode = kerr.GroupIDNotFound.Code
			dg.ErrorMessage = &msg
			resp.Groups = append(resp.Groups, dg)
			continue
		}
		cs := &g.consumer
		dg.State = cs.state()
		dg.Epoch = cs.epoch
		dg.AssignmentEpoch = cs.assignmentEpoch
		dg.AssignorName = cs.assignor
		if dg.AssignorName == "" {
			dg.AssignorName = c.cfg.ConsumerAssignors[0]
		}
		ids := make([]string, 0, len(cs.members))
		for mid := range cs.members {
			ids = append(ids, mid)
		}
		slices.Sort(ids)
		for _, mid := range ids {
			m := cs.members[mid]
			dm := kmsg.ConsumerGroupDescribeResponseGroupMember{
				MemberID:         m.id,
				InstanceID:       m.instanceID,
				RackID:           m.rackID,
				MemberEpoch:      m.epoch,
				ClientID:         m.clientID,
				ClientHost:       m.clientHost,
				SubscribedTopics: slices.Clone(m.subscribed),
				Assignment:       c.describeAssignment(m.assigned),
				TargetAssignment: c.describeAssignment(cs.target[m.id]),
				MemberType:       1,
			}
			if dm.SubscribedTopics == nil {
				dm.SubscribedTopics = []string{}
			}
			if m.regex != "" {
				dm.SubscribedTopicRegex = strp(m.regex)
			}
			dg.Members = append(dg.Members, dm)
		}
		g.mu.Unlock()
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

func (c *Coordinator) describeAssignment(a assignment) kmsg.Assignment {
	out := kmsg.Assignment{TopicPartitions: []kmsg.AssignmentTopicPartition{}}
	for _, id := range a.sortedIDs() {
		tp := kmsg.AssignmentTopicPartition{TopicID: id, Partitions: slices.Clone(a[id])}
		if c.topics != nil {
			tp.Topic, _, _ = c.topics.LookupID(id)
		}
		out.TopicPartitions = append(out.TopicPartitions, tp)
	}
	return out
}
