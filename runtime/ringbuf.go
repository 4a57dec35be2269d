package runtime

import "sync"

// DefaultOutputLimit is how many bytes of a process's output an exec actor
// keeps unless its params say otherwise.
const DefaultOutputLimit = 64 << 10

// ringBuffer is an io.Writer that keeps the last size bytes written to it
// and counts the bytes it had to drop. Its storage grows with use up to
// size, so a large limit costs nothing until output arrives. It is safe for
// concurrent use.
type ringBuffer struct {
	size int

	mu      sync.Mutex
	buf     []byte // grows to size, then wraps
	start   int    // index of the oldest byte once buf is full
	dropped int64
}

// newRingBuffer returns a ring buffer keeping the last size bytes; size <= 0
// means DefaultOutputLimit.
func newRingBuffer(size int) *ringBuffer {
	if size <= 0 {
		size = DefaultOutputLimit
	}
	return &ringBuffer{size: size}
}

// Write keeps the tail of p, dropping the oldest bytes to make room. It
// never fails.
func (r *ringBuffer) Write(p []byte) (int, error) {
	n := len(p)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(p) >= r.size {
		r.dropped += int64(len(r.buf) + len(p) - r.size)
		r.buf = append(r.buf[:0], p[len(p)-r.size:]...)
		r.start = 0
		return n, nil
	}
	if room := r.size - len(r.buf); room > 0 {
		k := min(room, len(p))
		r.buf = append(r.buf, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 {
		k := copy(r.buf[r.start:], p)
		r.dropped += int64(k)
		r.start = (r.start + k) % r.size
		p = p[k:]
	}
	return n, nil
}

// Bytes returns a copy of the bytes kept, oldest first.
func (r *ringBuffer) Bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]byte, 0, len(r.buf))
	out = append(out, r.buf[r.start:]...)
	return append(out, r.buf[:r.start]...)
}

// String returns the bytes kept as a string, oldest first.
func (r *ringBuffer) String() string { return string(r.Bytes()) }

// Dropped returns how many bytes were written but are no longer kept.
func (r *ringBuffer) Dropped() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}
