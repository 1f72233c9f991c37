package broker

// IncrementalAlterConfigs: v0-1, AlterConfigs: v0-2
//
// Behavior:
//   - Topic and broker configs (broker "" is the cluster-wide default) are
//     changed through the controller, which records them in the metadata
//     log; they apply without restart (partitions pick up the new config as
//     the image is published) and survive restarts.
//   - IncrementalAlterConfigs: SET (0), DELETE (1), APPEND (2) and
//     SUBTRACT (3) for list values. AlterConfigs replaces the whole set.
//   - Invalid values: INVALID_CONFIG naming the key and the rule;
//     validate_only changes nothing.

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/metadata"
)

func (b *Broker) checkFor(resType int8, name string) func(*metadata.Image, map[string]string) *controller.Error {
	return func(im *metadata.Image, result map[string]string) *controller.Error {
		var err error
		if resType == metadata.ResourceTopic {
			err = b.configs.CheckTopic(result)
		} else {
			err = b.configs.CheckBroker(name, result)
		}
		if err != nil {
			return &controller.Error{Err: kerr.InvalidConfig, Msg: err.Error()}
		}
		return nil
	}
}

func (b *Broker) resourceError(resType kmsg.ConfigResourceType, name string) (int16, *string) {
	switch resType {
	case kmsg.ConfigResourceTypeTopic:
		return 0, nil
	case kmsg.ConfigResourceTypeBroker:
		if b.isThisBroker(name) {
			return 0, nil
		}
		return kerr.InvalidRequest.Code, errMsg("broker " + name + " is not this broker")
	}
	return kerr.InvalidRequest.Code, errMsg("unsupported resource type " + resType.String())
}

func (b *Broker) handleIncrementalAlterConfigs(req *kmsg.IncrementalAlterConfigsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	im := b.image()
	for _, r := range req.Resources {
		rr := kmsg.NewIncrementalAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = r.ResourceType, r.ResourceName
		if rr.ErrorCode, rr.ErrorMessage = b.resourceError(r.ResourceType, r.ResourceName); rr.ErrorCode != 0 {
			resp.Resources = append(resp.Resources, rr)
			continue
		}
		cur := im.Configs[metadata.ConfigKey{Type: int8(r.ResourceType), Name: r.ResourceName}]
		var changes []controller.ConfigChange
		for _, c := range r.Configs {
			switch c.Op {
			case kmsg.IncrementalAlterConfigOpSet:
				changes = append(changes, controller.ConfigChange{Name: c.Name, Value: c.Value})
			case kmsg.IncrementalAlterConfigOpDelete:
				changes = append(changes, controller.ConfigChange{Name: c.Name})
			case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
				list := splitList(cur[c.Name])
				var arg []string
				if c.Value != nil {
					arg = splitList(*c.Value)
				}
				for _, v := range arg {
					i := slices.Index(list, v)
					if c.Op == kmsg.IncrementalAlterConfigOpAppend && i < 0 {
						list = append(list, v)
					} else if c.Op == kmsg.IncrementalAlterConfigOpSubtract && i >= 0 {
						list = slices.Delete(list, i, i+1)
					}
				}
				v := strings.Join(list, ",")
				changes = append(changes, controller.ConfigChange{Name: c.Name, Value: &v})
			default:
				rr.ErrorCode = kerr.InvalidRequest.Code
				rr.ErrorMessage = errMsg("unknown operation " + c.Op.String() + " for " + c.Name)
			}
		}
		if rr.ErrorCode == 0 {
			kerrOut, err := b.ctrl.AlterConfigs(int8(r.ResourceType), r.ResourceName, changes, false, req.ValidateOnly, b.checkFor(int8(r.ResourceType), r.ResourceName))
			if err != nil {
				return nil, err
			}
			if kerrOut != nil {
				rr.ErrorCode, rr.ErrorMessage = kerrOut.Err.Code, errMsg(kerrOut.Msg)
			}
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, nil
}

func (b *Broker) handleAlterConfigs(req *kmsg.AlterConfigsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	for _, r := range req.Resources {
		rr := kmsg.NewAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = r.ResourceType, r.ResourceName
		if rr.ErrorCode, rr.ErrorMessage = b.resourceError(r.ResourceType, r.ResourceName); rr.ErrorCode != 0 {
			resp.Resources = append(resp.Resources, rr)
			continue
		}
		var changes []controller.ConfigChange
		for _, c := range r.Configs {
			changes = append(changes, controller.ConfigChange{Name: c.Name, Value: c.Value})
		}
		kerrOut, err := b.ctrl.AlterConfigs(int8(r.ResourceType), r.ResourceName, changes, true, req.ValidateOnly, b.checkFor(int8(r.ResourceType), r.ResourceName))
		if err != nil {
			return nil, err
		}
		if kerrOut != nil {
			rr.ErrorCode, rr.ErrorMessage = kerrOut.Err.Code, errMsg(kerrOut.Msg)
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
