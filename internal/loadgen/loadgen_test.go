package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

const testRecords = 60_000

func generate(t *testing.T, cfg Config) *Truth {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	truth, err := Generate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return truth
}

// objects returns the gzip objects under dir, by path.
func objects(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	ta := generate(t, Config{Records: testRecords, Seed: 7, Dir: a})
	tb := generate(t, Config{Records: testRecords, Seed: 7, Dir: b})
	oa, ob := objects(t, a), objects(t, b)
	if len(oa) != len(ob) || len(oa) != ta.Objects {
		t.Fatalf("%d and %d objects, truth says %d", len(oa), len(ob), ta.Objects)
	}
	for k, v := range oa {
		if !bytes.Equal(v, ob[k]) {
			t.Fatalf("%s differs between two runs of the same seed", k)
		}
	}
	if !reflect.DeepEqual(ta, tb) {
		t.Fatalf("truths differ:\n%+v\n%+v", ta, tb)
	}
	one := generate(t, Config{Records: testRecords, Seed: 7, OneObject: true})
	if one.Objects != 1 || one.OneWay != ta.OneWay || one.RawBytes != ta.RawBytes {
		t.Fatalf("one-object layout: %d objects, %d one-way, %d raw bytes; many: %d one-way, %d raw bytes",
			one.Objects, one.OneWay, one.RawBytes, ta.OneWay, ta.RawBytes)
	}
	other := generate(t, Config{Records: testRecords, Seed: 8})
	if other.RawBytes == ta.RawBytes && other.OneWay == ta.OneWay {
		t.Fatal("another seed gave the same estate")
	}
}

// lines calls fn with every record line (header skipped) of the estate.
func lines(t *testing.T, dir string, fn func(f []string)) {
	t.Helper()
	for name, b := range objects(t, dir) {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(name, err)
		}
		sc := bufio.NewScanner(zr)
		if !sc.Scan() || sc.Text() != Header {
			t.Fatalf("%s: no header line", name)
		}
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 14 {
				t.Fatalf("%s: %d fields: %q", name, len(f), sc.Text())
			}
			fn(f)
		}
		if err := sc.Err(); err != nil {
			t.Fatal(name, err)
		}
	}
}

// TestTruthIsTheSQLCount recomputes the benchmark's SQL query in Go: TCP
// records of log-status OK grouped by the unordered 5-tuple, the groups
// seen in one orientation only.
func TestTruthIsTheSQLCount(t *testing.T) {
	for _, one := range []bool{false, true} {
		dir := t.TempDir()
		truth := generate(t, Config{Records: testRecords, Seed: 3, Dir: dir, OneObject: one})
		type end struct{ addr, port string }
		type key struct{ a, b end }
		dirs := map[key]uint8{}
		var n, nodata int64
		lines(t, dir, func(f []string) {
			n++
			if f[13] == "NODATA" {
				nodata++
			}
			if f[13] != "OK" {
				return
			}
			for _, a := range f[3:5] {
				if _, err := netip.ParseAddr(a); err != nil {
					t.Fatalf("record %q: %v", strings.Join(f, " "), err)
				}
			}
			if f[7] != "6" {
				return
			}
			src, dst := end{f[3], f[5]}, end{f[4], f[6]}
			k, bit := key{src, dst}, uint8(1)
			if dst.addr < src.addr || dst.addr == src.addr && dst.port < src.port {
				k, bit = key{dst, src}, 2
			}
			dirs[k] |= bit
		})
		var oneWay int64
		for _, d := range dirs {
			if d != 3 {
				oneWay++
			}
		}
		if n != truth.Records || nodata != truth.NoData {
			t.Errorf("layout %s: %d records (%d NODATA), truth says %d (%d)", truth.Layout, n, nodata, truth.Records, truth.NoData)
		}
		if oneWay != truth.OneWay || truth.OneWay != truth.NoReply+truth.Rejected {
			t.Errorf("layout %s: the SQL definition counts %d one-way, truth says %d (%d no reply + %d rejected)",
				truth.Layout, oneWay, truth.OneWay, truth.NoReply, truth.Rejected)
		}
		if share := float64(truth.OneWay) / float64(truth.TCP); share < 0.01 || share > 0.025 {
			t.Errorf("one-way share of TCP connections %.4f, want 1-2%%", share)
		}
		if truth.Reused == 0 || truth.IPv6 == 0 || truth.LongLived == 0 || truth.Rejected == 0 || truth.NoData == 0 {
			t.Errorf("the mix lacks a kind: %+v", truth)
		}
	}
}
