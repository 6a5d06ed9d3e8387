package correlate

import (
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// poisonAllocator overwrites every buffer it frees, so that a test whose
// correlator kept a string or slice aliasing a released batch reads
// garbage and fails, where the Go allocator (whose Free does nothing)
// would hide it. The correlator must copy what it keeps: an alias pins
// the whole batch column in memory, outside --memory-limit's accounting.
type poisonAllocator struct{ memory.Allocator }

func (p poisonAllocator) Free(b []byte) {
	for i := range b {
		b[i] = 0xEE
	}
	p.Allocator.Free(b)
}

func (p poisonAllocator) Reallocate(size int, b []byte) []byte {
	out := p.Allocator.Allocate(size)
	copy(out, b)
	p.Free(b)
	return out
}

// testAllocator is the allocator correlator tests build batches with:
// checked for leaks, poisoned on free.
func testAllocator() *memory.CheckedAllocator {
	return memory.NewCheckedAllocator(poisonAllocator{memory.NewGoAllocator()})
}
