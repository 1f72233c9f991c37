package commitlog

import (
	"fmt"
	"math"
)

// Config is one partition log's configuration; field names follow Kafka's
// topic configs (segment.bytes, segment.ms, retention.bytes, retention.ms,
// index.interval.bytes, segment.index.bytes, flush.messages, flush.ms,
// message.timestamp.type, max.message.bytes, file.delete.delay.ms).
// Zero values are replaced by Kafka's defaults (see EnsureDefaults).
type Config struct {
	SegmentBytes       int64 // segment.bytes, default 1 GiB
	SegmentMs          int64 // segment.ms, default 7 days
	RetentionBytes     int64 // retention.bytes, default -1 (unlimited)
	RetentionMs        int64 // retention.ms, default 7 days; -1 unlimited
	IndexIntervalBytes int   // index.interval.bytes, default 4096
	SegmentIndexBytes  int   // segment.index.bytes, default 10 MiB
	// FlushMessages (flush.messages) and FlushMs (flush.ms): the log needs a
	// flush (NeedsFlush) after that many messages or that long since the last
	// flush. Kafka's defaults are Long.MAX_VALUE: never fsync on a count or a
	// timer, rely on the page cache (which survives a process crash) and on
	// replication; rolled segments are still fsynced (NeedsFlush reports
	// them) so recovery after a power loss only rescans the active segment.
	FlushMessages int64
	FlushMs       int64
	// MessageTimestampLogAppendTime (message.timestamp.type=LogAppendTime):
	// the leader stamps each batch with the append time.
	MessageTimestampLogAppendTime bool
	MaxMessageBytes               int   // max.message.bytes, default 1 MiB + 12 (the broker enforces it with batch.Validate)
	FileDeleteDelayMs             int64 // file.delete.delay.ms; unused: files are unlinked when the last reader releases them
}

// Kafka defaults.
const (
	DefaultSegmentBytes       = 1 << 30
	DefaultSegmentMs          = 7 * 24 * 60 * 60 * 1000
	DefaultRetentionMs        = 7 * 24 * 60 * 60 * 1000
	DefaultIndexIntervalBytes = 4096
	DefaultSegmentIndexBytes  = 10 << 20
	DefaultMaxMessageBytes    = 1048588
	DefaultFileDeleteDelayMs  = 60000
)

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:       DefaultSegmentBytes,
		SegmentMs:          DefaultSegmentMs,
		RetentionBytes:     -1,
		RetentionMs:        DefaultRetentionMs,
		IndexIntervalBytes: DefaultIndexIntervalBytes,
		SegmentIndexBytes:  DefaultSegmentIndexBytes,
		FlushMessages:      math.MaxInt64,
		FlushMs:            math.MaxInt64,
		MaxMessageBytes:    DefaultMaxMessageBytes,
		FileDeleteDelayMs:  DefaultFileDeleteDelayMs,
	}
}

// EnsureDefaults replaces zero values by Kafka's defaults. RetentionBytes 0
// and RetentionMs 0 are legal in Kafka but almost never meant: here 0 means
// "default"; use -1 for unlimited.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.SegmentBytes == 0 {
		c.SegmentBytes = d.SegmentBytes
	}
	if c.SegmentMs == 0 {
		c.SegmentMs = d.SegmentMs
	}
	if c.RetentionBytes == 0 {
		c.RetentionBytes = d.RetentionBytes
	}
	if c.RetentionMs == 0 {
		c.RetentionMs = d.RetentionMs
	}
	if c.IndexIntervalBytes == 0 {
		c.IndexIntervalBytes = d.IndexIntervalBytes
	}
	if c.SegmentIndexBytes == 0 {
		c.SegmentIndexBytes = d.SegmentIndexBytes
	}
	if c.FlushMessages == 0 {
		c.FlushMessages = d.FlushMessages
	}
	if c.FlushMs == 0 {
		c.FlushMs = d.FlushMs
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = d.MaxMessageBytes
	}
	if c.FileDeleteDelayMs == 0 {
		c.FileDeleteDelayMs = d.FileDeleteDelayMs
	}
}

// Validate checks ranges (after EnsureDefaults).
func (c *Config) Validate() error {
	switch {
	case c.SegmentBytes < 14 || c.SegmentBytes > math.MaxInt32:
		return fmt.Errorf("segment.bytes %d out of range [14, %d]", c.SegmentBytes, math.MaxInt32)
	case c.SegmentMs < 1:
		return fmt.Errorf("segment.ms %d must be positive", c.SegmentMs)
	case c.RetentionBytes < -1:
		return fmt.Errorf("retention.bytes %d must be >= -1", c.RetentionBytes)
	case c.RetentionMs < -1:
		return fmt.Errorf("retention.ms %d must be >= -1", c.RetentionMs)
	case c.IndexIntervalBytes < 0:
		return fmt.Errorf("index.interval.bytes %d must be >= 0", c.IndexIntervalBytes)
	case c.SegmentIndexBytes < timeEntrySize:
		return fmt.Errorf("segment.index.bytes %d must be >= %d", c.SegmentIndexBytes, timeEntrySize)
	case c.FlushMessages < 1 || c.FlushMs < 0:
		return fmt.Errorf("flush.messages %d / flush.ms %d out of range", c.FlushMessages, c.FlushMs)
	}
	return nil
}
