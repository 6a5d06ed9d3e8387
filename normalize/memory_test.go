package normalize

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/klauspost/compress/gzip"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/report/export"
)

// genSource is a Source of gzip AWS objects generated while they are read,
// so a test can stream millions of records without holding them anywhere.
type genSource struct{ rows int }

func (g genSource) List(ctx context.Context, prefix string, fn func(ingest.Object) error) error {
	return fn(ingest.Object{Name: prefix})
}

func (g genSource) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	pr, pw := io.Pipe()
	go func() {
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		awsLines(zw, g.rows, 7)
		pw.CloseWithError(zw.Close())
	}()
	return pr, nil
}

// peakHeap samples the heap the last garbage collection found live while f
// runs and returns the highest value. The live heap, not the heap with its
// garbage, because how much garbage piles up between collections depends on
// the collector's pacing, not on what the decoder holds.
func peakHeap(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	return peak
}

// normalizeRun streams one generated object of rows records through the
// decoder into a partitioned Parquet export, as `flowsym normalize` does.
func normalizeRun(tb testing.TB, rows int) {
	w := export.NewFlowWriter(context.Background(), export.Dir(tb.TempDir()), export.Options{Partitioned: true, RunID: "m"})
	d := NewDecoder(Options{})
	list := func(yield func(Job) error) error {
		return yield(Job{Source: genSource{rows: rows}, Object: ingest.Object{Name: "gen.log.gz"}})
	}
	n := int64(0)
	sink := func(rec arrow.RecordBatch) error { n += rec.NumRows(); return w.Write(rec) }
	if err := d.Run(context.Background(), RunConfig{Workers: 1}, list, sink); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	if n != int64(rows) {
		tb.Fatalf("%d rows, want %d", n, rows)
	}
}

// TestMemoryFlat shows that normalize streams: five times the input does
// not raise the peak heap (one batch and one buffered row group per
// partition, whatever the input size). The smaller run is big enough to
// fill several row groups, the steady state.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 2.4M records")
	}
	small := peakHeap(func() { normalizeRun(t, 400_000) })
	large := peakHeap(func() { normalizeRun(t, 2_000_000) })
	t.Logf("peak live heap: %.1f MiB for 400k records, %.1f MiB for 2M", float64(small)/(1<<20), float64(large)/(1<<20))
	// Five times the input held in memory would be several times the
	// peak; the sampled peak itself moves by a fifth between runs (it
	// depends on when collections fall), hence the slack.
	if float64(large) > 1.5*float64(small)+16<<20 {
		t.Errorf("peak heap grew from %d to %d bytes for 5x the input", small, large)
	}
}

// BenchmarkNormalizeMemory reports the peak heap of a normalize run by
// input size; the figure should not grow with rows.
//
//	go test -run='^$' -bench=NormalizeMemory -benchtime=1x ./normalize
func BenchmarkNormalizeMemory(b *testing.B) {
	for _, rows := range []int{1_000_000, 4_000_000} {
		b.Run(fmt.Sprintf("rows=%dM", rows/1_000_000), func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				peak = max(peak, peakHeap(func() { normalizeRun(b, rows) }))
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
