package commitlog

import (
	"fmt"

	"github.com/sluicehq/sluice/internal/batch"
)

// Producer state: idempotent de-duplication, after Kafka's
// ProducerStateManager / ProducerAppendInfo / ProducerStateEntry.
//
// For each producer id the log keeps the current epoch and the metadata of
// the last five batches appended (first/last sequence, first/last offset,
// timestamp). On a client (leader) append of an idempotent batch:
//
//   - epoch older than the current one: ErrInvalidProducerEpoch;
//   - same epoch, same first and last sequence as one of the last five
//     batches: a duplicate; the original offsets are returned and nothing is
//     written;
//   - a newer epoch must start at sequence 0, unless the producer is unknown
//     to the log (no entry, e.g. its batches were removed by retention or
//     DeleteRecords, or it is new): then any first sequence is accepted, as
//     in Kafka since 2.5 (KIP-360; checkSequence accepts any sequence when
//     the current epoch is NO_PRODUCER_EPOCH);
//   - same epoch: first sequence must be last sequence + 1 (wrapping at
//     MaxInt32 to 0), otherwise ErrOutOfOrderSequence.
//
// Replicated appends (AssignOffsets false) update the state without checks.
// Entries whose last offset falls below the log start offset are evicted
// (Kafka's truncateHead). Transactions (current transaction first offset,
// coordinator epoch) are future fields of producerEntry; control batches
// will update the epoch and end the transaction.
//
// NB: producer.id.expiration.ms is not implemented yet: entries live until
// their batches leave the log.

// numBatchesToRetain is Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN.
const numBatchesToRetain = 5

type batchMetadata struct {
	firstSeq, lastSeq       int32
	firstOffset, lastOffset int64
	timestamp               int64
}

type producerEntry struct {
	epoch   int16
	batches [numBatchesToRetain]batchMetadata // ring; oldest at head
	head, n int
}

func (e *producerEntry) lastSeq() int32 {
	if e.n == 0 {
		return -1
	}
	return e.batches[(e.head+e.n-1)%numBatchesToRetain].lastSeq
}

func (e *producerEntry) lastOffset() int64 {
	if e.n == 0 {
		return -1
	}
	return e.batches[(e.head+e.n-1)%numBatchesToRetain].lastOffset
}

func (e *producerEntry) findDuplicate(h *batch.Header) (batchMetadata, bool) {
	if h.ProducerEpoch != e.epoch {
		return batchMetadata{}, false
	}
	last := h.LastSequence()
	for i := 0; i < e.n; i++ {
		m := e.batches[(e.head+i)%numBatchesToRetain]
		if m.firstSeq == h.BaseSequence && m.lastSeq == last {
			return m, true
		}
	}
	return batchMetadata{}, false
}

// add records a batch; a new epoch clears the batches.
func (e *producerEntry) add(h *batch.Header, firstOffset int64) {
	if h.ProducerEpoch != e.epoch {
		e.epoch, e.head, e.n = h.ProducerEpoch, 0, 0
	}
	m := batchMetadata{
		firstSeq: h.BaseSequence, lastSeq: h.LastSequence(),
		firstOffset: firstOffset, lastOffset: firstOffset + int64(h.LastOffsetDelta),
		timestamp: h.MaxTimestamp,
	}
	if e.n < numBatchesToRetain {
		e.batches[(e.head+e.n)%numBatchesToRetain] = m
		e.n++
		return
	}
	e.batches[e.head] = m
	e.head = (e.head + 1) % numBatchesToRetain
}

func inSequence(lastSeq, nextSeq int32) bool {
	return int64(nextSeq) == int64(lastSeq)+1 || (nextSeq == 0 && lastSeq == 1<<31-1)
}

// checkSequence is Kafka's ProducerAppendInfo.checkProducerEpoch +
// checkSequence for a client append. known is false when the log has no
// entry for the producer.
func checkSequence(e *producerEntry, known bool, h *batch.Header) error {
	if !known {
		return nil
	}
	if h.ProducerEpoch < e.epoch {
		return fmt.Errorf("%w: producer %d epoch %d is older than the current epoch %d",
			ErrInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, e.epoch)
	}
	if h.ProducerEpoch != e.epoch {
		if h.BaseSequence != 0 {
			return fmt.Errorf("%w: producer %d new epoch %d must start at sequence 0, got %d",
				ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
		}
		return nil
	}
	if last := e.lastSeq(); !inSequence(last, h.BaseSequence) {
		return fmt.Errorf("%w: producer %d epoch %d: sequence %d after %d",
			ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence, last)
	}
	return nil
}

// producerState holds the entries of one log. Guarded by Log.mu.
type producerState struct {
	producers map[int64]*producerEntry
}

func newProducerState() *producerState {
	return &producerState{producers: make(map[int64]*producerEntry)}
}

// pendingProducers stages producer entries during one append so that a
// failed append changes nothing. It lives on the appender's stack: up to four
// producers per append (one is usual) without allocating.
type pendingProducers struct {
	fixed [4]pendingEntry
	n     int
	extra []pendingEntry // beyond four producers in one append
}

type pendingEntry struct {
	pid   int64
	entry producerEntry
	known bool // the log had an entry for pid before this append
}

func (p *pendingProducers) at(i int) *pendingEntry {
	if i < len(p.fixed) {
		return &p.fixed[i]
	}
	return &p.extra[i-len(p.fixed)]
}

// get returns the staged entry for pid, copying it from ps on first use.
func (p *pendingProducers) get(ps *producerState, pid int64) *pendingEntry {
	for i := 0; i < p.n; i++ {
		if e := p.at(i); e.pid == pid {
			return e
		}
	}
	pe := pendingEntry{pid: pid, entry: producerEntry{epoch: -1}}
	if cur, ok := ps.producers[pid]; ok {
		pe.entry, pe.known = *cur, true
	}
	if p.n >= len(p.fixed) {
		p.extra = append(p.extra, pendingEntry{})
	}
	e := p.at(p.n)
	*e = pe
	p.n++
	return e
}

// commit stores the staged entries.
func (p *pendingProducers) commit(ps *producerState) {
	for i := 0; i < p.n; i++ {
		e := p.at(i)
		ps.put(e.pid, &e.entry)
	}
}

func (ps *producerState) put(pid int64, e *producerEntry) {
	if cur, ok := ps.producers[pid]; ok {
		*cur = *e
		return
	}
	c := *e
	ps.producers[pid] = &c
}

// observe updates the state from a batch already in the log (loading,
// replication). Non-idempotent batches are ignored.
func (ps *producerState) observe(h *batch.Header) {
	if h.ProducerID < 0 || h.Control() {
		return // control markers: transaction support will handle them
	}
	e, ok := ps.producers[h.ProducerID]
	if !ok {
		e = &producerEntry{epoch: -1}
		ps.producers[h.ProducerID] = e
	}
	e.add(h, h.BaseOffset)
}

// truncateHead evicts producers whose last batch is below startOffset.
func (ps *producerState) truncateHead(startOffset int64) {
	for pid, e := range ps.producers {
		if e.lastOffset() < startOffset {
			delete(ps.producers, pid)
		}
	}
}
