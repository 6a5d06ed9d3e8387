package correlate

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Finding kinds, as ANALYSIS.md names them.
const (
	KindOneWay        = "one_way"
	KindAsymmetric    = "asymmetric"
	KindHubBypass     = "hub_bypass"
	KindUnapprovedNAT = "unapproved_nat"
)

// Kinds lists the finding kinds in report order.
var Kinds = []string{KindAsymmetric, KindHubBypass, KindUnapprovedNAT, KindOneWay}

// Reasons.
const (
	ReasonNoReply            = "no_reply"
	ReasonRejected           = "rejected"
	ReasonSplit              = "split"
	ReasonUnapprovedObserver = "unapproved_observer"
	ReasonDoubleNAT          = "double_nat"
	ReasonEgressIP           = "egress_ip"
)

// Finding is one finding about one connection. Its JSON form is the
// contract of ANALYSIS.md ("--format json", one per line).
type Finding struct {
	Kind       string            `json:"kind"`
	Severity   string            `json:"severity"`
	Protocol   int               `json:"protocol"`
	Client     string            `json:"client"`
	Server     string            `json:"server"`
	FirstSeen  string            `json:"first_seen"`
	LastSeen   string            `json:"last_seen"`
	Reason     string            `json:"reason"`
	Confidence string            `json:"confidence"`
	Observers  []FindingObserver `json:"observers"`
	Detail     string            `json:"detail"`
	Evidence   []EvidenceRef     `json:"evidence"`

	// Cloud is the client's cloud, for reports; not part of the contract.
	Cloud string `json:"-"`
	// Timeline is, per observer in the order of Observers, when it saw the
	// connection and the records kept as evidence, for reports that draw
	// it; not part of the JSON contract.
	Timeline []ObserverTimeline `json:"-"`
}

// ObserverTimeline is when one observer saw a connection.
type ObserverTimeline struct {
	First, Last int64 // microseconds
	Evidence    []Evidence
}

// FindingObserver is what one observer saw of the connection.
type FindingObserver struct {
	Name    string `json:"name"`
	ID      string `json:"id"`
	Role    Role   `json:"role"`
	Forward bool   `json:"forward"`
	Reverse bool   `json:"reverse"`
	Records int    `json:"records"`
}

// EvidenceRef points at a raw record.
type EvidenceRef struct {
	Object string `json:"object"`
	Line   int64  `json:"line"`
}

// maxFindingEvidence bounds the evidence list of one finding.
const maxFindingEvidence = 32

// View is what one observer saw of a connection, oriented client to server.
type View struct {
	*Resolved
	Forward, Reverse bool
	FwdPkts, RevPkts int64
	Records          int
	Rejected         bool
	First, Last      int64
	Evidence         []Evidence
}

// Verdict is the judgement of one connection. Its Views are reused for the
// next verdict: a caller that keeps a Verdict beyond the callback it got it
// in keeps a copy (see Clone).
type Verdict struct {
	Key            Key
	Session        *Session
	Client, Server Endpoint
	Views          []View
	Findings       []Finding
	// Insufficient is set when a finding could not be judged because an
	// observer it depends on did not cover the connection's span.
	Insufficient bool
	// serverPublic caches topo.IsPublic(Server): two checks ask it.
	serverPublic bool
	// OutsideLeg is set for a NAT's outside leg (the NAT's own address to
	// the server): evidence about the NAT, never a finding of its own.
	OutsideLeg bool
}

// Clone returns a copy of v that stays valid after the callback.
func (v Verdict) Clone() Verdict {
	v.Views = slices.Clone(v.Views)
	return v
}

// judge decides verdicts from summaries and the run's observer state.
type judge struct {
	topo       *Topology
	udp        bool
	observers  map[uint64]*Resolved
	popular    map[Endpoint]uint32
	spokeAddrs map[netip.Addr]*Resolved
	hubs       map[string][]*Resolved // approved hub observers per cloud
	checks     map[string]bool        // the kinds to raise; nil means all
	views      []View                 // reused by every verdict
}

func newJudge(topo *Topology, udp bool, observers map[uint64]*Observer, popular map[Endpoint]uint32) *judge {
	j := &judge{topo: topo, udp: udp, observers: map[uint64]*Resolved{}, popular: popular,
		spokeAddrs: map[netip.Addr]*Resolved{}, hubs: map[string][]*Resolved{}}
	hashes := make([]uint64, 0, len(observers))
	for h := range observers {
		hashes = append(hashes, h)
	}
	// In the order of observer names, so that an address two spoke
	// observers log as their own belongs to the first, in every run.
	slices.SortFunc(hashes, func(a, b uint64) int { return cmp.Compare(observers[a].ID.String(), observers[b].ID.String()) })
	for _, h := range hashes {
		r := topo.resolve(observers[h])
		j.observers[h] = r
		if r.Role == RoleSpoke {
			for _, a := range r.Own() {
				if _, taken := j.spokeAddrs[a]; !taken {
					j.spokeAddrs[a] = r
				}
			}
		}
		if r.Role.Hub() && r.Approved() {
			j.hubs[r.ID.Cloud] = append(j.hubs[r.ID.Cloud], r)
		}
	}
	return j
}

// orient decides which endpoint is the client, in ANALYSIS.md's order:
// TCP flags, then ports, then private versus public. It reports whether A
// is the client.
func (j *judge) orient(k Key, s *Session) bool {
	synA, synB := s.Flags&synFromA != 0, s.Flags&synFromB != 0
	if synA != synB {
		return synA
	}
	ackA, ackB := s.Flags&synAckFromA != 0, s.Flags&synAckFromB != 0
	if ackA != ackB {
		return ackB
	}
	pa, pb := k.A.Port, k.B.Port
	if (pa < popularLow) != (pb < popularLow) {
		return pb < popularLow
	}
	// A port the other side uses with many peers marks the server.
	na, nb := j.popular[k.A], j.popular[k.B]
	if max(na, nb) >= 3 && na != nb {
		return nb > na
	}
	// A port in the ephemeral range against one outside it: clients take
	// ephemeral ports (Linux from 32768, IANA from 49152), services do not.
	if (pa >= popularHigh) != (pb >= popularHigh) {
		return pa >= popularHigh
	}
	pubA, pubB := j.topo.IsPublic(k.A.IP()), j.topo.IsPublic(k.B.IP())
	if pubA != pubB {
		return pubB
	}
	// Nothing tells: the higher port is taken for the client's ephemeral one.
	return pa >= pb
}

func (j *judge) verdict(k Key, s *Session) Verdict {
	v := Verdict{Key: k, Session: s, Client: k.A, Server: k.B, Views: j.views[:0]}
	defer func() { j.views = v.Views[:0] }()
	clientA := j.orient(k, s)
	if !clientA {
		v.Client, v.Server = k.B, k.A
	}
	for i := range s.obs {
		o := &s.obs[i]
		r := j.observers[o.obs]
		if r == nil {
			continue // a summary merged without its observer: cannot judge it
		}
		view := View{Resolved: r, Forward: o.sawAB, Reverse: o.sawBA, FwdPkts: o.pktsAB, RevPkts: o.pktsBA,
			Records: int(o.records), Rejected: o.rejected, First: o.first, Last: o.last, Evidence: o.evidence.list()}
		if !clientA {
			view.Forward, view.Reverse = o.sawBA, o.sawAB
			view.FwdPkts, view.RevPkts = o.pktsBA, o.pktsAB
		}
		v.Views = append(v.Views, view)
	}
	if len(v.Views) > 1 {
		slices.SortFunc(v.Views, compareViews)
	}
	if j.outsideLeg(&v) {
		v.OutsideLeg = true
		return v
	}
	v.serverPublic = j.topo.IsPublic(v.Server.IP())
	if j.on(KindOneWay) {
		j.oneWay(&v)
	}
	if j.on(KindAsymmetric) {
		j.asymmetric(&v)
	}
	if j.on(KindHubBypass) {
		j.hubBypass(&v)
	}
	if j.on(KindUnapprovedNAT) {
		j.unapprovedNAT(&v)
	}
	return v
}

// on reports whether the run raises findings of this kind.
func (j *judge) on(kind string) bool { return j.checks == nil || j.checks[kind] }

// compareViews orders views by name, then observer id, without building
// strings: it runs for every connection.
func compareViews(a, b View) int {
	return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID.Cloud, b.ID.Cloud),
		cmp.Compare(a.ID.Resource, b.ID.Resource), cmp.Compare(a.ID.ID, b.ID.ID))
}

// outsideLeg: a NAT observer recorded the connection and the client side
// is that NAT's own address.
func (j *judge) outsideLeg(v *Verdict) bool {
	client := v.Client.IP()
	for _, w := range v.Views {
		if w.Role != RoleNAT {
			continue
		}
		if w.OwnsAddr(client) {
			return true
		}
		if e := w.Entry; e != nil && (e.ownsCIDR(client) || slices.Contains(e.EgressIPs, client)) {
			return true
		}
	}
	return false
}

func (j *judge) covers(r *Resolved, s *Session) bool { return r.Covers(s.First, s.Last) }

func (j *judge) oneWay(v *Verdict) {
	p := v.Key.Proto
	if p != 6 && (p != 17 || !j.udp) {
		return
	}
	forward, covering := false, false
	for _, w := range v.Views {
		if w.Reverse {
			return
		}
		if w.Forward {
			forward = true
			covering = covering || j.covers(w.Resolved, v.Session)
		}
	}
	if !forward {
		return
	}
	if !covering {
		v.Insufficient = true
		return
	}
	f := j.finding(v, KindOneWay, "medium", ReasonNoReply)
	seenAt := names(v.Views, func(w View) bool { return w.Forward })
	f.Detail = "no reply seen anywhere: forward only at " + seenAt
	if v.Session.Flags&rejected != 0 {
		f.Reason, f.Severity = ReasonRejected, "low"
		f.Detail = "rejected at " + names(v.Views, func(w View) bool { return w.Rejected }) + "; no reply seen anywhere"
	}
	f.Confidence = confidence(v.Views, func(w View) (bool, int64) { return w.Forward, w.FwdPkts })
	v.Findings = append(v.Findings, f)
}

func (j *judge) asymmetric(v *Verdict) {
	reverse := slices.ContainsFunc(v.Views, func(w View) bool { return w.Reverse })
	if !reverse {
		return
	}
	var oneSided []View
	blocked := false
	for _, w := range v.Views {
		if !w.Role.Stateful() || w.Forward == w.Reverse {
			continue
		}
		if j.covers(w.Resolved, v.Session) {
			oneSided = append(oneSided, w)
		} else {
			blocked = true
		}
	}
	split := j.split(v)
	if len(oneSided) == 0 && split == nil {
		v.Insufficient = v.Insufficient || blocked
		return
	}
	f := j.finding(v, KindAsymmetric, "high", "")
	both := names(v.Views, func(w View) bool { return w.Forward && w.Reverse })
	if split != nil {
		f.Reason = ReasonSplit
		f.Detail = fmt.Sprintf("split across two %s observers: forward only at %s (%s), reverse only at %s (%s)",
			split[0].Role, split[0].Name, split[0].ID.ID, split[1].Name, split[1].ID.ID)
		oneSided = split[:]
	} else {
		w := oneSided[0]
		if w.Forward {
			f.Detail = "reply bypassed " + w.Name + ": seen forward only there"
		} else {
			f.Detail = "request bypassed " + w.Name + ": seen reverse only there"
		}
		if both != "" {
			f.Detail += ", both ways at " + both
		}
	}
	f.Confidence = confidence(oneSided, func(w View) (bool, int64) {
		if w.Forward {
			return true, w.FwdPkts
		}
		return true, w.RevPkts
	})
	v.Findings = append(v.Findings, f)
}

// split finds forward and reverse seen at two different observers of the
// same stateful role, each seeing only its own direction.
func (j *judge) split(v *Verdict) *[2]View {
	for _, a := range v.Views {
		if !a.Role.Stateful() || !a.Forward || a.Reverse {
			continue
		}
		for _, b := range v.Views {
			if b.Role == a.Role && b.Reverse && !b.Forward && b.ID != a.ID {
				return &[2]View{a, b}
			}
		}
	}
	return nil
}

func (j *judge) hubBypass(v *Verdict) {
	if !v.serverPublic {
		return
	}
	for _, w := range v.Views {
		if w.Role.Hub() && w.Approved() {
			return // an approved hub recorded it
		}
	}
	cloud, inSpoke := j.clientSpoke(v)
	if !inSpoke {
		return
	}
	var covering *Resolved
	for _, h := range j.hubs[cloud] {
		if j.covers(h, v.Session) {
			covering = h
			break
		}
	}
	if covering == nil {
		if len(j.hubs[cloud]) > 0 {
			v.Insufficient = true
		}
		return
	}
	f := j.finding(v, KindHubBypass, "high", "")
	f.Cloud = cloud
	f.Detail = fmt.Sprintf("spoke client reached a public server without an approved hub: recorded only at %s, while %s covered the span",
		names(v.Views, func(View) bool { return true }), covering.Name)
	v.Findings = append(v.Findings, f)
}

// clientSpoke reports whether the client is in a spoke, and its cloud.
func (j *judge) clientSpoke(v *Verdict) (string, bool) {
	client := v.Client.IP()
	for _, w := range v.Views {
		if w.Role == RoleSpoke && w.OwnsAddr(client) {
			return w.ID.Cloud, true // the spoke observer that logged it
		}
	}
	if r, ok := j.spokeAddrs[client]; ok {
		return r.ID.Cloud, true
	}
	for _, e := range j.topo.Entries {
		if e.Role != RoleSpoke || !e.ownsCIDR(client) {
			continue
		}
		if e.Cloud != "" {
			return e.Cloud, true
		}
		// The spoke entry does not say: the cloud whose observers recorded
		// the connection (the first by name if several did).
		var clouds []string
		for _, w := range v.Views {
			clouds = append(clouds, w.ID.Cloud)
		}
		slices.Sort(clouds)
		if len(clouds) > 0 {
			return clouds[0], true
		}
	}
	return "", false
}

func (j *judge) unapprovedNAT(v *Verdict) {
	if !v.serverPublic {
		return
	}
	var nats []View
	for _, w := range v.Views {
		if w.Role == RoleNAT {
			nats = append(nats, w)
		}
	}
	reason, detail := "", ""
	for _, w := range nats {
		if !w.Approved() {
			reason, detail = ReasonUnapprovedObserver, "translated by "+w.Name+", a NAT that is not approved"
			break
		}
	}
	if reason == "" && len(nats) >= 2 {
		reason = ReasonDoubleNAT
		detail = "translated twice: " + names(nats, func(View) bool { return true })
	}
	if reason == "" && len(j.topo.ApprovedEgressIPs) > 0 {
		for _, a := range j.translated(v, nats) {
			if !j.topo.Approved(a) {
				reason, detail = ReasonEgressIP, "left with source address "+a.String()+", not in approved_egress_ips"
				break
			}
		}
	}
	if reason == "" {
		return
	}
	f := j.finding(v, KindUnapprovedNAT, "high", reason)
	f.Detail = detail
	v.Findings = append(v.Findings, f)
}

// translated lists the public source addresses the connection left with: its
// NATs' egress_ips, Cloud NAT's logged nat_ip, and a public client address.
func (j *judge) translated(v *Verdict, nats []View) []netip.Addr {
	var out []netip.Addr
	for _, w := range nats {
		if w.Entry != nil {
			out = append(out, w.Entry.EgressIPs...)
		}
	}
	for _, b := range v.Session.natAddrs {
		out = append(out, addrOf(b))
	}
	if c := v.Client.IP(); j.topo.IsPublic(c) && len(nats) == 0 {
		out = append(out, c)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// finding fills what every finding of v shares.
func (j *judge) finding(v *Verdict, kind, severity, reason string) Finding {
	f := Finding{
		Kind: kind, Severity: severity, Protocol: int(v.Key.Proto), Reason: reason, Confidence: "high",
		Client: v.Client.AddrPort().String(), Server: v.Server.AddrPort().String(),
		FirstSeen: rfc3339(v.Session.First), LastSeen: rfc3339(v.Session.Last),
	}
	var ev []Evidence
	for _, w := range v.Views {
		f.Observers = append(f.Observers, FindingObserver{Name: w.Name, ID: w.ID.ID, Role: w.Role,
			Forward: w.Forward, Reverse: w.Reverse, Records: w.Records})
		f.Timeline = append(f.Timeline, ObserverTimeline{First: w.First, Last: w.Last, Evidence: w.Evidence})
		ev = append(ev, w.Evidence...)
		if f.Cloud == "" {
			f.Cloud = w.ID.Cloud
		}
	}
	slices.SortFunc(ev, func(a, b Evidence) int { return cmp.Or(cmp.Compare(a.Object, b.Object), cmp.Compare(a.Line, b.Line)) })
	for _, e := range ev {
		if len(f.Evidence) == maxFindingEvidence {
			break
		}
		f.Evidence = append(f.Evidence, EvidenceRef{Object: e.Object, Line: e.Line})
	}
	return f
}

// lowConfidencePackets is ANALYSIS.md's threshold: a direction missing at
// sampled observers only, where the seen direction counts fewer packets,
// is weak evidence.
const lowConfidencePackets = 10

// confidence is "low" when every observer the finding rests on is sampled
// and the direction they did see counts fewer than 10 packets there.
func confidence(views []View, seen func(View) (bool, int64)) string {
	var pkts int64
	any := false
	for _, w := range views {
		ok, n := seen(w)
		if !ok {
			continue
		}
		if !w.Sampled {
			return "high"
		}
		any = true
		pkts += n
	}
	if any && pkts < lowConfidencePackets {
		return "low"
	}
	return "high"
}

func names(views []View, keep func(View) bool) string {
	var out []string
	for _, w := range views {
		if keep(w) && !slices.Contains(out, w.Name) {
			out = append(out, w.Name)
		}
	}
	return strings.Join(out, ", ")
}

func rfc3339(micros int64) string {
	return time.UnixMicro(micros).UTC().Format(time.RFC3339)
}
