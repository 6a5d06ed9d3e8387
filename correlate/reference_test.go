package correlate

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp/cmpopts"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/flowsym/flowsym/internal/memtest"
	"github.com/flowsym/flowsym/normalize/schema"
)

// refRecord is one normalized record as the reference correlator sees it.
type refRecord struct {
	cloud, kind, observer, resource string
	from, to                        int64 // microseconds
	src, dst                        netip.AddrPort
	psrc, pdst                      netip.Addr // zero when not logged
	proto                           uint8
	pkts, rev                       int64 // -1 when not given
	flags                           int64 // -1 when not given
	dir, action, status, state      string
	connOnly, sampled               bool
	nat                             netip.Addr
	object                          string
	line                            int64
}

// reference judges records the slow, obvious way: it keeps every record,
// groups them by connection, sorts them by time, and applies ANALYSIS.md's
// rules to the lists. It shares nothing with the correlator but the
// topology's entry matching and the public-address test.
func reference(topo *Topology, udp bool, recs []refRecord) *Result {
	obsRecs := map[ObserverID][]refRecord{}
	for _, r := range recs {
		id := ObserverID{Cloud: r.cloud, Kind: r.kind, ID: r.observer}
		if r.cloud == "azure" {
			id.Resource = r.resource
		}
		obsRecs[id] = append(obsRecs[id], r)
	}
	resolved := map[ObserverID]*Resolved{}
	for id, rs := range obsRecs {
		resolved[id] = topo.resolve(refObserver(id, rs))
	}
	byKey := map[Key][]refRecord{}
	for _, r := range recs {
		if r.status == "nodata" || r.status == "skipdata" || !r.src.IsValid() || !r.dst.IsValid() || r.proto == 0 && r.kind == "" {
			continue
		}
		if endpointOf(r, true) == endpointOf(r, false) {
			continue
		}
		byKey[refKey(r)] = append(byKey[refKey(r)], r)
	}
	popular := map[Endpoint]uint32{}
	for k := range byKey {
		for _, e := range []Endpoint{k.A, k.B} {
			if e.Port >= 1024 && e.Port < 32768 {
				popular[e]++
			}
		}
	}
	res := &Result{ByKind: map[string]int{}}
	gap := topo.SessionGap.Microseconds()
	for k, rs := range byKey {
		slices.SortFunc(rs, func(a, b refRecord) int { return cmp.Compare(a.from, b.from) })
		var sessions [][]refRecord
		end := int64(0)
		for _, r := range rs {
			if len(sessions) == 0 || r.from > end+gap {
				sessions = append(sessions, nil)
				end = r.to
			}
			sessions[len(sessions)-1] = append(sessions[len(sessions)-1], r)
			end = max(end, r.to)
		}
		for _, s := range sessions {
			refJudge(topo, udp, k, s, resolved, obsRecs, popular, res)
		}
	}
	slices.SortFunc(res.Findings, compareFindings)
	return res
}

func refKey(r refRecord) Key {
	src, dst := r.src.Addr(), r.dst.Addr()
	if r.psrc.IsValid() {
		src = r.psrc
	}
	if r.pdst.IsValid() {
		dst = r.pdst
	}
	a := Endpoint{Addr: src.As16(), Port: r.src.Port()}
	b := Endpoint{Addr: dst.As16(), Port: r.dst.Port()}
	k, _ := makeKey(r.proto, a, b)
	return k
}

// refObserver builds an observer's state from all its records at once.
func refObserver(id ObserverID, rs []refRecord) *Observer {
	o := newObserver(id)
	for _, r := range rs {
		state := covered
		if r.status == "skipdata" {
			state = hole
		}
		for m := minuteOf(r.from); m <= minuteOf(max(r.to, r.from)); m++ {
			o.minutes[m] |= state
		}
		if r.status == "nodata" || r.status == "skipdata" || !r.src.IsValid() {
			continue
		}
		o.Sampled = o.Sampled || r.sampled
		switch r.dir {
		case "egress":
			o.noteOwn(r.src.Addr(), 1)
		case "ingress":
			o.noteOwn(r.dst.Addr(), 1)
		default:
			o.noteCandidates(r.src.Addr(), r.dst.Addr())
		}
	}
	return o
}

func refJudge(topo *Topology, udp bool, k Key, rs []refRecord, resolved map[ObserverID]*Resolved,
	obsRecs map[ObserverID][]refRecord, popular map[Endpoint]uint32, res *Result) {
	first, last := rs[0].from, rs[0].to
	for _, r := range rs {
		first, last = min(first, r.from), max(last, r.to)
	}
	sentBy := func(r refRecord) Endpoint { // the endpoint that sent the record's own direction
		if refKey(r).A == k.A && endpointOf(r, true) == k.A {
			return k.A
		}
		if endpointOf(r, true) == k.A {
			return k.A
		}
		return k.B
	}
	// Who is the client: flags, then ports, then private/public.
	opened := map[Endpoint]bool{}
	answered := map[Endpoint]bool{}
	for _, r := range rs {
		from := sentBy(r)
		if r.flags >= 0 && r.flags&2 != 0 && r.flags&16 == 0 {
			opened[from] = true
		}
		if r.flags >= 0 && r.flags&18 == 18 {
			answered[from] = true
		}
		if r.kind == "azure-vnet" || r.kind == "azure-nsg" || r.kind == "gcp-nat" {
			opened[from] = true
		}
	}
	client := k.A
	switch {
	case opened[k.A] != opened[k.B]:
		client = map[bool]Endpoint{true: k.A, false: k.B}[opened[k.A]]
	case answered[k.A] != answered[k.B]:
		client = map[bool]Endpoint{true: k.B, false: k.A}[answered[k.A]]
	case (k.A.Port < 1024) != (k.B.Port < 1024):
		client = map[bool]Endpoint{true: k.B, false: k.A}[k.A.Port < 1024]
	case max(popular[k.A], popular[k.B]) >= 3 && popular[k.A] != popular[k.B]:
		client = map[bool]Endpoint{true: k.B, false: k.A}[popular[k.A] > popular[k.B]]
	case (k.A.Port >= 32768) != (k.B.Port >= 32768):
		client = map[bool]Endpoint{true: k.A, false: k.B}[k.A.Port >= 32768]
	case topo.IsPublic(k.A.IP()) != topo.IsPublic(k.B.IP()):
		client = map[bool]Endpoint{true: k.B, false: k.A}[topo.IsPublic(k.A.IP())]
	case k.A.Port < k.B.Port:
		client = k.B
	}
	server := k.B
	if client == k.B {
		server = k.A
	}
	// What each observer saw.
	type seen struct {
		fwd, rev         bool
		fwdPkts, revPkts int64
		records          int
		rejected         bool
		ev               []Evidence
		r                *Resolved
	}
	views := map[ObserverID]*seen{}
	var order []ObserverID
	anyRejected := false
	for _, r := range rs {
		id := ObserverID{Cloud: r.cloud, Kind: r.kind, ID: r.observer}
		if r.cloud == "azure" {
			id.Resource = r.resource
		}
		v := views[id]
		if v == nil {
			v = &seen{r: resolved[id]}
			views[id] = v
			order = append(order, id)
		}
		v.records++
		rej := r.action == "reject" || r.state == "denied"
		v.rejected = v.rejected || rej
		anyRejected = anyRejected || rej
		v.ev = append(v.ev, Evidence{Time: r.from, Object: r.object, Line: r.line})
		forwardRec := sentBy(r) == client
		twoWay := r.rev >= 0 || r.state != ""
		own := !r.connOnly && (rej || !twoWay || r.pkts > 0)
		other := !r.connOnly && twoWay && r.rev > 0
		ownPkts, otherPkts := max(r.pkts, 0), max(r.rev, 0)
		if !forwardRec {
			own, other, ownPkts, otherPkts = other, own, otherPkts, ownPkts
		}
		if own {
			v.fwd, v.fwdPkts = true, v.fwdPkts+ownPkts
		}
		if other {
			v.rev, v.revPkts = true, v.revPkts+otherPkts
		}
	}
	res.Connections++
	covers := func(r *Resolved) bool { return r.Covers(first, last) }
	// NAT outside leg.
	for _, id := range order {
		v := views[id]
		if v.r.Role == RoleNAT && (v.r.OwnsAddr(client.IP()) || v.r.Entry != nil && (v.r.Entry.ownsCIDR(client.IP()) || slices.Contains(v.r.Entry.EgressIPs, client.IP()))) {
			res.OutsideLegs++
			return
		}
	}
	var findings []Finding
	insufficient := false
	// lowConf: every view the finding rests on is sampled and saw fewer
	// than 10 packets of the direction it did see.
	lowConf := func(rest []*seen) string {
		var pkts int64
		for _, v := range rest {
			if !v.r.Sampled {
				return "high"
			}
			if v.fwd {
				pkts += v.fwdPkts
			} else {
				pkts += v.revPkts
			}
		}
		if len(rest) > 0 && pkts < 10 {
			return "low"
		}
		return "high"
	}
	add := func(kind, sev, reason string, rest []*seen) {
		f := Finding{Kind: kind, Severity: sev, Reason: reason, Protocol: int(k.Proto), Confidence: lowConf(rest),
			Client: client.AddrPort().String(), Server: server.AddrPort().String(), FirstSeen: rfc3339(first), LastSeen: rfc3339(last)}
		var ev []Evidence
		for _, id := range order {
			v := views[id]
			f.Observers = append(f.Observers, FindingObserver{Name: v.r.Name, ID: id.ID, Role: v.r.Role, Forward: v.fwd, Reverse: v.rev, Records: v.records})
			mine := slices.Clone(v.ev)
			slices.SortFunc(mine, evCompare)
			ev = append(ev, mine[:min(len(mine), maxEvidence)]...)
		}
		slices.SortFunc(ev, func(a, b Evidence) int { return cmp.Or(cmp.Compare(a.Object, b.Object), cmp.Compare(a.Line, b.Line)) })
		for _, e := range ev[:min(len(ev), maxFindingEvidence)] {
			f.Evidence = append(f.Evidence, EvidenceRef{Object: e.Object, Line: e.Line})
		}
		findings = append(findings, f)
	}
	anyRev, anyFwd, fwdCovered := false, false, false
	var fwdViews []*seen
	for _, id := range order {
		v := views[id]
		anyRev = anyRev || v.rev
		if v.fwd {
			anyFwd = true
			fwdCovered = fwdCovered || covers(v.r)
			fwdViews = append(fwdViews, v)
		}
	}
	if k.Proto == 6 || k.Proto == 17 && udp {
		if anyFwd && !anyRev {
			if fwdCovered {
				if anyRejected {
					add(KindOneWay, "low", ReasonRejected, fwdViews)
				} else {
					add(KindOneWay, "medium", ReasonNoReply, fwdViews)
				}
			} else {
				insufficient = true
			}
		}
	}
	if anyRev {
		var split, onesided []*seen
		blocked := false
		sorted := slices.Clone(order)
		slices.SortFunc(sorted, func(a, b ObserverID) int {
			return cmp.Compare(views[a].r.Name+a.String(), views[b].r.Name+b.String())
		})
		for _, ai := range sorted {
			a := views[ai]
			if a.r.Role.Stateful() && a.fwd != a.rev {
				if covers(a.r) {
					onesided = append(onesided, a)
				} else {
					blocked = true
				}
			}
			for _, bi := range sorted {
				b := views[bi]
				if split == nil && a != b && a.r.Role.Stateful() && a.r.Role == b.r.Role && a.fwd && !a.rev && b.rev && !b.fwd {
					split = []*seen{a, b}
				}
			}
		}
		switch {
		case split != nil:
			add(KindAsymmetric, "high", ReasonSplit, split)
		case onesided != nil:
			add(KindAsymmetric, "high", "", onesided)
		case blocked:
			insufficient = true
		}
	}
	if topo.IsPublic(server.IP()) {
		// hub_bypass
		cloud, inSpoke := "", false
		var spokes []*Resolved
		for _, id := range order { // observers of this connection first
			spokes = append(spokes, views[id].r)
		}
		var all []*Resolved
		for _, r := range resolved {
			all = append(all, r)
		}
		slices.SortFunc(all, func(a, b *Resolved) int { return cmp.Compare(a.ID.String(), b.ID.String()) })
		slices.SortFunc(spokes, func(a, b *Resolved) int { return cmp.Compare(a.Name+a.ID.String(), b.Name+b.ID.String()) })
		for _, r := range append(spokes, all...) {
			if r.Role == RoleSpoke && slices.Contains(r.Own(), client.IP()) {
				cloud, inSpoke = r.ID.Cloud, true
				break
			}
		}
		if !inSpoke {
			for _, e := range topo.Entries {
				if e.Role == RoleSpoke && e.ownsCIDR(client.IP()) {
					cloud, inSpoke = e.Cloud, true
					if cloud == "" {
						cloud = "~"
						for _, id := range order {
							cloud = min(cloud, id.Cloud)
						}
					}
					break
				}
			}
		}
		hubRecorded := false
		for _, v := range views {
			hubRecorded = hubRecorded || v.r.Role.Hub() && v.r.Approved()
		}
		if inSpoke && !hubRecorded {
			hubs, covering := 0, false
			for _, r := range resolved {
				if r.Role.Hub() && r.Approved() && r.ID.Cloud == cloud {
					hubs++
					covering = covering || covers(r)
				}
			}
			switch {
			case covering:
				add(KindHubBypass, "high", "", nil)
			case hubs > 0:
				insufficient = true
			}
		}
		// unapproved_nat
		var nats []*seen
		for _, id := range order {
			if views[id].r.Role == RoleNAT {
				nats = append(nats, views[id])
			}
		}
		reason := ""
		for _, n := range nats {
			if !n.r.Approved() && reason == "" {
				reason = ReasonUnapprovedObserver
			}
		}
		if reason == "" && len(nats) >= 2 {
			reason = ReasonDoubleNAT
		}
		if reason == "" && len(topo.ApprovedEgressIPs) > 0 {
			var addrs []netip.Addr
			for _, n := range nats {
				if n.r.Entry != nil {
					addrs = append(addrs, n.r.Entry.EgressIPs...)
				}
			}
			for _, r := range rs {
				if r.nat.IsValid() {
					addrs = append(addrs, r.nat)
				}
			}
			if len(nats) == 0 && topo.IsPublic(client.IP()) {
				addrs = append(addrs, client.IP())
			}
			for _, a := range addrs {
				if !topo.Approved(a) {
					reason = ReasonEgressIP
				}
			}
		}
		if reason != "" {
			add(KindUnapprovedNAT, "high", reason, nil)
		}
	}
	if insufficient && len(findings) == 0 {
		res.Insufficient++
	}
	for _, f := range findings {
		res.ByKind[f.Kind]++
	}
	res.Findings = append(res.Findings, findings...)
}

// endpointOf returns the record's sender (src) endpoint in packet terms.
func endpointOf(r refRecord, src bool) Endpoint {
	a, p := r.src.Addr(), r.src.Port()
	if r.psrc.IsValid() {
		a = r.psrc
	}
	if !src {
		a, p = r.dst.Addr(), r.dst.Port()
		if r.pdst.IsValid() {
			a = r.pdst
		}
	}
	return Endpoint{Addr: a.As16(), Port: p}
}

// randomRecords draws records from a small universe so that connections
// share endpoints and observers, reuse ports across the session gap, and
// observers have holes: everything the summary must get right.
func randomRecords(r *rand.Rand, n int) []refRecord {
	clients := []string{"10.1.0.5", "10.1.0.6", "10.10.0.7", "10.21.0.4", "2600:1f18::15"}
	servers := []string{"93.184.216.34", "8.8.8.8", "10.2.0.10", "2606:4700::1"}
	type obs struct{ cloud, kind, id, res string }
	observers := []obs{
		{"aws", "aws-vpc", "eni-pod", ""}, {"aws", "aws-vpc", "eni-fwa", ""}, {"aws", "aws-vpc", "eni-fwb", ""},
		{"aws", "aws-vpc", "eni-nat", ""}, {"aws", "aws-tgw", "tgw-attach-1", ""}, {"gcp", "gcp-vpc", "gke-1", ""},
		{"gcp", "gcp-nat", "hub-nat", ""}, {"azure", "azure-vnet", "00224871C205", "/FL/HUB"},
	}
	var out []refRecord
	for i := range n {
		o := observers[r.IntN(len(observers))]
		rec := refRecord{cloud: o.cloud, kind: o.kind, observer: o.id, resource: o.res, object: fmt.Sprintf("obj-%d", r.IntN(5)),
			line: int64(i + 1), pkts: -1, rev: -1, flags: -1}
		rec.from = int64(r.IntN(90)) * 60_000_000
		rec.to = rec.from + int64(r.IntN(120))*1_000_000
		if r.IntN(25) == 0 {
			rec.status = []string{"nodata", "skipdata"}[r.IntN(2)]
			out = append(out, rec)
			continue
		}
		c := netip.MustParseAddr(clients[r.IntN(len(clients))])
		s := netip.MustParseAddr(servers[r.IntN(len(servers))])
		if c.Is4() != s.Is4() {
			continue
		}
		cp := uint16([]int{40001, 40002, 8443, 20000}[r.IntN(4)])
		sp := uint16([]int{443, 53, 9200, 40001}[r.IntN(4)])
		ca, sa := netip.AddrPortFrom(c, cp), netip.AddrPortFrom(s, sp)
		if r.IntN(2) == 0 {
			ca, sa = sa, ca
		}
		rec.src, rec.dst = ca, sa
		rec.proto = []uint8{6, 6, 6, 17, 1}[r.IntN(5)]
		rec.pkts = int64(r.IntN(30))
		if o.cloud == "azure" {
			rec.state = []string{"begin", "continuing", "end", "denied"}[r.IntN(4)]
			if rec.state != "begin" {
				rec.rev = int64(r.IntN(3))
			} else {
				rec.pkts = -1
			}
		}
		if r.IntN(3) == 0 {
			rec.flags = []int64{2, 18, 3, 19, 1, 0}[r.IntN(6)]
		}
		if r.IntN(3) == 0 {
			rec.dir = []string{"ingress", "egress"}[r.IntN(2)]
		}
		if r.IntN(10) == 0 {
			rec.action = "reject"
		}
		rec.sampled = o.cloud == "gcp" && o.kind == "gcp-vpc"
		rec.connOnly = o.kind == "gcp-nat"
		if rec.connOnly && r.IntN(2) == 0 {
			rec.nat = netip.MustParseAddr([]string{"34.120.0.10", "34.120.0.99"}[r.IntN(2)])
		}
		if o.id == "eni-nat" && r.IntN(2) == 0 {
			rec.psrc, rec.pdst = rec.src.Addr(), netip.MustParseAddr("93.184.216.34")
			rec.dst = netip.AddrPortFrom(netip.MustParseAddr("10.0.0.220"), rec.dst.Port())
		}
		out = append(out, rec)
	}
	return out
}

const propertyTopology = `
session_gap: 10m
approved_egress_ips: [34.120.0.10, 52.10.1.1]
observers:
  - {name: fw, role: inspection, match: {interfaces: [eni-fw*]}}
  - {name: nat, role: nat, match: {interfaces: [eni-nat]}, egress_ips: [52.10.1.1]}
  - {name: tgw, role: transit, match: {attachments: [tgw-*]}}
  - {name: cloud-nat, role: nat, match: {nat_gateways: [hub-nat]}}
  - {name: nva, role: inspection, approved: false, match: {nics: [00224871C205]}}
  - {name: spokes, role: spoke, match: {cidrs: [10.1.0.0/16, 10.10.0.0/16, 10.21.0.0/16]}}
`

func stageRef(b *schema.Builder, r refRecord) {
	b.Str(schema.Cloud, r.cloud)
	b.Str(schema.LogKind, r.kind)
	b.Str(schema.Observer, r.observer)
	if r.resource != "" {
		b.Str(schema.ResourceID, r.resource)
	}
	b.Time(schema.StartTime, r.from)
	b.Time(schema.EndTime, r.to)
	b.Str(schema.SourceObject, r.object)
	b.Int(schema.SourceLine, r.line)
	if r.status != "" {
		b.Str(schema.LogStatus, r.status)
		return
	}
	b.Addr(schema.SrcAddr, r.src.Addr())
	b.Addr(schema.DstAddr, r.dst.Addr())
	b.Int(schema.SrcPort, int64(r.src.Port()))
	b.Int(schema.DstPort, int64(r.dst.Port()))
	b.Int(schema.Protocol, int64(r.proto))
	b.Addr(schema.PktSrcAddr, r.psrc)
	b.Addr(schema.PktDstAddr, r.pdst)
	b.Addr(schema.NATAddr, r.nat)
	for _, p := range []struct {
		c schema.Col
		v int64
	}{{schema.Packets, r.pkts}, {schema.RevPackets, r.rev}, {schema.TCPFlags, r.flags}} {
		if p.v >= 0 {
			b.Int(p.c, p.v)
		}
	}
	for _, p := range []struct {
		c schema.Col
		v string
	}{{schema.Direction, r.dir}, {schema.Action, r.action}, {schema.FlowState, r.state}} {
		if p.v != "" {
			b.Str(p.c, p.v)
		}
	}
	if r.connOnly {
		b.Bool(schema.ConnectionOnly, true)
	}
	if r.sampled {
		b.Bool(schema.Sampled, true)
	}
}

// TestAgainstReference checks the streaming correlator, its records split
// into shards fed in random order and merged in random order, against the
// reference on random estates.
func TestAgainstReference(t *testing.T) {
	topo, err := Load("prop.yaml", []byte(propertyTopology))
	if err != nil {
		t.Fatal(err)
	}
	iterations := 200
	if testing.Short() {
		iterations = 40
	}
	for seed := range iterations {
		r := rand.New(rand.NewPCG(uint64(seed), 99))
		recs := randomRecords(r, 20+r.IntN(200))
		udp := r.IntN(2) == 0
		want := reference(topo, udp, recs)

		r.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		shards := make([]*Correlator, 1+r.IntN(4))
		mem := memtest.Poisoned()
		for i := range shards {
			shards[i] = New(Options{Topology: topo, UDP: udp})
		}
		for i, part := range splitRandom(r, recs, len(shards)) {
			c := shards[i]
			b := schema.NewBuilder(mem, 1+r.IntN(16), func(rec arrow.RecordBatch) error { return c.Add(rec) })
			for _, rec := range part {
				stageRef(b, rec)
				if err := b.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		mem.AssertSize(t, 0)
		r.Shuffle(len(shards), func(i, j int) { shards[i], shards[j] = shards[j], shards[i] })
		for _, s := range shards[1:] {
			shards[0].Merge(s)
		}
		got, err := shards[0].Result()
		if err != nil {
			t.Fatal(err)
		}
		opts := []gocmp.Option{
			cmpopts.IgnoreFields(Finding{}, "Detail", "Cloud", "Timeline"),
			cmpopts.SortSlices(func(a, b FindingObserver) bool { return a.ID < b.ID }),
		}
		if diff := gocmp.Diff(want.Findings, got.Findings, opts...); diff != "" {
			t.Fatalf("seed %d (udp=%v, %d records, %d shards): findings (-reference +correlator):\n%s", seed, udp, len(recs), len(shards), diff)
		}
		if want.Connections != got.Connections || want.Insufficient != got.Insufficient || want.OutsideLegs != got.OutsideLegs {
			t.Fatalf("seed %d: reference %d connections, %d insufficient, %d outside legs; correlator %d, %d, %d",
				seed, want.Connections, want.Insufficient, want.OutsideLegs, got.Connections, got.Insufficient, got.OutsideLegs)
		}

		// The same records through a correlator whose memory limit makes it
		// spill to disk many times give the same result.
		spilled := New(Options{Topology: topo, UDP: udp, MemoryLimit: int64(1 + r.IntN(3000)), SpillDir: t.TempDir()})
		feed(t, mem, spilled, recs, 1+r.IntN(16))
		gotSpilled, err := spilled.Result()
		if err != nil {
			t.Fatal(err)
		}
		if gotSpilled.Spilled == 0 && len(recs) > 50 {
			t.Fatalf("seed %d: a memory limit this small must spill", seed)
		}
		if diff := gocmp.Diff(want.Findings, gotSpilled.Findings, opts...); diff != "" {
			t.Fatalf("seed %d: spilled run's findings (-reference +correlator):\n%s", seed, diff)
		}
		if want.Connections != gotSpilled.Connections || want.Insufficient != gotSpilled.Insufficient {
			t.Fatalf("seed %d: spilled run judged %d connections (%d insufficient), reference %d (%d)",
				seed, gotSpilled.Connections, gotSpilled.Insufficient, want.Connections, want.Insufficient)
		}
		if err := spilled.Close(); err != nil {
			t.Fatal(err)
		}

		// And through shards fed by several goroutines at once.
		sharded := NewSharded(Options{Topology: topo, UDP: udp}, 1+r.IntN(4))
		var wg sync.WaitGroup
		for _, part := range splitRandom(r, recs, 3) {
			batch := 1 + r.IntN(16)
			wg.Go(func() {
				b := schema.NewBuilder(mem, batch, sharded.Add)
				for _, rec := range part {
					stageRef(b, rec)
					if err := b.Commit(); err != nil {
						t.Error(err)
					}
				}
				if err := b.Flush(); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		gotSharded, err := ResultOf(sharded.Close())
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(want.Findings, gotSharded.Findings, opts...); diff != "" {
			t.Fatalf("seed %d: sharded run's findings (-reference +correlator):\n%s", seed, diff)
		}
		if want.Connections != gotSharded.Connections || want.Insufficient != gotSharded.Insufficient {
			t.Fatalf("seed %d: sharded run judged %d connections (%d insufficient), reference %d (%d)",
				seed, gotSharded.Connections, gotSharded.Insufficient, want.Connections, want.Insufficient)
		}
		mem.AssertSize(t, 0)
	}
}

func feed(t *testing.T, mem memory.Allocator, c *Correlator, recs []refRecord, batch int) {
	t.Helper()
	b := schema.NewBuilder(mem, batch, func(rec arrow.RecordBatch) error { return c.Add(rec) })
	for _, rec := range recs {
		stageRef(b, rec)
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
}

func splitRandom(r *rand.Rand, recs []refRecord, n int) [][]refRecord {
	parts := make([][]refRecord, n)
	for _, rec := range recs {
		i := r.IntN(n)
		parts[i] = append(parts[i], rec)
	}
	return parts
}

// TestPressureSpills: a correlator whose estimate stays far below its limit
// spills when Options.Pressure says the process is short of memory, and
// its findings are those of an in-memory run.
func TestPressureSpills(t *testing.T) {
	batches := genBatches(t, 60_000)
	defer func() {
		for _, rec := range batches {
			rec.Release()
		}
	}()
	run := func(opts Options) *Result {
		c := New(opts)
		defer c.Close()
		for _, rec := range batches {
			if err := c.Add(rec); err != nil {
				t.Fatal(err)
			}
		}
		res, err := c.Result()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	want := run(Options{})
	asked := 0
	got := run(Options{MemoryLimit: 1 << 40, SpillDir: t.TempDir(), Pressure: func() bool { asked++; return asked%3 == 0 }})
	// A state under a sixteenth of the limit never spills, whatever the
	// pressure: a limit so large means never.
	if asked != 0 || got.Spilled != 0 {
		t.Fatalf("asked %d times, spilled %d bytes with a state far below 1/16 of the limit", asked, got.Spilled)
	}
	// A limit the estimate stays under does not spill by itself...
	if got = run(Options{MemoryLimit: 64 << 20, SpillDir: t.TempDir()}); got.Spilled != 0 {
		t.Fatalf("spilled %d bytes under the limit without pressure", got.Spilled)
	}
	// ...but does when the process reports pressure.
	got = run(Options{MemoryLimit: 64 << 20, SpillDir: t.TempDir(), Pressure: func() bool { asked++; return asked%3 == 0 }})
	if asked == 0 || got.Spilled == 0 {
		t.Fatalf("asked %d times, spilled %d bytes", asked, got.Spilled)
	}
	if want.Connections != got.Connections || !slices.EqualFunc(want.Findings, got.Findings, func(a, b Finding) bool {
		return a.Kind == b.Kind && a.Client == b.Client && a.Server == b.Server && a.FirstSeen == b.FirstSeen
	}) {
		t.Errorf("spilled under pressure: %d connections, %d findings; in memory %d, %d", got.Connections, len(got.Findings), want.Connections, len(want.Findings))
	}
}
