package flowbeam

import (
	"context"
	"reflect"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"   // gs://
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // paths
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"    // s3://
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/filter"

	"github.com/flowsym/flowsym/dist/beam/azblobfs"
)

var registerOnce sync.Once

// Register registers what the pipeline's workers need: its DoFns, combine
// functions and coders, and the azblob:// file system (Beam's s3://, gs://
// and local ones register themselves on import). Beam looks them up by
// name in a process-wide registry, so every binary that runs the pipeline
// calls Register before beam.Init, which is where a worker starts; Build
// calls it too. It may be called more than once.
func Register() {
	registerOnce.Do(func() {
		azblobfs.Register()
		register.DoFn3x1[context.Context, string, func(Object), error](&listFn{})
		register.DoFn5x1[context.Context, Object, func([]byte, []byte), func(uint64, []byte), func(TempFile), error](&decodeFn{})
		register.DoFn3x1[[]byte, []byte, func([]byte, int64), error](&popularFn{})
		register.DoFn7x1[context.Context, []byte, []byte, func(*uint64, *[]byte) bool, func(*[]byte, *int64) bool, func(int, []byte), func(TempFile), error](&judgeFn{})
		register.DoFn4x1[context.Context, int, func(*[]byte) bool, func(TempFile), error](&writeFindingsFn{})
		register.DoFn3x1[context.Context, TempFile, func(string), error](&renameFn{})
		register.DoFn3x1[context.Context, []byte, func(*string) bool, error](&finalizeFn{})
		register.Function2x1(sumFn)
		register.Function3x0(keepPopular)
		register.Combiner2[connAcc, []byte](&connCombineFn{})
		register.Combiner2[obsAcc, []byte](&obsCombineFn{})
		register.Emitter1[Object]()
		register.Emitter1[TempFile]()
		register.Emitter1[string]()
		register.Emitter2[[]byte, []byte]()
		register.Emitter2[uint64, []byte]()
		register.Emitter2[[]byte, int64]()
		register.Emitter2[int, []byte]()
		register.Iter1[[]byte]()
		register.Iter1[string]()
		register.Iter2[uint64, []byte]()
		register.Iter2[[]byte, int64]()
		beam.RegisterType(reflect.TypeFor[Object]())
		beam.RegisterType(reflect.TypeFor[TempFile]())
		beam.RegisterCoder(reflect.TypeFor[connAcc](), encodeConnAcc, decodeConnAcc)
		beam.RegisterCoder(reflect.TypeFor[obsAcc](), encodeObsAcc, decodeObsAcc)
	})
}

// Build adds flowsym's analysis to the pipeline of s: list and read the
// inputs, correlate, judge, and write the findings and the export that
// opts name. It checks the options (and the topology) first.
func Build(s beam.Scope, opts Options) error {
	Register()
	p, err := opts.resolve(time.Now())
	if err != nil {
		return err
	}
	w := p.wire()
	s = s.Scope("flowsym")

	roots := beam.CreateList(s, p.Inputs)
	objects := beam.ParDo(s.Scope("list"), &listFn{Window: w.Window}, roots)
	// Listing runs on one worker per input; the reshuffle spreads the
	// objects over every worker before the expensive part.
	objects = beam.Reshuffle(s, objects)
	conns, observers, flowFiles := beam.ParDo3(s.Scope("decode"), &decodeFn{Plan: w}, objects)

	merged := beam.CombinePerKey(s.Scope("merge connections"), &connCombineFn{Gap: p.topo.SessionGap}, conns)
	mergedObs := beam.CombinePerKey(s.Scope("merge observers"), &obsCombineFn{}, observers)
	popular := beam.ParDo(s.Scope("popularity"), &popularFn{}, merged)
	popular = beam.CombinePerKey(s.Scope("popularity"), sumFn, popular)
	popular = beam.ParDo(s.Scope("popularity"), keepPopular, popular)

	findings, judgeFiles := beam.ParDo2(s.Scope("judge"), &judgeFn{Plan: w}, merged,
		beam.SideInput{Input: mergedObs}, beam.SideInput{Input: popular})

	files := []beam.PCollection{flowFiles, judgeFiles}
	if p.Output != "" {
		shards := beam.GroupByKey(s.Scope("findings"), findings)
		files = append(files, beam.ParDo(s.Scope("findings"), &writeFindingsFn{Plan: w}, shards))
	}
	all := beam.Reshuffle(s.Scope("commit"), beam.Flatten(s.Scope("commit"), files...))
	tags := beam.ParDo(s.Scope("commit"), &renameFn{}, all)
	tags = filter.Distinct(s.Scope("commit"), tags)
	beam.ParDo0(s.Scope("finalize"), &finalizeFn{Plan: w}, beam.Impulse(s), beam.SideInput{Input: tags})
	return nil
}
