// Package wire owns the Kafka wire format around franz-go's kmsg codec: the
// request header, the table of API versions Sluice supports, response
// framing, and the Fetch response encoder that leaves record data as file
// regions so it can be sent with sendfile.
//
// It must not know about topics, partitions or storage.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrMalformed marks a request whose bytes cannot be parsed.
var ErrMalformed = errors.New("malformed request")

// RequestHeader is a parsed request header (v0-v2).
type RequestHeader struct {
	Key           int16
	Version       int16
	CorrelationID int32
	ClientID      string
}

// ParseHeader parses the request header at the start of a request frame (the
// bytes after the size prefix). It returns the header and the request body.
// The tagged fields of a flexible header (v2) are skipped once the caller
// knows the request is flexible; see SkipHeaderTags.
func ParseHeader(frame []byte) (RequestHeader, []byte, error) {
	var h RequestHeader
	if len(frame) < 10 {
		return h, nil, fmt.Errorf("%w: header of %d bytes", ErrMalformed, len(frame))
	}
	h.Key = int16(binary.BigEndian.Uint16(frame[0:]))
	h.Version = int16(binary.BigEndian.Uint16(frame[2:]))
	h.CorrelationID = int32(binary.BigEndian.Uint32(frame[4:]))
	n := int16(binary.BigEndian.Uint16(frame[8:]))
	rest := frame[10:]
	if n > 0 {
		if int(n) > len(rest) {
			return h, nil, fmt.Errorf("%w: client id of %d bytes in %d", ErrMalformed, n, len(rest))
		}
		h.ClientID = string(rest[:n])
		rest = rest[n:]
	} else if n < -1 {
		return h, nil, fmt.Errorf("%w: client id length %d", ErrMalformed, n)
	}
	return h, rest, nil
}

// SkipHeaderTags skips the tagged fields of a v2 request header.
func SkipHeaderTags(body []byte) ([]byte, error) {
	count, n := uvarint(body)
	if n <= 0 {
		return nil, fmt.Errorf("%w: header tags", ErrMalformed)
	}
	body = body[n:]
	for i := uint64(0); i < count; i++ {
		_, n := uvarint(body) // tag
		if n <= 0 {
			return nil, fmt.Errorf("%w: header tag", ErrMalformed)
		}
		body = body[n:]
		size, n := uvarint(body)
		if n <= 0 || uint64(len(body)-n) < size {
			return nil, fmt.Errorf("%w: header tag size", ErrMalformed)
		}
		body = body[n+int(size):]
	}
	return body, nil
}

func uvarint(b []byte) (uint64, int) {
	v, n := binary.Uvarint(b)
	if n > 5 || v > 1<<31 {
		return 0, -1
	}
	return v, n
}

// DecodeRequest parses a whole request frame into a kmsg request. The caller
// must have checked the key and version with Supported first. The request
// aliases frame (strings and byte fields point into it).
func DecodeRequest(frame []byte) (RequestHeader, kmsg.Request, error) {
	h, body, err := ParseHeader(frame)
	if err != nil {
		return h, nil, err
	}
	req := kmsg.RequestForKey(h.Key)
	if req == nil {
		return h, nil, fmt.Errorf("%w: unknown api key %d", ErrMalformed, h.Key)
	}
	req.SetVersion(h.Version)
	if req.IsFlexible() {
		if body, err = SkipHeaderTags(body); err != nil {
			return h, nil, err
		}
	}
	if u, ok := req.(kmsg.UnsafeReadFrom); ok {
		err = u.UnsafeReadFrom(body)
	} else {
		err = req.ReadFrom(body)
	}
	if err != nil {
		return h, nil, fmt.Errorf("%w: %s v%d: %v", ErrMalformed, kmsg.NameForKey(h.Key), h.Version, err)
	}
	return h, req, nil
}

// AppendResponseHeader appends the response header for a response to a
// request of key and version: the correlation id, and an empty tag buffer for
// flexible versions except ApiVersions, whose response header is always v0
// (so a client can read it before it knows what the broker supports).
func AppendResponseHeader(dst []byte, key, version int16, correlationID int32) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	if key != 18 && IsFlexible(key, version) {
		dst = append(dst, 0)
	}
	return dst
}

// IsFlexible reports whether key at version uses the flexible (KIP-482)
// encoding.
func IsFlexible(key, version int16) bool {
	req := kmsg.RequestForKey(key)
	if req == nil {
		return false
	}
	req.SetVersion(version)
	return req.IsFlexible()
}
