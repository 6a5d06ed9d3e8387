package schema

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestSchemaDump pins the column table. Analysts' SQL depends on these
// names and types, so any change must show up in review as a diff of
// testdata/schema.txt.
func TestSchemaDump(t *testing.T) {
	var sb strings.Builder
	for i, c := range Columns() {
		rev := ""
		if r := Col(i).Reverse(); r != Col(i) {
			rev = " reverse=" + r.Name()
		}
		fmt.Fprintf(&sb, "%2d %-26s %-20s%s\n", i, c.Name, c.Kind, rev)
	}
	fmt.Fprintf(&sb, "\narrow: %s\n", Arrow())
	golden(t, "../../testdata/schema.txt", sb.String())
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestColumnsAreConsistent(t *testing.T) {
	seen := map[string]bool{}
	for i, c := range Columns() {
		if c.Name == "" || c.Title == "" || c.Doc == "" {
			t.Errorf("column %d is missing a name, title or doc", i)
		}
		if seen[c.Name] {
			t.Errorf("duplicate column name %q", c.Name)
		}
		seen[c.Name] = true
		if got, ok := Lookup(c.Name); !ok || got != Col(i) {
			t.Errorf("Lookup(%q) = %d, %v", c.Name, got, ok)
		}
		r := Col(i).Reverse()
		if r.Reverse() != Col(i) {
			t.Errorf("reverse of %s is %s, whose reverse is %s", c.Name, r.Name(), r.Reverse().Name())
		}
		if r.Kind() != c.Kind {
			t.Errorf("reverse pair %s/%s have different kinds", c.Name, r.Name())
		}
	}
	if _, ok := Lookup("no_such_column"); ok {
		t.Error("Lookup found a column that does not exist")
	}
}

func TestBuilderRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	var dumps []string
	b := NewBuilder(mem, 2, func(rec arrow.RecordBatch) error {
		v, err := NewView(rec)
		if err != nil {
			return err
		}
		for i := range v.Rows() {
			dumps = append(dumps, v.DumpRow(i))
		}
		return nil
	})
	defer b.Release()
	b.SetObject("obj.log")

	// Row 1: a full record.
	b.Time(StartTime, 1_000_000)
	b.Str(Cloud, "aws")
	b.Addr(SrcAddr, netip.MustParseAddr("10.0.0.1"))
	b.Addr(DstAddr, netip.MustParseAddr("2001:db8::1"))
	b.Int(SrcPort, 443)
	b.Int(Packets, 1<<40)
	b.Bool(Sampled, false)
	b.Label("ecs-task-id", "abc")
	b.Int(SourceLine, 1)
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	// Row 2: staged then discarded, as a parser does with a malformed line.
	b.Str(Cloud, "bad")
	b.Int(SrcPort, 9)
	b.Discard()
	// Row 3: sparse.
	b.Str(Account, "123")
	b.Int(SourceLine, 3)
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	// Row 4: in the next batch.
	b.Str(Account, "has space")
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`start_time=1970-01-01T00:00:01Z cloud=aws src_addr=10.0.0.1 dst_addr=2001:db8::1 src_port=443 packets=1099511627776 sampled=false labels=ecs-task-id=abc source_object=obj.log source_line=1`,
		`account=123 source_object=obj.log source_line=3`,
		`account="has space" source_object=obj.log`,
	}
	if diff := cmp.Diff(want, dumps); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestBuilderWindow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rows := 0
	b := NewBuilder(mem, 0, func(rec arrow.RecordBatch) error { rows += int(rec.NumRows()); return nil })
	defer b.Release()
	b.SetWindow(Window{Since: 100, Until: 200})
	for _, tc := range []struct{ start, end int64 }{
		{10, 99},   // ends before since: dropped
		{10, 100},  // touches since: kept
		{150, 160}, // inside: kept
		{199, 300}, // starts before until: kept
		{200, 300}, // starts at until: dropped
	} {
		b.Time(StartTime, tc.start)
		b.Time(EndTime, tc.end)
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// A row with no times cannot be judged and is kept.
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if rows != 4 || b.Filtered() != 2 {
		t.Errorf("kept %d rows and filtered %d, want 4 and 2", rows, b.Filtered())
	}
}
