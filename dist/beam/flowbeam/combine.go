package flowbeam

import (
	"fmt"
	"time"

	"github.com/flowsym/flowsym/correlate"
)

// connAcc is the accumulator of connCombineFn: one key's merged state. Its
// coder is its binary form, so the runner can ship it between the lifted
// pre-combine and the final merge.
type connAcc struct {
	s *correlate.ConnState
}

func encodeConnAcc(a connAcc) ([]byte, error) {
	if a.s == nil {
		return (&correlate.ConnState{}).AppendBinary(nil)
	}
	return a.s.AppendBinary(nil)
}

func decodeConnAcc(b []byte) (connAcc, error) {
	s := &correlate.ConnState{}
	if err := s.UnmarshalBinary(b); err != nil {
		return connAcc{}, err
	}
	return connAcc{s: s}, nil
}

// connCombineFn merges the partial states of one connection key with
// ConnState.Merge, the correlator's own associative, commutative merge.
// Inputs and output are the binary form.
type connCombineFn struct {
	// Gap is the topology's session gap.
	Gap time.Duration
}

// CreateAccumulator returns an empty accumulator: nil until the first
// input, which it then takes as it is (most keys have one partial state,
// and copying it into an empty state would cost a merge).
func (f *connCombineFn) CreateAccumulator() connAcc { return connAcc{} }

func (f *connCombineFn) AddInput(a connAcc, in []byte) (connAcc, error) {
	b, err := decodeConnAcc(in)
	if err != nil {
		return a, err
	}
	return f.MergeAccumulators(a, b), nil
}

func (f *connCombineFn) MergeAccumulators(a, b connAcc) connAcc {
	switch {
	case a.s == nil:
		return b
	case b.s != nil:
		a.s.Merge(b.s, f.Gap)
	}
	return a
}

func (f *connCombineFn) ExtractOutput(a connAcc) ([]byte, error) { return encodeConnAcc(a) }

// obsAcc is the accumulator of obsCombineFn: one observer's merged state,
// nil before the first input.
type obsAcc struct {
	o *correlate.Observer
}

func encodeObsAcc(a obsAcc) ([]byte, error) {
	if a.o == nil {
		return nil, nil
	}
	return a.o.AppendBinary(nil)
}

func decodeObsAcc(b []byte) (obsAcc, error) {
	if len(b) == 0 {
		return obsAcc{}, nil
	}
	o := &correlate.Observer{}
	if err := o.UnmarshalBinary(b); err != nil {
		return obsAcc{}, err
	}
	return obsAcc{o: o}, nil
}

// obsCombineFn merges the partial states of one observer with
// Observer.Merge.
type obsCombineFn struct{}

func (f *obsCombineFn) CreateAccumulator() obsAcc { return obsAcc{} }

func (f *obsCombineFn) AddInput(a obsAcc, in []byte) (obsAcc, error) {
	b, err := decodeObsAcc(in)
	if err != nil {
		return a, err
	}
	return f.MergeAccumulators(a, b), nil
}

func (f *obsCombineFn) MergeAccumulators(a, b obsAcc) obsAcc {
	switch {
	case a.o == nil:
		return b
	case b.o != nil:
		a.o.Merge(b.o)
	}
	return a
}

func (f *obsCombineFn) ExtractOutput(a obsAcc) ([]byte, error) {
	if a.o == nil {
		return nil, fmt.Errorf("observer without state")
	}
	return encodeObsAcc(a)
}

// popularFn emits, for a merged connection key, each endpoint that port
// popularity counts (correlate.AddPopular), with a count of one; a sum per
// endpoint then gives its popularity over the run.
type popularFn struct {
	counts map[correlate.Endpoint]uint32
}

func (f *popularFn) ProcessElement(key, _ []byte, emit func([]byte, int64)) error {
	var k correlate.Key
	if err := k.UnmarshalBinary(key); err != nil {
		return err
	}
	if f.counts == nil {
		f.counts = map[correlate.Endpoint]uint32{}
	}
	clear(f.counts)
	correlate.AddPopular(f.counts, k)
	for e, n := range f.counts {
		eb, _ := e.AppendBinary(nil)
		emit(eb, int64(n))
	}
	return nil
}

// sumFn adds counts.
func sumFn(a, b int64) int64 { return a + b }

// keepPopular keeps the endpoints whose count can decide a verdict.
func keepPopular(e []byte, n int64, emit func([]byte, int64)) {
	if n >= correlate.MinPopular {
		emit(e, n)
	}
}
