package schema

import (
	"fmt"
	"math/bits"
	"net/netip"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DefaultBatchRows is the number of rows per emitted batch. 16k rows of the
// normalized record take about 2-3 MB, small enough to keep one batch per
// worker in flight and large enough to amortise per-batch costs.
const DefaultBatchRows = 16 << 10

// colSet is a bit set of columns.
type colSet [(int(NumColumns) + 63) / 64]uint64

func (s *colSet) add(c Col)      { s[c>>6] |= 1 << (uint(c) & 63) }
func (s *colSet) has(c Col) bool { return s[c>>6]&(1<<(uint(c)&63)) != 0 }
func (s *colSet) clear()         { *s = colSet{} }
func (s *colSet) forEach(f func(Col)) {
	for w, word := range s {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			f(Col(w*64 + b))
			word &= word - 1
		}
	}
}

// Window restricts committed rows to those whose time range overlaps
// [Since, Until). A zero bound is open.
type Window struct {
	Since, Until int64 // microseconds since the Unix epoch
}

func (w Window) open() bool { return w.Since == 0 && w.Until == 0 }

// Builder stages one row at a time and appends committed rows to Arrow
// builders, emitting a batch every BatchRows rows.
//
// Parsers set the columns a record gives and then call Commit; a row that
// turns out to be malformed half-way is dropped with Discard, so a bad line
// never leaves a half-written row behind. Columns a record does not set are
// NULL. Staged strings may alias the parser's line buffer: they are copied
// into Arrow memory by Commit.
type Builder struct {
	mem  memory.Allocator
	rb   *array.RecordBuilder
	strs [NumColumns]*array.StringBuilder
	i32s [NumColumns]*array.Int32Builder
	i64s [NumColumns]*array.Int64Builder
	ts   [NumColumns]*array.TimestampBuilder
	adds [NumColumns]*array.FixedSizeBinaryBuilder
	bls  [NumColumns]*array.BooleanBuilder
	lab  *array.MapBuilder
	labK *array.StringBuilder
	labV *array.StringBuilder

	set    colSet
	nums   [NumColumns]int64
	texts  [NumColumns]string
	addrs  [NumColumns][AddrWidth]byte
	labels []label

	rows      int
	batchRows int
	emit      func(arrow.RecordBatch) error
	object    string
	window    Window
	filtered  int64
	committed int64
}

type label struct{ k, v string }

// NewBuilder returns a builder that calls emit with every full batch and on
// Flush. emit must not keep the batch after it returns unless it calls
// Retain on it. batchRows <= 0 selects DefaultBatchRows.
func NewBuilder(mem memory.Allocator, batchRows int, emit func(arrow.RecordBatch) error) *Builder {
	if batchRows <= 0 {
		batchRows = DefaultBatchRows
	}
	b := &Builder{mem: mem, batchRows: batchRows, emit: emit}
	b.init()
	return b
}

func (b *Builder) init() {
	b.rb = array.NewRecordBuilder(b.mem, arrowSchema)
	for i, f := range b.rb.Fields() {
		switch fb := f.(type) {
		case *array.StringBuilder:
			b.strs[i] = fb
		case *array.Int32Builder:
			b.i32s[i] = fb
		case *array.Int64Builder:
			b.i64s[i] = fb
		case *array.TimestampBuilder:
			b.ts[i] = fb
		case *array.FixedSizeBinaryBuilder:
			b.adds[i] = fb
		case *array.BooleanBuilder:
			b.bls[i] = fb
		case *array.MapBuilder:
			b.lab = fb
			b.labK = fb.KeyBuilder().(*array.StringBuilder)
			b.labV = fb.ItemBuilder().(*array.StringBuilder)
		default:
			panic(fmt.Sprintf("schema: no builder for column %s", Col(i).Name()))
		}
	}
	b.rb.Reserve(b.batchRows)
}

// Release frees the Arrow builders. Call Flush first to emit pending rows.
func (b *Builder) Release() { b.rb.Release() }

// SetObject names the object that the following rows come from; every
// committed row carries it in source_object.
func (b *Builder) SetObject(name string) { b.object = name }

// Object returns the name set by SetObject.
func (b *Builder) Object() string { return b.object }

// SetWindow drops committed rows outside w; they are counted by Filtered.
func (b *Builder) SetWindow(w Window) { b.window = w }

// Filtered returns the number of rows dropped by the window.
func (b *Builder) Filtered() int64 { return b.filtered }

// Committed returns the number of rows kept so far.
func (b *Builder) Committed() int64 { return b.committed }

// Str stages a string value.
func (b *Builder) Str(c Col, v string) { b.texts[c] = v; b.set.add(c) }

// Bytes stages a string value given as bytes. The bytes must stay unchanged
// until Commit or Discard.
func (b *Builder) Bytes(c Col, v []byte) {
	b.texts[c] = unsafe.String(unsafe.SliceData(v), len(v))
	b.set.add(c)
}

// Int stages an integer for an int32 or int64 column. The caller checks
// that int32 values are in range.
func (b *Builder) Int(c Col, v int64) { b.nums[c] = v; b.set.add(c) }

// Time stages an instant as microseconds since the Unix epoch.
func (b *Builder) Time(c Col, micros int64) { b.nums[c] = micros; b.set.add(c) }

// Bool stages a flag.
func (b *Builder) Bool(c Col, v bool) {
	b.nums[c] = 0
	if v {
		b.nums[c] = 1
	}
	b.set.add(c)
}

// Addr stages an address; an invalid (zero) address stays NULL.
func (b *Builder) Addr(c Col, a netip.Addr) {
	if !a.IsValid() {
		return
	}
	b.addrs[c] = a.As16()
	b.set.add(c)
}

// Label stages one entry of the labels map.
func (b *Builder) Label(k, v string) { b.labels = append(b.labels, label{k, v}) }

// IsSet reports whether column c has a staged value in the current row.
func (b *Builder) IsSet(c Col) bool { return b.set.has(c) }

// Staged returns the staged string of column c and whether it is set.
func (b *Builder) Staged(c Col) (string, bool) { return b.texts[c], b.set.has(c) }

// StagedInt returns the staged integer or time of column c.
func (b *Builder) StagedInt(c Col) (int64, bool) { return b.nums[c], b.set.has(c) }

// Unset clears a staged value.
func (b *Builder) Unset(c Col) { b.set[c>>6] &^= 1 << (uint(c) & 63) }

// Discard drops the staged row.
func (b *Builder) Discard() {
	b.set.clear()
	b.labels = b.labels[:0]
}

// Repair makes the builder usable after a panic interrupted Commit. If a
// column got ahead of the others, the current batch cannot be trusted: it
// is dropped and Repair returns false.
func (b *Builder) Repair() bool {
	b.Discard()
	for _, f := range b.rb.Fields() {
		if f.Len() > b.rows {
			b.rb.Release()
			b.rows = 0
			b.init()
			return false
		}
	}
	return true
}

// Rows returns the number of rows in the current, unemitted batch.
func (b *Builder) Rows() int { return b.rows }

func (b *Builder) inWindow() bool {
	if b.window.open() {
		return true
	}
	if b.window.Since != 0 && b.set.has(EndTime) && b.nums[EndTime] < b.window.Since {
		return false
	}
	if b.window.Until != 0 && b.set.has(StartTime) && b.nums[StartTime] >= b.window.Until {
		return false
	}
	return true
}

// Commit appends the staged row and emits a batch when it is full. The
// returned error comes from the emit callback.
func (b *Builder) Commit() error {
	if !b.inWindow() {
		b.filtered++
		b.Discard()
		return nil
	}
	if b.object != "" {
		b.Str(SourceObject, b.object)
	}
	b.set.forEach(b.appendStaged)
	if len(b.labels) > 0 {
		b.pad(Labels)
		b.lab.Append(true)
		for _, l := range b.labels {
			b.labK.Append(l.k)
			b.labV.Append(l.v)
		}
	}
	b.Discard()
	b.rows++
	b.committed++
	if b.rows >= b.batchRows {
		return b.Flush()
	}
	return nil
}

// pad appends NULLs to column c up to the current row. Columns a format
// never sets therefore cost one AppendNulls per batch, not one per row.
func (b *Builder) pad(c Col) {
	f := b.rb.Field(int(c))
	if n := b.rows - f.Len(); n > 0 {
		f.AppendNulls(n)
	}
}

func (b *Builder) appendStaged(c Col) {
	b.pad(c)
	switch table[c].Kind {
	case KindString:
		b.strs[c].Append(b.texts[c])
	case KindInt32:
		b.i32s[c].Append(int32(b.nums[c]))
	case KindInt64:
		b.i64s[c].Append(b.nums[c])
	case KindTime:
		b.ts[c].Append(arrow.Timestamp(b.nums[c]))
	case KindAddr:
		b.adds[c].Append(b.addrs[c][:])
	case KindBool:
		b.bls[c].Append(b.nums[c] != 0)
	}
}

// Flush emits the pending rows as a batch, if there are any.
func (b *Builder) Flush() error {
	if b.rows == 0 {
		return nil
	}
	for c := range NumColumns {
		b.pad(c)
	}
	rec := b.rb.NewRecordBatch()
	b.rows = 0
	defer rec.Release()
	b.rb.Reserve(b.batchRows)
	if b.emit == nil {
		return nil
	}
	return b.emit(rec)
}
