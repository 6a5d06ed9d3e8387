package normalize

import (
	"context"
	"fmt"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/flowsym/flowsym/normalize/schema"
)

// AWSParquet parses flow logs that AWS delivered as Parquet. Columns are
// the fields of the flow log's format with underscores for hyphens
// (account_id, pkt_srcaddr); numbers are INT_32 or INT_64, the rest
// strings. Each row becomes one record whose line is its 1-based row number.
type AWSParquet struct{}

var _ Parser = (*AWSParquet)(nil)

// parquetBatchRows bounds the rows decoded at once from a Parquet file.
const parquetBatchRows = 16 << 10

// Parse implements Parser.
func (p AWSParquet) Parse(ctx context.Context, in *Input, b *schema.Builder) (err error) {
	// The Parquet reader can panic on a corrupt file; that is damage to
	// the file, not a flowsym bug. Rows committed before it are kept.
	defer func() {
		if r := recover(); r != nil {
			b.Discard()
			err = fmt.Errorf("%w: corrupt Parquet file: %v", ErrDamaged, r)
		}
	}()
	return p.parse(ctx, in, b)
}

func (AWSParquet) parse(ctx context.Context, in *Input, b *schema.Builder) error {
	if in.Raw == nil {
		return fmt.Errorf("parquet needs random access to %s", in.Name)
	}
	pf, err := file.NewParquetReader(in.Raw)
	if err != nil {
		return fmt.Errorf("%w: not a readable Parquet file: %w", ErrDamaged, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: parquetBatchRows}, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	defer rr.Release()
	cols, kind, unknown := parquetColumns(rr.Schema())
	b.Fixed(schema.Cloud, "aws")
	b.Fixed(schema.LogKind, kind)
	if len(unknown) > 0 {
		if err := in.problem(0, fmt.Errorf("%w: columns flowsym does not know, ignored: %v", ErrUnknownField, unknown)); err != nil {
			return err
		}
	}
	var row int64
	for rr.Next() {
		rec := rr.RecordBatch()
		for i := range int(rec.NumRows()) {
			row++
			if err := parquetRow(b, rec, cols, i, row); err != nil {
				b.Discard()
				if err := in.problem(row, err); err != nil {
					return err
				}
				continue
			}
			if err := b.Commit(); err != nil {
				return err
			}
		}
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("%w: read failed after row %d: %w", ErrDamaged, row, err)
	}
	return nil
}

// parquetColumns maps the file's columns to AWS fields; nil where unknown.
func parquetColumns(sc *arrow.Schema) ([]*awsField, string, []string) {
	cols := make([]*awsField, sc.NumFields())
	kind := KindAWSVPC
	var unknown []string
	for i, f := range sc.Fields() {
		name := strings.ReplaceAll(strings.ToLower(f.Name), "_", "-")
		idx, ok := awsFieldIndex[name]
		if !ok {
			unknown = append(unknown, f.Name)
			continue
		}
		cols[i] = &awsFields[idx]
		if awsFields[idx].tgw {
			kind = KindAWSTGW
		}
	}
	return cols, kind, unknown
}

func parquetRow(b *schema.Builder, rec arrow.RecordBatch, cols []*awsField, i int, row int64) error {
	for c, f := range cols {
		if f == nil {
			continue
		}
		col := rec.Column(c)
		if col.IsNull(i) {
			continue
		}
		var err error
		switch a := col.(type) {
		case *array.String:
			if v := a.Value(i); v != "-" {
				err = setAWSField(b, f, unsafe.Slice(unsafe.StringData(v), len(v)))
			}
		case *array.Binary:
			if v := a.Value(i); string(v) != "-" {
				err = setAWSField(b, f, v)
			}
		case *array.Int32:
			err = setAWSInt(b, f, int64(a.Value(i)), nil)
		case *array.Int64:
			err = setAWSInt(b, f, a.Value(i), nil)
		default:
			err = lineErr(ErrMalformed, "column %s has unsupported type %s", f.name, col.DataType())
		}
		if err != nil {
			return err
		}
	}
	if !b.IsSet(schema.Observer) {
		if id, ok := b.Staged(schema.ResourceID); ok {
			b.Str(schema.Observer, id)
		}
	}
	b.Int(schema.SourceLine, row)
	return nil
}
