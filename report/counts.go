package report

import (
	"cmp"
	"slices"

	"github.com/flowsym/flowsym/correlate"
)

// severities are the finding severities, worst first: the columns of the
// reports' count tables.
var severities = []string{"high", "medium", "low"}

// severityCounts returns the number of findings of kind in r by severity,
// in the order of severities.
func severityCounts(r *correlate.Result, kind string) [3]int {
	var n [3]int
	for _, f := range r.Findings {
		if i := slices.Index(severities, f.Severity); f.Kind == kind && i >= 0 {
			n[i]++
		}
	}
	return n
}

// observerCount is the number of findings an observer takes part in.
type observerCount struct {
	name, role string
	byKind     map[string]int
	total      int
}

// observerCounts counts, for every observer, the findings it takes part in
// (once per finding), most first and then by name.
func observerCounts(r *correlate.Result) []*observerCount {
	counts := map[string]*observerCount{}
	for _, f := range r.Findings {
		seen := map[string]bool{}
		for _, o := range f.Observers {
			if seen[o.Name] {
				continue
			}
			seen[o.Name] = true
			c := counts[o.Name]
			if c == nil {
				c = &observerCount{name: o.Name, role: string(o.Role), byKind: map[string]int{}}
				counts[o.Name] = c
			}
			c.byKind[f.Kind]++
			c.total++
		}
	}
	list := make([]*observerCount, 0, len(counts))
	for _, c := range counts {
		list = append(list, c)
	}
	slices.SortFunc(list, func(a, b *observerCount) int {
		return cmp.Or(cmp.Compare(b.total, a.total), cmp.Compare(a.name, b.name))
	})
	return list
}
