package server

import (
	"maps"
	"strconv"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/batch"
	"github.com/sluicehq/sluice/internal/commitlog"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/replica"
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

func (v *configViews) logConfig(im *metadata.Image, topic string) (commitlog.Config, replica.Policy) {
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
	pol := replica.Policy{
		Compact:              t.Compact,
		MaxMessageBytes:      t.MaxMessageBytes,
		TimestampBeforeMaxMs: t.MessageTimestampBeforeMaxMs,
		TimestampAfterMaxMs:  t.MessageTimestampAfterMaxMs,
		LogAppendTime:        t.LogAppendTime(),
		Codec:                codecOf(t.CompressionType),
	}
	return c, pol
}

// codecOf maps compression.type to a batch codec (-1: "producer").
func codecOf(compressionType string) int8 {
	switch compressionType {
	case "uncompressed":
		return int8(batch.CodecNone)
	case "gzip":
		return int8(batch.CodecGzip)
	case "snappy":
		return int8(batch.CodecSnappy)
	case "lz4":
		return int8(batch.CodecLZ4)
	case "zstd":
		return int8(batch.CodecZstd)
	}
	return -1
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
