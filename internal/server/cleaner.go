package server

import (
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/commitlog"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/replica"
)

// cleanerConfig maps the broker's log.cleaner.* keys and the topics'
// compaction configs (read from the current metadata image at every
// scheduling round, so topic config changes apply to the next pass) to the
// replica manager's log cleaner.
func cleanerConfig(cfg *config.Broker, views *configViews, meta *metadata.Log) replica.CleanerConfig {
	rate := cleanerRate(cfg, views, meta.Image())
	return replica.CleanerConfig{
		Enable:              cfg.LogCleanerEnable,
		Threads:             int(cfg.LogCleanerThreads),
		Backoff:             time.Duration(cfg.LogCleanerBackoffMs) * time.Millisecond,
		DedupeBufferSize:    cfg.LogCleanerDedupeBufferSize,
		IOMaxBytesPerSecond: rate,
		TopicConfig: func(topic string) (commitlog.CleanConfig, bool) {
			t := views.topic(meta.Image(), topic)
			return commitlog.CleanConfig{
				DeleteRetentionMs:      t.DeleteRetentionMs,
				MinCompactionLagMs:     t.MinCompactionLagMs,
				MaxCompactionLagMs:     t.MaxCompactionLagMs,
				MinCleanableDirtyRatio: t.MinCleanableDirtyRatio,
			}, t.Compact
		},
	}
}

// compactedLogConfig is logConfig with Kafka's LogConfig.maxSegmentMs: a
// compacted topic's active segment rolls after max.compaction.lag.ms (when
// shorter than segment.ms), so that no record stays uncleanable longer
// (KIP-354).
func (v *configViews) compactedLogConfig(im *metadata.Image, topic string) (commitlog.Config, replica.Policy) {
	c, pol := v.logConfig(im, topic)
	if pol.Compact {
		if lag := v.topic(im, topic).MaxCompactionLagMs; lag > 0 && lag < c.SegmentMs {
			c.SegmentMs = lag
		}
	}
	return c, pol
}

// cleanerRate returns log.cleaner.io.max.bytes.per.second as configured
// dynamically (this broker, then the cluster default) or statically; 0 is
// unlimited.
func cleanerRate(cfg *config.Broker, views *configViews, im *metadata.Image) float64 {
	const key = "log.cleaner.io.max.bytes.per.second"
	v, ok := views.dynamicDefaults(im)[key]
	if !ok {
		v, ok = cfg.Get(key)
	}
	if !ok {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f >= 1.7e308 {
		return 0
	}
	return f
}
