package correlate

import (
	"cmp"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Result is the outcome of a run: every finding, and the counts reports
// summarise.
type Result struct {
	Findings []Finding
	// Connections is the number of connections (sessions) judged.
	Connections int64
	// Insufficient counts connections where a finding could not be judged
	// because an observer it depends on did not cover the span.
	Insufficient int64
	// OutsideLegs counts NAT outside legs (never findings of their own).
	OutsideLegs int64
	// ByKind counts findings per kind.
	ByKind map[string]int
	// Observers lists every observer with its role, sorted by cloud, name.
	Observers []*Resolved
	// First and Last bound the judged connections' times (microseconds).
	First, Last int64
	Stats       Stats
	// Spilled is the connection state written to disk, in bytes.
	Spilled int64
	// Skipped lists the finding kinds Options.Checks left out, in Kinds
	// order; reports say so rather than show them as zero.
	Skipped []string
}

// Result judges every connection and collects the findings, worst first.
func (c *Correlator) Result() (*Result, error) { return ResultOf([]*Correlator{c}) }

// ResultOf judges the connections of every part of one run (the shards of
// a sharded run, whose keys do not overlap) against their merged observer
// state, and collects the findings worst first: by severity, then kind,
// then time, then endpoints.
func ResultOf(parts []*Correlator) (*Result, error) {
	r := &Result{ByKind: map[string]int{}}
	if len(parts) > 0 {
		if checks := checkSet(parts[0].opts.Checks); checks != nil {
			for _, k := range Kinds {
				if !checks[k] {
					r.Skipped = append(r.Skipped, k)
				}
			}
		}
	}
	err := verdictsOf(parts, func(v Verdict) {
		s := v.Session
		r.Connections++
		if r.First == 0 || s.First < r.First {
			r.First = s.First
		}
		r.Last = max(r.Last, s.Last)
		switch {
		case v.OutsideLeg:
			r.OutsideLegs++
		case v.Insufficient && len(v.Findings) == 0:
			r.Insufficient++
		}
		for _, f := range v.Findings {
			r.ByKind[f.Kind]++
			r.Findings = append(r.Findings, f)
		}
	}, func(j *judge) {
		for _, o := range j.observers {
			r.Observers = append(r.Observers, o)
		}
	})
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		r.Stats.Records += p.Stats.Records
		r.Stats.Coverage += p.Stats.Coverage
		r.Stats.Skipped += p.Stats.Skipped
		r.Spilled += p.Spilled()
	}
	slices.SortFunc(r.Findings, compareFindings)
	slices.SortFunc(r.Observers, func(a, b *Resolved) int {
		return cmp.Or(cmp.Compare(a.ID.Cloud, b.ID.Cloud), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID.String(), b.ID.String()))
	})
	return r, nil
}

// Verdicts judges every connection, in no particular order, and calls fn
// with each verdict (including those without findings).
func (c *Correlator) Verdicts(fn func(Verdict)) error {
	return verdictsOf([]*Correlator{c}, fn, nil)
}

// VerdictsOf is Verdicts over the parts of one run.
func VerdictsOf(parts []*Correlator, fn func(Verdict)) error { return verdictsOf(parts, fn, nil) }

func verdictsOf(parts []*Correlator, fn func(Verdict), withJudge func(*judge)) error {
	if len(parts) == 0 {
		return nil
	}
	observers := map[uint64]*Observer{}
	for _, p := range parts {
		for h, o := range p.observers {
			if observers[h] == nil {
				observers[h] = newObserver(o.ID)
			}
			observers[h].merge(o)
		}
	}
	// A first pass counts port popularity over every connection; the
	// second judges them.
	popular := map[Endpoint]uint32{}
	for _, p := range parts {
		if err := p.eachKey(func(k Key, _ *keyState) { countPopular(popular, k) }); err != nil {
			return err
		}
	}
	j := newJudge(parts[0].topo, parts[0].opts.UDP, observers, popular)
	j.checks = checkSet(parts[0].opts.Checks)
	if withJudge != nil {
		withJudge(j)
	}
	return judgeParts(parts, j, fn)
}

// judgeParts judges the parts concurrently, one worker per core, each with
// its own copy of the judge (they share its read-only maps); fn is called
// by one worker at a time.
func judgeParts(parts []*Correlator, j *judge, fn func(Verdict)) error {
	var (
		mu   sync.Mutex
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make([]error, len(parts))
	)
	for range min(len(parts), runtime.GOMAXPROCS(0)) {
		jw := *j
		jw.views = nil
		wg.Go(func() {
			for p := int(next.Add(1)) - 1; p < len(parts); p = int(next.Add(1)) - 1 {
				errs[p] = parts[p].eachKey(func(k Key, ks *keyState) {
					for _, s := range ks.sessions {
						v := jw.verdict(k, s)
						mu.Lock()
						fn(v)
						mu.Unlock()
					}
				})
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// checkSet is the set of kinds Options.Checks names, or nil for all.
func checkSet(kinds []string) map[string]bool {
	if len(kinds) == 0 {
		return nil
	}
	set := map[string]bool{}
	for _, k := range kinds {
		set[k] = true
	}
	return set
}

var severityRank = map[string]int{"high": 0, "medium": 1, "low": 2}

func compareFindings(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(severityRank[a.Severity], severityRank[b.Severity]),
		cmp.Compare(slices.Index(Kinds, a.Kind), slices.Index(Kinds, b.Kind)),
		cmp.Compare(a.FirstSeen, b.FirstSeen),
		cmp.Compare(a.Client, b.Client),
		cmp.Compare(a.Server, b.Server),
		cmp.Compare(a.Protocol, b.Protocol),
	)
}
