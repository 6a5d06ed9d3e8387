// Package memtest holds an Arrow allocator for tests that checks what
// consumers keep of a batch.
package memtest

import "github.com/apache/arrow-go/v18/arrow/memory"

// poisoned overwrites every buffer it frees, so that a test whose code
// under test kept a string or slice aliasing a released batch reads
// garbage and fails, where the Go allocator (whose Free does nothing)
// would hide it. What a stage keeps of a batch it must copy: an alias pins
// the whole batch column in memory, outside --memory-limit's accounting,
// and would break an allocator that reuses buffers. A dirty one also
// hands out buffers full of garbage, as a pool that reuses buffers
// without zeroing them does (arrowpool.NewDirty).
type poisoned struct {
	memory.Allocator
	dirty bool
}

func (p poisoned) Allocate(size int) []byte {
	b := p.Allocator.Allocate(size)
	if p.dirty {
		for i := range b {
			b[i] = 0xDD
		}
	}
	return b
}

func (p poisoned) Free(b []byte) {
	for i := range b {
		b[i] = 0xEE
	}
	p.Allocator.Free(b)
}

func (p poisoned) Reallocate(size int, b []byte) []byte {
	out := p.Allocate(size)
	copy(out, b)
	p.Free(b)
	return out
}

// Poisoned returns a leak-checked Go allocator that overwrites what it
// frees.
func Poisoned() *memory.CheckedAllocator {
	return memory.NewCheckedAllocator(poisoned{Allocator: memory.NewGoAllocator()})
}

// Dirty returns a leak-checked allocator whose new buffers hold garbage
// and whose freed ones are overwritten: a builder that reads a byte it
// did not write, or a consumer that keeps an alias, reads garbage.
func Dirty() *memory.CheckedAllocator {
	return memory.NewCheckedAllocator(poisoned{Allocator: memory.NewGoAllocator(), dirty: true})
}
