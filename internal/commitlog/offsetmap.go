package commitlog

import (
	"hash/maphash"
	"math"
	"math/bits"
	"sync"
	"time"
)

// offsetMap maps a record key to the latest offset seen for it in the dirty
// section of a log (Kafka's SkimpyOffsetMap). Keys are not stored: each slot
// holds a 128-bit hash of the key (two independent 64-bit hashes) and the
// offset, 24 bytes, so memory is fixed by the slot count whatever the key
// sizes. A 128-bit collision, which would drop a live record, is as unlikely
// as with Kafka's MD5.
//
// Open addressing with linear probing; the map is full at loadFactor of its
// slots (Kafka's log.cleaner.io.buffer.load.factor, 0.9). Not safe for
// concurrent use: one per cleaner thread.
type offsetMap struct {
	slots      []omSlot
	mask       uint64
	n          int   // entries
	maxEntries int   // full at this many entries
	latest     int64 // largest offset put (-1 when empty)
	seed1      maphash.Seed
	seed2      maphash.Seed
}

type omSlot struct {
	h1, h2 uint64
	off    int64 // offset + 1; 0 marks an empty slot
}

const (
	omSlotSize   = 24
	omLoadFactor = 0.9
)

func newOffsetMap() *offsetMap {
	return &offsetMap{seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed(), latest: -1}
}

// reset prepares the map for a pass that may put up to want entries, using
// at most maxBytes of slots (rounded down to a power of two, at least 1024
// slots). The slot array is reused when large enough.
func (m *offsetMap) reset(want int64, maxBytes int64) {
	maxSlots := max(maxBytes/omSlotSize, 1024)
	maxSlots = 1 << (63 - bits.LeadingZeros64(uint64(maxSlots))) // power of two below
	need := int64(float64(want)/omLoadFactor) + 1
	slots := int64(1024)
	for slots < need && slots < maxSlots {
		slots <<= 1
	}
	if int64(cap(m.slots)) >= slots {
		m.slots = m.slots[:slots]
		clear(m.slots)
	} else {
		m.slots = make([]omSlot, slots)
	}
	m.mask = uint64(slots - 1)
	m.n = 0
	m.maxEntries = int(float64(slots) * omLoadFactor)
	m.latest = -1
}

// full reports whether n more entries might not fit.
func (m *offsetMap) wouldOverflow(n int) bool { return m.n+n > m.maxEntries }

// put records offset as the latest for key. The caller checks capacity.
func (m *offsetMap) put(key []byte, offset int64) {
	h1, h2 := maphash.Bytes(m.seed1, key), maphash.Bytes(m.seed2, key)
	for i := h1 & m.mask; ; i = (i + 1) & m.mask {
		s := &m.slots[i]
		if s.off == 0 {
			*s = omSlot{h1: h1, h2: h2, off: offset + 1}
			m.n++
			break
		}
		if s.h1 == h1 && s.h2 == h2 {
			s.off = offset + 1
			break
		}
	}
	if offset > m.latest {
		m.latest = offset
	}
}

// get returns the latest offset for key, or -1.
func (m *offsetMap) get(key []byte) int64 {
	if m.n == 0 {
		return -1
	}
	h1, h2 := maphash.Bytes(m.seed1, key), maphash.Bytes(m.seed2, key)
	for i := h1 & m.mask; ; i = (i + 1) & m.mask {
		s := &m.slots[i]
		if s.off == 0 {
			return -1
		}
		if s.h1 == h1 && s.h2 == h2 {
			return s.off - 1
		}
	}
}

// bytes is the memory held by the slot array.
func (m *offsetMap) bytes() int64 { return int64(cap(m.slots)) * omSlotSize }

// Throttler is a token bucket limiting the cleaner's I/O to a rate in bytes
// per second (log.cleaner.io.max.bytes.per.second), shared by the cleaner
// threads of a broker (Kafka's Throttler). A rate <= 0 or +Inf (Kafka's
// default, Double.MaxValue) does not throttle. Safe for concurrent use.
type Throttler struct {
	mu     sync.Mutex
	rate   float64 // bytes per second
	tokens float64 // may go negative: debt is paid by sleeping
	last   time.Time
	sleep  func(time.Duration) // tests
}

// NewThrottler returns a throttler at rate bytes per second.
func NewThrottler(rate float64) *Throttler {
	return &Throttler{rate: rate, last: time.Now(), sleep: time.Sleep}
}

// SetRate changes the rate (a dynamic config change).
func (t *Throttler) SetRate(rate float64) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.rate = rate
	t.mu.Unlock()
}

func unlimited(rate float64) bool {
	return rate <= 0 || rate >= math.MaxFloat64/2 || math.IsInf(rate, 1)
}

// Wait accounts for n bytes of I/O and sleeps as long as the bucket is in
// debt. A burst of up to one second's worth of bytes passes without waiting.
func (t *Throttler) Wait(n int) {
	if t == nil {
		return
	}
	t.mu.Lock()
	if unlimited(t.rate) {
		t.mu.Unlock()
		return
	}
	now := time.Now()
	t.tokens = min(t.tokens+now.Sub(t.last).Seconds()*t.rate, t.rate)
	t.last = now
	t.tokens -= float64(n)
	var d time.Duration
	if t.tokens < 0 {
		d = time.Duration(-t.tokens / t.rate * float64(time.Second))
	}
	sleep := t.sleep
	t.mu.Unlock()
	if d > 0 {
		sleep(d)
	}
}
