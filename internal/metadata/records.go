package metadata

import "github.com/google/uuid"

// Record is one metadata change. Exactly one field is set. Records are
// encoded as JSON in the metadata log: readable with standard tools, and
// their cost is irrelevant next to the data path.
type Record struct {
	Topic       *TopicRecord       `json:"topic,omitempty"`
	Partition   *PartitionRecord   `json:"partition,omitempty"`
	RemoveTopic *RemoveTopicRecord `json:"removeTopic,omitempty"`
	Config      *ConfigRecord      `json:"config,omitempty"`
	Broker      *Broker            `json:"broker,omitempty"`
	ProducerIDs *ProducerIDsRecord `json:"producerIds,omitempty"`
}

// ProducerIDsRecord hands out a block of producer ids: every id below
// NextBlockStart has been given out (Kafka's ProducerIdsRecord).
type ProducerIDsRecord struct {
	NextBlockStart int64 `json:"nextBlockStart"`
}

// TopicRecord creates a topic (Kafka's TopicRecord).
type TopicRecord struct {
	Name string    `json:"name"`
	ID   uuid.UUID `json:"id"`
}

// PartitionRecord creates or changes a partition (Kafka's PartitionRecord
// and PartitionChangeRecord in one).
type PartitionRecord struct {
	TopicID     uuid.UUID `json:"topicId"`
	Partition   int32     `json:"partition"`
	Replicas    []int32   `json:"replicas"`
	ISR         []int32   `json:"isr"`
	Leader      int32     `json:"leader"`
	LeaderEpoch int32     `json:"leaderEpoch"`
}

// RemoveTopicRecord deletes a topic with its partitions and configs.
type RemoveTopicRecord struct {
	ID uuid.UUID `json:"id"`
}

// ConfigRecord sets (Value non-nil) or removes (Value nil) one config key of
// a resource (Kafka's ConfigRecord).
type ConfigRecord struct {
	ResourceType int8    `json:"resourceType"`
	ResourceName string  `json:"resourceName"`
	Name         string  `json:"name"`
	Value        *string `json:"value"`
}
