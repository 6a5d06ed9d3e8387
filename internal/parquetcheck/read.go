// Package parquetcheck reads Parquet files back in tests with
// parquet-go/parquet-go, a reader independent of arrow-go's pqarrow that
// flowsym writes with, so a bug in the writer cannot hide itself.
package parquetcheck

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// Column is a leaf column's path and types as the file declares them.
type Column struct {
	Path     string // dotted path, e.g. "labels.key_value.key"
	Physical string // BOOLEAN, INT32, INT64, BYTE_ARRAY, ...
	Logical  string // e.g. "STRING", "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)", "" when none
	Optional bool
}

// File is what Read found.
type File struct {
	Columns []Column
	// Rows hold each top-level column's value as text; NULL columns are
	// absent. Integers are decimal, timestamps RFC 3339 UTC, maps "k=v"
	// pairs sorted by key and joined with spaces.
	Rows []map[string]string
}

// Read reads a whole Parquet file.
func Read(t testing.TB, path string) File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatalf("parquet-go cannot open %s: %v", path, err)
	}
	var out File
	paths := pf.Schema().Columns()
	leaves := make([]parquet.LeafColumn, len(paths))
	for i, p := range paths {
		leaf, ok := pf.Schema().Lookup(p...)
		if !ok {
			t.Fatalf("no leaf %v", p)
		}
		leaves[i] = leaf
		typ := leaf.Node.Type()
		logical := ""
		if lt := typ.LogicalType(); lt != nil {
			logical = strings.ToUpper(lt.String())
		}
		out.Columns = append(out.Columns, Column{
			Path:     strings.Join(p, "."),
			Physical: typ.Kind().String(),
			Logical:  logical,
			Optional: leaf.Node.Optional(),
		})
	}
	reader := parquet.NewReader(pf)
	defer reader.Close()
	buf := make([]parquet.Row, 64)
	for {
		n, err := reader.ReadRows(buf)
		for _, row := range buf[:n] {
			out.Rows = append(out.Rows, rowText(row, paths, leaves))
		}
		if err != nil {
			break
		}
	}
	if int64(len(out.Rows)) != pf.NumRows() {
		t.Fatalf("read %d rows, the footer says %d", len(out.Rows), pf.NumRows())
	}
	return out
}

func rowText(row parquet.Row, paths [][]string, leaves []parquet.LeafColumn) map[string]string {
	m := map[string]string{}
	pairs := map[string][][2]string{}
	for _, v := range row {
		col := v.Column()
		if v.IsNull() {
			continue
		}
		p := paths[col]
		text := valueText(v, leaves[col].Node.Type().LogicalType())
		if len(p) == 1 {
			m[p[0]] = text
			continue
		}
		// A map's key and value leaves: pair them by position.
		top := p[0]
		kv := pairs[top]
		if p[len(p)-1] == "key" {
			pairs[top] = append(kv, [2]string{text, ""})
		} else if len(kv) > 0 {
			for i := range kv {
				if kv[i][1] == "" {
					kv[i][1] = text
					break
				}
			}
		}
	}
	for top, kv := range pairs {
		sort.Slice(kv, func(i, j int) bool { return kv[i][0] < kv[j][0] })
		parts := make([]string, len(kv))
		for i, p := range kv {
			parts[i] = p[0] + "=" + p[1]
		}
		m[top] = strings.Join(parts, " ")
	}
	return m
}

func valueText(v parquet.Value, lt *format.LogicalType) string {
	if lt != nil {
		if ts, ok := lt.Value.(*format.TimestampType); ok {
			var t time.Time
			switch ts.Unit.Value.(type) {
			case *format.MicroSeconds:
				t = time.UnixMicro(v.Int64())
			case *format.MilliSeconds:
				t = time.UnixMilli(v.Int64())
			default:
				t = time.Unix(0, v.Int64())
			}
			return t.UTC().Format(time.RFC3339Nano)
		}
	}
	switch v.Kind() {
	case parquet.Boolean:
		return strconv.FormatBool(v.Boolean())
	case parquet.Int32:
		return strconv.FormatInt(int64(v.Int32()), 10)
	case parquet.Int64:
		return strconv.FormatInt(v.Int64(), 10)
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return string(v.ByteArray())
	}
	return fmt.Sprint(v)
}
