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
	rate := 0.0 // unlimited
	if v, ok := cfg.Get("log.cleaner.io.max.bytes.per.second"); ok {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			rate = f
		}
	}
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
