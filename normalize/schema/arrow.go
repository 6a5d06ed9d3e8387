package schema

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// AddrWidth is the byte width of an address column in Arrow.
const AddrWidth = 16

var (
	addrType   = &arrow.FixedSizeBinaryType{ByteWidth: AddrWidth}
	timeType   = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	labelsType = arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String)
	// A string column names things that repeat from row to row: the
	// object, the observer, the account, the action. Dictionary encoding
	// stores each distinct value once per batch, so a 200-byte object
	// name or Azure resource id costs 4 bytes a row, and consumers can
	// compare indices instead of strings. The exports write plain strings.
	dictType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
)

// ArrowType returns the in-memory Arrow type of a column kind.
func (k Kind) ArrowType() arrow.DataType {
	switch k {
	case KindString:
		return dictType
	case KindInt32:
		return arrow.PrimitiveTypes.Int32
	case KindInt64:
		return arrow.PrimitiveTypes.Int64
	case KindTime:
		return timeType
	case KindAddr:
		return addrType
	case KindBool:
		return arrow.FixedWidthTypes.Boolean
	case KindLabels:
		return labelsType
	}
	panic("schema: unknown kind")
}

// arrowSchema is derived from the table once; arrow.Schema is immutable.
var arrowSchema = func() *arrow.Schema {
	fields := make([]arrow.Field, NumColumns)
	for i, c := range table {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Kind.ArrowType(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}()

// Arrow returns the Arrow schema of normalized flow batches. Every column is
// nullable: a value the log does not give is NULL, never 0 or "".
func Arrow() *arrow.Schema { return arrowSchema }
