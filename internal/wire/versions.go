package wire

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// VersionRange is the range of versions of one API that Sluice accepts.
type VersionRange struct {
	Min, Max int16
}

// Versions is the table of APIs Sluice answers, by key. Minimums are the
// versions Kafka 3.9 accepted; maximums are those franz-go's kmsg encodes,
// except where noted.
//
// Exceptions, each a conscious choice:
//   - Fetch starts at v4: v0-v3 carry message sets of magic 0/1, which Kafka
//     produced by down-converting; Sluice stores only RecordBatch v2.
var Versions = map[int16]VersionRange{
	0:  {0, 13}, // Produce (v0-v2 answered with UNSUPPORTED_FOR_MESSAGE_FORMAT)
	1:  {4, 18}, // Fetch
	2:  {0, 11}, // ListOffsets
	3:  {0, 13}, // Metadata
	8:  {0, 10}, // OffsetCommit
	9:  {0, 10}, // OffsetFetch
	10: {0, 6},  // FindCoordinator
	11: {0, 9},  // JoinGroup
	12: {0, 4},  // Heartbeat
	13: {0, 5},  // LeaveGroup
	14: {0, 5},  // SyncGroup
	15: {0, 6},  // DescribeGroups
	16: {0, 5},  // ListGroups
	18: {0, 5},  // ApiVersions
	19: {0, 7},  // CreateTopics
	20: {0, 6},  // DeleteTopics
	21: {0, 2},  // DeleteRecords
	22: {0, 5},  // InitProducerId
	23: {0, 4},  // OffsetForLeaderEpoch
	32: {0, 4},  // DescribeConfigs
	33: {0, 2},  // AlterConfigs
	35: {0, 5},  // DescribeLogDirs
	37: {0, 3},  // CreatePartitions
	42: {0, 3},  // DeleteGroups
	44: {0, 1},  // IncrementalAlterConfigs
	47: {0, 0},  // OffsetDelete
	60: {0, 2},  // DescribeCluster
	68: {0, 1},  // ConsumerGroupHeartbeat
	69: {0, 1},  // ConsumerGroupDescribe
	71: {0, 0},  // GetTelemetrySubscriptions
	75: {0, 0},  // DescribeTopicPartitions
}

// Supported reports whether key at version is accepted.
func Supported(key, version int16) bool {
	r, ok := Versions[key]
	return ok && version >= r.Min && version <= r.Max
}

// ApiVersionsResponse builds the ApiVersions answer for version v, listing
// every supported API and the finalized features (v3+).
func ApiVersionsResponse(v int16, errCode int16) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(v)
	resp.ErrorCode = errCode
	for k := int16(0); k < 100; k++ {
		r, ok := Versions[k]
		if !ok {
			continue
		}
		ak := kmsg.NewApiVersionsResponseApiKey()
		ak.ApiKey, ak.MinVersion, ak.MaxVersion = k, r.Min, r.Max
		resp.ApiKeys = append(resp.ApiKeys, ak)
	}
	if v >= 3 {
		sf := kmsg.NewApiVersionsResponseSupportedFeature()
		sf.Name, sf.MinVersion, sf.MaxVersion = "metadata.version", 1, 21
		resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
		resp.FinalizedFeaturesEpoch = 1
		ff := kmsg.NewApiVersionsResponseFinalizedFeature()
		ff.Name, ff.MinVersionLevel, ff.MaxVersionLevel = "metadata.version", 21, 21
		resp.FinalizedFeatures = append(resp.FinalizedFeatures, ff)
	}
	return resp
}

// TagCleanerStatus is a Sluice extension (a KIP-482 tagged field, ignored
// by other clients) on each partition of a DescribeLogDirs response (v2+):
// the log cleaner's progress for a compacted partition, as JSON
// (CleanerStatus). kafka-log-dirs prints it.
const TagCleanerStatus = 10000

// CleanerStatus is the JSON carried in TagCleanerStatus.
type CleanerStatus struct {
	Checkpoint   int64   `json:"checkpoint"`
	Passes       int     `json:"passes"`
	BytesRead    int64   `json:"bytesRead"`
	BytesWritten int64   `json:"bytesWritten"`
	LastDirty    float64 `json:"lastDirtyRatio"`
	LastMBPerSec float64 `json:"lastMBPerSec"`
	LastError    string  `json:"lastError,omitempty"`
	Uncleanable  bool    `json:"uncleanable,omitempty"`
}
