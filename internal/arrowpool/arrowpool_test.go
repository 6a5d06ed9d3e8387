package arrowpool

import (
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var _ memory.Allocator = (*Allocator)(nil)

func TestReuse(t *testing.T) {
	a := New(0)
	b := a.Allocate(100)
	if len(b) != 100 || cap(b) != 128 {
		t.Fatalf("len %d cap %d, want 100 and 128", len(b), cap(b))
	}
	for i := range b {
		b[i] = 0xAB
	}
	a.Free(b)
	if a.Idle() != 128 {
		t.Fatalf("idle %d after a free, want 128", a.Idle())
	}
	c := a.Allocate(120)
	if &c[0] != &b[0] {
		t.Fatal("a freed buffer of the same class was not reused")
	}
	for i, v := range c {
		if v != 0 {
			t.Fatalf("byte %d of a reused buffer is %#x, want it zeroed", i, v)
		}
	}
	if a.Idle() != 0 {
		t.Fatalf("idle %d after reuse, want 0", a.Idle())
	}
	if d := a.Allocate(129); cap(d) != 256 {
		t.Fatalf("a 129-byte buffer has cap %d, want 256 (the next class)", cap(d))
	}
}

func TestDirty(t *testing.T) {
	a := NewDirty(0)
	b := a.Allocate(64)
	b[7] = 9
	a.Free(b)
	if c := a.Allocate(64); c[7] != 9 {
		t.Fatal("a dirty pool zeroed a reused buffer")
	}
}

func TestForeignAndLimit(t *testing.T) {
	a := New(1000)
	a.Free(make([]byte, 100)) // not a size class: dropped
	a.Free(make([]byte, 0, 1<<(maxClass+1)))
	if a.Idle() != 0 {
		t.Fatalf("idle %d after freeing foreign buffers, want 0", a.Idle())
	}
	for range 10 {
		a.Free(make([]byte, 0, 256))
	}
	if a.Idle() != 768 {
		t.Fatalf("idle %d, want 768: three 256-byte buffers fit under the 1000-byte limit", a.Idle())
	}
	if big := a.Allocate(1 << (maxClass + 1)); len(big) != 1<<(maxClass+1) {
		t.Fatal("a buffer above the largest class was not allocated")
	}
}

func TestReallocate(t *testing.T) {
	a := New(0)
	b := a.Allocate(64)
	copy(b, "flow")
	b = a.Reallocate(40, b)
	if len(b) != 40 || string(b[:4]) != "flow" {
		t.Fatalf("shrunk to %q", b[:4])
	}
	b[39] = 1
	b = a.Reallocate(64, b[:40])
	if b[39] != 1 || b[40] != 0 {
		t.Fatal("growing within the capacity lost the contents or left stale bytes")
	}
	b = a.Reallocate(1000, b)
	if len(b) != 1000 || string(b[:4]) != "flow" || b[999] != 0 {
		t.Fatal("growing into a new class lost the contents")
	}
	if a.Idle() != 64 {
		t.Fatalf("idle %d, want the old 64-byte buffer kept", a.Idle())
	}
}

// TestArrowBuffers: released Arrow arrays hand their buffers back, and the
// next arrays built get them, zeroed where Arrow expects zeros.
func TestArrowBuffers(t *testing.T) {
	a := New(0)
	mem := memory.NewCheckedAllocator(a)
	build := func(vals []int64) arrow.Array {
		b := array.NewInt64Builder(mem)
		defer b.Release()
		b.AppendValues(vals, nil)
		b.AppendNull()
		return b.NewArray()
	}
	first := build([]int64{1, 2, 3})
	first.Release()
	if a.Idle() == 0 {
		t.Fatal("a released array gave nothing back")
	}
	second := build([]int64{7, 8})
	got := second.String()
	second.Release()
	if got != "[7 8 (null)]" {
		t.Fatalf("the second array reads %s", got)
	}
	mem.AssertSize(t, 0)
}

func TestConcurrent(t *testing.T) {
	a := New(0)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				b := a.Allocate(64 + (i*w)%5000)
				b[0] = byte(w)
				if b[len(b)-1] != 0 {
					t.Error("a buffer came back dirty")
					return
				}
				b[len(b)-1] = 1
				a.Free(b)
			}
		})
	}
	wg.Wait()
}
