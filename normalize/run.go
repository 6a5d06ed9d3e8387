package normalize

import (
	"context"
	"errors"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/internal/arrowpool"
	"github.com/flowsym/flowsym/normalize/schema"
)

// Job is one object to decode and the source it comes from.
type Job struct {
	Source ingest.Source
	Object ingest.Object
	// SkipLines drops the object's records at or below this line: they
	// were taken by an earlier run (see schema.Builder.SkipThrough).
	SkipLines int64
}

// ObjectResult is what decoding one object gave.
type ObjectResult struct {
	Rows    int64 // rows kept
	MaxLine int64 // the highest line (or record index) read
	// Retry is set when the object could not be read whole because of a
	// failure that another attempt may not meet (a store that kept
	// failing, a connection that kept breaking): a scheduled run should
	// read it again next time.
	Retry bool
}

// RunConfig configures Run.
type RunConfig struct {
	// Workers is the number of objects decoded at once; <= 0 means 1.
	Workers int
	// BatchRows is the number of rows per batch; <= 0 means the default.
	BatchRows int
	// Window drops records outside it.
	Window schema.Window
	// Mem allocates Arrow memory; nil means a pool that reuses the buffers
	// of released batches (internal/arrowpool), so a sink must copy or
	// Retain what it keeps of a batch.
	Mem memory.Allocator
	// Problems collects bad input; it decides when the run gives up.
	Problems *Problems
	// ConcurrentSink says the sink is safe for concurrent use: workers call
	// it directly instead of one at a time.
	ConcurrentSink bool
	// OnObject, when set, is called after each object with what it gave.
	// Workers call it concurrently.
	OnObject func(Job, ObjectResult)
}

// Run decodes every job that list yields, Workers objects at a time, and
// hands each batch to sink. Calls to sink are serialised, so a sink needs
// no locking, unless cfg.ConcurrentSink says it does its own; a batch is
// valid only during the call.
//
// Memory is bounded by Workers: each worker holds one object's read
// buffers and one batch under construction, and list streams the jobs.
func (d *Decoder) Run(ctx context.Context, cfg RunConfig, list func(yield func(Job) error) error, sink func(arrow.RecordBatch) error) error {
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.Mem == nil {
		cfg.Mem = arrowpool.NewDirty(0) // the builder writes every byte it reads
	}
	if cfg.Problems == nil {
		cfg.Problems = NewProblems(-1, 0)
	}
	g, ctx := errgroup.WithContext(ctx)
	jobs := make(chan Job, cfg.Workers)
	g.Go(func() error {
		defer close(jobs)
		return list(func(j Job) error {
			select {
			case jobs <- j:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	})
	var sinkMu sync.Mutex
	emit := func(rec arrow.RecordBatch) error {
		if !cfg.ConcurrentSink {
			sinkMu.Lock()
			defer sinkMu.Unlock()
		}
		if err := sink(rec); err != nil {
			return &sinkError{err}
		}
		return nil
	}
	report := func(p *Problem) error { return cfg.Problems.Add(p) }
	for range cfg.Workers {
		g.Go(func() error {
			b := schema.NewBuilder(cfg.Mem, cfg.BatchRows, emit)
			defer b.Release()
			b.SetWindow(cfg.Window)
			for j := range jobs {
				res, err := d.Job(ctx, j, b, report)
				if err != nil {
					return err
				}
				if cfg.OnObject != nil {
					cfg.OnObject(j, res)
				}
			}
			return b.Flush()
		})
	}
	err := g.Wait()
	if se, ok := errors.AsType[*sinkError](err); ok {
		return se.err // the sink's own error is what the caller wants
	}
	return err
}
