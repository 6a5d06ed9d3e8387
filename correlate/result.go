package correlate

import (
	"cmp"
	"iter"
	"slices"
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
}

// Verdicts judges every connection, in no particular order, and yields
// each verdict (including those without findings) to the caller.
func (c *Correlator) Verdicts() iter.Seq[Verdict] {
	j := newJudge(c.topo, c.opts.UDP, c.observers, c.popular())
	return func(yield func(Verdict) bool) {
		for k, ks := range c.keys {
			for _, s := range ks.sessions {
				if !yield(j.verdict(k, s)) {
					return
				}
			}
		}
	}
}

// Result judges every connection and collects the findings, worst first:
// by severity, then kind, then time, then endpoints.
func (c *Correlator) Result() *Result {
	r := &Result{ByKind: map[string]int{}, Stats: c.Stats}
	j := newJudge(c.topo, c.opts.UDP, c.observers, c.popular())
	for k, ks := range c.keys {
		for _, s := range ks.sessions {
			v := j.verdict(k, s)
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
		}
	}
	slices.SortFunc(r.Findings, compareFindings)
	for _, o := range j.observers {
		r.Observers = append(r.Observers, o)
	}
	slices.SortFunc(r.Observers, func(a, b *Resolved) int {
		return cmp.Or(cmp.Compare(a.ID.Cloud, b.ID.Cloud), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID.String(), b.ID.String()))
	})
	return r
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
