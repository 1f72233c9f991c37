package group

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/batch"
)

// authorizedOperationsOmitted is Integer.MIN_VALUE: "not requested".
const authorizedOperationsOmitted = math.MinInt32

// describeGroups: DescribeGroups v0-6. A missing group, or a KIP-848 group,
// is described as Dead (with GROUP_ID_NOT_FOUND from v6, KIP-1043).
func (c *Coordinator) describeGroups(req *kmsg.DescribeGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range req.Groups {
		dg := kmsg.DescribeGroupsResponseGroup{Group: id, AuthorizedOperations: authorizedOperationsOmitted}
		if code := c.coordinatorError(id); code != 0 {
			dg.ErrorCode = code
			resp.Groups = append(resp.Groups, dg)
			continue
		}
		g := c.lockGroup(id, false)
		if g == nil || g.typ != typeClassic {
			if g != nil {
				g.mu.Unlock()
			}
			dg.State = stateDead
			if req.Version >= 6 {
				dg.ErrorCode = kerr.GroupIDNotFound.Code
				msg := "Group " + id + " not found."
				if g != nil {
					msg = "Group " + id + " is not a classic group."
				}
				dg.ErrorMessage = &msg
			}
			resp.Groups = append(resp.Groups, dg)
			continue
		}
		cg := &g.classic
		dg.State = cg.state
		dg.ProtocolType = cg.protocolType
		stable := cg.state == stateStable
		if stable {
			dg.Protocol = cg.protocol
		}
		for _, mid := range cg.order {
			m := cg.members[mid]
			dm := kmsg.DescribeGroupsResponseGroupMember{
				MemberID:   m.id,
				InstanceID: m.instanceID,
				ClientID:   m.clientID,
				ClientHost: m.clientHost,
			}
			if stable {
				dm.ProtocolMetadata = m.metadataFor(cg.protocol)
				dm.MemberAssignment = m.assignment
			}
			dg.Members = append(dg.Members, dm)
		}
		g.mu.Unlock()
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

// listGroups: ListGroups v0-5, with the states filter (v4, KIP-518) and the
// types filter (v5, KIP-848), both case-insensitive.
func (c *Coordinator) listGroups(req *kmsg.ListGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	if c.closed.Load() {
		resp.ErrorCode = kerr.NotCoordinator.Code
		return resp
	}
	for p := range c.loaded {
		if !c.loaded[p].Load() {
			resp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
			return resp
		}
	}
	match := func(filter []string, v string) bool {
		return len(filter) == 0 || slices.ContainsFunc(filter, func(f string) bool { return strings.EqualFold(f, v) })
	}
	for _, g := range c.allGroups() {
		g.mu.Lock()
		if !g.dead {
			lg := kmsg.ListGroupsResponseGroup{
				Group:        g.id,
				ProtocolType: g.protocolTypeLocked(),
				GroupState:   g.stateLocked(),
				GroupType:    g.typ.String(),
			}
			if match(req.StatesFilter, lg.GroupState) && match(req.TypesFilter, lg.GroupType) {
				resp.Groups = append(resp.Groups, lg)
			}
		}
		g.mu.Unlock()
	}
	slices.SortFunc(resp.Groups, func(a, b kmsg.ListGroupsResponseGroup) int { return cmp.Compare(a.Group, b.Group) })
	return resp
}

// deleteGroups: DeleteGroups v0-3. Only empty groups are deleted; their
// group metadata and offsets get tombstones.
func (c *Coordinator) deleteGroups(ctx context.Context, req *kmsg.DeleteGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, id := range req.Groups {
		resp.Groups = append(resp.Groups, kmsg.DeleteGroupsResponseGroup{Group: id, ErrorCode: c.deleteGroup(ctx, id)})
	}
	return resp
}

func (c *Coordinator) deleteGroup(ctx context.Context, id string) int16 {
	if code := c.coordinatorError(id); code != 0 {
		return code
	}
	g := c.lockGroup(id, false)
	if g == nil {
		return kerr.GroupIDNotFound.Code
	}
	defer g.mu.Unlock()
	if !g.isEmptyLocked() {
		return kerr.NonEmptyGroup.Code
	}
	now := c.now().UnixMilli()
	recs := make([]batch.Record, 0, len(g.offsets)+1)
	for tp := range g.offsets {
		recs = append(recs, batch.Record{Timestamp: now, Key: offsetCommitKey(g.id, tp.topic, tp.partition)})
	}
	if g.hasMetadata {
		recs = append(recs, batch.Record{Timestamp: now, Key: groupMetadataKey(g.id)})
	}
	if g.typ == typeConsumer {
		recs = append(recs, g.consumerTombstonesLocked(now)...)
	}
	if len(recs) > 0 {
		if err := c.store.Append(ctx, g.partition, recs); err != nil {
			return appendErrorCode(err)
		}
	}
	c.removeLocked(g)
	return 0
}
