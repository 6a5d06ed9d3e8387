package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/flowsym/flowsym/ingest/ingesttest/emulator"
	"github.com/flowsym/flowsym/internal/parquetcheck"
)

// flowsym runs the real command line in-process.
func flowsym(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// goldenRows counts the rows of the AWS fixtures' golden files.
func goldenRows(t *testing.T) int {
	n := 0
	files, _ := filepath.Glob("../../testdata/golden/aws/*.golden")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		body, _, _ := strings.Cut(string(data), "-- problems")
		n += strings.Count(body, "\n")
	}
	if n == 0 {
		t.Fatal("no golden rows")
	}
	return n
}

func TestNormalizeSingleFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "flows.parquet")
	code, _, stderr := flowsym(t, "normalize", "../../testdata/aws", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f := parquetcheck.Read(t, out)
	if want := goldenRows(t); len(f.Rows) != want {
		t.Errorf("%d rows, the golden files hold %d", len(f.Rows), want)
	}
	for _, want := range []string{
		"input problems: 12 malformed record, 1 unknown field",
		"../../testdata/aws/malformed.log:4: malformed record: field srcaddr",
		fmt.Sprintf("wrote %d rows to %s", goldenRows(t), out),
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	objects := map[string]bool{}
	for _, r := range f.Rows {
		objects[r["source_object"]] = true
	}
	if !objects["../../testdata/aws/default-v2.log"] {
		t.Errorf("source objects %v", objects)
	}
}

// datedTree lays out AWS logs of two days the way S3 delivers them, and a
// corrupt object on a third day that a time-bounded run must never open.
func datedTree(t *testing.T) string {
	root := t.TempDir()
	base := filepath.Join(root, "AWSLogs", "111122223333", "vpcflowlogs", "us-east-1")
	write := func(day, hhmm, body string) {
		dir := filepath.Join(base, "2025", "11", day)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		name := "111122223333_vpcflowlogs_us-east-1_fl-0abc_202511" + day + "T" + hhmm + "Z_h.log.gz"
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(body))
		zw.Close()
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile("../../testdata/aws/default-v2.log")
	if err != nil {
		t.Fatal(err)
	}
	write("20", "1000", string(data))                     // records of 2025-11-20T10:00
	write("20", "1005", string(data))                     // same records, next file
	write("10", "0000", "garbage that is not a flow log") // never opened
	return root
}

func TestNormalizePartitionedAndPruned(t *testing.T) {
	root := datedTree(t)
	out := filepath.Join(t.TempDir(), "export")
	code, _, stderr := flowsym(t, "normalize", root, "--out", out, "--run-id", "t1",
		"--since", "2025-11-20T09:00:00Z", "--until", "2025-11-20T11:00:00Z")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "unknown format") {
		t.Errorf("the object of 2025-11-10 was opened:\n%s", stderr)
	}
	if !strings.Contains(stderr, "skipped by key date") {
		t.Errorf("stderr does not report pruning:\n%s", stderr)
	}
	var files []string
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(files)
	want := []string{"cloud=aws/date=2025-11-20/part-00000-t1.parquet"}
	if strings.Join(files, ",") != strings.Join(want, ",") {
		t.Fatalf("files %v, want %v", files, want)
	}
	f := parquetcheck.Read(t, filepath.Join(out, want[0]))
	if len(f.Rows) != 16 {
		t.Errorf("%d rows, want 16 (8 from each of two objects)", len(f.Rows))
	}

	// The window also drops records: the objects of 10:00 and 10:05 are
	// read, but every record in them ended before 10:01:30.
	out2 := filepath.Join(t.TempDir(), "empty")
	code, _, stderr = flowsym(t, "normalize", root, "--out", out2, "--since", "2025-11-20T10:01:30Z", "--until", "2025-11-20T11:00:00Z")
	if code != exitOK || !strings.Contains(stderr, "wrote 0 rows") || !strings.Contains(stderr, "16 more outside --since/--until") {
		t.Errorf("exit %d:\n%s", code, stderr)
	}

	// A second run into the same folder needs --append.
	code, _, stderr = flowsym(t, "normalize", root, "--out", out, "--since", "2025-11-20T09:00:00Z")
	if code != exitUsage || !strings.Contains(stderr, "--append") {
		t.Errorf("rerun: exit %d: %s", code, stderr)
	}
}

func TestNormalizeGivesUp(t *testing.T) {
	out := filepath.Join(t.TempDir(), "flows.parquet")
	code, _, stderr := flowsym(t, "normalize", "../../testdata/aws/malformed.log", "--out", out, "--max-errors", "3")
	if code != exitInput || !strings.Contains(stderr, "too many input errors: more than 3") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a run that gave up left its output: %v", err)
	}
	if code, _, _ := flowsym(t, "normalize", "../../testdata/aws/malformed.log", "--out", out, "--max-errors", "-1"); code != exitOK {
		t.Errorf("--max-errors -1: exit %d", code)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"normalize", "../../testdata/aws"}, "--out is required"},
		{[]string{"normalize", "--out", dir + "/x.parquet"}, "no SOURCE given"},
		{[]string{"normalize", "x", "--out", dir + "/x.parquet", "--since", "yesterday"}, `--since: "yesterday" is not a time`},
		{[]string{"normalize", "x", "--out", dir + "/x.parquet", "--since", "2026-11-20", "--until", "2026-11-19"}, "must be after --since"},
		{[]string{"normalize", "x", "--out", dir + "/x.parquet", "--input-format", "csv"}, `unknown input format "csv"`},
		{[]string{"normalize", "x", "--out", dir + "/x.parquet", "--aws-format", "srcaddr bogus"}, "unknown AWS flow-log fields [bogus]"},
		{[]string{"normalize", "x", "--out", dir + "/x.parquet", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"normalize", "x", "--out", dir + "/x.parquet", "--concurrency", "-1"}, "--concurrency must be 0 (automatic) or more"},
		{[]string{"normalize", "s3://x", "--out", dir + "/x.parquet"}, `bad location "s3://x"`},
		{[]string{"normalize", "ftp://host/x", "--out", dir + "/x.parquet"}, "flowsym reads s3://, gs://, azblob://"},
	} {
		code, _, stderr := flowsym(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	if code, _, stderr := flowsym(t, "nosuchcommand"); code != exitUsage || !strings.Contains(stderr, "unknown command") {
		t.Errorf("unknown command: exit %d %q", code, stderr)
	}
	// A source that does not exist is a failed run, not a usage error.
	code, _, stderr := flowsym(t, "normalize", filepath.Join(dir, "nope"), "--out", filepath.Join(dir, "y.parquet"))
	if code != exitFailure || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing source: exit %d %q", code, stderr)
	}
}

// TestHelpExplainsEveryFlag checks that each flag's help has an example,
// as users of a tool like this expect.
func TestHelpExplainsEveryFlag(t *testing.T) {
	code, stdout, _ := flowsym(t, "normalize", "--help")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	cmd := newNormalizeCommand(&env{})
	cmd.Flags().VisitAll(func(f *pflagFlag) {
		if !strings.Contains(f.Usage, "example") && f.Name != "run-id" {
			t.Errorf("flag --%s has no example in its help", f.Name)
		}
		if !strings.Contains(stdout, "--"+f.Name) {
			t.Errorf("--help does not show --%s", f.Name)
		}
	})
	if !strings.Contains(stdout, "Examples:") {
		t.Error("--help has no examples section")
	}
}

type pflagFlag = pflag.Flag

// TestNormalizeMixedClouds normalizes a folder of every log kind (the
// fixtures of testdata/aws, gcp and azure, damaged ones included) into one
// Parquet file and reads it back with an independent reader: every kind is
// there, with the rows the parsers' golden files hold.
func TestNormalizeMixedClouds(t *testing.T) {
	out := filepath.Join(t.TempDir(), "mixed.parquet")
	code, _, stderr := flowsym(t, "normalize", "../../testdata/aws", "../../testdata/gcp", "../../testdata/azure", "--out", out, "--max-errors", "-1")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := 0
	for _, dir := range []string{"aws", "gcp", "azure"} {
		files, _ := filepath.Glob("../../testdata/golden/" + dir + "/*.golden")
		for _, f := range files {
			data, _ := os.ReadFile(f)
			body, _, _ := strings.Cut(string(data), "-- problems")
			want += strings.Count(body, "\n")
		}
	}
	f := parquetcheck.Read(t, out)
	if len(f.Rows) != want {
		t.Errorf("%d rows, the golden files hold %d", len(f.Rows), want)
	}
	kinds := map[string]int{}
	for _, r := range f.Rows {
		kinds[r["log_kind"]]++
		if r["cloud"] == "" || r["source_object"] == "" {
			t.Fatalf("row without cloud or source: %v", r)
		}
	}
	for _, k := range []string{"aws-vpc", "aws-tgw", "gcp-vpc", "gcp-nat", "azure-nsg", "azure-vnet"} {
		if kinds[k] == 0 {
			t.Errorf("no %s rows (have %v)", k, kinds)
		}
	}
}

func t0ctx() context.Context { return context.Background() }

// TestMain stops the Azurite some tests start, and removes the estate.
func TestMain(m *testing.M) {
	code := m.Run()
	emulator.StopAzurite()
	if logs, err := estateLogs(); err == nil {
		os.RemoveAll(filepath.Dir(logs))
	}
	os.Exit(code)
}
