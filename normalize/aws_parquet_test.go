package normalize

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/flowsym/flowsym/ingest/local"
)

// awsParquetRow has the columns and types AWS writes when it delivers flow
// logs as Parquet (Athena's DDL for them: ints for ports, bigints for
// counters and times, strings for the rest). Pointers are nullable.
type awsParquetRow struct {
	Version     *int32  `parquet:"version,optional"`
	AccountID   *string `parquet:"account_id,optional"`
	InterfaceID *string `parquet:"interface_id,optional"`
	Srcaddr     *string `parquet:"srcaddr,optional"`
	Dstaddr     *string `parquet:"dstaddr,optional"`
	Srcport     *int32  `parquet:"srcport,optional"`
	Dstport     *int32  `parquet:"dstport,optional"`
	Protocol    *int64  `parquet:"protocol,optional"`
	Packets     *int64  `parquet:"packets,optional"`
	Bytes       *int64  `parquet:"bytes,optional"`
	Start       *int64  `parquet:"start,optional"`
	End         *int64  `parquet:"end,optional"`
	Action      *string `parquet:"action,optional"`
	LogStatus   *string `parquet:"log_status,optional"`
	TCPFlags    *int32  `parquet:"tcp_flags,optional"`
	FlowDir     *string `parquet:"flow_direction,optional"`
	Extra       *string `parquet:"x_custom_column,optional"`
}

func ptr[T any](v T) *T { return &v }

// awsParquetFile writes rows with parquet-go, a writer independent of the
// arrow-go reader flowsym uses, the way AWS's delivery would.
func awsParquetFile(t testing.TB, rows []awsParquetRow) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[awsParquetRow](&buf, parquet.Compression(&parquet.Snappy))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sampleParquetRows() []awsParquetRow {
	return []awsParquetRow{
		{Version: ptr[int32](5), AccountID: ptr("111122223333"), InterfaceID: ptr("eni-0a1"), Srcaddr: ptr("10.1.5.5"),
			Dstaddr: ptr("2001:db8::1"), Srcport: ptr[int32](40001), Dstport: ptr[int32](443), Protocol: ptr[int64](6),
			Packets: ptr[int64](12), Bytes: ptr[int64](1840), Start: ptr[int64](1763632800), End: ptr[int64](1763632860),
			Action: ptr("ACCEPT"), LogStatus: ptr("OK"), TCPFlags: ptr[int32](19), FlowDir: ptr("egress"), Extra: ptr("x")},
		// NODATA: AWS leaves the packet fields empty (NULL) or "-".
		{Version: ptr[int32](5), AccountID: ptr("111122223333"), InterfaceID: ptr("eni-0a1"), Srcaddr: ptr("-"),
			Start: ptr[int64](1763632800), End: ptr[int64](1763632860), LogStatus: ptr("NODATA")},
		// Bad: a port out of range is one bad row, not a bad file.
		{Srcport: ptr[int32](-1)},
	}
}

func TestAWSParquet(t *testing.T) {
	data := awsParquetFile(t, sampleParquetRows())
	name := "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/20/x.log.parquet"
	got := decode(t, Options{}, name, data)
	if got.err != nil {
		t.Fatal(got.err)
	}
	if len(got.rows) != 2 {
		t.Fatalf("rows %v", got.rows)
	}
	want(t, got.rows[0], map[string]string{"log_kind": "aws-vpc", "log_version": "5", "account": "111122223333", "observer": "eni-0a1",
		"src_addr": "10.1.5.5", "dst_addr": "2001:db8::1", "src_port": "40001", "protocol": "6", "packets": "12",
		"start_time": "2025-11-20T10:00:00Z", "action": "accept", "tcp_flags": "19", "direction": "egress", "source_line": "1"})
	want(t, got.rows[1], map[string]string{"log_status": "nodata", "src_addr": "", "packets": "", "action": "", "source_line": "2"})
	wantProblems := []string{
		name + ": unknown field: columns flowsym does not know, ignored: [x_custom_column]",
		name + `:3: malformed record: field srcport: "-1": out of range (0 to 65535)`,
	}
	if strings.Join(got.problems, "\n") != strings.Join(wantProblems, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got.problems, "\n"), strings.Join(wantProblems, "\n"))
	}
	// Detected by content alone, and read the same from a file on disk
	// (random access in place) as from a stream (spooled).
	path := filepath.Join(t.TempDir(), "flows.parquet")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	onDisk := decodeFrom(t, Options{}, &local.Source{}, path)
	if len(onDisk.rows) != 2 || onDisk.rows[0]["src_addr"] != "10.1.5.5" {
		t.Errorf("from disk: rows %v, problems %v", onDisk.rows, onDisk.problems)
	}
}

func TestAWSParquetCorrupt(t *testing.T) {
	data := awsParquetFile(t, sampleParquetRows())
	for _, cut := range []int{len(data) / 2, len(data) - 10} {
		got := decode(t, Options{}, "x.parquet", data[:cut])
		if len(got.problems) == 0 || !strings.Contains(strings.Join(got.problems, " "), "damaged object") {
			t.Errorf("cut at %d: problems %q", cut, got.problems)
		}
	}
}
