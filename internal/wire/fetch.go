package wire

import (
	"encoding/binary"
)

// FetchTopic is one topic of a Fetch response.
type FetchTopic struct {
	Topic      string
	TopicID    [16]byte
	Partitions []FetchPartition
}

// FetchPartition is one partition of a Fetch response.
type FetchPartition struct {
	Partition        int32
	ErrorCode        int16
	HighWatermark    int64
	LastStableOffset int64
	LogStartOffset   int64
	// Aborted lists aborted transactions (producer id, first offset) in the
	// returned range, for read_committed fetches.
	Aborted [][2]int64
	// Records is the record data, sent from the file.
	Records FileRegion
	// Bytes is record data already in memory, used when Records is empty.
	Bytes []byte
}

// AppendFetchResponse appends the body of a Fetch response of version v
// (4-18) to f, placing record data as file regions. It writes exactly what
// kmsg.FetchResponse.AppendTo would (tested), with no tagged fields set.
func AppendFetchResponse(f *Frame, v int16, throttleMs int32, errCode int16, sessionID int32, topics []FetchTopic) {
	flex := v >= 12
	b := f.Buf
	b = be32(b, uint32(throttleMs))
	if v >= 7 {
		b = be16(b, uint16(errCode))
		b = be32(b, uint32(sessionID))
	}
	b = appendArrayLen(b, len(topics), flex)
	for i := range topics {
		t := &topics[i]
		if v >= 13 {
			b = append(b, t.TopicID[:]...)
		} else {
			b = appendString(b, t.Topic, flex)
		}
		b = appendArrayLen(b, len(t.Partitions), flex)
		for j := range t.Partitions {
			p := &t.Partitions[j]
			b = be32(b, uint32(p.Partition))
			b = be16(b, uint16(p.ErrorCode))
			b = be64(b, uint64(p.HighWatermark))
			b = be64(b, uint64(p.LastStableOffset))
			if v >= 5 {
				b = be64(b, uint64(p.LogStartOffset))
			}
			if p.Aborted == nil {
				if flex {
					b = append(b, 0)
				} else {
					b = be32(b, 0xffffffff)
				}
			} else {
				b = appendArrayLen(b, len(p.Aborted), flex)
				for _, a := range p.Aborted {
					b = be64(b, uint64(a[0]))
					b = be64(b, uint64(a[1]))
					if flex {
						b = append(b, 0)
					}
				}
			}
			if v >= 11 {
				b = be32(b, 0xffffffff) // preferred read replica: none
			}
			n := p.Records.Size
			if n == 0 {
				n = len(p.Bytes)
			}
			if flex {
				b = binary.AppendUvarint(b, uint64(n)+1)
			} else {
				b = be32(b, uint32(n))
			}
			if p.Records.Size > 0 {
				f.Regions = append(f.Regions, SplicedRegion{At: len(b), FileRegion: p.Records})
			} else {
				b = append(b, p.Bytes...)
			}
			if flex {
				b = append(b, 0)
			}
		}
		if flex {
			b = append(b, 0)
		}
	}
	if flex {
		b = append(b, 0)
	}
	f.Buf = b
}

func be16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }
func be32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
func be64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

func appendArrayLen(b []byte, n int, flex bool) []byte {
	if flex {
		return binary.AppendUvarint(b, uint64(n)+1)
	}
	return be32(b, uint32(n))
}

func appendString(b []byte, s string, flex bool) []byte {
	if flex {
		b = binary.AppendUvarint(b, uint64(len(s))+1)
	} else {
		b = be16(b, uint16(len(s)))
	}
	return append(b, s...)
}
