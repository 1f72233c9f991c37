package group

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// classicMember is a member of a classic group (Kafka's ClassicGroupMember).
type classicMember struct {
	id               string
	instanceID       *string
	clientID         string
	clientHost       string
	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	protocolType     string
	protocols        []kmsg.JoinGroupRequestProtocol
	assignment       []byte

	// join is set while the member waits in JoinGroup for the rebalance.
	join *joinWaiter
	// sync is set while the member waits in SyncGroup for the leader.
	sync *syncWaiter
	// awaitingSync: the member has not sent SyncGroup in this generation
	// (Kafka's pendingSyncMembers).
	awaitingSync bool
	// deadline is the session expiry; not checked while join or sync is set
	// (Kafka keeps such members alive).
	deadline time.Time
}

type joinWaiter struct {
	ch      chan *kmsg.JoinGroupResponse // buffered 1: completing never blocks
	version int16
}

type syncWaiter struct {
	ch      chan *kmsg.SyncGroupResponse // buffered 1
	version int16
}

func (m *classicMember) metadataFor(protocol string) []byte {
	for _, p := range m.protocols {
		if p.Name == protocol {
			return p.Metadata
		}
	}
	return nil
}

// classicGroup is the classic-protocol state of a group (Kafka's ClassicGroup).
type classicGroup struct {
	state        string
	protocolType string
	protocol     string
	generation   int32
	leader       string
	members      map[string]*classicMember
	// order is the members' join order: the leader is chosen from it and
	// descriptions list members in it.
	order []string
	// static maps group.instance.id to the member id holding it.
	static map[string]string
	// pending are member ids handed out with MEMBER_ID_REQUIRED that have not
	// joined yet, with their expiry (session timeout).
	pending map[string]time.Time

	// joinDeadline ends PreparingRebalance: the rebalance timeout, or the
	// initial rebalance delay of an Empty group.
	joinDeadline time.Time
	// initialDelay: the running join deadline is the initial rebalance
	// delay (Kafka's InitialDelayedJoin); initialRemaining is how much of
	// the rebalance timeout is left to extend it with.
	initialDelay     bool
	initialRemaining time.Duration
	newMemberAdded   bool
	// syncDeadline removes members that never sent SyncGroup.
	syncDeadline time.Time
}

func (cg *classicGroup) init() {
	*cg = classicGroup{
		state:   stateEmpty,
		members: make(map[string]*classicMember),
		static:  make(map[string]string),
		pending: make(map[string]time.Time),
	}
}

func (cg *classicGroup) deadlines(consider func(time.Time)) {
	for _, dl := range cg.pending {
		consider(dl)
	}
	if cg.state == statePreparingRebalance {
		consider(cg.joinDeadline)
	}
	if cg.state == stateCompletingRebalance || cg.state == stateStable {
		consider(cg.syncDeadline)
	}
	for _, m := range cg.members {
		if m.join == nil && m.sync == nil {
			consider(m.deadline)
		}
	}
}

func (cg *classicGroup) maxRebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range cg.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

// supportsProtocols is Kafka's ClassicGroup.supportsProtocols.
func (cg *classicGroup) supportsProtocols(protocolType string, protocols []kmsg.JoinGroupRequestProtocol) bool {
	if len(cg.members) == 0 {
		return protocolType != "" && len(protocols) > 0
	}
	if protocolType != cg.protocolType {
		return false
	}
	cands := cg.candidateProtocols()
	for _, p := range protocols {
		if cands[p.Name] {
			return true
		}
	}
	return false
}

// candidateProtocols are the protocols every member supports.
func (cg *classicGroup) candidateProtocols() map[string]bool {
	counts := make(map[string]int)
	for _, m := range cg.members {
		seen := make(map[string]bool, len(m.protocols))
		for _, p := range m.protocols {
			if !seen[p.Name] {
				seen[p.Name] = true
				counts[p.Name]++
			}
		}
	}
	cands := make(map[string]bool)
	for name, n := range counts {
		if n == len(cg.members) {
			cands[name] = true
		}
	}
	return cands
}

// selectProtocol: every member votes for its most preferred candidate; the
// most votes win, ties going to the earlier member's preference.
func (cg *classicGroup) selectProtocol() string {
	cands := cg.candidateProtocols()
	votes := make(map[string]int)
	for _, m := range cg.members {
		for _, p := range m.protocols {
			if cands[p.Name] {
				votes[p.Name]++
				break
			}
		}
	}
	best, bestVotes := "", -1
	for _, id := range cg.order {
		for _, p := range cg.members[id].protocols {
			if n, ok := votes[p.Name]; ok && n > bestVotes {
				best, bestVotes = p.Name, n
			}
		}
	}
	return best
}

func protocolsEqual(a, b []kmsg.JoinGroupRequestProtocol) bool {
	return slices.EqualFunc(a, b, func(x, y kmsg.JoinGroupRequestProtocol) bool {
		return x.Name == y.Name && bytes.Equal(x.Metadata, y.Metadata)
	})
}

func cloneProtocols(ps []kmsg.JoinGroupRequestProtocol) []kmsg.JoinGroupRequestProtocol {
	out := make([]kmsg.JoinGroupRequestProtocol, len(ps))
	for i, p := range ps {
		out[i] = kmsg.JoinGroupRequestProtocol{Name: p.Name, Metadata: slices.Clone(p.Metadata)}
	}
	return out
}

// validateMember is Kafka's ClassicGroup.validateMember.
func (cg *classicGroup) validateMember(memberID string, instanceID *string) int16 {
	if instanceID != nil {
		existing, ok := cg.static[*instanceID]
		if !ok {
			return kerr.UnknownMemberID.Code
		}
		if existing != memberID {
			return kerr.FencedInstanceID.Code
		}
		return 0
	}
	if _, ok := cg.members[memberID]; !ok {
		return kerr.UnknownMemberID.Code
	}
	return 0
}

func (c *Coordinator) full(cg *classicGroup) bool {
	return c.cfg.MaxSize > 0 && len(cg.members)+len(cg.pending) >= c.cfg.MaxSize
}

func newMemberID(prefix string) string {
	return prefix + "-" + uuid.NewString()
}

// joinGroup: JoinGroup v0-9.
func (c *Coordinator) joinGroup(ctx context.Context, req *kmsg.JoinGroupRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.Generation = -1
	resp.MemberID = req.MemberID
	fail := func(code int16) (kmsg.Response, error) {
		resp.ErrorCode = code
		return resp, nil
	}
	if code := c.coordinatorError(req.Group); code != 0 {
		return fail(code)
	}
	if req.Group == "" {
		return fail(kerr.InvalidGroupID.Code)
	}
	session := time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	if session < c.cfg.MinSessionTimeout || session > c.cfg.MaxSessionTimeout {
		return fail(kerr.InvalidSessionTimeout.Code)
	}
	rebalance := time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond
	if req.Version == 0 || rebalance <= 0 {
		rebalance = session
	}
	if req.ProtocolType == "" || len(req.Protocols) == 0 {
		return fail(kerr.InconsistentGroupProtocol.Code)
	}

	g := c.lockGroup(req.Group, req.MemberID == "")
	if g == nil {
		return fail(kerr.UnknownMemberID.Code)
	}
	if g.typ == typeConsumer {
		if !g.isEmptyLocked() {
			g.mu.Unlock()
			return fail(kerr.InconsistentGroupProtocol.Code)
		}
		// An empty consumer group becomes a classic group (Kafka converts
		// an empty group to the protocol of its first new member); its
		// consumer group records are deleted.
		if recs := g.consumerTombstonesLocked(c.now().UnixMilli()); len(recs) > 0 {
			if err := c.store.Append(ctx, g.partition, recs); err != nil {
				g.mu.Unlock()
				return fail(appendErrorCode(err))
			}
		}
		g.typ = typeClassic
		g.classic.init()
		g.consumer = consumerGroup{}
	}
	j := joinArgs{
		req:       req,
		info:      requestInfo(ctx),
		session:   session,
		rebalance: rebalance,
		waiter:    &joinWaiter{ch: make(chan *kmsg.JoinGroupResponse, 1), version: req.Version},
	}
	immediate := g.classicJoinLocked(&j)
	g.scheduleLocked()
	g.mu.Unlock()
	if immediate != nil {
		return immediate, nil
	}
	select {
	case r := <-j.waiter.ch:
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return fail(kerr.NotCoordinator.Code)
	}
}

type joinArgs struct {
	req       *kmsg.JoinGroupRequest
	info      RequestInfo
	session   time.Duration
	rebalance time.Duration
	waiter    *joinWaiter
}

func (j *joinArgs) errResp(code int16, memberID string) *kmsg.JoinGroupResponse {
	r := j.req.ResponseKind().(*kmsg.JoinGroupResponse)
	r.Version = j.req.Version
	r.ErrorCode = code
	r.Generation = -1
	r.MemberID = memberID
	return r
}

// classicJoinLocked runs Kafka's classicGroupJoin; it returns the response if
// it is known now, or nil if the member waits on j.waiter.
func (g *group) classicJoinLocked(j *joinArgs) *kmsg.JoinGroupResponse {
	cg := &g.classic
	req := j.req
	if req.MemberID == "" {
		if !cg.supportsProtocols(req.ProtocolType, req.Protocols) {
			return j.errResp(kerr.InconsistentGroupProtocol.Code, "")
		}
		if req.InstanceID != nil {
			if oldID, ok := cg.static[*req.InstanceID]; ok {
				return g.replaceStaticMemberLocked(j, oldID)
			}
			if g.c.full(cg) {
				return j.errResp(kerr.GroupMaxSizeReached.Code, "")
			}
			return g.addMemberLocked(j, newMemberID(*req.InstanceID))
		}
		if g.c.full(cg) {
			return j.errResp(kerr.GroupMaxSizeReached.Code, "")
		}
		id := newMemberID(joinClientID(j))
		if req.Version >= 4 {
			// KIP-394: the member must come back with the id.
			cg.pending[id] = g.c.now().Add(j.session)
			return j.errResp(kerr.MemberIDRequired.Code, id)
		}
		return g.addMemberLocked(j, id)
	}

	if _, ok := cg.pending[req.MemberID]; ok {
		delete(cg.pending, req.MemberID)
		if !cg.supportsProtocols(req.ProtocolType, req.Protocols) {
			return j.errResp(kerr.InconsistentGroupProtocol.Code, req.MemberID)
		}
		return g.addMemberLocked(j, req.MemberID)
	}
	if code := cg.validateMember(req.MemberID, req.InstanceID); code != 0 {
		return j.errResp(code, req.MemberID)
	}
	m := cg.members[req.MemberID]
	if !cg.supportsProtocols(req.ProtocolType, req.Protocols) {
		return j.errResp(kerr.InconsistentGroupProtocol.Code, req.MemberID)
	}
	switch cg.state {
	case statePreparingRebalance:
		g.updateMemberLocked(m, j)
		g.tryCompleteJoinLocked()
		return nil
	case stateCompletingRebalance:
		if protocolsEqual(m.protocols, req.Protocols) {
			// A retried JoinGroup: answer with the current generation.
			return g.currentJoinResponseLocked(j, m, false)
		}
		g.updateMemberLocked(m, j)
		g.prepareRebalanceLocked("member " + m.id + " rejoined with different protocols")
		return nil
	case stateStable:
		if m.id == cg.leader || !protocolsEqual(m.protocols, req.Protocols) {
			g.updateMemberLocked(m, j)
			g.prepareRebalanceLocked("leader or member with changed protocols rejoined: " + m.id)
			return nil
		}
		return g.currentJoinResponseLocked(j, m, false)
	default:
		return j.errResp(kerr.UnknownMemberID.Code, req.MemberID)
	}
}

// joinClientID is the member id prefix: the client id from the request
// header (RequestInfo), as Kafka.
func joinClientID(j *joinArgs) string {
	if j.info.ClientID != "" {
		return j.info.ClientID
	}
	return "consumer"
}

func (g *group) addMemberLocked(j *joinArgs, id string) *kmsg.JoinGroupResponse {
	cg := &g.classic
	req := j.req
	m := &classicMember{
		id:               id,
		instanceID:       req.InstanceID,
		clientID:         j.info.ClientID,
		clientHost:       j.info.ClientHost,
		sessionTimeout:   j.session,
		rebalanceTimeout: j.rebalance,
		protocolType:     req.ProtocolType,
		protocols:        cloneProtocols(req.Protocols),
		join:             j.waiter,
	}
	if len(cg.members) == 0 {
		cg.protocolType = req.ProtocolType
	}
	cg.members[id] = m
	cg.order = append(cg.order, id)
	if req.InstanceID != nil {
		cg.static[*req.InstanceID] = id
	}
	if cg.leader == "" {
		cg.leader = id
	}
	cg.newMemberAdded = true
	if cg.state == statePreparingRebalance {
		g.tryCompleteJoinLocked()
	} else {
		g.prepareRebalanceLocked("new member " + id + " joined")
	}
	return nil
}

func (g *group) updateMemberLocked(m *classicMember, j *joinArgs) {
	if m.join != nil && m.join != j.waiter {
		// A second JoinGroup from the same member: the first one loses.
		r := j.errResp(kerr.RebalanceInProgress.Code, m.id)
		r.Version = m.join.version
		m.join.ch <- r
	}
	m.protocols = cloneProtocols(j.req.Protocols)
	m.sessionTimeout = j.session
	m.rebalanceTimeout = j.rebalance
	if j.info.ClientID != "" {
		m.clientID = j.info.ClientID
		m.clientHost = j.info.ClientHost
	}
	m.join = j.waiter
}

// currentJoinResponseLocked answers a join with the current generation
// without a rebalance.
func (g *group) currentJoinResponseLocked(j *joinArgs, m *classicMember, skipAssignment bool) *kmsg.JoinGroupResponse {
	cg := &g.classic
	r := j.errResp(0, m.id)
	r.Generation = cg.generation
	r.ProtocolType = strp(cg.protocolType)
	r.Protocol = strp(cg.protocol)
	r.LeaderID = cg.leader
	r.SkipAssignment = skipAssignment
	if m.id == cg.leader {
		r.Members = cg.joinMembers()
	}
	m.deadline = g.c.now().Add(m.sessionTimeout)
	return r
}

func (cg *classicGroup) joinMembers() []kmsg.JoinGroupResponseMember {
	out := make([]kmsg.JoinGroupResponseMember, 0, len(cg.members))
	for _, id := range cg.order {
		m := cg.members[id]
		out = append(out, kmsg.JoinGroupResponseMember{
			MemberID:         m.id,
			InstanceID:       m.instanceID,
			ProtocolMetadata: m.metadataFor(cg.protocol),
		})
	}
	return out
}

// replaceStaticMemberLocked is Kafka's updateStaticMemberThenRebalanceOrCompleteJoin:
// a static member came back with an unknown member id; it takes over the
// old member's place under a new id, without a rebalance if nothing changed.
func (g *group) replaceStaticMemberLocked(j *joinArgs, oldID string) *kmsg.JoinGroupResponse {
	cg := &g.classic
	req := j.req
	old := cg.members[oldID]
	newID := newMemberID(*req.InstanceID)
	fence := func(m *classicMember) {
		if m.join != nil {
			r := j.errResp(kerr.FencedInstanceID.Code, m.id)
			r.Version = m.join.version
			m.join.ch <- r
			m.join = nil
		}
		if m.sync != nil {
			m.sync.ch <- &kmsg.SyncGroupResponse{Version: m.sync.version, ErrorCode: kerr.FencedInstanceID.Code}
			m.sync = nil
		}
	}
	fence(old)
	wasLeader := cg.leader == oldID
	m := *old
	m.id = newID
	m.clientID, m.clientHost = j.info.ClientID, j.info.ClientHost
	m.sessionTimeout, m.rebalanceTimeout = j.session, j.rebalance
	m.deadline = g.c.now().Add(j.session)
	nm := &m
	delete(cg.members, oldID)
	cg.members[newID] = nm
	cg.order[slices.Index(cg.order, oldID)] = newID
	cg.static[*req.InstanceID] = newID
	if wasLeader {
		cg.leader = newID
	}
	undo := func() {
		delete(cg.members, newID)
		cg.members[oldID] = old
		cg.order[slices.Index(cg.order, newID)] = oldID
		cg.static[*req.InstanceID] = oldID
		if wasLeader {
			cg.leader = oldID
		}
	}

	switch cg.state {
	case stateStable:
		// As Kafka: only a change of the protocol the group would select
		// forces a rebalance; changed metadata (a restarted cooperative
		// member no longer lists owned partitions) does not.
		nm.protocols = cloneProtocols(req.Protocols)
		changed := cg.selectProtocol() != cg.protocol
		if changed || (wasLeader && req.Version < 9) {
			// KIP-814: before v9 a rejoining static leader must rebalance
			// to learn the members.
			g.updateMemberLocked(nm, j)
			g.prepareRebalanceLocked("static member " + *req.InstanceID + " rejoined with changes")
			return nil
		}
		if err := g.writeClassicMetadataLocked(g.c.ctx); err != nil {
			undo()
			return j.errResp(appendErrorCode(err), "")
		}
		return g.currentJoinResponseLocked(j, nm, wasLeader)
	case stateCompletingRebalance:
		g.updateMemberLocked(nm, j)
		g.prepareRebalanceLocked("static member " + *req.InstanceID + " rejoined during CompletingRebalance")
		return nil
	case statePreparingRebalance:
		g.updateMemberLocked(nm, j)
		g.tryCompleteJoinLocked()
		return nil
	default:
		undo()
		return j.errResp(kerr.UnknownMemberID.Code, "")
	}
}

// prepareRebalanceLocked moves the group to PreparingRebalance (Kafka's
// prepareRebalance).
func (g *group) prepareRebalanceLocked(reason string) {
	cg := &g.classic
	now := g.c.now()
	if cg.state == stateCompletingRebalance {
		g.failSyncWaitersLocked(kerr.RebalanceInProgress.Code)
	}
	cg.syncDeadline = time.Time{}
	if cg.state == stateEmpty {
		delay := g.c.cfg.InitialRebalanceDelay
		cg.initialDelay = true
		cg.initialRemaining = max(cg.maxRebalanceTimeout()-delay, 0)
		cg.newMemberAdded = false
		cg.joinDeadline = now.Add(delay)
	} else {
		cg.initialDelay = false
		cg.joinDeadline = now.Add(cg.maxRebalanceTimeout())
	}
	g.c.log.Debug("preparing rebalance", "group", g.id, "generation", cg.generation, "reason", reason)
	cg.state = statePreparingRebalance
	g.tryCompleteJoinLocked()
}

// failSyncWaitersLocked answers every waiting SyncGroup with code and drops
// the assignments (Kafka's resetAndPropagateAssignmentWithError).
func (g *group) failSyncWaitersLocked(code int16) {
	for _, m := range g.classic.members {
		m.assignment = nil
		if m.sync != nil {
			m.sync.ch <- &kmsg.SyncGroupResponse{Version: m.sync.version, ErrorCode: code}
			m.sync = nil
			m.deadline = g.c.now().Add(m.sessionTimeout)
		}
	}
}

// tryCompleteJoinLocked completes the join phase once every member rejoined
// and no MEMBER_ID_REQUIRED member is outstanding.
func (g *group) tryCompleteJoinLocked() {
	cg := &g.classic
	if cg.state != statePreparingRebalance || cg.initialDelay {
		return
	}
	if len(cg.pending) > 0 {
		return
	}
	for _, m := range cg.members {
		if m.join == nil {
			return
		}
	}
	g.completeJoinLocked()
}

// completeJoinLocked is Kafka's onCompleteJoin: drop members that did not
// rejoin, start the next generation, answer every JoinGroup.
func (g *group) completeJoinLocked() {
	cg := &g.classic
	now := g.c.now()
	for _, id := range slices.Clone(cg.order) {
		if m := cg.members[id]; m.join == nil {
			g.c.log.Debug("removing member that did not rejoin", "group", g.id, "member", id)
			g.removeClassicMemberLocked(m)
		}
	}
	cg.initialDelay = false
	cg.joinDeadline = time.Time{}
	cg.generation++
	if len(cg.members) == 0 {
		cg.protocol = ""
		cg.leader = ""
		cg.state = stateEmpty
		g.markEmptyLocked()
		if err := g.writeClassicMetadataLocked(g.c.ctx); err != nil {
			g.c.log.Warn("writing empty group metadata", "group", g.id, "err", err)
		}
		return
	}
	cg.protocol = cg.selectProtocol()
	if _, ok := cg.members[cg.leader]; !ok {
		cg.leader = cg.order[0]
	}
	cg.state = stateCompletingRebalance
	maxRebalance := cg.maxRebalanceTimeout()
	cg.syncDeadline = now.Add(maxRebalance)
	for _, id := range cg.order {
		m := cg.members[id]
		r := &kmsg.JoinGroupResponse{
			Version:      m.join.version,
			Generation:   cg.generation,
			ProtocolType: strp(cg.protocolType),
			Protocol:     strp(cg.protocol),
			LeaderID:     cg.leader,
			MemberID:     m.id,
		}
		if m.id == cg.leader {
			r.Members = cg.joinMembers()
		}
		m.join.ch <- r
		m.join = nil
		m.awaitingSync = true
		m.assignment = nil
		m.deadline = now.Add(m.sessionTimeout)
	}
	g.c.log.Debug("rebalance joined", "group", g.id, "generation", cg.generation, "members", len(cg.members), "protocol", cg.protocol)
}

// removeClassicMemberLocked forgets m, answering its waiting requests with
// UNKNOWN_MEMBER_ID. The caller updates the group state.
func (g *group) removeClassicMemberLocked(m *classicMember) {
	cg := &g.classic
	if m.join != nil {
		m.join.ch <- &kmsg.JoinGroupResponse{Version: m.join.version, ErrorCode: kerr.UnknownMemberID.Code, Generation: -1, MemberID: m.id}
		m.join = nil
	}
	if m.sync != nil {
		m.sync.ch <- &kmsg.SyncGroupResponse{Version: m.sync.version, ErrorCode: kerr.UnknownMemberID.Code}
		m.sync = nil
	}
	delete(cg.members, m.id)
	if i := slices.Index(cg.order, m.id); i >= 0 {
		cg.order = slices.Delete(cg.order, i, i+1)
	}
	if m.instanceID != nil && cg.static[*m.instanceID] == m.id {
		delete(cg.static, *m.instanceID)
	}
	if cg.leader == m.id {
		cg.leader = ""
		for _, id := range cg.order {
			if cg.members[id].join != nil {
				cg.leader = id
				break
			}
		}
		if cg.leader == "" && len(cg.order) > 0 {
			cg.leader = cg.order[0]
		}
	}
}

// afterRemovalLocked updates the state after members left or expired
// (Kafka's removeMemberAndUpdateClassicGroup).
func (g *group) afterRemovalLocked(reason string) {
	switch g.classic.state {
	case stateStable, stateCompletingRebalance:
		g.prepareRebalanceLocked(reason)
	case statePreparingRebalance:
		g.tryCompleteJoinLocked()
	}
}

// classicTickLocked runs the classic group's expired deadlines.
func (g *group) classicTickLocked(now time.Time) {
	cg := &g.classic
	for id, dl := range cg.pending {
		if !now.Before(dl) {
			delete(cg.pending, id)
			g.tryCompleteJoinLocked()
		}
	}
	if cg.state == statePreparingRebalance && !cg.joinDeadline.IsZero() && !now.Before(cg.joinDeadline) {
		if cg.initialDelay && cg.newMemberAdded && cg.initialRemaining > 0 {
			delay := min(g.c.cfg.InitialRebalanceDelay, cg.initialRemaining)
			cg.initialRemaining -= delay
			cg.newMemberAdded = false
			cg.joinDeadline = now.Add(delay)
		} else {
			g.completeJoinLocked()
		}
	}
	if (cg.state == stateCompletingRebalance || cg.state == stateStable) && !cg.syncDeadline.IsZero() && !now.Before(cg.syncDeadline) {
		cg.syncDeadline = time.Time{}
		removed := 0
		for _, id := range slices.Clone(cg.order) {
			if m := cg.members[id]; m.awaitingSync {
				g.c.log.Info("removing member that did not sync", "group", g.id, "member", id)
				g.removeClassicMemberLocked(m)
				removed++
			}
		}
		if removed > 0 {
			g.afterRemovalLocked("members did not send SyncGroup in time")
		}
	}
	expired := 0
	for _, id := range slices.Clone(cg.order) {
		m := cg.members[id]
		if m == nil || m.join != nil || m.sync != nil || m.deadline.IsZero() || now.Before(m.deadline) {
			continue
		}
		g.c.log.Info("member session expired", "group", g.id, "member", id, "session_timeout", m.sessionTimeout)
		g.removeClassicMemberLocked(m)
		expired++
	}
	if expired > 0 {
		g.afterRemovalLocked("session timeout")
	}
}

// syncGroup: SyncGroup v0-5.
func (c *Coordinator) syncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	fail := func(code int16) (kmsg.Response, error) {
		resp.ErrorCode = code
		return resp, nil
	}
	if code := c.coordinatorError(req.Group); code != 0 {
		return fail(code)
	}
	g := c.lockGroup(req.Group, false)
	if g == nil {
		return fail(kerr.UnknownMemberID.Code)
	}
	if g.typ != typeClassic {
		g.mu.Unlock()
		return fail(kerr.UnknownMemberID.Code)
	}
	cg := &g.classic
	code := cg.validateMember(req.MemberID, req.InstanceID)
	if code == 0 && req.Generation != cg.generation {
		code = kerr.IllegalGeneration.Code
	}
	if code == 0 && ((req.ProtocolType != nil && *req.ProtocolType != cg.protocolType) || (req.Protocol != nil && *req.Protocol != cg.protocol)) {
		code = kerr.InconsistentGroupProtocol.Code
	}
	if code != 0 {
		g.mu.Unlock()
		return fail(code)
	}
	m := cg.members[req.MemberID]
	switch cg.state {
	case statePreparingRebalance:
		g.mu.Unlock()
		return fail(kerr.RebalanceInProgress.Code)
	case stateStable:
		m.awaitingSync = false
		m.deadline = c.now().Add(m.sessionTimeout)
		resp.ProtocolType = strp(cg.protocolType)
		resp.Protocol = strp(cg.protocol)
		resp.MemberAssignment = m.assignment
		g.scheduleLocked()
		g.mu.Unlock()
		return resp, nil
	case stateCompletingRebalance:
	default:
		g.mu.Unlock()
		return fail(kerr.UnknownMemberID.Code)
	}
	w := &syncWaiter{ch: make(chan *kmsg.SyncGroupResponse, 1), version: req.Version}
	if m.sync != nil {
		m.sync.ch <- &kmsg.SyncGroupResponse{Version: m.sync.version, ErrorCode: kerr.RebalanceInProgress.Code}
	}
	m.sync = w
	m.awaitingSync = false
	if m.id == cg.leader {
		g.completeSyncLocked(req.GroupAssignment)
	}
	g.scheduleLocked()
	g.mu.Unlock()
	select {
	case r := <-w.ch:
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return fail(kerr.NotCoordinator.Code)
	}
}

// completeSyncLocked stores the leader's assignment durably, then moves the
// group to Stable and answers every waiting SyncGroup.
func (g *group) completeSyncLocked(assignments []kmsg.SyncGroupRequestGroupAssignment) {
	cg := &g.classic
	byMember := make(map[string][]byte, len(assignments))
	for _, a := range assignments {
		byMember[a.MemberID] = a.MemberAssignment
	}
	for _, m := range cg.members {
		m.assignment = slices.Clone(byMember[m.id])
		if m.assignment == nil {
			m.assignment = []byte{}
		}
	}
	if err := g.writeClassicMetadataLocked(g.c.ctx); err != nil {
		g.c.log.Warn("writing group metadata after sync", "group", g.id, "err", err)
		g.failSyncWaitersLocked(appendErrorCode(err))
		g.prepareRebalanceLocked("group metadata write failed")
		return
	}
	cg.state = stateStable
	now := g.c.now()
	for _, m := range cg.members {
		if m.sync != nil {
			m.sync.ch <- &kmsg.SyncGroupResponse{
				Version:          m.sync.version,
				ProtocolType:     strp(cg.protocolType),
				Protocol:         strp(cg.protocol),
				MemberAssignment: m.assignment,
			}
			m.sync = nil
			m.deadline = now.Add(m.sessionTimeout)
		}
	}
	g.c.log.Debug("group stable", "group", g.id, "generation", cg.generation, "members", len(cg.members))
}

// heartbeat: Heartbeat v0-4.
func (c *Coordinator) heartbeat(req *kmsg.HeartbeatRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	if code := c.coordinatorError(req.Group); code != 0 {
		resp.ErrorCode = code
		return resp
	}
	g := c.lockGroup(req.Group, false)
	if g == nil {
		resp.ErrorCode = kerr.UnknownMemberID.Code
		return resp
	}
	defer g.mu.Unlock()
	if g.typ != typeClassic {
		resp.ErrorCode = kerr.UnknownMemberID.Code
		return resp
	}
	cg := &g.classic
	if code := cg.validateMember(req.MemberID, req.InstanceID); code != 0 {
		resp.ErrorCode = code
		return resp
	}
	if req.Generation != cg.generation {
		resp.ErrorCode = kerr.IllegalGeneration.Code
		return resp
	}
	m := cg.members[req.MemberID]
	switch cg.state {
	case stateEmpty:
		resp.ErrorCode = kerr.UnknownMemberID.Code
		return resp
	case statePreparingRebalance:
		resp.ErrorCode = kerr.RebalanceInProgress.Code
	}
	m.deadline = c.now().Add(m.sessionTimeout)
	g.scheduleLocked()
	return resp
}

// leaveGroup: LeaveGroup v0-5 (batched from v3, KIP-345).
func (c *Coordinator) leaveGroup(ctx context.Context, req *kmsg.LeaveGroupRequest) kmsg.Response {
	_ = ctx
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	leaving := req.Members
	if req.Version < 3 {
		leaving = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
	}
	if code := c.coordinatorError(req.Group); code != 0 {
		resp.ErrorCode = code
		return resp
	}
	g := c.lockGroup(req.Group, false)
	if g == nil || g.typ != typeClassic {
		if g != nil {
			g.mu.Unlock()
		}
		resp.ErrorCode = kerr.UnknownMemberID.Code
		return resp
	}
	defer g.mu.Unlock()
	cg := &g.classic
	removed := 0
	for _, lm := range leaving {
		out := kmsg.LeaveGroupResponseMember{MemberID: lm.MemberID, InstanceID: lm.InstanceID}
		switch {
		case lm.InstanceID != nil:
			id, ok := cg.static[*lm.InstanceID]
			if !ok {
				out.ErrorCode = kerr.UnknownMemberID.Code
			} else if lm.MemberID != "" && lm.MemberID != id {
				out.ErrorCode = kerr.FencedInstanceID.Code
			} else {
				g.removeClassicMemberLocked(cg.members[id])
				removed++
			}
		default:
			if _, ok := cg.pending[lm.MemberID]; ok {
				delete(cg.pending, lm.MemberID)
				removed++
			} else if m, ok := cg.members[lm.MemberID]; ok {
				g.removeClassicMemberLocked(m)
				removed++
			} else {
				out.ErrorCode = kerr.UnknownMemberID.Code
			}
		}
		resp.Members = append(resp.Members, out)
	}
	if removed > 0 {
		g.afterRemovalLocked("members left")
		g.scheduleLocked()
	}
	if req.Version < 3 {
		resp.ErrorCode = resp.Members[0].ErrorCode
		resp.Members = nil
	}
	return resp
}
