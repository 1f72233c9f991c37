package broker

// InitProducerId: v0-5
//
// Behavior:
//   - Idempotent producers (no transactional id) get a new producer id with
//     epoch 0. Ids are taken from blocks reserved in the metadata log, so
//     they never repeat across restarts.
//   - Transactional ids are refused until the transaction coordinator lands
//     (TRANSACTIONAL_ID_AUTHORIZATION_FAILED is not right; we answer
//     COORDINATOR_NOT_AVAILABLE with a message).

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/metadata"
)

const producerIDBlock = 1000

// producerIDs hands out ids from a block reserved in the metadata log.
type producerIDs struct {
	mu        sync.Mutex
	next, end int64
}

func newProducerIDs() *producerIDs { return &producerIDs{} }

func (b *Broker) nextProducerID() (int64, error) {
	ids := b.pids
	ids.mu.Lock()
	defer ids.mu.Unlock()
	if ids.next >= ids.end {
		var start int64
		_, err := b.meta.Commit(func(im *metadata.Image) ([]metadata.Record, error) {
			start = im.NextProducerID
			return []metadata.Record{{ProducerIDs: &metadata.ProducerIDsRecord{NextBlockStart: start + producerIDBlock}}}, nil
		})
		if err != nil {
			return 0, err
		}
		ids.next, ids.end = start, start+producerIDBlock
	}
	id := ids.next
	ids.next++
	return id, nil
}

func (b *Broker) handleInitProducerID(req *kmsg.InitProducerIDRequest) *kmsg.InitProducerIDResponse {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	id, err := b.nextProducerID()
	if err != nil {
		b.logger.Error("allocating producer ids", "err", err)
		resp.ErrorCode = kerr.UnknownServerError.Code
		return resp
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp
}
