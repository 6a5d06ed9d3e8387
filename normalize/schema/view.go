package schema

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// View gives typed, by-column access to a batch of normalized flows. It
// holds no copy of the data: it is valid while the batch is.
type View struct {
	rec   arrow.RecordBatch
	valid [NumColumns][]byte // validity bitmaps; nil when a column has no NULL
	off   [NumColumns]int
	idx   [NumColumns][]int32       // a string column's dictionary indices
	dict  [NumColumns]*array.String // and its dictionary
	i32s  [NumColumns]*array.Int32
	i64s  [NumColumns]*array.Int64
	ts    [NumColumns]*array.Timestamp
	adds  [NumColumns]*array.FixedSizeBinary
	bls   [NumColumns]*array.Boolean
	lab   *array.Map
}

// NewView checks that rec has the normalized schema and wraps it.
func NewView(rec arrow.RecordBatch) (*View, error) {
	if !rec.Schema().Equal(arrowSchema) {
		return nil, fmt.Errorf("batch does not have the normalized flow schema")
	}
	v := &View{rec: rec}
	for i, col := range rec.Columns() {
		if col.NullN() > 0 {
			v.valid[i] = col.NullBitmapBytes()
			v.off[i] = col.Data().Offset()
		}
		switch a := col.(type) {
		case *array.Dictionary:
			idx, ok1 := a.Indices().(*array.Int32)
			dict, ok2 := a.Dictionary().(*array.String)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("column %s is not a dictionary of strings", table[i].Name)
			}
			v.idx[i], v.dict[i] = idx.Int32Values(), dict
		case *array.Int32:
			v.i32s[i] = a
		case *array.Int64:
			v.i64s[i] = a
		case *array.Timestamp:
			v.ts[i] = a
		case *array.FixedSizeBinary:
			v.adds[i] = a
		case *array.Boolean:
			v.bls[i] = a
		case *array.Map:
			v.lab = a
		}
	}
	return v, nil
}

// Rows returns the number of rows.
func (v *View) Rows() int { return int(v.rec.NumRows()) }

// Batch returns the wrapped batch.
func (v *View) Batch() arrow.RecordBatch { return v.rec }

// IsNull reports whether column c of row i is NULL. It reads the validity
// bitmap directly: the correlator asks it for every column of every row.
func (v *View) IsNull(c Col, i int) bool {
	b := v.valid[c]
	if b == nil {
		return false
	}
	j := v.off[c] + i
	return b[j>>3]&(1<<(uint(j)&7)) == 0
}

// AllNull reports whether column c is NULL in every row of the batch, so a
// reader can skip it.
func (v *View) AllNull(c Col) bool { return v.rec.Column(int(c)).NullN() == v.Rows() }

// Str returns a string column's value ("" when NULL).
func (v *View) Str(c Col, i int) string {
	if v.IsNull(c, i) {
		return ""
	}
	return v.dict[c].Value(int(v.idx[c][i]))
}

// StrIndex returns the dictionary index of a string column's value, or
// -1 when it is NULL: two rows of one batch have equal values exactly when
// they have equal indices, which is cheaper to compare than the strings.
// The index means nothing across batches.
func (v *View) StrIndex(c Col, i int) int32 {
	if v.IsNull(c, i) {
		return -1 // a NULL row's index points at an arbitrary entry
	}
	return v.idx[c][i]
}

// Int returns an int32, int64 or time column's value (0 when NULL).
func (v *View) Int(c Col, i int) int64 {
	switch {
	case v.i32s[c] != nil:
		return int64(v.i32s[c].Value(i))
	case v.i64s[c] != nil:
		return v.i64s[c].Value(i)
	case v.ts[c] != nil:
		return int64(v.ts[c].Value(i))
	case v.bls[c] != nil:
		if v.bls[c].Value(i) {
			return 1
		}
	}
	return 0
}

// Time returns a time column's value in UTC (zero time when NULL).
func (v *View) Time(c Col, i int) time.Time {
	if v.IsNull(c, i) {
		return time.Time{}
	}
	return time.UnixMicro(int64(v.ts[c].Value(i))).UTC()
}

// Bool returns a bool column's value.
func (v *View) Bool(c Col, i int) bool { return v.bls[c].Value(i) }

// Addr returns an address column's value, unmapped from IPv4-in-IPv6; the
// zero Addr when NULL.
func (v *View) Addr(c Col, i int) netip.Addr {
	if v.IsNull(c, i) {
		return netip.Addr{}
	}
	return AddrFromBytes(v.adds[c].Value(i))
}

// AddrBytes returns an address column's value in its 16-byte form (IPv4
// mapped into IPv6), without converting it.
func (v *View) AddrBytes(c Col, i int) [AddrWidth]byte {
	return [AddrWidth]byte(v.adds[c].Value(i))
}

// AddrFromBytes converts the 16-byte Arrow form back to an address.
func AddrFromBytes(b []byte) netip.Addr {
	if len(b) != AddrWidth {
		return netip.Addr{}
	}
	return netip.AddrFrom16([AddrWidth]byte(b)).Unmap()
}

// Labels returns row i's labels, sorted by key.
func (v *View) Labels(i int) [][2]string {
	if v.lab == nil || v.lab.IsNull(i) {
		return nil
	}
	start, end := v.lab.ValueOffsets(i)
	keys := v.lab.Keys().(*array.String)
	items := v.lab.Items().(*array.String)
	out := make([][2]string, 0, end-start)
	for j := start; j < end; j++ {
		out = append(out, [2]string{keys.Value(int(j)), items.Value(int(j))})
	}
	sort.Slice(out, func(a, b int) bool { return out[a][0] < out[b][0] })
	return out
}

// Format renders column c of row i as text: NULL as "", times in RFC 3339,
// addresses in their canonical form, labels as k=v pairs.
func (v *View) Format(c Col, i int) string {
	if v.IsNull(c, i) {
		return ""
	}
	switch table[c].Kind {
	case KindString:
		return v.Str(c, i)
	case KindInt32, KindInt64:
		return strconv.FormatInt(v.Int(c, i), 10)
	case KindTime:
		return v.Time(c, i).Format(time.RFC3339Nano)
	case KindAddr:
		return v.Addr(c, i).String()
	case KindBool:
		return strconv.FormatBool(v.Bool(c, i))
	case KindLabels:
		var sb strings.Builder
		for j, kv := range v.Labels(i) {
			if j > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(kv[0] + "=" + kv[1])
		}
		return sb.String()
	}
	return ""
}

// DumpRow renders row i as "name=value" pairs of its non-NULL columns, in
// table order. Golden files use it, so its output is stable.
func (v *View) DumpRow(i int) string {
	var sb strings.Builder
	for c := range NumColumns {
		if v.IsNull(c, i) {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		val := v.Format(c, i)
		if strings.ContainsAny(val, " \t\"") || val == "" {
			val = strconv.Quote(val)
		}
		sb.WriteString(table[c].Name + "=" + val)
	}
	return sb.String()
}
