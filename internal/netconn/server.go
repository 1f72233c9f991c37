// Package netconn owns client connections: listeners, framing, the per
// connection read and write goroutines, in-order responses, and sendfile for
// record data.
//
// Each connection has two goroutines. The reader reads one size-prefixed
// request at a time, hands it to the Handler and queues the response; the
// writer writes responses in the order the requests arrived and flushes when
// it has nothing more queued. Requests of one connection are handled one
// after the other, as Kafka does, so their effects are ordered; clients get
// parallelism from pipelining (the next request is already in the socket
// buffer) and from using several connections.
//
// The package knows nothing of what requests mean.
package netconn

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/wire"
)

// Handler handles one request frame (without its size prefix) and returns
// the response frame. respond false means no response is sent (Produce with
// acks=0). A non-nil error closes the connection. The request frame is only
// valid until Serve returns.
type Handler interface {
	Serve(ctx context.Context, c *Conn, frame []byte) (resp wire.Frame, respond bool, err error)
}

// Config configures a Server.
type Config struct {
	// MaxRequestSize is socket.request.max.bytes: a request whose size
	// prefix is larger closes the connection.
	MaxRequestSize int32
	// IdleTimeout is connections.max.idle.ms.
	IdleTimeout time.Duration
	// ListenerName is the listener's name (PLAINTEXT).
	ListenerName string
}

// Server accepts connections on one listener.
type Server struct {
	cfg     Config
	handler Handler
	logger  *slog.Logger
	ln      net.Listener

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[*Conn]struct{}
}

// Conn is one client connection, as handlers see it.
type Conn struct {
	// Remote is the client's address.
	Remote net.Addr
	// Listener is the listener's name.
	Listener string
	// ClientID and ClientSoftware are set from requests as they arrive.
	ClientSoftwareName, ClientSoftwareVersion string

	nc      net.Conn
	out     chan wire.Frame
	closing chan struct{}
	once    sync.Once
}

// Listen starts a server on addr.
func Listen(addr string, cfg Config, h Handler, logger *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return Serve(ln, cfg, h, logger), nil
}

// Serve starts serving connections accepted from ln.
func Serve(ln net.Listener, cfg Config, h Handler, logger *slog.Logger) *Server {
	if cfg.MaxRequestSize <= 0 {
		cfg.MaxRequestSize = 100 << 20
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, handler: h, logger: logger, ln: ln, ctx: ctx, cancel: cancel, conns: map[*Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	return s
}

// Addr returns the listener's address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops accepting, closes every connection and waits for their
// goroutines.
func (s *Server) Close() error {
	s.cancel()
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	var delay time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logger.Warn("accept", "err", err, "retry_in", delay)
				time.Sleep(delay)
				continue
			}
			s.logger.Error("accept", "err", err)
			return
		}
		delay = 0
		if tc, ok := nc.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true)
		}
		c := &Conn{Remote: nc.RemoteAddr(), Listener: s.cfg.ListenerName, nc: nc, out: make(chan wire.Frame, 32), closing: make(chan struct{})}
		s.mu.Lock()
		if s.ctx.Err() != nil {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(2)
		go s.read(c)
		go s.write(c)
	}
}

func (c *Conn) close() {
	c.once.Do(func() {
		close(c.closing)
		c.nc.Close()
	})
}

// read reads requests one at a time and queues their responses.
func (s *Server) read(c *Conn) {
	defer s.wg.Done()
	defer close(c.out)
	defer c.close()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go func() { // cancel blocked handlers when the connection goes away
		select {
		case <-c.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	r := bufio.NewReaderSize(c.nc, 64<<10)
	var buf []byte
	var size [4]byte
	for {
		if s.cfg.IdleTimeout > 0 {
			_ = c.nc.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		}
		if _, err := io.ReadFull(r, size[:]); err != nil {
			return
		}
		n := int32(binary.BigEndian.Uint32(size[:]))
		if n < 0 || n > s.cfg.MaxRequestSize {
			s.logger.Warn("closing connection: request size out of range",
				"remote", c.Remote, "size", n, "socket.request.max.bytes", s.cfg.MaxRequestSize)
			return
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		resp, respond, err := s.handler.Serve(ctx, c, buf)
		if err != nil {
			s.logger.Info("closing connection", "remote", c.Remote, "err", err)
			return
		}
		if !respond {
			continue
		}
		select {
		case c.out <- resp:
		case <-c.closing:
			resp.Release()
			return
		}
		// Large buffers are not kept for the life of the connection.
		if cap(buf) > 1<<20 {
			buf = nil
		}
	}
}

// write writes queued responses in order, flushing when the queue is empty.
func (s *Server) write(c *Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	w := bufio.NewWriterSize(c.nc, 64<<10)
	var rc syscall.RawConn
	if tc, ok := c.nc.(*net.TCPConn); ok {
		rc, _ = tc.SyscallConn()
	}
	failed := false
	for f := range c.out {
		if !failed {
			if err := writeFrame(w, rc, &f); err != nil {
				failed = true
				c.close()
			} else if len(c.out) == 0 {
				if err := w.Flush(); err != nil {
					failed = true
					c.close()
				}
			}
		}
		f.Release()
		releaseBuf(f.Buf)
	}
}

func writeFrame(w *bufio.Writer, rc syscall.RawConn, f *wire.Frame) error {
	last := 0
	for _, r := range f.Regions {
		if _, err := w.Write(f.Buf[last:r.At]); err != nil {
			return err
		}
		last = r.At
		if err := writeRegion(w, rc, r.FileRegion); err != nil {
			return err
		}
	}
	_, err := w.Write(f.Buf[last:])
	return err
}

// writeRegion sends a file region: with sendfile on a TCP connection (after
// flushing what is buffered), else by reading it through the buffer.
func writeRegion(w *bufio.Writer, rc syscall.RawConn, r wire.FileRegion) error {
	if rc == nil || r.Size < 4096 {
		if w.Available() < r.Size {
			if err := w.Flush(); err != nil {
				return err
			}
		}
		if w.Available() >= r.Size {
			// Read straight into the writer's free space.
			return readInto(w, r)
		}
		return copyRegion(w, r)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return sendfile(rc, r)
}

func readInto(w *bufio.Writer, r wire.FileRegion) error {
	buf := w.AvailableBuffer()[:r.Size]
	n, err := r.File.ReadAt(buf, r.Pos)
	if n < r.Size {
		return fmt.Errorf("short read of segment %s at %d: %d of %d bytes: %v", r.File.Name(), r.Pos, n, r.Size, err)
	}
	_, err = w.Write(buf)
	return err
}

func copyRegion(w *bufio.Writer, r wire.FileRegion) error {
	sr := io.NewSectionReader(r.File, r.Pos, int64(r.Size))
	n, err := io.Copy(w, sr)
	if err == nil && n < int64(r.Size) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func sendfile(rc syscall.RawConn, r wire.FileRegion) error {
	src := int(r.File.Fd())
	pos := r.Pos
	left := r.Size
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		for left > 0 {
			n, err := syscall.Sendfile(int(fd), src, &pos, min(left, 1<<30))
			if n > 0 {
				left -= n
			}
			switch {
			case err == syscall.EAGAIN:
				return false
			case err == syscall.EINTR:
				continue
			case err != nil:
				werr = err
				return true
			case n == 0:
				werr = fmt.Errorf("sendfile of %s: %w", r.File.Name(), io.ErrUnexpectedEOF)
				return true
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	return werr
}

var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// GetBuf returns a buffer for building a response frame; the writer returns
// it to the pool once the frame is written.
func GetBuf() []byte {
	p := bufPool.Get().(*[]byte)
	return (*p)[:0]
}

func releaseBuf(b []byte) {
	if cap(b) == 0 || cap(b) > 1<<20 {
		return
	}
	b = b[:0]
	bufPool.Put(&b)
}
