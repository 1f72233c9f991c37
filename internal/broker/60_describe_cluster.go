package broker

// DescribeCluster: v0-2, DescribeTopicPartitions: v0
//
// Behavior:
//   - DescribeCluster lists brokers, the cluster id and the controller (this
//     node). v1+ endpoint type 1 (brokers).
//   - DescribeTopicPartitions (KIP-966, used by Java 3.7+ admin clients)
//     describes topics with their partitions, paginated by
//     response_partition_limit and a cursor; ELR lists are empty.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/metadata"
)

func (b *Broker) handleDescribeCluster(req *kmsg.DescribeClusterRequest) *kmsg.DescribeClusterResponse {
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	im := b.image()
	resp.ClusterID = im.ClusterID
	resp.ControllerID = b.cfg.NodeID
	resp.EndpointType = 1
	if req.Version >= 1 && req.EndpointType != 1 {
		resp.ErrorCode = kerr.UnsupportedEndpointType.Code
		resp.ErrorMessage = errMsg("only broker endpoints (1) are described")
		return resp
	}
	for _, id := range sortedIDs(im) {
		br := im.Brokers[id]
		rb := kmsg.NewDescribeClusterResponseBroker()
		rb.NodeID = id
		if ep, ok := endpointFor(br, b.cfg.Advertised.Name); ok {
			rb.Host, rb.Port = ep.Host, ep.Port
		}
		if br.Rack != "" {
			r := br.Rack
			rb.Rack = &r
		}
		resp.Brokers = append(resp.Brokers, rb)
	}
	return resp
}

func (b *Broker) handleDescribeTopicPartitions(req *kmsg.DescribeTopicPartitionsRequest) *kmsg.DescribeTopicPartitionsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeTopicPartitionsResponse)
	im := b.image()
	var names []string
	if len(req.Topics) == 0 {
		names = im.SortedTopics()
	} else {
		for _, t := range req.Topics {
			names = append(names, t.Topic)
		}
	}
	limit := int(req.ResponsePartitionLimit)
	if limit <= 0 {
		limit = 2000
	}
	started := req.Cursor == nil
	for _, name := range names {
		if !started {
			if name < req.Cursor.Topic {
				continue
			}
			started = true
		}
		rt := kmsg.NewDescribeTopicPartitionsResponseTopic()
		n := name
		rt.Topic = &n
		t := im.Topics[name]
		if t == nil {
			rt.ErrorCode = kerr.UnknownTopicOrPartition.Code
			resp.Topics = append(resp.Topics, rt)
			continue
		}
		rt.TopicID = t.ID
		rt.IsInternal = isInternal(name)
		first := int32(0)
		if req.Cursor != nil && req.Cursor.Topic == name {
			first = req.Cursor.Partition
		}
		for i := first; i < int32(len(t.Partitions)); i++ {
			if limit == 0 {
				c := kmsg.NewDescribeTopicPartitionsResponseNextCursor()
				c.Topic, c.Partition = name, i
				resp.NextCursor = &c
				resp.Topics = append(resp.Topics, rt)
				return resp
			}
			rt.Partitions = append(rt.Partitions, topicPartition(t.Partitions[i], i))
			limit--
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func topicPartition(p metadata.Partition, i int32) kmsg.DescribeTopicPartitionsResponseTopicPartition {
	rp := kmsg.NewDescribeTopicPartitionsResponseTopicPartition()
	rp.Partition = i
	rp.LeaderID, rp.LeaderEpoch = p.Leader, p.LeaderEpoch
	rp.Replicas, rp.ISR = p.Replicas, p.ISR
	rp.EligibleLeaderReplicas, rp.LastKnownELR, rp.OfflineReplicas = []int32{}, []int32{}, []int32{}
	return rp
}
