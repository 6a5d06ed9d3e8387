// Package export writes normalized flows as Parquet that SQL engines read
// without casts: one file, or a Hive-partitioned folder
// (cloud=aws/date=2026-11-20/part-....parquet) that engines prune by date.
//
// Parquet is written with arrow-go's pqarrow, because the pipeline's
// batches are Arrow already: pqarrow encodes them column by column with no
// row conversion, and arrow-go is a dependency either way.
package export

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"path"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/flowsym/flowsym/normalize/schema"
)

// Options configure a FlowWriter.
type Options struct {
	// Partitioned writes a Hive-partitioned folder; otherwise one file
	// named File.
	Partitioned bool
	// File is the name of the single output file.
	File string
	// RunID makes file names of this run unique, so runs that append to
	// one folder never overwrite each other.
	RunID string
	// RowGroupRows bounds a row group; <= 0 means DefaultRowGroupRows.
	RowGroupRows int64
	// Mem allocates Arrow memory; nil means the Go allocator.
	Mem memory.Allocator
}

// DefaultRowGroupRows balances engines' read parallelism (they split work
// by row group; DuckDB itself writes 122,880-row groups) against the memory
// of each open partition's buffered group and dictionary tables.
const DefaultRowGroupRows = 128 << 10

// DefaultPartition is the Hive name of a NULL partition value: rows with no
// start time. Spark, Hive, Athena and DuckDB read it back as NULL.
const DefaultPartition = "__HIVE_DEFAULT_PARTITION__"

// FlowWriter writes normalized flow batches to Parquet.
type FlowWriter struct {
	ctx     context.Context
	dst     Creator
	opts    Options
	schema  *arrow.Schema
	parts   map[string]*partFile
	written []string
	rows    int64
}

type partFile struct {
	name     string
	out      ObjectWriter
	pw       *pqarrow.FileWriter
	rows     int64
	finished bool // its Parquet footer is written; it awaits Commit
}

// NewFlowWriter returns a writer that creates its files through dst.
func NewFlowWriter(ctx context.Context, dst Creator, opts Options) *FlowWriter {
	if opts.RowGroupRows <= 0 {
		opts.RowGroupRows = DefaultRowGroupRows
	}
	if opts.Mem == nil {
		opts.Mem = memory.NewGoAllocator()
	}
	if opts.File == "" {
		opts.File = "flows.parquet"
	}
	return &FlowWriter{ctx: ctx, dst: dst, opts: opts, schema: FlowSchema(opts.Partitioned), parts: map[string]*partFile{}}
}

// FlowSchema is the Arrow schema of exported flows, derived from the one
// table: addresses become text, and a partitioned export leaves out the
// cloud column, which the folder name carries (Spark rejects a column that
// is both in the files and in the partition path).
func FlowSchema(partitioned bool) *arrow.Schema {
	var fields []arrow.Field
	for i, c := range schema.Columns() {
		if partitioned && schema.Col(i) == schema.Cloud {
			continue
		}
		fields = append(fields, arrow.Field{Name: c.Name, Type: exportType(c.Kind), Nullable: true})
	}
	return arrow.NewSchema(fields, nil)
}

// exportType is the Arrow type of a column of kind k in the exports:
// addresses as text, and strings plain rather than dictionary-encoded.
func exportType(k schema.Kind) arrow.DataType {
	if k == schema.KindAddr || k == schema.KindString {
		return arrow.BinaryTypes.String
	}
	return k.ArrowType()
}

// exportColumn returns column c of a normalized batch in its export type
// (a reference the caller releases). pqarrow would take the dictionaries,
// but each batch has its own, and at the first that differs it falls back
// to PLAIN encoding for the rest of the column chunk: plain strings let
// the Parquet writer build one dictionary per row group instead.
func exportColumn(mem memory.Allocator, rec arrow.RecordBatch, c schema.Col) (arrow.Array, error) {
	a := rec.Column(int(c))
	switch c.Kind() {
	case schema.KindAddr:
		return addrText(mem, a.(*array.FixedSizeBinary)), nil
	case schema.KindString:
		plain, err := plainStrings(mem, a)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name(), err)
		}
		return plain, nil
	}
	a.Retain()
	return a, nil
}

// Write appends a batch of normalized flows.
func (w *FlowWriter) Write(rec arrow.RecordBatch) error {
	if !w.opts.Partitioned {
		return w.writeSlice(w.opts.File, rec)
	}
	v, err := schema.NewView(rec)
	if err != nil {
		return err
	}
	// Rows of one object are mostly of one cloud and day, so cut the batch
	// into runs of equal partition and write each run as a zero-copy slice.
	start, key := 0, partitionKey(v, 0)
	for i := 1; i <= v.Rows(); i++ {
		next := ""
		if i < v.Rows() {
			next = partitionKey(v, i)
			if next == key {
				continue
			}
		}
		slice := rec.NewSlice(int64(start), int64(i))
		err := w.writeSlice(key, slice)
		slice.Release()
		if err != nil {
			return err
		}
		start, key = i, next
	}
	return nil
}

// partitionKey returns the folder of row i: cloud=<cloud>/date=<day>.
func partitionKey(v *schema.View, i int) string {
	cloud := DefaultPartition
	if !v.IsNull(schema.Cloud, i) {
		cloud = v.Str(schema.Cloud, i)
	}
	day := DefaultPartition
	if !v.IsNull(schema.StartTime, i) {
		day = v.Time(schema.StartTime, i).Format(time.DateOnly)
	}
	return "cloud=" + cloud + "/date=" + day
}

func (w *FlowWriter) writeSlice(key string, rec arrow.RecordBatch) error {
	pf, err := w.part(key)
	if err != nil {
		return err
	}
	out, err := w.convert(rec)
	if err != nil {
		return err
	}
	defer out.Release()
	if err := pf.pw.WriteBuffered(out); err != nil {
		return fmt.Errorf("write %s: %w", pf.name, err)
	}
	pf.rows += out.NumRows()
	w.rows += out.NumRows()
	return nil
}

func (w *FlowWriter) part(key string) (*partFile, error) {
	if pf, ok := w.parts[key]; ok {
		return pf, nil
	}
	name := key
	if w.opts.Partitioned {
		// One file per partition and run; the number leaves room for
		// rolling a partition over into several files.
		name = path.Join(key, fmt.Sprintf("part-%05d-%s.parquet", 0, w.opts.RunID))
	}
	pf, err := createPart(w.ctx, w.dst, name, w.schema, w.opts.RowGroupRows, w.opts.Mem)
	if err != nil {
		return nil, err
	}
	w.parts[key] = pf
	return pf, nil
}

// createPart starts one Parquet file of the export: zstd, dictionaries,
// statistics, row groups of rowGroupRows.
func createPart(ctx context.Context, dst Creator, name string, sc *arrow.Schema, rowGroupRows int64, mem memory.Allocator) (*partFile, error) {
	out, err := dst.Create(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithDictionaryDefault(true),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(rowGroupRows),
		parquet.WithCreatedBy("flowsym"),
		parquet.WithAllocator(mem),
	)
	// Hide Close from pqarrow, which closes a sink that has one: the file
	// is committed or aborted by us, not by the Parquet writer.
	pw, err := pqarrow.NewFileWriter(sc, struct{ io.Writer }{out}, props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		_ = out.Abort()
		return nil, fmt.Errorf("start parquet %s: %w", name, err)
	}
	return &partFile{name: name, out: out, pw: pw}, nil
}

// convert turns a normalized batch into the export schema (see
// exportColumn), the cloud column dropped when partitioned.
func (w *FlowWriter) convert(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, 0, len(w.schema.Fields()))
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for i := range schema.Columns() {
		if w.opts.Partitioned && schema.Col(i) == schema.Cloud {
			continue
		}
		a, err := exportColumn(w.opts.Mem, rec, schema.Col(i))
		if err != nil {
			return nil, err
		}
		cols = append(cols, a)
	}
	return array.NewRecordBatch(w.schema, cols, rec.NumRows()), nil
}

// plainStrings decodes a dictionary-encoded string column; NULL rows
// stay NULL. It sizes the output first and copies each row's value once:
// arrow's generic take kernel costs about twice as much here.
func plainStrings(mem memory.Allocator, a arrow.Array) (arrow.Array, error) {
	d, ok := a.(*array.Dictionary)
	if !ok {
		return nil, fmt.Errorf("a %s column, not a dictionary", a.DataType())
	}
	dict, ok1 := d.Dictionary().(*array.String)
	idx, ok2 := d.Indices().(*array.Int32)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("a %s column, not a dictionary of strings", a.DataType())
	}
	n, keys, offs := d.Len(), idx.Int32Values(), dict.ValueOffsets()
	size := 0
	for i, k := range keys {
		if d.IsValid(i) {
			size += int(offs[k+1] - offs[k])
		}
	}
	offsets := memory.NewResizableBuffer(mem)
	offsets.Resize(4 * (n + 1))
	out := arrow.Int32Traits.CastFromBytes(offsets.Bytes())
	data := memory.NewResizableBuffer(mem)
	data.Resize(size)
	bytes, values, pos := data.Bytes(), dict.ValueBytes(), int32(0)
	out[0] = 0
	for i, k := range keys {
		if d.IsValid(i) {
			pos += int32(copy(bytes[pos:], values[offs[k]:offs[k+1]]))
		}
		out[i+1] = pos
	}
	var validity *memory.Buffer
	if d.NullN() > 0 {
		// A partition's rows are a slice of the batch: copy its bits to
		// start at 0, as the new offsets do.
		validity = memory.NewResizableBuffer(mem)
		validity.Resize(int(bitutil.BytesForBits(int64(n))))
		bitutil.CopyBitmap(d.NullBitmapBytes(), d.Data().Offset(), n, validity.Bytes(), 0)
		defer validity.Release()
	}
	plain := array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{validity, offsets, data}, nil, d.NullN(), 0)
	offsets.Release()
	data.Release()
	defer plain.Release()
	return array.MakeFromData(plain), nil
}

// addrText renders a 16-byte address column as text.
func addrText(mem memory.Allocator, a *array.FixedSizeBinary) arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(a.Len())
	buf := make([]byte, 0, 48)
	for i := range a.Len() {
		if a.IsNull(i) {
			b.AppendNull()
			continue
		}
		addr := netip.AddrFrom16([16]byte(a.Value(i))).Unmap()
		buf = addr.AppendTo(buf[:0])
		b.BinaryBuilder.Append(buf)
	}
	return b.NewArray()
}

// Close finishes every file and makes them visible. On error, files not yet
// committed are discarded.
func (w *FlowWriter) Close() error {
	if _, err := w.Finish(); err != nil {
		return err
	}
	return w.Commit()
}

// Finish writes the end of every file without publishing any, and returns
// the names they will have. A scheduled run records them before Commit,
// so that a run killed while committing can be cleaned up.
func (w *FlowWriter) Finish() ([]string, error) {
	var names []string
	for _, k := range w.sortedParts() {
		pf := w.parts[k]
		if pf.finished {
			names = append(names, pf.name)
			continue
		}
		if err := pf.pw.Close(); err != nil {
			w.Abort()
			return nil, fmt.Errorf("finish %s: %w", pf.name, err)
		}
		pf.finished = true
		names = append(names, pf.name)
	}
	return names, nil
}

// Commit publishes the files Finish finished. On error, the files not yet
// committed are discarded.
func (w *FlowWriter) Commit() error {
	var firstErr error
	for _, k := range w.sortedParts() {
		pf := w.parts[k]
		if firstErr != nil || !pf.finished {
			pf.abort()
			continue
		}
		if err := pf.out.Commit(); err != nil {
			firstErr = fmt.Errorf("commit %s: %w", pf.name, err)
			continue
		}
		w.written = append(w.written, pf.name)
	}
	w.parts = map[string]*partFile{}
	return firstErr
}

func (w *FlowWriter) sortedParts() []string {
	keys := make([]string, 0, len(w.parts))
	for k := range w.parts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Abort discards every file not yet committed.
func (w *FlowWriter) Abort() {
	for _, pf := range w.parts {
		pf.abort()
	}
	w.parts = map[string]*partFile{}
}

// abort releases the Parquet writer's buffers and discards the file.
func (pf *partFile) abort() {
	if !pf.finished {
		_ = pf.pw.Close()
	}
	_ = pf.out.Abort()
}

// Files returns the names of the committed files, sorted.
func (w *FlowWriter) Files() []string { return w.written }

// Rows returns the number of rows written.
func (w *FlowWriter) Rows() int64 { return w.rows }
