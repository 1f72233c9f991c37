package broker

// DescribeConfigs: v0-4
//
// Behavior:
//   - Topics (2) and brokers (4; name "" is the cluster-wide default) are
//     described with each value's source, synonyms (v1+) and documentation
//     (v3+), as resolved by the config package. Unknown topics:
//     UNKNOWN_TOPIC_OR_PARTITION; other brokers' ids or other resource
//     types: INVALID_REQUEST.

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/metadata"
)

func (b *Broker) handleDescribeConfigs(req *kmsg.DescribeConfigsRequest) *kmsg.DescribeConfigsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	im := b.image()
	for _, r := range req.Resources {
		rr := kmsg.NewDescribeConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = r.ResourceType, r.ResourceName
		switch {
		case r.ResourceType == kmsg.ConfigResourceTypeTopic:
			if im.Topics[r.ResourceName] == nil {
				rr.ErrorCode = kerr.UnknownTopicOrPartition.Code
				rr.ErrorMessage = errMsg("topic " + strconv.Quote(r.ResourceName) + " does not exist")
				break
			}
			rr.Configs = b.configs.DescribeTopic(im, r.ResourceName, r.ConfigNames, req.IncludeSynonyms, req.IncludeDocumentation)
		case r.ResourceType == kmsg.ConfigResourceTypeBroker && b.isThisBroker(r.ResourceName):
			rr.Configs = b.configs.DescribeBroker(im, r.ResourceName, r.ConfigNames, req.IncludeSynonyms, req.IncludeDocumentation)
		case r.ResourceType == kmsg.ConfigResourceTypeBroker:
			rr.ErrorCode = kerr.InvalidRequest.Code
			rr.ErrorMessage = errMsg("broker " + strconv.Quote(r.ResourceName) + " is not this broker (id " + strconv.Itoa(int(b.cfg.NodeID)) + ")")
		default:
			rr.ErrorCode = kerr.InvalidRequest.Code
			rr.ErrorMessage = errMsg("unsupported resource type " + r.ResourceType.String())
		}
		for i := range rr.Configs {
			if req.Version == 0 && rr.Configs[i].Source == kmsg.ConfigSourceDefaultConfig {
				rr.Configs[i].IsDefault = true
			}
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return resp
}

// isThisBroker reports whether a broker resource name means this broker
// ("" is the cluster-wide default, which every broker answers for).
func (b *Broker) isThisBroker(name string) bool {
	return name == "" || name == strconv.Itoa(int(b.cfg.NodeID))
}

var _ = metadata.ResourceTopic
