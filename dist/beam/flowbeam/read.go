package flowbeam

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"

	"github.com/flowsym/flowsym/correlate"
	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/local"
	"github.com/flowsym/flowsym/ingest/stores"
	"github.com/flowsym/flowsym/normalize"
	"github.com/flowsym/flowsym/normalize/schema"
	"github.com/flowsym/flowsym/report/export"
)

// Object is one flow-log object to decode.
type Object struct {
	Name string
	Size int64
}

// window is the --since/--until window in microseconds; 0 is open.
type window struct {
	Since, Until int64
}

func (w window) span() ingest.Span {
	var s ingest.Span
	if w.Since != 0 {
		s.Start = time.UnixMicro(w.Since).UTC()
	}
	if w.Until != 0 {
		s.End = time.UnixMicro(w.Until).UTC()
	}
	return s
}

// listFn lists the objects of one input as the CLI does: a local file,
// folder or glob is walked with its dated folders outside the window
// pruned; an object store is listed by the date prefixes of the window
// only (ingest.ListWindow).
type listFn struct {
	Window window
}

func (f *listFn) ProcessElement(ctx context.Context, root string, emit func(Object)) error {
	span := f.Window.span()
	n := 0
	yield := func(o ingest.Object) error {
		n++
		emit(Object{Name: o.Name, Size: o.Size})
		return nil
	}
	loc, err := stores.Parse(root)
	if err != nil {
		return err
	}
	if loc.Scheme == stores.Local {
		src := &local.Source{SkipDir: func(key string) bool { return outside(key, span) }}
		err = src.List(ctx, loc.Prefix, func(o ingest.Object) error {
			if outside(o.Name, span) {
				return nil
			}
			return yield(o)
		})
	} else {
		var st ingest.Store
		var prefix string
		if st, prefix, err = stores.Open(ctx, root, stores.Options{}); err != nil {
			return err
		}
		if c, ok := st.(io.Closer); ok {
			defer c.Close()
		}
		err = ingest.ListWindow(ctx, st, prefix, span, yield)
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", ingest.Scrub(root), err)
	}
	objectsListed.Inc(ctx, int64(n))
	log.Infof(ctx, "flowsym: %d objects under %s", n, ingest.Scrub(root))
	return nil
}

// outside reports whether a key's dates put all its records outside the
// window, so the object or folder need not be read (as analyze does).
func outside(key string, span ingest.Span) bool {
	if span.IsZero() {
		return false
	}
	ks, ok := ingest.KeySpan(key)
	return ok && !ks.Overlaps(span)
}

// Metrics, as Beam counters.
var (
	objectsListed  = beam.NewCounter("flowsym", "objects_listed")
	objectsRead    = beam.NewCounter("flowsym", "objects_read")
	recordsRead    = beam.NewCounter("flowsym", "records")
	recordsOutside = beam.NewCounter("flowsym", "records_outside_window")
	inputProblems  = beam.NewCounter("flowsym", "input_problems")
	partialsHanded = beam.NewCounter("flowsym", "connection_partials")
	connsJudged    = beam.NewCounter("flowsym", "connections")
	connsShort     = beam.NewCounter("flowsym", "insufficient_coverage")
	outsideLegs    = beam.NewCounter("flowsym", "outside_legs")
	findingsRaised = beam.NewCounter("flowsym", "findings")
	filesWritten   = beam.NewCounter("flowsym", "files_written")
)

// problemsLogged is how many bad-input problems a bundle logs; the
// input_problems counter counts them all.
const problemsLogged = 20

// decodeFn reads whole objects with flowsym's decoder, folds their records
// into one correlator per bundle, as a CLI shard does, and hands the
// partial state over as binary KVs: connection key to ConnState, observer
// hash to Observer. With an export it also writes the normalized records
// to flows/, one set of files per bundle.
type decodeFn struct {
	Plan wirePlan

	plan    *plan
	fss     *fileSystems
	decoder *normalize.Decoder
	corr    *correlate.Correlator
	sink    *tempCreator
	aw      *export.AnalysisWriter
	logged  int
}

func (f *decodeFn) Setup() error {
	var err error
	if f.plan, err = f.Plan.plan(); err != nil {
		return err
	}
	f.fss = &fileSystems{}
	f.decoder = normalize.NewDecoder(normalize.Options{Format: f.plan.format, AWSHeaderless: f.plan.awsFormat})
	return nil
}

func (f *decodeFn) Teardown() { f.fss.close() }

// StartBundle takes the emitters because Beam wants them wherever
// FinishBundle has them.
func (f *decodeFn) StartBundle(_ context.Context, _ func([]byte, []byte), _ func(uint64, []byte), _ func(TempFile)) {
	f.corr = correlate.New(correlate.Options{Topology: f.plan.topo, UDP: f.plan.UDP})
	f.logged = 0
	f.aw, f.sink = nil, nil
}

func (f *decodeFn) ProcessElement(ctx context.Context, obj Object, conns func([]byte, []byte), observers func(uint64, []byte), files func(TempFile)) error {
	if f.plan.Export != "" && f.aw == nil {
		var err error
		f.sink = &tempCreator{fss: f.fss, root: f.plan.Export, temp: join(tempRoot(f.plan.Export, f.plan.RunID), newID()),
			keep: func(name string) bool { return strings.HasPrefix(name, export.DirFlows+"/") }}
		f.aw, err = export.NewAnalysisWriter(ctx, f.sink, export.AnalysisOptions{
			Schema: f.plan.ExportSchema, RunID: f.plan.RunID + "-" + newID(), Version: f.plan.version(), Public: f.plan.topo.IsPublic})
		if err != nil {
			return err
		}
	}
	sink := func(rec arrow.RecordBatch) error {
		if err := f.corr.Add(rec); err != nil {
			return err
		}
		if f.aw != nil {
			return f.aw.Flows(rec)
		}
		return nil
	}
	b := schema.NewBuilder(memory.DefaultAllocator, f.plan.BatchRows, sink)
	defer b.Release()
	b.SetWindow(schema.Window{Since: f.Plan.Window.Since, Until: f.Plan.Window.Until})
	report := func(p *normalize.Problem) error {
		inputProblems.Inc(ctx, 1)
		if f.logged < problemsLogged {
			f.logged++
			log.Warnf(ctx, "flowsym: %v", p)
		}
		return nil // bad input is counted, never fatal: as --max-errors -1
	}
	res, err := f.decoder.Job(ctx, normalize.Job{Source: source{f.fss}, Object: ingest.Object{Name: obj.Name, Size: obj.Size}}, b, report)
	if err == nil {
		err = b.Flush()
	}
	if err != nil {
		return fmt.Errorf("decode %s: %w", obj.Name, err)
	}
	objectsRead.Inc(ctx, 1)
	recordsRead.Inc(ctx, res.Rows)
	recordsOutside.Inc(ctx, b.Filtered())
	if f.corr.Connections() >= f.plan.MaxKeys {
		return f.drain(ctx, conns, observers)
	}
	return nil
}

// drain hands the bundle's partial state over.
func (f *decodeFn) drain(ctx context.Context, conns func([]byte, []byte), observers func(uint64, []byte)) error {
	n := int64(0)
	err := f.corr.Drain(func(k correlate.Key, s *correlate.ConnState) error {
		kb, _ := k.AppendBinary(nil)
		vb, err := s.AppendBinary(nil)
		conns(kb, vb)
		n++
		return err
	}, func(o *correlate.Observer) error {
		vb, err := o.AppendBinary(nil)
		observers(o.ID.Hash(), vb)
		return err
	})
	partialsHanded.Inc(ctx, n)
	return err
}

func (f *decodeFn) FinishBundle(ctx context.Context, conns func([]byte, []byte), observers func(uint64, []byte), files func(TempFile)) error {
	if err := f.drain(ctx, conns, observers); err != nil {
		return err
	}
	if f.aw == nil {
		return nil
	}
	aw := f.aw
	f.aw = nil
	if err := aw.Close(); err != nil {
		return err
	}
	for _, t := range f.sink.take() {
		files(t)
	}
	return nil
}
