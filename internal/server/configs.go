package server

import (
	"maps"
	"strconv"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/commitlog"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metadata"
)

// configViews resolves topic and broker configs from the static
// configuration and the dynamic configs in the metadata image.
type configViews struct {
	static *config.Broker
}

// dynamicDefaults layers this broker's dynamic configs over the cluster-wide
// dynamic defaults (Kafka's precedence).
func (v *configViews) dynamicDefaults(im *metadata.Image) map[string]string {
	d := im.BrokerConfig("")
	if own := im.Configs[metadata.ConfigKey{Type: metadata.ResourceBroker, Name: nodeName(v.static)}]; len(own) > 0 {
		d = maps.Clone(d)
		maps.Copy(d, own)
	}
	return d
}

func nodeName(b *config.Broker) string { return strconv.Itoa(int(b.NodeID)) }

func (v *configViews) topic(im *metadata.Image, topic string) config.Topic {
	return config.ResolveTopic(v.static, v.dynamicDefaults(im), im.TopicConfig(topic))
}

func (v *configViews) logConfig(im *metadata.Image, topic string) (commitlog.Config, bool) {
	t := v.topic(im, topic)
	c := commitlog.Config{
		SegmentBytes:                  t.SegmentBytes,
		SegmentMs:                     t.SegmentMs,
		RetentionBytes:                t.RetentionBytes,
		RetentionMs:                   t.RetentionMs,
		IndexIntervalBytes:            t.IndexIntervalBytes,
		SegmentIndexBytes:             t.SegmentIndexBytes,
		FlushMessages:                 t.FlushMessages,
		FlushMs:                       t.FlushMs,
		MessageTimestampLogAppendTime: t.LogAppendTime(),
		MaxMessageBytes:               t.MaxMessageBytes,
		FileDeleteDelayMs:             t.FileDeleteDelayMs,
	}
	if !t.Delete {
		// Compacted-only topics are not deleted by time or size.
		c.RetentionMs, c.RetentionBytes = -1, -1
	}
	return c, t.Compact
}

func (v *configViews) DescribeTopic(im *metadata.Image, topic string, keys []string, synonyms, docs bool) []kmsg.DescribeConfigsResponseResourceConfig {
	return config.DescribeTopic(v.static, v.dynamicDefaults(im), im.TopicConfig(topic), keys, synonyms, docs)
}

func (v *configViews) DescribeBroker(im *metadata.Image, name string, keys []string, synonyms, docs bool) []kmsg.DescribeConfigsResponseResourceConfig {
	own := map[string]string{}
	if name != "" {
		own = im.Configs[metadata.ConfigKey{Type: metadata.ResourceBroker, Name: name}]
	}
	return config.DescribeBroker(v.static, own, im.BrokerConfig(""), keys, synonyms, docs)
}

func (v *configViews) CheckTopic(m map[string]string) error { return config.ValidateTopicConfigs(m) }

func (v *configViews) CheckBroker(name string, m map[string]string) error {
	check := config.ValidateBrokerDynamic
	if name == "" {
		check = config.ValidateBrokerDynamicDefault
	}
	for k, val := range m {
		if err := check(k, val); err != nil {
			return err
		}
	}
	return nil
}
