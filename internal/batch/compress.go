package batch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// MaxDecompressedBytes bounds the decompressed size of one batch's records
// (a guard against decompression bombs).
const MaxDecompressedBytes = 256 << 20

// xerialHeader starts the snappy-java (xerial) framing that Kafka's Java
// client writes: magic, version int32, compatible version int32, then blocks
// of [int32 length][raw snappy block].
var xerialHeader = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

var (
	zstdDecOnce sync.Once
	zstdDec     *zstd.Decoder
	zstdEncOnce sync.Once
	zstdEnc     *zstd.Encoder
)

func zstdDecoder() *zstd.Decoder {
	zstdDecOnce.Do(func() {
		zstdDec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(MaxDecompressedBytes))
	})
	return zstdDec
}

func zstdEncoder() *zstd.Encoder {
	zstdEncOnce.Do(func() {
		zstdEnc, _ = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	})
	return zstdEnc
}

// decompress returns the decompressed records of a batch.
func decompress(c Codec, src []byte) ([]byte, error) {
	var (
		out []byte
		err error
	)
	switch c {
	case CodecGzip:
		var zr *gzip.Reader
		zr, err = gzip.NewReader(bytes.NewReader(src))
		if err == nil {
			out, err = readAllCapped(zr)
		}
	case CodecSnappy:
		out, err = decodeSnappy(src)
	case CodecLZ4:
		out, err = readAllCapped(lz4.NewReader(bytes.NewReader(src)))
	case CodecZstd:
		out, err = zstdDecoder().DecodeAll(src, nil)
	default:
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedCodec, int8(c))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s decompression: %v", ErrCorrupt, c, err)
	}
	if len(out) > MaxDecompressedBytes {
		return nil, fmt.Errorf("%w: decompressed size exceeds %d", ErrTooLarge, MaxDecompressedBytes)
	}
	return out, nil
}

func readAllCapped(r io.Reader) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, MaxDecompressedBytes+1))
	if err != nil {
		return nil, err
	}
	if len(out) > MaxDecompressedBytes {
		return nil, fmt.Errorf("decompressed size exceeds %d", MaxDecompressedBytes)
	}
	return out, nil
}

// decodeSnappy accepts a raw snappy block (what franz-go and librdkafka
// write) or xerial framing (what the Java client writes).
func decodeSnappy(src []byte) ([]byte, error) {
	if len(src) < 16 || !bytes.Equal(src[:8], xerialHeader) {
		return decodeSnappyBlock(nil, src)
	}
	var out []byte
	p := src[16:]
	for len(p) > 0 {
		if len(p) < 4 {
			return nil, fmt.Errorf("truncated xerial chunk header")
		}
		n := binary.BigEndian.Uint32(p)
		p = p[4:]
		if uint64(n) > uint64(len(p)) {
			return nil, fmt.Errorf("xerial chunk of %d bytes truncated", n)
		}
		var err error
		out, err = decodeSnappyBlock(out, p[:n])
		if err != nil {
			return nil, err
		}
		p = p[n:]
	}
	return out, nil
}

// decodeSnappyBlock appends the decoding of one raw snappy block to dst.
func decodeSnappyBlock(dst, src []byte) ([]byte, error) {
	n, err := s2.DecodedLen(src)
	if err != nil {
		return nil, err
	}
	if n+len(dst) > MaxDecompressedBytes {
		return nil, fmt.Errorf("decompressed size exceeds %d", MaxDecompressedBytes)
	}
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	if _, err := s2.Decode(dst[start:], src); err != nil {
		return nil, err
	}
	return dst, nil
}

// compress appends the compression of src to dst.
func compress(dst []byte, c Codec, src []byte) ([]byte, error) {
	switch c {
	case CodecGzip:
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(src); err != nil {
			return dst, err
		}
		if err := zw.Close(); err != nil {
			return dst, err
		}
		return append(dst, buf.Bytes()...), nil
	case CodecSnappy:
		return append(dst, s2.EncodeSnappy(nil, src)...), nil
	case CodecLZ4:
		var buf bytes.Buffer
		zw := lz4.NewWriter(&buf)
		if _, err := zw.Write(src); err != nil {
			return dst, err
		}
		if err := zw.Close(); err != nil {
			return dst, err
		}
		return append(dst, buf.Bytes()...), nil
	case CodecZstd:
		return zstdEncoder().EncodeAll(src, dst), nil
	}
	return dst, fmt.Errorf("%w: %d", ErrUnsupportedCodec, int8(c))
}
