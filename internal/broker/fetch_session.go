package broker

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/wire"
)

// fetchSessions is the KIP-227 fetch session cache
// (max.incremental.fetch.session.cache.slots). When full, the least
// recently used session is evicted.
type fetchSessions struct {
	mu    sync.Mutex
	slots int
	byID  map[int32]*fetchSession
}

// fetchSession remembers the partitions a client fetches and what it was
// last told about each, so incremental fetches carry only changes.
type fetchSession struct {
	id       int32
	epoch    int32 // the next expected epoch
	lastUsed time.Time
	order    []sessionKey
	byKey    map[sessionKey]*sessionPart
}

type sessionKey struct {
	topic   string
	topicID uuid.UUID
	index   int32
}

// sessionPart is one partition of a session.
type sessionPart struct {
	offset   int64
	maxBytes int32
	// What the client was last sent.
	hw, lso, logStart int64
	sent              bool
}

// changed reports whether out has news for the client (records, an error,
// or moved offsets).
func (sp *sessionPart) changed(out *wire.FetchPartition) bool {
	return !sp.sent || out.Records.Size > 0 || out.ErrorCode != 0 ||
		sp.hw != out.HighWatermark || sp.lso != out.LastStableOffset || sp.logStart != out.LogStartOffset
}

// sent records what the client is being sent.
func (sp *sessionPart) record(out *wire.FetchPartition) {
	sp.sent = true
	sp.hw, sp.lso, sp.logStart = out.HighWatermark, out.LastStableOffset, out.LogStartOffset
}

func newFetchSessions(slots int) *fetchSessions {
	return &fetchSessions{slots: slots, byID: map[int32]*fetchSession{}}
}

func (c *fetchSessions) create() *fetchSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byID) >= c.slots {
		var oldest *fetchSession
		for _, s := range c.byID {
			if oldest == nil || s.lastUsed.Before(oldest.lastUsed) {
				oldest = s
			}
		}
		if oldest == nil || time.Since(oldest.lastUsed) < time.Second {
			return nil
		}
		delete(c.byID, oldest.id)
	}
	id := rand.Int32N(1<<31-1) + 1
	for c.byID[id] != nil {
		id = rand.Int32N(1<<31-1) + 1
	}
	s := &fetchSession{id: id, epoch: 1, lastUsed: time.Now(), byKey: map[sessionKey]*sessionPart{}}
	c.byID[id] = s
	return s
}

// next returns session id if epoch is the one it expects, and advances it.
func (c *fetchSessions) next(id, epoch int32) (*fetchSession, int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.byID[id]
	if s == nil {
		return nil, kerr.FetchSessionIDNotFound.Code
	}
	if s.epoch != epoch {
		return nil, kerr.InvalidFetchSessionEpoch.Code
	}
	s.epoch++
	if s.epoch <= 0 {
		s.epoch = 1
	}
	s.lastUsed = time.Now()
	return s, 0
}

func (c *fetchSessions) remove(id int32) {
	c.mu.Lock()
	delete(c.byID, id)
	c.mu.Unlock()
}

// update applies the request's partitions and forgotten topics. A session is
// used by one client connection's requests one at a time, so it needs no lock
// of its own.
func (s *fetchSession) update(req *kmsg.FetchRequest, parts []fetchPart) {
	for _, fp := range parts {
		k := sessionKey{fp.topic, fp.topicID, fp.index}
		if req.Version >= 13 {
			k.topic = ""
		} else {
			k.topicID = uuid.UUID{}
		}
		sp := s.byKey[k]
		if sp == nil {
			sp = &sessionPart{}
			s.byKey[k] = sp
			s.order = append(s.order, k)
		}
		sp.offset, sp.maxBytes = fp.offset, fp.maxBytes
	}
	for _, ft := range req.ForgottenTopics {
		for _, p := range ft.Partitions {
			k := sessionKey{ft.Topic, ft.TopicID, p}
			if req.Version >= 13 {
				k.topic = ""
			} else {
				k.topicID = uuid.UUID{}
			}
			delete(s.byKey, k)
		}
	}
	kept := s.order[:0]
	for _, k := range s.order {
		if s.byKey[k] != nil {
			kept = append(kept, k)
		}
	}
	s.order = kept
}

// parts returns the session's partitions to read, in order.
func (s *fetchSession) parts(resolve func(string, uuid.UUID, int32) fetchPart) []fetchPart {
	out := make([]fetchPart, 0, len(s.order))
	for _, k := range s.order {
		sp := s.byKey[k]
		fp := resolve(k.topic, k.topicID, k.index)
		fp.offset, fp.maxBytes, fp.sess = sp.offset, sp.maxBytes, sp
		out = append(out, fp)
	}
	return out
}
