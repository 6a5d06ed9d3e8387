// Package arrowpool is an Arrow allocator that reuses the buffers of
// released batches.
//
// The normalize stage builds a batch of a few MB every 16k rows and
// releases it once the sink has read it. With the Go allocator every
// batch is fresh memory: the garbage collector runs about once per
// 100k rows to take it back, and while it marks, every pointer the
// parsers write goes through its write barrier. Reusing the buffers takes
// the batches out of the collector's view: parsing Azure flow logs went
// 9-17% faster (see docs/performance.md).
//
// What a stage keeps of a batch beyond its release it must copy (or
// Retain): with this allocator a released buffer is the next batch's.
// internal/memtest's allocator, which overwrites what it frees, is how
// tests check that.
package arrowpool

import (
	"math/bits"
	"sync"
)

const (
	minClass = 6  // 64 bytes, Arrow's alignment
	maxClass = 26 // 64 MiB; larger buffers are not pooled
)

// DefaultIdleLimit bounds the bytes a pool keeps for reuse. A normalize
// run keeps about one batch per worker idle, a few MB each.
const DefaultIdleLimit = 64 << 20

// Allocator is a memory.Allocator that keeps freed buffers, by power-of-two
// size class, for the next Allocate of that class. It is safe for
// concurrent use.
type Allocator struct {
	mu    sync.Mutex
	free  [maxClass + 1][][]byte
	idle  int // bytes in free
	limit int
	dirty bool // reused buffers are not zeroed
}

// New returns a pool that keeps at most idleLimit bytes of freed buffers;
// <= 0 means DefaultIdleLimit. Its buffers are zeroed, as the Go
// allocator's are.
func New(idleLimit int) *Allocator {
	if idleLimit <= 0 {
		idleLimit = DefaultIdleLimit
	}
	return &Allocator{limit: idleLimit}
}

// NewDirty returns a pool whose reused buffers keep what they held, for a
// user that writes every byte it reads, as schema.Builder does (the
// normalize tests decode every fixture with garbage-filled buffers to hold
// it to that). Zeroing was 5% of parsing Azure logs.
func NewDirty(idleLimit int) *Allocator {
	a := New(idleLimit)
	a.dirty = true
	return a
}

// class returns the size class of a buffer of n bytes: its capacity is
// 1<<class.
func class(n int) int {
	if n <= 1<<minClass {
		return minClass
	}
	return bits.Len(uint(n - 1))
}

// Allocate returns a buffer of size bytes, zeroed unless the pool is
// dirty: Arrow code may count on zeros.
func (a *Allocator) Allocate(size int) []byte {
	c := class(size)
	if c > maxClass {
		return make([]byte, size)
	}
	a.mu.Lock()
	if l := a.free[c]; len(l) > 0 {
		b := l[len(l)-1]
		l[len(l)-1] = nil
		a.free[c] = l[:len(l)-1]
		a.idle -= cap(b)
		a.mu.Unlock()
		b = b[:size]
		if !a.dirty {
			clear(b)
		}
		return b
	}
	a.mu.Unlock()
	return make([]byte, size, 1<<c)
}

// Reallocate grows or shrinks b to size bytes, keeping its contents.
func (a *Allocator) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		old := len(b)
		b = b[:size]
		if size > old && !a.dirty {
			clear(b[old:])
		}
		return b
	}
	out := a.Allocate(size)
	copy(out, b)
	a.Free(b)
	return out
}

// Free keeps b for reuse, unless the pool is full or b is not one of its
// buffers (its capacity is not a size class).
func (a *Allocator) Free(b []byte) {
	c := class(cap(b))
	if c > maxClass || cap(b) != 1<<c {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.idle+cap(b) > a.limit {
		return
	}
	a.free[c] = append(a.free[c], b[:0])
	a.idle += cap(b)
}

// Idle returns the bytes the pool holds for reuse.
func (a *Allocator) Idle() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.idle
}
