package wire

import (
	"encoding/binary"
	"os"
)

// FileRegion is a byte range of a file sent as part of a response without
// being copied into user space. Release, if set, is called once the region
// has been written (or the response dropped).
type FileRegion struct {
	File    *os.File
	Pos     int64
	Size    int
	Release func()
}

// Frame is an outgoing response: Buf holds the size prefix, the header and
// every byte that is not file data; Regions are spliced in at their At
// offsets of Buf, in order.
type Frame struct {
	Buf     []byte
	Regions []SplicedRegion
}

// SplicedRegion is a FileRegion placed at offset At of Frame.Buf.
type SplicedRegion struct {
	At int
	FileRegion
}

// Size returns the frame's total size on the wire.
func (f *Frame) Size() int {
	n := len(f.Buf)
	for _, r := range f.Regions {
		n += r.Size
	}
	return n
}

// Release releases every region.
func (f *Frame) Release() {
	for _, r := range f.Regions {
		if r.Release != nil {
			r.Release()
		}
	}
	f.Regions = nil
}

// BeginResponse starts a frame for a response: a size placeholder and the
// response header.
func BeginResponse(buf []byte, key, version int16, correlationID int32) Frame {
	buf = append(buf[:0], 0, 0, 0, 0)
	buf = AppendResponseHeader(buf, key, version, correlationID)
	return Frame{Buf: buf}
}

// Finish writes the size prefix.
func (f *Frame) Finish() {
	binary.BigEndian.PutUint32(f.Buf[:4], uint32(f.Size()-4))
}

// EncodeResponse frames a kmsg response to a request of key, version and
// correlationID, reusing buf.
func EncodeResponse(buf []byte, key, version int16, correlationID int32, resp interface{ AppendTo([]byte) []byte }) Frame {
	f := BeginResponse(buf, key, version, correlationID)
	f.Buf = resp.AppendTo(f.Buf)
	f.Finish()
	return f
}
