package runtime

import (
	"strings"
	"sync"
	"testing"
)

func TestRingBuffer(t *testing.T) {
	tests := []struct {
		name        string
		size        int
		writes      []string
		want        string
		wantDropped int64
	}{
		{name: "empty", size: 4, want: ""},
		{name: "under size", size: 8, writes: []string{"ab", "cd"}, want: "abcd"},
		{name: "exactly size", size: 4, writes: []string{"ab", "cd"}, want: "abcd"},
		{name: "wraps", size: 4, writes: []string{"abc", "def"}, want: "cdef", wantDropped: 2},
		{name: "wraps twice", size: 3, writes: []string{"ab", "cd", "ef", "g"}, want: "efg", wantDropped: 4},
		{name: "one write over size", size: 3, writes: []string{"abcdef"}, want: "def", wantDropped: 3},
		{name: "big write after wrap", size: 3, writes: []string{"ab", "cd", "wxyz"}, want: "xyz", wantDropped: 5},
		{name: "write of exactly size", size: 3, writes: []string{"a", "xyz"}, want: "xyz", wantDropped: 1},
		{name: "empty writes", size: 2, writes: []string{"", "a", "", "b", ""}, want: "ab"},
		{name: "byte at a time", size: 2, writes: []string{"a", "b", "c", "d", "e"}, want: "de", wantDropped: 3},
		{name: "default size", size: 0, writes: []string{strings.Repeat("x", DefaultOutputLimit+5)}, want: strings.Repeat("x", DefaultOutputLimit), wantDropped: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRingBuffer(tt.size)
			var total int
			for _, w := range tt.writes {
				n, err := r.Write([]byte(w))
				if err != nil || n != len(w) {
					t.Fatalf("Write(%q) = %d, %v; want %d, nil", w, n, err, len(w))
				}
				total += n
			}
			if got := r.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := r.Dropped(); got != tt.wantDropped {
				t.Errorf("Dropped() = %d, want %d", got, tt.wantDropped)
			}
			if kept := int64(len(r.Bytes())); kept+r.Dropped() != int64(total) {
				t.Errorf("kept %d + dropped %d != written %d", kept, r.Dropped(), total)
			}
		})
	}
}

func TestRingBufferBytesIsACopy(t *testing.T) {
	r := newRingBuffer(4)
	_, _ = r.Write([]byte("abcd"))
	b := r.Bytes()
	b[0] = 'z'
	if got := r.String(); got != "abcd" {
		t.Errorf("String() after changing Bytes() = %q, want %q", got, "abcd")
	}
}

func TestRingBufferConcurrent(t *testing.T) {
	const writers, writes = 4, 1000
	r := newRingBuffer(100)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range writes {
				_, _ = r.Write([]byte("0123456789"))
				_ = r.Bytes()
			}
		})
	}
	wg.Wait()
	if got, want := int64(len(r.Bytes()))+r.Dropped(), int64(writers*writes*10); got != want {
		t.Errorf("kept + dropped = %d, want %d", got, want)
	}
	if got := r.String(); got != strings.Repeat("0123456789", 10) {
		t.Errorf("String() = %q, want whole writes only", got)
	}
}
