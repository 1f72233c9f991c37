package metadata

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Log keeps metadata records in a local file and publishes the image they
// build. Each Commit is one frame (length, CRC-32C, JSON array of records),
// written and fsynced before the new image is published, so a crash loses no
// committed change and never applies half of one.
type Log struct {
	logger *slog.Logger
	path   string
	image  atomic.Pointer[Image]

	mu struct {
		sync.Mutex
		f         *os.File
		offset    int64
		listeners []func(old, cur *Image)
	}
}

// OpenLog opens (or creates) the metadata log in dir and replays it. A torn
// final frame, left by a crash during a write, is cut off.
func OpenLog(dir, clusterID string, logger *slog.Logger) (*Log, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	l := &Log{logger: logger, path: filepath.Join(dir, "records.log")}
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	im := NewImage(clusterID)
	good, n, err := replay(f, func(recs []Record) {
		im = im.Apply(im.Offset+1, recs)
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.Size() != good {
		logger.Warn("metadata log: truncating torn tail", "path", l.path, "from", fi.Size(), "to", good)
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, err
		}
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	l.mu.f = f
	l.mu.offset = int64(n) - 1
	l.image.Store(im)
	return l, nil
}

// replay reads frames until the end or the first incomplete or corrupt one,
// and returns the size of the good prefix and the number of frames.
func replay(f *os.File, apply func([]Record)) (int64, int, error) {
	r := bufio.NewReader(f)
	var pos int64
	var n int
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return pos, n, nil
		}
		size := binary.BigEndian.Uint32(hdr[:4])
		if size > 64<<20 {
			return pos, n, nil
		}
		body := make([]byte, size)
		if _, err := io.ReadFull(r, body); err != nil {
			return pos, n, nil
		}
		if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(hdr[4:]) {
			return pos, n, nil
		}
		var recs []Record
		if err := json.Unmarshal(body, &recs); err != nil {
			return pos, n, fmt.Errorf("metadata log %s: frame %d: %w", f.Name(), n, err)
		}
		apply(recs)
		pos += 8 + int64(size)
		n++
	}
}

// Image returns the current image.
func (l *Log) Image() *Image { return l.image.Load() }

// OnChange registers fn to be called after every commit with the old and the
// new image, in commit order, while commits are held off. fn must not call
// Commit.
func (l *Log) OnChange(fn func(old, cur *Image)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.listeners = append(l.mu.listeners, fn)
}

// Commit validates nothing: the caller (the controller) validated recs
// against the image it read. check, if not nil, is called under the log's
// lock with the current image and may reject the change; this keeps
// check-then-write atomic.
func (l *Log) Commit(check func(*Image) ([]Record, error)) (*Image, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.f == nil {
		return nil, errors.New("metadata log closed")
	}
	old := l.image.Load()
	recs, err := check(old)
	if err != nil || len(recs) == 0 {
		return old, err
	}
	body, err := json.Marshal(recs)
	if err != nil {
		return nil, err
	}
	frame := make([]byte, 8, 8+len(body))
	binary.BigEndian.PutUint32(frame[:4], uint32(len(body)))
	binary.BigEndian.PutUint32(frame[4:], crc32.Checksum(body, castagnoli))
	frame = append(frame, body...)
	if _, err := l.mu.f.Write(frame); err != nil {
		return nil, fmt.Errorf("metadata log write: %w", err)
	}
	if err := l.mu.f.Sync(); err != nil {
		return nil, fmt.Errorf("metadata log sync: %w", err)
	}
	l.mu.offset++
	cur := old.Apply(l.mu.offset, recs)
	// Listeners (the replica manager) act before the image is published, so
	// whoever sees a topic in the image finds its partitions hosted.
	for _, fn := range l.mu.listeners {
		fn(old, cur)
	}
	l.image.Store(cur)
	return cur, nil
}

// Close closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.f == nil {
		return nil
	}
	err := l.mu.f.Close()
	l.mu.f = nil
	return err
}
