package normalize

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/google/go-cmp/cmp"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/ingesttest"
	"github.com/flowsym/flowsym/normalize/schema"
)

// TestAWSGolden decodes each AWS fixture in testdata/aws and compares rows
// and problems with its .golden file (go test -update rewrites them).
func TestAWSGolden(t *testing.T) {
	files, err := filepath.Glob("../testdata/aws/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range files {
		if strings.HasSuffix(path, ".golden") || strings.HasSuffix(path, ".gz") {
			continue
		}
		n++
		name := "aws/" + filepath.Base(path)
		t.Run(filepath.Base(path), func(t *testing.T) {
			data := readFile(t, path)
			got := decode(t, Options{}, name, data)
			checkGolden(t, filepath.Join("../testdata/golden/aws", strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))+".golden"), goldenText(got))

			// The same bytes gzipped give the same rows and problems.
			zipped := decode(t, Options{}, name, gzipBytes(t, data))
			if diff := cmp.Diff(got, zipped, cmp.AllowUnexported(decoded{}), cmp.Comparer(errEqual)); diff != "" {
				t.Errorf("gzip changes the result (-plain +gzip):\n%s", diff)
			}
		})
	}
	if n < 7 {
		t.Fatalf("found only %d fixtures", n)
	}
}

func errEqual(a, b error) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Error() == b.Error())
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestAWSTruncatedGzip cuts a gzip object at every few bytes: the records
// read before the cut are kept, the damage is reported once with the
// object name, and nothing panics or errors the run. The object spans
// several of the blocks inflated ahead of the parser (inflateBlock).
func TestAWSTruncatedGzip(t *testing.T) {
	const rows = 12000
	var sb strings.Builder
	sb.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	for i := range rows {
		sb.WriteString("2 111122223333 eni-0a1b2c3d4e5f60001 10.1.5.5 93.184.216.34 ")
		sb.WriteString(strings.Repeat("1", 1+i%4))
		sb.WriteString(" 443 6 12 1840 1763632800 1763632860 ACCEPT OK\n")
	}
	full := gzipBytes(t, []byte(sb.String()))
	whole := decodePorts(t, "x.log.gz", full)
	if sb.Len() < 4*inflateBlock {
		t.Fatalf("the object is %d bytes, not several inflate blocks", sb.Len())
	}
	if len(whole.rows) != rows || len(whole.problems) != 0 {
		t.Fatalf("whole object: %d rows, problems %v", len(whole.rows), whole.problems)
	}
	prev := -1
	for cut := 20; cut < len(full)-8; cut += len(full) / 41 {
		got := decodePorts(t, "x.log.gz", full[:cut])
		if got.err != nil {
			t.Fatalf("cut %d: run error %v", cut, got.err)
		}
		if len(got.problems) != 1 || !strings.Contains(got.problems[0], "x.log.gz") || !strings.Contains(got.problems[0], "damaged object") {
			t.Fatalf("cut %d: problems %q", cut, got.problems)
		}
		if len(got.rows) < prev || len(got.rows) >= rows {
			t.Fatalf("cut %d: %d rows after %d at an earlier cut", cut, len(got.rows), prev)
		}
		prev = len(got.rows)
		// Every kept row is a whole, correct record.
		for i, r := range got.rows {
			if r != strings.Repeat("1", 1+i%4)+" line "+strconv.Itoa(i+2) {
				t.Fatalf("cut %d: row %d is %q", cut, i, r)
			}
		}
	}
	if prev < rows/2 {
		t.Errorf("a cut near the end kept only %d rows", prev)
	}
	// A corrupt header is damage too, with no rows.
	bad := decode(t, Options{}, "y.log.gz", []byte{0x1f, 0x8b, 9, 9, 9})
	if len(bad.rows) != 0 || len(bad.problems) != 1 || !strings.Contains(bad.problems[0], "damaged object") {
		t.Errorf("corrupt header: %d rows, problems %q", len(bad.rows), bad.problems)
	}
}

// decodePorts decodes one object in full-size batches and keeps each row's
// source port and line: decode's every-column rows are too slow for
// objects of this size.
func decodePorts(t *testing.T, name string, data []byte) portsDecoded {
	t.Helper()
	var out portsDecoded
	b := schema.NewBuilder(memory.NewGoAllocator(), 0, func(rec arrow.RecordBatch) error {
		v, err := schema.NewView(rec)
		if err != nil {
			return err
		}
		for i := range v.Rows() {
			out.rows = append(out.rows, v.Format(schema.SrcPort, i)+" line "+v.Format(schema.SourceLine, i))
		}
		return nil
	})
	defer b.Release()
	report := func(p *Problem) error { out.problems = append(out.problems, p.Error()); return nil }
	out.err = NewDecoder(Options{}).Object(context.Background(), ingesttest.NewMem(map[string][]byte{name: data}), ingest.Object{Name: name}, b, report)
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	return out
}

type portsDecoded struct {
	rows     []string
	problems []string
	err      error
}

// TestAWSFieldEdgeCases checks each field conversion on its edge values.
func TestAWSFieldEdgeCases(t *testing.T) {
	const header = "srcaddr dstaddr srcport packets start action log-status flow-direction tcp-flags protocol traffic-path\n"
	cases := []struct {
		name, line string
		want       map[string]string // nil: the line is malformed
	}{
		{"dash is null in every field", "- - - - - - - - - - -", map[string]string{"src_addr": "", "packets": "", "start_time": "", "action": ""}},
		{"ipv6 and ipv4-mapped", "2001:db8::1 ::ffff:10.0.0.1 0 0 0 ACCEPT OK egress 0 6 1",
			map[string]string{"src_addr": "2001:db8::1", "dst_addr": "10.0.0.1", "src_port": "0", "packets": "0", "start_time": "1970-01-01T00:00:00Z", "tcp_flags": "0"}},
		{"max port and counter", "10.0.0.1 10.0.0.2 65535 9223372036854775807 253402300799 REJECT SKIPDATA ingress 255 255 8",
			map[string]string{"src_port": "65535", "packets": "9223372036854775807", "start_time": "9999-12-31T23:59:59Z", "protocol": "255", "log_status": "skipdata"}},
		{"port over 65535", "10.0.0.1 10.0.0.2 65536 1 1 ACCEPT OK egress 0 6 1", nil},
		{"counter over int64", "10.0.0.1 10.0.0.2 1 9223372036854775808 1 ACCEPT OK egress 0 6 1", nil},
		{"counter over uint64", "10.0.0.1 10.0.0.2 1 184467440737095516150 1 ACCEPT OK egress 0 6 1", nil},
		{"negative time", "10.0.0.1 10.0.0.2 1 1 -1 ACCEPT OK egress 0 6 1", nil},
		{"time past year 9999", "10.0.0.1 10.0.0.2 1 1 253402300800 ACCEPT OK egress 0 6 1", nil},
		{"sign on a number", "10.0.0.1 10.0.0.2 +1 1 1 ACCEPT OK egress 0 6 1", nil},
		{"lower-case action", "10.0.0.1 10.0.0.2 1 1 1 accept OK egress 0 6 1", nil},
		{"unknown direction", "10.0.0.1 10.0.0.2 1 1 1 ACCEPT OK inbound 0 6 1", nil},
		{"protocol over 255", "10.0.0.1 10.0.0.2 1 1 1 ACCEPT OK egress 0 256 1", nil},
		{"address with zone", "fe80::1%eth0 10.0.0.2 1 1 1 ACCEPT OK egress 0 6 1", nil},
		{"address with brackets", "[2001:db8::1] 10.0.0.2 1 1 1 ACCEPT OK egress 0 6 1", nil},
		{"tabs between fields", "10.0.0.1\t10.0.0.2\t\t1 1 1 ACCEPT OK egress 0 6 1", map[string]string{"dst_addr": "10.0.0.2", "src_port": "1"}},
		{"too few fields", "10.0.0.1 10.0.0.2 1 1 1 ACCEPT OK egress 0 6", nil},
		{"too many fields", "10.0.0.1 10.0.0.2 1 1 1 ACCEPT OK egress 0 6 1 1", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := decode(t, Options{}, "edge.log", []byte(header+tc.line+"\n"))
			if tc.want == nil {
				if len(got.rows) != 0 || len(got.problems) != 1 || !strings.Contains(got.problems[0], "edge.log:2: malformed record") {
					t.Fatalf("rows %v, problems %q; want one malformed-record problem at line 2", got.rows, got.problems)
				}
				return
			}
			if len(got.rows) != 1 || len(got.problems) != 0 {
				t.Fatalf("rows %v, problems %q", got.rows, got.problems)
			}
			want(t, got.rows[0], tc.want)
		})
	}
}

func TestAWSHeaderlessFormats(t *testing.T) {
	line := "10.0.0.1 10.0.0.2 443 egress\n"
	f, err := ParseAWSFormat("${srcaddr} ${dstaddr} ${srcport} ${flow-direction}")
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, Options{AWSHeaderless: f}, "cwl.log", []byte(line))
	if len(got.rows) != 1 || got.rows[0]["direction"] != "egress" {
		t.Fatalf("rows %v problems %v", got.rows, got.problems)
	}
	// Without the format the default (v2) is assumed and the line is bad,
	// with a hint of what to do.
	got = decode(t, Options{}, "cwl.log", []byte(strings.Repeat("x ", 36)+"\n"))
	if len(got.problems) != 1 || !strings.Contains(got.problems[0], "--aws-format tgw") {
		t.Errorf("problems %q", got.problems)
	}
	var tooMany []string
	for i := range maxLineFields + 1 {
		tooMany = append(tooMany, fmt.Sprintf("field-%d", i))
	}
	for _, bad := range []string{"", "srcaddr srcaddr", strings.Join(tooMany, " ")} {
		if _, err := ParseAWSFormat(bad); err == nil {
			t.Errorf("ParseAWSFormat(%.40q) accepted", bad)
		}
	}
	// A line that long is reported as a bad line, and the lines after it
	// are still read.
	header := strings.Join(append([]string{"srcaddr", "dstaddr"}, tooMany...), " ")
	got = decode(t, Options{}, "wide.log", []byte(header+"\n2 111122223333 eni-1 10.1.5.5 93.184.216.34 40001 443 6 12 1840 1763632800 1763632860 ACCEPT OK\n"))
	if len(got.rows) != 1 || len(got.problems) != 1 || !strings.Contains(got.problems[0], "wide.log:1: malformed record: has 131 fields") {
		t.Errorf("rows %v problems %q", got.rows, got.problems)
	}
}

func TestAWSLongLineAndBinary(t *testing.T) {
	data := []byte("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		strings.Repeat("9", 2<<20) + "\n" +
		"2 111122223333 eni-1 10.1.5.5 93.184.216.34 40001 443 6 12 1840 1763632800 1763632860 ACCEPT OK\n")
	got := decode(t, Options{}, "long.log", data)
	if len(got.rows) != 1 || got.rows[0]["source_line"] != "3" {
		t.Fatalf("rows %v", got.rows)
	}
	if len(got.problems) != 1 || !strings.Contains(got.problems[0], "long.log:2: malformed record: line longer than 1 MiB") {
		t.Errorf("problems %q", got.problems)
	}
	// Random bytes are not a format flowsym knows: one problem, no rows.
	junk := decode(t, Options{}, "junk.bin", []byte{0, 1, 2, 3, 0xff, 0xfe, 'P', 'K'})
	if len(junk.rows) != 0 || len(junk.problems) != 1 || !strings.Contains(junk.problems[0], "unknown format") {
		t.Errorf("junk: rows %v problems %q", junk.rows, junk.problems)
	}
}

func TestProblemClasses(t *testing.T) {
	ps := NewProblems(1, 1)
	if err := ps.Add(&Problem{Object: "a", Err: lineErr(ErrUnknownField, "x")}); err != nil {
		t.Fatal("a warning must not count towards the limit")
	}
	if err := ps.Add(&Problem{Object: "a", Line: 3, Err: lineErr(ErrMalformed, "bad")}); err != nil {
		t.Fatal(err)
	}
	err := ps.Add(&Problem{Object: "b", Line: 4, Err: lineErr(ErrMalformed, "worse")})
	if !errors.Is(err, ErrTooManyProblems) || !strings.Contains(err.Error(), "b:4") {
		t.Fatalf("err = %v", err)
	}
	if ps.Errors() != 2 || ps.Count(ErrMalformed) != 2 || ps.Total() != 3 || len(ps.Examples()) != 2 {
		t.Errorf("errors %d malformed %d total %d examples %d", ps.Errors(), ps.Count(ErrMalformed), ps.Total(), len(ps.Examples()))
	}
	if got := ps.Summary(); got != "2 malformed record, 1 unknown field" {
		t.Errorf("summary %q", got)
	}
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}

// TestAWSConcatenatedGzip: an object of several gzip members, as appending
// writers produce, is read through to the last member.
func TestAWSConcatenatedGzip(t *testing.T) {
	header := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
	line := "2 111122223333 eni-0a1b2c3d4e5f60001 10.1.5.5 93.184.216.34 40000 443 6 12 1840 1763632800 1763632860 ACCEPT OK\n"
	data := append(gzipBytes(t, []byte(header+strings.Repeat(line, 3))), gzipBytes(t, []byte(strings.Repeat(line, 4)))...)
	got := decodePorts(t, "x.log.gz", data)
	if len(got.rows) != 7 || len(got.problems) != 0 || got.err != nil {
		t.Fatalf("%d rows, problems %q, err %v", len(got.rows), got.problems, got.err)
	}
	if got.rows[6] != "40000 line 8" {
		t.Errorf("last row %q", got.rows[6])
	}
}
