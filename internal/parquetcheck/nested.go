package parquetcheck

import (
	"os"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// Values reads a whole Parquet file with parquet-go's own reconstruction,
// for files with struct and list columns that Read flattens: one map per
// row, a group (struct) as map[string]any, a LIST as []any and NULL as nil.
// Leaves keep their physical Go type: int32, int64, bool, string;
// timestamps are their raw int64 (Columns says the unit).
func Values(t testing.TB, path string) (File, []map[string]any) {
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
	meta := Read(t, path)
	meta.Rows = nil
	reader := parquet.NewReader(pf)
	defer reader.Close()
	var out []map[string]any
	buf := make([]parquet.Row, 64)
	for {
		n, err := reader.ReadRows(buf)
		for _, row := range buf[:n] {
			var v any
			if err := pf.Schema().Reconstruct(&v, row); err != nil {
				t.Fatalf("%s: reconstruct row %d: %v", path, len(out), err)
			}
			m, ok := plain(v).(map[string]any)
			if !ok {
				t.Fatalf("%s: row %d is a %T", path, len(out), v)
			}
			out = append(out, m)
		}
		if err != nil {
			break
		}
	}
	if int64(len(out)) != pf.NumRows() {
		t.Fatalf("read %d rows, the footer says %d", len(out), pf.NumRows())
	}
	return meta, out
}

// Get walks a value from Values by field names and list indexes, e.g.
// Get(row, "observers", 0, "name"); it returns nil where the path does not
// exist.
func Get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := plain(v).(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k < 0 || k >= len(l) {
				return nil
			}
			v = l[k]
		default:
			return nil
		}
	}
	return v
}

// plain turns the byte slices parquet-go leaves in maps' values into text.
func plain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = plain(e)
		}
	case []any:
		for i, e := range x {
			x[i] = plain(e)
		}
	case []byte:
		return string(x)
	case *[]byte:
		if x == nil {
			return nil
		}
		return string(*x)
	}
	return v
}
