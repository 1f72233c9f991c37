package broker

// FindCoordinator: v0-6
//
// Behavior:
//   - Every coordinator (group, transaction) is this broker: the leader of
//     the group's __consumer_offsets partition, which a single node leads.
//     __consumer_offsets is created on first use.
//
// Version notes:
//   - v4+ batches keys (CoordinatorKeys); earlier versions ask for one key.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleFindCoordinator(_ context.Context, req *kmsg.FindCoordinatorRequest) *kmsg.FindCoordinatorResponse {
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	code := int16(0)
	var msg string
	if req.CoordinatorType != 0 && req.CoordinatorType != 1 {
		code, msg = kerr.InvalidRequest.Code, "unknown coordinator type"
	} else if err := b.ensureOffsetsTopic(); err != nil {
		code, msg = kerr.CoordinatorNotAvailable.Code, err.Error()
	}
	ep := b.cfg.Advertised
	if req.Version >= 4 {
		for _, key := range req.CoordinatorKeys {
			c := kmsg.NewFindCoordinatorResponseCoordinator()
			c.Key = key
			c.NodeID, c.Host, c.Port = b.cfg.NodeID, ep.Host, ep.Port
			if code != 0 {
				c.NodeID, c.Host, c.Port = -1, "", -1
				c.ErrorCode, c.ErrorMessage = code, errMsg(msg)
			}
			resp.Coordinators = append(resp.Coordinators, c)
		}
		return resp
	}
	resp.NodeID, resp.Host, resp.Port = b.cfg.NodeID, ep.Host, ep.Port
	if code != 0 {
		resp.NodeID, resp.Host, resp.Port = -1, "", -1
		resp.ErrorCode, resp.ErrorMessage = code, errMsg(msg)
	}
	return resp
}

// ensureOffsetsTopic creates __consumer_offsets on first use.
func (b *Broker) ensureOffsetsTopic() error {
	return b.ctrl.EnsureOffsetsTopic(b.cfg.OffsetsTopicPartitions)
}
