package correlate

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// ObserverID identifies a capture point across the run: the cloud, the log
// kind, the flow-log resource (Azure NSG or VNet flow log; the NIC is only
// an observer together with it) and the observer id the log gives.
type ObserverID struct {
	Cloud, Kind, Resource, ID string
}

// clone returns id with its own copies of the strings.
func (id ObserverID) clone() ObserverID {
	return ObserverID{strings.Clone(id.Cloud), strings.Clone(id.Kind), strings.Clone(id.Resource), strings.Clone(id.ID)}
}

func (o ObserverID) String() string {
	if o.Resource != "" {
		return o.Cloud + "/" + o.Resource + "/" + o.ID
	}
	return o.Cloud + "/" + o.ID
}

// minute is a coverage bucket: minutes since the Unix epoch.
type minute int64

func minuteOf(micros int64) minute { return minute(floorDiv(micros, 60_000_000)) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Coverage states of a minute at one observer.
const (
	covered uint8 = 1 << iota // at least one record (NODATA included)
	hole                      // a SKIPDATA record: records were lost
)

// Observer is what the run learned about one capture point: its context
// from the logs, the addresses it logs for itself, and which minutes it
// covered. It merges with the same observer's state from another shard.
type Observer struct {
	ID        ObserverID
	hash      uint64 // observerHash(ID), computed once
	Region    string
	Subnet    string
	Network   string
	Instance  string
	Target    string // Azure VNet flow log target resource
	Sampled   bool   // counters are estimated from samples (GCP)
	ConnOnly  bool   // the observer only marks connections (Cloud NAT, NSG v1)
	Records   int64
	Skipped   int64                // SKIPDATA records
	own       map[netip.Addr]int64 // addresses logged for itself, with their record counts
	candidate [2][]netip.Addr      // per family: addresses in every record (AWS without flow-direction)
	seenFam   [2]bool
	minutes   map[minute]uint8
	// cache: bit i of coveredMask says minute coveredBase+i is marked
	// covered in minutes already. Most records fall in minutes an earlier
	// record of the observer covered, and a bit test is cheaper than map
	// writes. Lost minutes (SKIPDATA) are rare and not cached.
	coveredBase minute
	coveredMask uint64
}

func newObserver(id ObserverID) *Observer {
	return &Observer{ID: id, hash: observerHash(id), own: map[netip.Addr]int64{}, minutes: map[minute]uint8{}}
}

// mark records that the observer has a record over [from, to] (microseconds).
func (o *Observer) mark(from, to int64, state uint8) {
	if to < from {
		to = from
	}
	a, b := minuteOf(from), minuteOf(to)
	if state == covered && o.coveredAlready(a, b) {
		return
	}
	if b-a > 24*60 {
		b = a + 24*60 // a record never spans a day; guard against garbage
	}
	for m := a; m <= b; m++ {
		o.minutes[m] |= state
	}
	if state == covered {
		o.noteCovered(a, b)
	}
}

// coverWindow is the span of minutes coveredMask tracks.
const coverWindow = 64

// coveredAlready reports whether every minute of [a, b] is known to be
// marked covered.
func (o *Observer) coveredAlready(a, b minute) bool {
	if a < o.coveredBase || b >= o.coveredBase+coverWindow {
		return false
	}
	want := coverBits(a-o.coveredBase, b-o.coveredBase)
	return o.coveredMask&want == want
}

// noteCovered notes that [a, b] is marked covered. A range outside the
// tracked span moves the span to start a little before a, forgetting
// what it knew: records come roughly in time order.
func (o *Observer) noteCovered(a, b minute) {
	if b-a >= coverWindow-8 {
		return
	}
	if a < o.coveredBase || b >= o.coveredBase+coverWindow {
		o.coveredBase, o.coveredMask = a-8, 0
	}
	o.coveredMask |= coverBits(a-o.coveredBase, b-o.coveredBase)
}

// coverBits is a mask of bits i through j (0 <= i <= j < 64).
func coverBits(i, j minute) uint64 {
	return (^uint64(0) >> (63 - uint(j))) &^ (1<<uint(i) - 1)
}

// Covers reports whether the observer covers [from, to]: it has a record in
// every minute of the span and lost none in it.
func (o *Observer) Covers(from, to int64) bool {
	a, b := minuteOf(from), minuteOf(to)
	for m := a; m <= b; m++ {
		if st := o.minutes[m]; st&covered == 0 || st&hole != 0 {
			return false
		}
	}
	return true
}

// Holes returns the minutes the observer lost records in, sorted.
func (o *Observer) Holes() []int64 {
	var out []int64
	for m, st := range o.minutes {
		if st&hole != 0 {
			out = append(out, int64(m))
		}
	}
	slices.Sort(out)
	return out
}

// CoveredMinutes returns the number of minutes with records and no loss.
func (o *Observer) CoveredMinutes() int {
	n := 0
	for _, st := range o.minutes {
		if st == covered {
			n++
		}
	}
	return n
}

// maxOwn bounds the distinct own addresses counted per observer. An
// interface logs one address for itself (two with IPv6); a NIC that
// forwards traffic logs the forwarded ends too, which must not grow state.
const maxOwn = 32

// noteOwn counts an address the observer logs for itself.
func (o *Observer) noteOwn(a netip.Addr, n int64) {
	if !a.IsValid() {
		return
	}
	if _, ok := o.own[a]; ok || len(o.own) < maxOwn {
		o.own[a] += n
	}
}

// noteCandidates narrows the observer's own address when the log does not
// say the direction: an AWS interface logs its own primary address in
// every record, as source or destination, so it is in the intersection of
// all records' address pairs (per address family).
func (o *Observer) noteCandidates(src, dst netip.Addr) {
	for _, a := range []netip.Addr{src, dst} {
		if !a.IsValid() {
			return
		}
	}
	if src.Is4() != dst.Is4() {
		return
	}
	fam := 0
	if !src.Is4() {
		fam = 1
	}
	if !o.seenFam[fam] {
		o.seenFam[fam] = true
		o.candidate[fam] = []netip.Addr{src, dst}
		return
	}
	o.candidate[fam] = slices.DeleteFunc(o.candidate[fam], func(a netip.Addr) bool { return a != src && a != dst })
}

// Own returns the observer's own addresses, at most one per family: the
// address it logs for itself most often (ties to the lowest), or, for logs
// without a direction, the one address common to all its records. An
// interface or VM logs its own address in every record; a virtual
// appliance that forwards traffic (an Azure NVA) logs the forwarded ends
// too, but no single one of them as often as its own.
func (o *Observer) Own() []netip.Addr {
	var best [2]netip.Addr
	var count [2]int64
	for a, n := range o.own {
		f := family(a)
		if n > count[f] || (n == count[f] && a.Less(best[f])) {
			best[f], count[f] = a, n
		}
	}
	var out []netip.Addr
	for f := range 2 {
		switch {
		case count[f] > 0:
			out = append(out, best[f])
		case len(o.candidate[f]) == 1:
			out = append(out, o.candidate[f][0])
		}
	}
	return out
}

func family(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

// OwnsAddr reports whether a is one of the observer's own addresses.
func (o *Observer) OwnsAddr(a netip.Addr) bool { return slices.Contains(o.Own(), a) }

// merge folds another shard's state of the same observer into o.
func (o *Observer) merge(p *Observer) {
	o.Records += p.Records
	o.Skipped += p.Skipped
	o.Sampled = o.Sampled || p.Sampled
	o.ConnOnly = o.ConnOnly || p.ConnOnly
	for _, s := range []struct {
		dst *string
		src string
	}{{&o.Region, p.Region}, {&o.Subnet, p.Subnet}, {&o.Network, p.Network}, {&o.Instance, p.Instance}, {&o.Target, p.Target}} {
		if *s.dst == "" || (s.src != "" && s.src < *s.dst) {
			*s.dst = s.src // deterministic whatever the merge order
		}
	}
	for a, n := range p.own {
		o.noteOwn(a, n)
	}
	for fam := range 2 {
		if !p.seenFam[fam] {
			continue
		}
		if !o.seenFam[fam] {
			o.seenFam[fam], o.candidate[fam] = true, slices.Clone(p.candidate[fam])
			continue
		}
		o.candidate[fam] = slices.DeleteFunc(o.candidate[fam], func(a netip.Addr) bool { return !slices.Contains(p.candidate[fam], a) })
	}
	for m, st := range p.minutes {
		o.minutes[m] |= st // adds bits only, so the covered cache stays true
	}
}

// Resolved is an observer with its place in the topology.
type Resolved struct {
	*Observer
	Entry *Entry // nil when no entry matches
	Role  Role
	Name  string // the entry's name, or the observer id
	own   []netip.Addr
}

// OwnsAddr reports whether a is one of the observer's own addresses,
// computed once when the observer is resolved.
func (r *Resolved) OwnsAddr(a netip.Addr) bool { return slices.Contains(r.own, a) }

// Approved reports whether the observer is part of the approved design.
func (r *Resolved) Approved() bool { return r.Entry == nil || r.Entry.Approved }

// resolve finds the first topology entry that matches o.
func (t *Topology) resolve(o *Observer) *Resolved {
	r := &Resolved{Observer: o, Role: RoleUnknown, Name: o.ID.ID, own: o.Own()}
	for _, e := range t.Entries {
		if e.matches(o) {
			r.Entry, r.Role, r.Name = e, e.Role, e.Name
			break
		}
	}
	return r
}

func (e *Entry) matches(o *Observer) bool {
	if e.Cloud != "" && e.Cloud != o.ID.Cloud {
		return false
	}
	switch {
	case globAny(e.interfaces, o.ID.ID),
		globAny(e.instances, o.Instance),
		globAny(e.subnets, o.Subnet),
		globAny(e.networks, o.Network),
		o.ID.Kind == "gcp-nat" && globAny(e.natGateways, o.ID.ID),
		globAny(e.resources, o.ID.Resource),
		globAny(e.resources, o.Target):
		return true
	}
	for _, a := range o.Own() {
		if e.ownsCIDR(a) {
			return true
		}
	}
	return false
}

func (e *Entry) ownsCIDR(a netip.Addr) bool {
	for _, p := range e.cidrs {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// globAny matches v against compiled globs.
func globAny(globs []*regexp.Regexp, v string) bool {
	if v == "" {
		return false
	}
	for _, g := range globs {
		if g.MatchString(v) {
			return true
		}
	}
	return false
}

// compileGlob turns a glob into a case-insensitive, anchored regexp: `*`
// matches any run of characters (slashes too, so `*HUB-NSG` matches a whole
// Azure resource id), `?` one character, `[...]` a class.
func compileGlob(g string) (*regexp.Regexp, error) {
	var sb strings.Builder
	sb.WriteString("(?i)^")
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			sb.WriteString(".*")
		case '?':
			sb.WriteString(".")
		case '[':
			j := strings.IndexByte(g[i:], ']')
			if j < 2 {
				return nil, fmt.Errorf("unclosed [ in %q", g)
			}
			class := g[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			sb.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j
		default:
			sb.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	sb.WriteString("$")
	return regexp.Compile(sb.String())
}
