package schema

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DefaultBatchRows is the number of rows per emitted batch. 16k rows of the
// normalized record take about 2-3 MB, small enough to keep one batch per
// worker in flight and large enough to amortise per-batch costs.
const DefaultBatchRows = 16 << 10

// Window restricts committed rows to those whose time range overlaps
// [Since, Until). A zero bound is open.
type Window struct {
	Since, Until int64 // microseconds since the Unix epoch
}

func (w Window) open() bool { return w.Since == 0 && w.Until == 0 }

// column holds one column of the batch under construction in plain Go
// slices that are reused from batch to batch. Rows [0, n) have a slot;
// a column that a row does not set is padded with NULL lazily, when a
// later row sets it or at Flush, so columns a format never sets cost
// nothing per row.
//
// A string column is dictionary-encoded, as it is in Arrow (see
// Kind.ArrowType): data and ends hold each distinct value of the batch
// once, and idx holds each row's index into them.
type column struct {
	n     int
	nulls []int32 // the rows that are NULL, ascending: most columns have none, so a value costs no validity entry
	nums  []int64 // int32, int64, time and bool values
	idx   []int32 // a string column's dictionary indices
	addrs [][AddrWidth]byte
	data  []byte  // string bytes: a dictionary's values, or the labels' entries
	ends  []int32 // end offsets into data, one per value
	memo  map[string]int32
	last  int32 // the index interned last, tried before memo: rows often repeat the previous row's value
	// The last few strings that Str interned, by address: parsers pass
	// the same constants ("accept", "egress") row after row, and an
	// address compare is cheaper than comparing bytes.
	consts    [4]constIndex
	nextConst uint8

	// A string column may instead take a value fixed for a run of rows
	// (see Fixed): runs says from which row of the batch each fixed
	// value holds. "" is NULL, as in Fixed.
	fixed string
	runs  []fixedRun
}

// constIndex remembers the dictionary index of a string by its address.
// It holds the string itself, so the garbage collector cannot free it and
// put another string of the same length at that address.
type constIndex struct {
	s   string
	idx int32
}

// fixedRun gives the rows from row on the fixed value val (NULL when
// empty), up to the next run.
type fixedRun struct {
	row int
	val string
}

func (c *column) isValid(i int) bool {
	_, null := slices.BinarySearch(c.nulls, int32(i))
	return i < c.n && !null
}

func (c *column) end(i int) int32 {
	if i < 0 {
		return 0
	}
	return c.ends[i]
}

// value returns the dictionary value k of a string column.
func (c *column) value(k int32) []byte { return c.data[c.end(int(k)-1):c.ends[k]] }

// intern returns the dictionary index of v, adding v when the batch has
// not seen it yet. The key is copied only then.
func (c *column) intern(v []byte) int32 {
	if k := c.last; int(k) < len(c.ends) && bytes.Equal(c.value(k), v) {
		return k
	}
	k, ok := c.memo[string(v)]
	if !ok {
		k = int32(len(c.ends))
		c.data = append(c.data, v...)
		c.ends = append(c.ends, int32(len(c.data)))
		if c.memo == nil {
			c.memo = make(map[string]int32)
		}
		c.memo[string(v)] = k
	}
	c.last = k
	return k
}

// Builder stages rows and turns them into Arrow batches of the normalized
// schema, emitting a batch every BatchRows committed rows.
//
// Parsers set the columns a record gives and then call Commit; a row that
// turns out to be malformed half-way is dropped with Discard, which
// truncates what the row wrote, so a bad line never leaves half a row
// behind. Columns a record does not set are NULL.
type Builder struct {
	mem       memory.Allocator
	cols      [NumColumns]column
	labels    column // keys and values of every committed label, in order
	labelVals column
	labelEnds []int32 // per row: end of its entries in labels
	labelRow  bool    // the current row has labels
	labelMark int     // number of label entries before the current row

	rows      int
	batchRows int
	emit      func(arrow.RecordBatch) error
	object    string
	window    Window
	filtered  int64
	committed int64
	skipLines int64 // rows of the object at or below this line are dropped
	skipped   int64
	maxLine   int64 // the highest line of the object committed or skipped
}

// NewBuilder returns a builder that calls emit with every full batch and on
// Flush. emit must not keep the batch after it returns unless it calls
// Retain on it. batchRows <= 0 selects DefaultBatchRows.
func NewBuilder(mem memory.Allocator, batchRows int, emit func(arrow.RecordBatch) error) *Builder {
	if batchRows <= 0 {
		batchRows = DefaultBatchRows
	}
	return &Builder{mem: mem, batchRows: batchRows, emit: emit}
}

// Release drops the builder's state. It holds no Arrow memory between
// batches, so Release is only for symmetry with Arrow builders.
func (b *Builder) Release() { b.reset() }

// SetObject names the object that the following rows come from; every
// committed row carries it in source_object. It also ends every value
// that Fixed set, so that one object's parser never labels the next
// object's rows.
func (b *Builder) SetObject(name string) {
	b.object, b.skipLines, b.maxLine = name, 0, 0
	for c := range b.cols {
		if b.cols[c].fixed != "" {
			b.Fixed(Col(c), "")
		}
	}
	b.Fixed(SourceObject, name)
}

// Fixed gives string column c the value v in every row committed from now
// on, until Fixed is called again for c or the next SetObject; v is
// copied, and "" means NULL (the schema has no empty strings). A value
// the row sets itself (Str, Bytes) wins. It is for what is the same for a
// run of rows (the cloud, the log kind, an Azure record's resource id),
// which then costs nothing per row: the column is filled once per batch.
// IsSet and Staged see only the row's own values.
func (b *Builder) Fixed(c Col, v string) {
	if table[c].Kind != KindString {
		panic(fmt.Sprintf("schema: Fixed on %s, which is not a string column", c.Name()))
	}
	col := &b.cols[c]
	if col.fixed == v {
		return
	}
	col.fixed = strings.Clone(v)
	// A run that no row took yet is replaced.
	if n := len(col.runs); n > 0 && col.runs[n-1].row == b.rows {
		col.runs = col.runs[:n-1]
	}
	col.runs = append(col.runs, fixedRun{row: b.rows, val: col.fixed})
}

// SkipThrough drops the object's rows at or below line n: a scheduled run
// that read part of a growing object (an Azure PT1H.json during its hour)
// takes only what was added since. Call it after SetObject.
func (b *Builder) SkipThrough(n int64) { b.skipLines = n }

// Skipped returns the number of rows dropped by SkipThrough.
func (b *Builder) Skipped() int64 { return b.skipped }

// MaxLine returns the highest line of the current object seen in a
// committed or skipped row.
func (b *Builder) MaxLine() int64 { return b.maxLine }

// Object returns the name set by SetObject.
func (b *Builder) Object() string { return b.object }

// SetWindow drops committed rows outside w; they are counted by Filtered.
func (b *Builder) SetWindow(w Window) { b.window = w }

// Filtered returns the number of rows dropped by the window.
func (b *Builder) Filtered() int64 { return b.filtered }

// Committed returns the number of rows kept so far.
func (b *Builder) Committed() int64 { return b.committed }

// Rows returns the number of rows in the current, unemitted batch.
func (b *Builder) Rows() int { return b.rows }

// slot prepares column c to take the current row's value: it pads earlier
// rows with NULL, or rolls back a value the row already set (last wins).
// The fast path, a column set in every row, is small enough to inline.
func (b *Builder) slot(c Col) *column {
	col := &b.cols[c]
	if col.n != b.rows {
		b.align(c, col)
	}
	col.n++
	return col
}

func (b *Builder) align(c Col, col *column) {
	if col.n > b.rows {
		b.truncate(col, b.rows)
	}
	for col.n < b.rows {
		b.appendNull(c, col)
	}
}

func (b *Builder) appendNull(c Col, col *column) {
	col.nulls = append(col.nulls, int32(col.n))
	switch table[c].Kind {
	case KindString:
		col.idx = append(col.idx, 0)
	case KindAddr:
		col.addrs = append(col.addrs, [AddrWidth]byte{})
	default:
		col.nums = append(col.nums, 0)
	}
	col.n++
}

func (b *Builder) truncate(col *column, n int) {
	if col.n <= n {
		return
	}
	col.nulls = dropFrom(col.nulls, n)
	col.nums = col.nums[:min(len(col.nums), n)]
	col.idx = col.idx[:min(len(col.idx), n)]
	col.addrs = col.addrs[:min(len(col.addrs), n)]
	col.n = n // a string column's dictionary keeps the values: unused ones are harmless
}

// Str sets a string value. Go strings do not change, so a string seen
// before at the same address has the same value: v must not be a view of
// a buffer that is later overwritten (use Bytes for those).
func (b *Builder) Str(c Col, v string) {
	col := b.slot(c)
	p := unsafe.StringData(v)
	for i := range col.consts {
		if k := &col.consts[i]; unsafe.StringData(k.s) == p && len(k.s) == len(v) && p != nil {
			col.idx = append(col.idx, k.idx)
			return
		}
	}
	k := col.intern(unsafe.Slice(p, len(v))) // read, never written
	col.consts[col.nextConst%uint8(len(col.consts))] = constIndex{v, k}
	col.nextConst++
	col.idx = append(col.idx, k)
}

// Bytes sets a string value given as bytes; they are copied.
func (b *Builder) Bytes(c Col, v []byte) {
	col := b.slot(c)
	col.idx = append(col.idx, col.intern(v))
}

// Int sets an integer of an int32 or int64 column. The caller checks that
// int32 values are in range.
func (b *Builder) Int(c Col, v int64) {
	col := b.slot(c)
	col.nums = append(col.nums, v)
}

// Time sets an instant as microseconds since the Unix epoch.
func (b *Builder) Time(c Col, micros int64) { b.Int(c, micros) }

// Bool sets a flag.
func (b *Builder) Bool(c Col, v bool) {
	var n int64
	if v {
		n = 1
	}
	b.Int(c, n)
}

// Addr sets an address; an invalid (zero) address stays NULL.
func (b *Builder) Addr(c Col, a netip.Addr) {
	if a.IsValid() {
		b.Addr16(c, a.As16())
	}
}

// Addr16 sets an address given in its 16-byte form, IPv4 mapped into
// IPv6 (what netip.Addr.As16 returns), as parsers that skip netip have it.
func (b *Builder) Addr16(c Col, a [AddrWidth]byte) {
	col := b.slot(c)
	col.addrs = append(col.addrs, a)
}

// Label adds one entry to the current row's labels map.
func (b *Builder) Label(k, v string) {
	if !b.labelRow {
		b.labelRow = true
		b.labelMark = b.labels.n
	}
	b.labels.Str(k)
	b.labelVals.Str(v)
}

// Str appends a non-NULL string to a free-standing column (labels).
func (c *column) Str(v string) {
	c.data = append(c.data, v...)
	c.ends = append(c.ends, int32(len(c.data)))
	c.n++
}

// IsSet reports whether column c has a value in the current row.
func (b *Builder) IsSet(c Col) bool {
	return b.cols[c].n > b.rows && b.cols[c].isValid(b.rows)
}

// Staged returns the current row's value of string column c, if set. The
// string is a copy.
func (b *Builder) Staged(c Col) (string, bool) {
	if !b.IsSet(c) {
		return "", false
	}
	col := &b.cols[c]
	return string(col.value(col.idx[b.rows])), true
}

// StagedInt returns the current row's value of a numeric column, if set.
func (b *Builder) StagedInt(c Col) (int64, bool) {
	if !b.IsSet(c) {
		return 0, false
	}
	return b.cols[c].nums[b.rows], true
}

// Unset clears a value of the current row.
func (b *Builder) Unset(c Col) { b.truncate(&b.cols[c], b.rows) }

// Discard drops the current row. It is the rare path (a bad record), so
// it looks at every column rather than have every Set note what it touched.
func (b *Builder) Discard() {
	for c := range b.cols {
		if b.cols[c].n > b.rows {
			b.truncate(&b.cols[c], b.rows)
		}
	}
	if b.labelRow {
		b.truncateLabels(b.labelMark)
		b.labelRow = false
	}
}

func (b *Builder) truncateLabels(n int) {
	for _, col := range []*column{&b.labels, &b.labelVals} {
		if col.n > n {
			col.data = col.data[:col.end(n-1)]
			col.ends = col.ends[:n]
			col.nulls = dropFrom(col.nulls, n)
			col.n = n
		}
	}
}

// Repair makes the builder usable after a panic interrupted a row: it
// drops the row. It reports whether the batch is intact, which it always
// is, because rows only become part of the batch in Commit.
func (b *Builder) Repair() bool {
	b.Discard()
	return true
}

func (b *Builder) inWindow() bool {
	if b.window.open() {
		return true
	}
	if end, ok := b.StagedInt(EndTime); ok && b.window.Since != 0 && end < b.window.Since {
		return false
	}
	if start, ok := b.StagedInt(StartTime); ok && b.window.Until != 0 && start >= b.window.Until {
		return false
	}
	return true
}

// Commit ends the current row and emits a batch when it is full. The
// returned error comes from the emit callback.
func (b *Builder) Commit() error {
	if line, ok := b.StagedInt(SourceLine); ok {
		b.maxLine = max(b.maxLine, line)
		if line <= b.skipLines {
			b.skipped++
			b.Discard()
			return nil
		}
	}
	if !b.inWindow() {
		b.filtered++
		b.Discard()
		return nil
	}
	b.labelEnds = append(b.labelEnds, int32(b.labels.n))
	b.labelRow = false
	b.rows++
	b.committed++
	if b.rows >= b.batchRows {
		return b.Flush()
	}
	return nil
}

// Flush emits the pending rows as a batch, if there are any.
func (b *Builder) Flush() error {
	if b.rows == 0 {
		return nil
	}
	b.Discard() // a row that was never committed is not part of the batch
	// Columns no row of the batch set share one zeroed buffer: all-NULL
	// validity, zero offsets and zero values.
	zeros := memory.NewResizableBuffer(b.mem)
	zeros.Resize(AddrWidth * (b.rows + 1))
	clear(zeros.Bytes())
	defer zeros.Release()
	arrs := make([]arrow.Array, NumColumns)
	for c := range NumColumns {
		arrs[c] = b.array(c, zeros)
	}
	rec := array.NewRecordBatch(arrowSchema, arrs, int64(b.rows))
	for _, a := range arrs {
		a.Release()
	}
	b.reset()
	defer rec.Release()
	if b.emit == nil {
		return nil
	}
	return b.emit(rec)
}

// reset empties the columns, keeping their capacity for the next batch.
func (b *Builder) reset() {
	for c := range b.cols {
		col := &b.cols[c]
		col.n, col.nulls, col.nums, col.idx, col.addrs, col.data, col.ends = 0, col.nulls[:0], col.nums[:0], col.idx[:0], col.addrs[:0], col.data[:0], col.ends[:0]
		clear(col.memo) // its keys are copies, not views of data
		col.consts = [len(col.consts)]constIndex{}
		clear(col.runs) // drop the strings
		col.runs = col.runs[:0]
		if col.fixed != "" {
			col.runs = append(col.runs, fixedRun{val: col.fixed})
		}
	}
	for _, col := range []*column{&b.labels, &b.labelVals} {
		col.n, col.nulls, col.data, col.ends = 0, col.nulls[:0], col.data[:0], col.ends[:0]
	}
	b.labelEnds = b.labelEnds[:0]
	b.labelRow = false
	b.rows = 0
}

// array copies column c of the batch into Arrow memory.
func (b *Builder) array(c Col, zeros *memory.Buffer) arrow.Array {
	if c == Labels {
		return b.labelsArray(zeros)
	}
	col := &b.cols[c]
	dt := table[c].Kind.ArrowType()
	if col.n == 0 && len(col.runs) == 0 {
		return nullArray(dt, b.rows, zeros)
	}
	if table[c].Kind == KindString {
		return b.dictArray(col)
	}
	for col.n < b.rows {
		b.appendNull(c, col)
	}
	validity, nulls := b.bitmap(col, b.rows)
	var data arrow.ArrayData
	switch table[c].Kind {
	case KindInt32:
		buf := memory.NewResizableBuffer(b.mem)
		buf.Resize(4 * b.rows)
		out := arrow.Int32Traits.CastFromBytes(buf.Bytes())
		for i, v := range col.nums[:b.rows] {
			out[i] = int32(v)
		}
		data = newData(dt, b.rows, []*memory.Buffer{validity, buf}, nil, nulls, 0)
	case KindInt64, KindTime:
		raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(col.nums))), 8*b.rows)
		data = newData(dt, b.rows, []*memory.Buffer{validity, b.copyBytes(raw)}, nil, nulls, 0)
	case KindBool:
		buf := memory.NewResizableBuffer(b.mem)
		buf.Resize(int(bitutil.BytesForBits(int64(b.rows))))
		bits := buf.Bytes()
		clear(bits)
		for i, v := range col.nums[:b.rows] {
			if v != 0 {
				bitutil.SetBit(bits, i)
			}
		}
		data = newData(dt, b.rows, []*memory.Buffer{validity, buf}, nil, nulls, 0)
	case KindAddr:
		raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(col.addrs))), AddrWidth*b.rows)
		data = newData(dt, b.rows, []*memory.Buffer{validity, b.copyBytes(raw)}, nil, nulls, 0)
	default:
		panic(fmt.Sprintf("schema: no array for column %s", c.Name()))
	}
	defer data.Release()
	return array.MakeFromData(data)
}

// dictArray builds a string column as a dictionary array. Each row takes
// its own value if it set one, else the fixed value of its run (see
// Fixed), else NULL. The rows' own indices are copied in bulk, then the
// rows without one (col.nulls, and every row at or after col.n) are
// filled run by run: a fixed value costs one dictionary entry and an
// index per row, however long it is.
func (b *Builder) dictArray(col *column) arrow.Array {
	n := b.rows
	validity := memory.NewResizableBuffer(b.mem)
	validity.Resize(int(bitutil.BytesForBits(int64(n))))
	bits := validity.Bytes()
	clear(bits)
	bitutil.SetBitsTo(bits, 0, int64(col.n), true)
	indices := memory.NewResizableBuffer(b.mem)
	indices.Resize(4 * n)
	idx := arrow.Int32Traits.CastFromBytes(indices.Bytes())
	copy(idx, col.idx[:col.n])

	runs := col.runs
	if len(runs) == 0 || runs[0].row > 0 {
		// Rows before the first run have only their own values.
		runs = append([]fixedRun{{}}, runs...)
	}
	nulls := col.nulls
	for k, r := range runs {
		end := runEnd(runs, k, n)
		fill, null := col.runIndex(r.val)
		for ; len(nulls) > 0 && int(nulls[0]) < end; nulls = nulls[1:] {
			idx[nulls[0]] = fill
			if null {
				bitutil.ClearBit(bits, int(nulls[0]))
			}
		}
		if from := max(r.row, col.n); from < end {
			fillIndex(idx[from:end], fill)
			bitutil.SetBitsTo(bits, int64(from), int64(end-from), !null)
		}
	}
	if len(col.ends) == 0 {
		col.intern(nil) // NULL rows point at entry 0, so there must be one
	}
	dict := newData(arrow.BinaryTypes.String, len(col.ends), []*memory.Buffer{nil, b.offsets(col.ends, 0), b.copyBytes(col.data)}, nil, 0, 0)
	defer dict.Release()
	valid := bitutil.CountSetBits(bits, 0, n)
	d := array.NewDataWithDictionary(dictType, n, []*memory.Buffer{validity, indices}, n-valid, 0, dict)
	validity.Release()
	indices.Release()
	defer d.Release()
	return array.MakeFromData(d)
}

// runIndex returns the dictionary index that rows of a run without their
// own value take, and whether they are NULL ("" is NULL, as in Fixed).
func (c *column) runIndex(val string) (int32, bool) {
	if val == "" {
		return 0, true
	}
	return c.intern(unsafe.Slice(unsafe.StringData(val), len(val))), false
}

// fillIndex sets every index of dst to k, doubling what is copied.
func fillIndex(dst []int32, k int32) {
	if len(dst) == 0 {
		return
	}
	dst[0] = k
	for done := 1; done < len(dst); done *= 2 {
		copy(dst[done:], dst[:done])
	}
}

// runEnd is the row after the last of run k.
func runEnd(runs []fixedRun, k, rows int) int {
	if k+1 < len(runs) {
		return runs[k+1].row
	}
	return rows
}

// bitmap builds the Arrow validity buffer of a column's first n rows: all
// set but for its NULL rows.
func (b *Builder) bitmap(col *column, n int) (*memory.Buffer, int) {
	buf := memory.NewResizableBuffer(b.mem)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	clear(buf.Bytes()) // the padding bits after row n too
	bitutil.SetBitsTo(buf.Bytes(), 0, int64(n), true)
	nulls := 0
	for _, i := range col.nulls {
		if int(i) >= n {
			break
		}
		bitutil.ClearBit(buf.Bytes(), int(i))
		nulls++
	}
	return buf, nulls
}

// dropFrom removes the rows at or after n from an ascending list of NULL
// rows.
func dropFrom(nulls []int32, n int) []int32 {
	for len(nulls) > 0 && int(nulls[len(nulls)-1]) >= n {
		nulls = nulls[:len(nulls)-1]
	}
	return nulls
}

// offsets builds an Arrow offsets buffer (n+1 entries) from end offsets.
func (b *Builder) offsets(ends []int32, base int32) *memory.Buffer {
	buf := memory.NewResizableBuffer(b.mem)
	buf.Resize(4 * (len(ends) + 1))
	out := arrow.Int32Traits.CastFromBytes(buf.Bytes())
	out[0] = base
	copy(out[1:], ends)
	return buf
}

func (b *Builder) copyBytes(src []byte) *memory.Buffer {
	buf := memory.NewResizableBuffer(b.mem)
	buf.Resize(len(src))
	copy(buf.Bytes(), src)
	return buf
}

// labelsArray builds the map<string,string> column: per row a slice of
// the key and value columns, NULL for rows without labels.
func (b *Builder) labelsArray(zeros *memory.Buffer) arrow.Array {
	mt := labelsType
	if b.labels.n == 0 {
		return nullArray(mt, b.rows, zeros)
	}
	validity := memory.NewResizableBuffer(b.mem)
	validity.Resize(int(bitutil.BytesForBits(int64(b.rows))))
	vb := validity.Bytes()
	clear(vb)
	nulls := 0
	prev := int32(0)
	for i, end := range b.labelEnds {
		if end > prev {
			bitutil.SetBit(vb, i)
		} else {
			nulls++
		}
		prev = end
	}
	strData := func(col *column) arrow.ArrayData {
		v, _ := b.bitmap(col, col.n)
		return newData(arrow.BinaryTypes.String, col.n, []*memory.Buffer{v, b.offsets(col.ends, 0), b.copyBytes(col.data)}, nil, 0, 0)
	}
	keys, vals := strData(&b.labels), strData(&b.labelVals)
	defer keys.Release()
	defer vals.Release()
	entries := newData(mt.Elem(), b.labels.n, []*memory.Buffer{nil}, []arrow.ArrayData{keys, vals}, 0, 0)
	defer entries.Release()
	data := newData(mt, b.rows, []*memory.Buffer{validity, b.offsets(b.labelEnds, 0)}, []arrow.ArrayData{entries}, nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// newData is array.NewData, handing over the caller's reference to the
// buffers (NewData takes its own).
func newData(dt arrow.DataType, n int, bufs []*memory.Buffer, children []arrow.ArrayData, nulls, offset int) *array.Data {
	d := array.NewData(dt, n, bufs, children, nulls, offset)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	return d
}

// nullArray returns an all-NULL array of n rows whose buffers are all the
// shared zero buffer (which must hold at least 16*(n+1) bytes).
func nullArray(dt arrow.DataType, n int, zeros *memory.Buffer) arrow.Array {
	var data *array.Data
	switch dt.ID() {
	case arrow.STRING:
		data = array.NewData(dt, n, []*memory.Buffer{zeros, zeros, nil}, nil, n, 0)
	case arrow.DICTIONARY:
		// Every index 0, into a dictionary of one empty string.
		dict := array.NewData(arrow.BinaryTypes.String, 1, []*memory.Buffer{nil, zeros, nil}, nil, 0, 0)
		defer dict.Release()
		data = array.NewDataWithDictionary(dt, n, []*memory.Buffer{zeros, zeros}, n, 0, dict)
	case arrow.MAP:
		mt := dt.(*arrow.MapType)
		str := array.NewData(arrow.BinaryTypes.String, 0, []*memory.Buffer{nil, zeros, nil}, nil, 0, 0)
		defer str.Release()
		entries := array.NewData(mt.Elem(), 0, []*memory.Buffer{nil}, []arrow.ArrayData{str, str}, 0, 0)
		defer entries.Release()
		data = array.NewData(dt, n, []*memory.Buffer{zeros, zeros}, []arrow.ArrayData{entries}, n, 0)
	default:
		data = array.NewData(dt, n, []*memory.Buffer{zeros, zeros}, nil, n, 0)
	}
	defer data.Release()
	return array.MakeFromData(data)
}
