package flowbeam

import (
	"bytes"
	"context"
	"errors"
	"hash/fnv"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"

	"github.com/flowsym/flowsym/correlate"
	"github.com/flowsym/flowsym/report"
	"github.com/flowsym/flowsym/report/export"
)

// judgeFn judges merged connections with correlate.Judge, built once per
// worker from the side inputs: every merged observer and the popular
// endpoints. It emits each finding as a JSON line (report.JSON's form),
// keyed by its output shard, and with an export writes connections/ and
// findings/ rows, one set of files per bundle.
type judgeFn struct {
	Plan wirePlan

	plan  *plan
	fss   *fileSystems
	judge *correlate.Judge
	sink  *tempCreator
	aw    *export.AnalysisWriter
	buf   bytes.Buffer
}

func (f *judgeFn) Setup() error {
	var err error
	f.plan, err = f.Plan.plan()
	f.fss = &fileSystems{}
	return err
}

func (f *judgeFn) Teardown() { f.fss.close() }

// StartBundle builds the judge from the side inputs the first time. They
// are the same for the whole run (one global window), so a worker builds
// it once. (Beam wants the side inputs and emitters wherever
// ProcessElement has them.)
func (f *judgeFn) StartBundle(ctx context.Context, observers func(*uint64, *[]byte) bool, popular func(*[]byte, *int64) bool,
	_ func(int, []byte), _ func(TempFile)) error {
	f.aw, f.sink = nil, nil
	if f.judge != nil {
		return nil
	}
	return f.build(ctx, observers, popular)
}

// build makes the judge from the side inputs.
func (f *judgeFn) build(ctx context.Context, observers func(*uint64, *[]byte) bool, popular func(*[]byte, *int64) bool) error {
	var obs []*correlate.Observer
	var h uint64
	var b []byte
	for observers(&h, &b) {
		o := &correlate.Observer{}
		if err := o.UnmarshalBinary(b); err != nil {
			return err
		}
		obs = append(obs, o)
	}
	pop := map[correlate.Endpoint]uint32{}
	var n int64
	for popular(&b, &n) {
		var e correlate.Endpoint
		if err := e.UnmarshalBinary(b); err != nil {
			return err
		}
		pop[e] = uint32(n)
	}
	f.judge = correlate.NewJudge(correlate.Options{Topology: f.plan.topo, UDP: f.plan.UDP, Checks: f.plan.Checks}, obs, pop)
	log.Infof(ctx, "flowsym: judging against %d observers and %d popular endpoints", len(obs), len(pop))
	return nil
}

func (f *judgeFn) ProcessElement(ctx context.Context, key, state []byte, observers func(*uint64, *[]byte) bool, popular func(*[]byte, *int64) bool,
	findings func(int, []byte), files func(TempFile)) error {
	if f.plan.Export != "" && f.aw == nil {
		var err error
		f.sink = &tempCreator{fss: f.fss, root: f.plan.Export, temp: join(tempRoot(f.plan.Export, f.plan.RunID), newID())}
		f.aw, err = export.NewAnalysisWriter(ctx, f.sink, export.AnalysisOptions{
			Schema: f.plan.ExportSchema, RunID: f.plan.RunID + "-" + newID(), Version: f.plan.version(), Public: f.plan.topo.IsPublic})
		if err != nil {
			return err
		}
	}
	var k correlate.Key
	if err := k.UnmarshalBinary(key); err != nil {
		return err
	}
	var s correlate.ConnState
	if err := s.UnmarshalBinary(state); err != nil {
		return err
	}
	shard := 0
	if f.plan.OutputShards > 1 {
		h := fnv.New32a()
		h.Write(key)
		shard = int(h.Sum32() % uint32(f.plan.OutputShards))
	}
	var err error
	f.judge.Verdicts(k, &s, func(v correlate.Verdict) {
		connsJudged.Inc(ctx, 1)
		switch {
		case v.OutsideLeg:
			outsideLegs.Inc(ctx, 1)
		case v.Insufficient && len(v.Findings) == 0:
			connsShort.Inc(ctx, 1)
		}
		findingsRaised.Inc(ctx, int64(len(v.Findings)))
		if f.plan.Output != "" && len(v.Findings) > 0 {
			f.buf.Reset()
			err = errors.Join(err, report.JSON(&f.buf, v.Findings))
			for line := range bytes.Lines(f.buf.Bytes()) {
				findings(shard, bytes.Clone(line))
			}
		}
		if f.aw != nil {
			err = errors.Join(err, f.aw.Connection(v))
		}
	})
	return err
}

func (f *judgeFn) FinishBundle(ctx context.Context, _ func(*uint64, *[]byte) bool, _ func(*[]byte, *int64) bool,
	findings func(int, []byte), files func(TempFile)) error {
	if f.aw == nil {
		return nil
	}
	aw := f.aw
	f.aw = nil
	// A bundle without findings (or connections) leaves that folder to
	// others: the placeholder file of an empty folder is finalize's.
	c := aw.Counts()
	f.sink.keep = func(name string) bool {
		folder, _, _ := strings.Cut(name, "/")
		return (folder == export.DirConnections && c.Connections > 0) || (folder == export.DirFindings && c.Findings > 0)
	}
	if err := aw.Close(); err != nil {
		return err
	}
	for _, t := range f.sink.take() {
		files(t)
	}
	return nil
}
