package normalize

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowsym/flowsym/internal/samples"
)

// maxFuzzInput caps fuzz inputs, as Prometheus's textparse fuzzers do: the
// parser is linear, and large inputs only slow the fuzzer down.
const maxFuzzInput = 64 << 10

// addSeeds adds every file of the given folders as a seed, each under a
// comment of where it came from (the file name).
func addSeeds(f *testing.F, dirs ...string) {
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, p := range files {
			if strings.HasSuffix(p, ".golden") {
				continue
			}
			data, err := os.ReadFile(p)
			if err == nil && len(data) <= maxFuzzInput {
				f.Add(data) // seed: p
			}
		}
	}
}

func sharedSamples(f *testing.F, sub string) string {
	// The shared samples are optional for fuzzing: seeds from testdata
	// still exercise the parser where they are absent.
	dir := filepath.Join("..", "..", "shared", "samples", sub)
	if env := os.Getenv(samples.Env); env != "" {
		dir = filepath.Join(env, sub)
	}
	return dir
}

// checkInvariants holds for any input: no panic escaped (decode would have
// failed), no internal error, at most one row per line, lines within the
// input, and addresses that round-trip through their text form.
func checkInvariants(t *testing.T, data []byte, got decoded) {
	lines := bytes.Count(data, []byte("\n")) + 1
	for _, p := range got.problems {
		if strings.Contains(p, "internal error") {
			t.Fatalf("internal error: %s", p)
		}
	}
	for _, r := range got.rows {
		for _, col := range []string{"src_addr", "dst_addr", "pkt_src_addr", "pkt_dst_addr"} {
			if v, ok := r[col]; ok {
				a, err := netip.ParseAddr(v)
				if err != nil || a.String() != v {
					t.Fatalf("%s %q does not round-trip", col, v)
				}
			}
		}
		if n, err := strconv.Atoi(r["source_line"]); err != nil || n < 1 || n > lines {
			t.Fatalf("source_line %q outside 1..%d", r["source_line"], lines)
		}
	}
}

func FuzzParseAWSText(f *testing.F) {
	addSeeds(f, "../testdata/aws", sharedSamples(f, "aws"))
	f.Add([]byte("version srcaddr\n2 10.0.0.1\n")) // seed: minimal custom format
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		got := decode(t, Options{Format: FormatAWSText}, "fuzz.log", data)
		if got.err != nil {
			t.Fatalf("run error: %v", got.err)
		}
		checkInvariants(t, data, got)
		if lines := bytes.Count(data, []byte("\n")) + 1; len(got.rows) > lines*8 {
			// An envelope line can hold several records, never this many.
			t.Fatalf("%d rows from %d lines", len(got.rows), lines)
		}
	})
}

func FuzzParseAWSParquet(f *testing.F) {
	f.Add(awsParquetFile(f, sampleParquetRows())) // seed: AWS-typed columns written by parquet-go
	f.Add(awsParquetFile(f, nil))                 // seed: no rows
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		got := decode(t, Options{Format: FormatAWSParquet}, "fuzz.parquet", data)
		if got.err != nil {
			t.Fatalf("run error: %v", got.err)
		}
		for _, p := range got.problems {
			if strings.Contains(p, "internal error") {
				t.Fatalf("internal error: %s", p)
			}
		}
	})
}
