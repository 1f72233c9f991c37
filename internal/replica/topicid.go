package replica

import (
	"encoding/base64"

	"github.com/google/uuid"
)

// Kafka prints topic and cluster ids as URL-safe base64 without padding.
func encodeTopicID(id uuid.UUID) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

func decodeTopicID(s string) (uuid.UUID, bool) {
	var id uuid.UUID
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return id, false
	}
	copy(id[:], b)
	return id, true
}
