package export

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/flowsym/flowsym/internal/memtest"
	"github.com/flowsym/flowsym/internal/parquetcheck"
	"github.com/flowsym/flowsym/normalize/schema"
)

// rows builds batches of three flows with the given builder batch size.
func rows(t *testing.T, mem memory.Allocator, batchRows int, write func(arrow.RecordBatch) error) {
	t.Helper()
	b := schema.NewBuilder(mem, batchRows, write)
	defer b.Release()
	b.SetObject("s3://logs/a.log.gz")
	add := func(f func()) {
		f()
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	add(func() {
		b.Time(schema.StartTime, 1_763_632_800_000_000) // 2025-11-20T10:00:00Z
		b.Time(schema.EndTime, 1_763_632_860_123_456)
		b.Str(schema.Cloud, "aws")
		b.Str(schema.LogKind, "aws-vpc")
		b.Addr(schema.SrcAddr, netip.MustParseAddr("10.1.5.5"))
		b.Addr(schema.DstAddr, netip.MustParseAddr("2001:db8::34"))
		b.Int(schema.SrcPort, 40001)
		b.Int(schema.DstPort, 443)
		b.Int(schema.Protocol, 6)
		b.Int(schema.Packets, 9_000_000_000)
		b.Bool(schema.Sampled, false)
		b.Label("ecs-task-id", "t1")
		b.Label("type", "IPv4")
		b.Int(schema.SourceLine, 2)
	})
	add(func() { // a NODATA row: almost everything NULL
		b.Time(schema.StartTime, 1_763_719_200_000_000) // 2025-11-21T10:00:00Z
		b.Str(schema.Cloud, "aws")
		b.Str(schema.LogStatus, "nodata")
		b.Int(schema.SourceLine, 3)
	})
	add(func() { // no start time: the NULL partition
		b.Str(schema.Cloud, "azure")
		b.Str(schema.Action, "reject")
		b.Int(schema.SourceLine, 4)
	})
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, dir string, opts Options, batchRows int) *FlowWriter {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opts.Mem = mem
	w := NewFlowWriter(context.Background(), Dir(dir), opts)
	// The batches are poisoned when released: the writer, which buffers
	// a row group across batches, must not keep anything that aliases one.
	batches := memtest.Poisoned()
	defer batches.AssertSize(t, 0)
	rows(t, batches, batchRows, w.Write)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestSingleFileReadBackIndependently(t *testing.T) {
	dir := t.TempDir()
	w := write(t, dir, Options{File: "flows.parquet", RunID: "r1"}, 2)
	if got := w.Files(); !cmp.Equal(got, []string{"flows.parquet"}) {
		t.Fatalf("files %v", got)
	}
	f := parquetcheck.Read(t, filepath.Join(dir, "flows.parquet"))
	want := []map[string]string{
		{"start_time": "2025-11-20T10:00:00Z", "end_time": "2025-11-20T10:01:00.123456Z", "cloud": "aws", "log_kind": "aws-vpc",
			"src_addr": "10.1.5.5", "dst_addr": "2001:db8::34", "src_port": "40001", "dst_port": "443", "protocol": "6",
			"packets": "9000000000", "sampled": "false", "labels": "ecs-task-id=t1 type=IPv4",
			"source_object": "s3://logs/a.log.gz", "source_line": "2"},
		{"start_time": "2025-11-21T10:00:00Z", "cloud": "aws", "log_status": "nodata", "source_object": "s3://logs/a.log.gz", "source_line": "3"},
		{"cloud": "azure", "action": "reject", "source_object": "s3://logs/a.log.gz", "source_line": "4"},
	}
	if diff := cmp.Diff(want, f.Rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

// TestColumnTypes pins the types SQL engines see: text addresses, int32
// ports and protocol, int64 counters, UTC microsecond timestamps, no
// unsigned types, everything nullable.
func TestColumnTypes(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, Options{File: "f.parquet"}, 0)
	f := parquetcheck.Read(t, filepath.Join(dir, "f.parquet"))
	byPath := map[string]parquetcheck.Column{}
	for _, c := range f.Columns {
		byPath[c.Path] = c
		if !c.Optional && !strings.HasPrefix(c.Path, "labels.") {
			t.Errorf("column %s is required; every column must be nullable", c.Path)
		}
		if strings.Contains(c.Logical, "ISSIGNED=FALSE") {
			t.Errorf("column %s is unsigned", c.Path)
		}
	}
	for path, want := range map[string][2]string{
		"start_time":  {"INT64", "TIMESTAMP(ISADJUSTEDTOUTC=TRUE,UNIT=MICROS)"},
		"src_addr":    {"BYTE_ARRAY", "STRING"},
		"src_port":    {"INT32", ""},
		"protocol":    {"INT32", ""},
		"packets":     {"INT64", ""},
		"log_kind":    {"BYTE_ARRAY", "STRING"},
		"sampled":     {"BOOLEAN", ""},
		"source_line": {"INT64", ""},
	} {
		c, ok := byPath[path]
		if !ok {
			t.Errorf("no column %s", path)
			continue
		}
		if c.Physical != want[0] || (want[1] != "" && c.Logical != want[1]) {
			t.Errorf("%s: %s %s, want %s %s", path, c.Physical, c.Logical, want[0], want[1])
		}
	}
	// Every normalized column is in the file, under its contract name.
	for _, c := range schema.Columns() {
		found := false
		for p := range byPath {
			if p == c.Name || strings.HasPrefix(p, c.Name+".") {
				found = true
			}
		}
		if !found {
			t.Errorf("column %s missing from the export", c.Name)
		}
	}
}

func TestPartitionedLayout(t *testing.T) {
	dir := t.TempDir()
	// Batches of one row and of three rows must give the same files.
	for _, batchRows := range []int{1, 3} {
		sub := filepath.Join(dir, strings.Repeat("x", batchRows))
		w := write(t, sub, Options{Partitioned: true, RunID: "r1"}, batchRows)
		want := []string{
			"cloud=aws/date=2025-11-20/part-00000-r1.parquet",
			"cloud=aws/date=2025-11-21/part-00000-r1.parquet",
			"cloud=azure/date=__HIVE_DEFAULT_PARTITION__/part-00000-r1.parquet",
		}
		if diff := cmp.Diff(want, w.Files()); diff != "" {
			t.Fatalf("files (-want +got):\n%s", diff)
		}
		var onDisk []string
		_ = filepath.WalkDir(sub, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(sub, p)
				onDisk = append(onDisk, filepath.ToSlash(rel))
			}
			return nil
		})
		sort.Strings(onDisk)
		if diff := cmp.Diff(want, onDisk); diff != "" {
			t.Fatalf("files on disk (-want +got), no temporary file may remain:\n%s", diff)
		}
		f := parquetcheck.Read(t, filepath.Join(sub, want[0]))
		if len(f.Rows) != 1 || f.Rows[0]["src_addr"] != "10.1.5.5" {
			t.Errorf("rows %v", f.Rows)
		}
		for _, c := range f.Columns {
			if c.Path == "cloud" {
				t.Error("a partitioned file must not repeat the cloud partition column")
			}
		}
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	w := NewFlowWriter(context.Background(), Dir(dir), Options{Partitioned: true, RunID: "r", Mem: mem})
	rows(t, mem, 1, w.Write)
	w.Abort()
	entries, _ := os.ReadDir(filepath.Join(dir, "cloud=aws", "date=2025-11-20"))
	if len(entries) != 0 {
		t.Errorf("abort left %v", entries)
	}
}

// TestPlainStrings decodes dictionary-encoded columns, whole and as the
// slices a partitioned export writes, with NULL rows among them.
func TestPlainStrings(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	vals := []string{"eni-a", "", "eni-b", "eni-a", "", "eni-c", "eni-b"} // "" is NULL
	b := schema.NewBuilder(mem, 0, func(rec arrow.RecordBatch) error {
		v, err := schema.NewView(rec)
		if err != nil {
			return err
		}
		for _, span := range [][2]int64{{0, 7}, {1, 5}, {4, 7}, {3, 3}} {
			slice := rec.NewSlice(span[0], span[1])
			got, err := plainStrings(mem, slice.Column(int(schema.Observer)))
			slice.Release()
			if err != nil {
				return err
			}
			s := got.(*array.String)
			for i := range s.Len() {
				row := int(span[0]) + i
				if s.IsNull(i) != v.IsNull(schema.Observer, row) || s.Value(i) != v.Str(schema.Observer, row) {
					t.Errorf("rows %v, row %d: got %q (null %v), want %q", span, row, s.Value(i), s.IsNull(i), vals[row])
				}
			}
			if err := array.ValidateFull(got); err != nil {
				t.Errorf("rows %v: %v", span, err)
			}
			got.Release()
		}
		return nil
	})
	defer b.Release()
	for i, val := range vals {
		if val != "" {
			b.Str(schema.Observer, val)
		}
		b.Int(schema.SourceLine, int64(i+1))
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := plainStrings(mem, array.NewNull(1)); err == nil {
		t.Error("plainStrings took a column that is not a dictionary")
	}
}
