package normalize

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/klauspost/compress/gzip"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/ingesttest"
	"github.com/flowsym/flowsym/internal/arrowpool"
	"github.com/flowsym/flowsym/normalize/schema"
)

// awsLines writes n realistic default-format (v2) records: a few hundred
// ENIs, private and public peers, ephemeral ports, mostly TCP, 2% REJECT,
// occasional NODATA. The generator is seeded, so runs compare.
func awsLines(w io.Writer, n int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, seed))
	bw := bufio.NewWriter(w)
	bw.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	start := 1763632800
	for i := range n {
		eni := r.IntN(400)
		if i%500 == 499 {
			fmt.Fprintf(bw, "2 111122223333 eni-0a1b2c3d4e5f%05d - - - - - - - %d %d - NODATA\n", eni, start, start+60)
			continue
		}
		action := "ACCEPT"
		if r.IntN(50) == 0 {
			action = "REJECT"
		}
		proto, port := 6, []int{443, 443, 443, 80, 53, 5432, 8080}[r.IntN(7)]
		if port == 53 {
			proto = 17
		}
		src := fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(256), 1+r.IntN(254))
		dst := fmt.Sprintf("%d.%d.%d.%d", 3+r.IntN(200), r.IntN(256), r.IntN(256), 1+r.IntN(254))
		sp := 32768 + r.IntN(28000)
		pk := 1 + r.IntN(2000)
		if i%2 == 1 { // the reply direction
			src, dst, sp, port = dst, src, port, sp
		}
		t := start + r.IntN(300)
		fmt.Fprintf(bw, "2 111122223333 eni-0a1b2c3d4e5f%05d %s %s %d %d %d %d %d %d %d %s OK\n",
			eni, src, dst, sp, port, proto, pk, pk*(60+r.IntN(1400)), t, t+60, action)
	}
	bw.Flush()
}

func gzipped(b testing.TB, write func(io.Writer)) (zipped []byte, plain int) {
	var raw bytes.Buffer
	write(&raw)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw.Bytes())
	zw.Close()
	return buf.Bytes(), raw.Len()
}

// BenchmarkParseAWSText measures gzip AWS text to Arrow batches against a
// baseline run in the same process: inflating the same object and splitting
// it into lines, which every parser must do. Compare the two with
//
//	go test -run='^$' -bench=ParseAWSText -count=10 ./normalize | tee new.txt
//	benchstat -col /stage new.txt
func BenchmarkParseAWSText(b *testing.B) {
	const rows = 200_000
	zipped, plain := gzipped(b, func(w io.Writer) { awsLines(w, rows, 1) })
	b.Run(fmt.Sprintf("format=aws-v2/rows=%dk/stage=baseline-gunzip-lines", rows/1000), func(b *testing.B) {
		b.SetBytes(int64(plain))
		b.ReportAllocs()
		for b.Loop() {
			zr, _ := gzip.NewReader(bytes.NewReader(zipped))
			lr := newLineReader(zr)
			n := 0
			for {
				if _, _, err := lr.next(); err != nil {
					break
				}
				n++
			}
			if n != rows+1 {
				b.Fatalf("%d lines", n)
			}
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run(fmt.Sprintf("format=aws-v2/rows=%dk/stage=parse-normalize", rows/1000), func(b *testing.B) {
		benchDecode(b, zipped, plain, rows)
	})
}

// benchDecode runs the real Decoder over one object, batches discarded.
func benchDecode(b *testing.B, zipped []byte, plain, rows int) {
	b.SetBytes(int64(plain))
	b.ReportAllocs()
	d := NewDecoder(Options{})
	src := ingesttest.NewMem(map[string][]byte{"x.log.gz": zipped})
	mem := arrowpool.NewDirty(0) // as Run allocates
	got := 0
	bld := schema.NewBuilder(mem, 0, func(rec arrow.RecordBatch) error { got += int(rec.NumRows()); return nil })
	defer bld.Release()
	report := func(p *Problem) error { b.Fatal(p); return nil }
	cpu := processCPU()
	for b.Loop() {
		got = 0
		if err := d.Object(context.Background(), src, ingest.Object{Name: "x.log.gz"}, bld, report); err != nil {
			b.Fatal(err)
		}
		if err := bld.Flush(); err != nil {
			b.Fatal(err)
		}
		if got != rows {
			b.Fatalf("%d rows", got)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	// Inflate runs ahead on its own goroutine: with a core to spare, wall
	// time falls below CPU time.
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}
