package normalize

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/google/go-cmp/cmp"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/ingesttest"
	"github.com/flowsym/flowsym/internal/memtest"
	"github.com/flowsym/flowsym/normalize/schema"
)

var update = flag.Bool("update", false, "rewrite golden files")

// decoded is what decoding one object gave: each row as column name to
// text value (NULL columns absent), and the problems as text.
type decoded struct {
	rows     []map[string]string
	dumps    []string
	problems []string
	err      error
}

// decode runs the real Decoder over one in-memory object, into a
// collectRows builder (leaks of Arrow memory fail the test).
func decode(t testing.TB, opts Options, name string, data []byte) decoded {
	t.Helper()
	return decodeFrom(t, opts, ingesttest.NewMem(map[string][]byte{name: data}), name)
}

// decodeFrom decodes one object of any Source.
func decodeFrom(t testing.TB, opts Options, src ingest.Source, name string) decoded {
	t.Helper()
	var out decoded
	b, done := collectRows(t, &out)
	defer done()
	d := NewDecoder(opts)
	report := func(p *Problem) error {
		out.problems = append(out.problems, p.Error())
		return nil
	}
	out.err = d.Object(context.Background(), src, ingest.Object{Name: name}, b, report)
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	return out
}

// collectRows returns a builder of 3-row batches that adds every row it
// emits to out, and a func that releases it and checks that no Arrow
// memory leaked. Its buffers come full of garbage, as Run's pool
// (arrowpool.NewDirty) hands them out, so a builder that reads a byte it
// did not write fails the golden files; and it overwrites what it frees,
// as the pool reuses it.
func collectRows(t testing.TB, out *decoded) (*schema.Builder, func()) {
	mem := memtest.Dirty()
	b := schema.NewBuilder(mem, 3, func(rec arrow.RecordBatch) error {
		v, err := schema.NewView(rec)
		if err != nil {
			return err
		}
		for i := range v.Rows() {
			row := map[string]string{}
			for c := range schema.NumColumns {
				if !v.IsNull(c, i) {
					row[c.Name()] = strings.Clone(v.Format(c, i)) // the batch is released after emit
				}
			}
			out.rows = append(out.rows, row)
			out.dumps = append(out.dumps, strings.Clone(v.DumpRow(i)))
		}
		return nil
	})
	return b, func() {
		b.Release()
		mem.AssertSize(t, 0)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// goldenText renders a decode result the way golden files hold it.
func goldenText(d decoded) string {
	var sb strings.Builder
	for _, r := range d.dumps {
		sb.WriteString(r + "\n")
	}
	sb.WriteString("-- problems\n")
	for _, p := range d.problems {
		sb.WriteString(p + "\n")
	}
	if d.err != nil {
		sb.WriteString("-- error\n" + d.err.Error() + "\n")
	}
	return sb.String()
}

// want checks selected columns of a row; "" means the column must be NULL.
func want(t *testing.T, row map[string]string, cols map[string]string) {
	t.Helper()
	for k, v := range cols {
		if _, ok := schema.Lookup(k); !ok {
			t.Fatalf("test names unknown column %q", k)
		}
		if got := row[k]; got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}
