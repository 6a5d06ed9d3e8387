package estate

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// This file holds a slow, obviously correct reading of ANALYSIS.md over
// decoded rows: the oracle that checks the estate's ground truth against
// what its logs actually say, independently of how the generator meant
// them. It knows nothing of the generator's internals; it reads the
// topology file and the rows the real decoder produced.

// topologyFile has exactly the keys docs/topology.md documents; decoding
// with KnownFields rejects any other.
type topologyFile struct {
	PrivateCIDRs      []string        `yaml:"private_cidrs"`
	SessionGap        string          `yaml:"session_gap"`
	ApprovedEgressIPs []string        `yaml:"approved_egress_ips"`
	Observers         []topologyEntry `yaml:"observers"`
}

type topologyEntry struct {
	Name      string        `yaml:"name"`
	Role      string        `yaml:"role"`
	Approved  *bool         `yaml:"approved"`
	Cloud     string        `yaml:"cloud"`
	Match     topologyMatch `yaml:"match"`
	EgressIPs []string      `yaml:"egress_ips"`
}

type topologyMatch struct {
	Interfaces  []string `yaml:"interfaces"`
	Attachments []string `yaml:"attachments"`
	NICs        []string `yaml:"nics"`
	Instances   []string `yaml:"instances"`
	Subnets     []string `yaml:"subnets"`
	Networks    []string `yaml:"networks"`
	NATGateways []string `yaml:"nat_gateways"`
	Resources   []string `yaml:"resources"`
	CIDRs       []string `yaml:"cidrs"`
}

func loadTopology(file string) (*topologyFile, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var t topologyFile
	if err := dec.Decode(&t); err != nil {
		return nil, err
	}
	return &t, nil
}

func (e *topologyEntry) approved() bool { return e.Approved == nil || *e.Approved }

func (e *topologyEntry) hub() bool { return e.Role != "spoke" }

func (e *topologyEntry) stateful() bool {
	return e.Role == "inspection" || e.Role == "nat" || e.Role == "proxy"
}

func globAny(patterns []string, s string, fold bool) bool {
	if s == "" {
		return false
	}
	for _, p := range patterns {
		if fold {
			p, s = strings.ToLower(p), strings.ToLower(s)
		}
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

func inPrefixes(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func mustPrefixes(ss []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// refObserver is one capture point and what the rows say about it.
type refObserver struct {
	key, cloud, id string
	entry          *topologyEntry // nil: role unknown
	own            map[netip.Addr]bool
	covered        map[int64]bool // minutes with a record
	holes          map[int64]bool // minutes with SKIPDATA
	rows           []*row
}

func (o *refObserver) role() string {
	if o.entry == nil {
		return "unknown"
	}
	return o.entry.Role
}

// covers reports whether o has a record in every minute of [first, last]
// and no SKIPDATA there.
func (o *refObserver) covers(first, last time.Time) bool {
	for m := first.Unix() / 60; m <= last.Unix()/60; m++ {
		if !o.covered[m] || o.holes[m] {
			return false
		}
	}
	return true
}

// ownAddr is the address a row logs for its observer itself.
func ownAddr(r *row) netip.Addr {
	if r.direction == "egress" {
		return r.src
	}
	return r.dst
}

type refKey struct {
	proto int
	a, b  netip.AddrPort
}

type refConn struct {
	key         refKey
	rows        []*row
	first, last time.Time
	maxEnd      time.Time
}

// refResult is what the reference correlator concludes.
type refResult struct {
	findings     map[string]bool // "kind/reason proto client server", plus " udp" when only --udp raises it
	insufficient int
	connections  int
	outsideLegs  int
	roles        map[string]string // observer id -> entry name
}

// reference runs ANALYSIS.md over rows.
func reference(topo *topologyFile, rows []row) refResult {
	private := mustPrefixes(topo.PrivateCIDRs)
	approvedIPs := map[netip.Addr]bool{}
	for _, s := range topo.ApprovedEgressIPs {
		approvedIPs[netip.MustParseAddr(s)] = true
	}
	gap := 15 * time.Minute
	if topo.SessionGap != "" {
		gap, _ = time.ParseDuration(topo.SessionGap)
	}

	// Observers and what they own and cover.
	obs := map[string]*refObserver{}
	var order []*refObserver
	for i := range rows {
		r := &rows[i]
		key := r.cloud + "|" + r.observer
		o := obs[key]
		if o == nil {
			o = &refObserver{key: key, cloud: r.cloud, id: r.observer, own: map[netip.Addr]bool{}, covered: map[int64]bool{}, holes: map[int64]bool{}}
			obs[key] = o
			order = append(order, o)
		}
		o.rows = append(o.rows, r)
		minute := r.start.Unix() / 60
		if r.status == "skipdata" {
			o.holes[minute] = true
			continue
		}
		o.covered[minute] = true
		if r.src.IsValid() && r.kind != "gcp-nat" {
			o.own[ownAddr(r)] = true
		}
	}
	// Names: entries in file order, the first that matches.
	res := refResult{findings: map[string]bool{}, roles: map[string]string{}}
	for _, o := range order {
		for i := range topo.Observers {
			e := &topo.Observers[i]
			if e.Cloud != "" && e.Cloud != o.cloud {
				continue
			}
			if matches(e, o) {
				o.entry = e
				res.roles[o.id] = e.Name
				break
			}
		}
	}
	// A NAT's own addresses: its entry's cidrs and egress_ips, and what
	// AWS writes in dstaddr on its inside leg.
	natOwn := map[*refObserver][]netip.Prefix{}
	for _, o := range order {
		if o.role() != "nat" {
			continue
		}
		ps := mustPrefixes(o.entry.Match.CIDRs)
		for _, s := range o.entry.EgressIPs {
			a := netip.MustParseAddr(s)
			ps = append(ps, netip.PrefixFrom(a, a.BitLen()))
		}
		for _, r := range o.rows {
			if r.pdst.IsValid() && r.dst != r.pdst {
				ps = append(ps, netip.PrefixFrom(r.dst, r.dst.BitLen()))
			}
		}
		natOwn[o] = ps
	}

	// Connections: the 5-tuple by the packet addresses, canonical order,
	// split where records stop for longer than the session gap.
	byKey := map[refKey][]*row{}
	for i := range rows {
		r := &rows[i]
		if r.status == "nodata" || r.status == "skipdata" {
			continue
		}
		a, b := r.src, r.dst
		if r.psrc.IsValid() {
			a = r.psrc
		}
		if r.pdst.IsValid() {
			b = r.pdst
		}
		x, y := netip.AddrPortFrom(a, uint16(r.sport)), netip.AddrPortFrom(b, uint16(r.dport))
		if x.Compare(y) > 0 {
			x, y = y, x
		}
		k := refKey{r.proto, x, y}
		byKey[k] = append(byKey[k], r)
	}
	var conns []*refConn
	for k, rs := range byKey {
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].start.Before(rs[j].start) })
		var c *refConn
		for _, r := range rs {
			if c == nil || r.start.Sub(c.maxEnd) > gap {
				c = &refConn{key: k, first: r.start}
				conns = append(conns, c)
			}
			c.rows = append(c.rows, r)
			if r.end.After(c.maxEnd) {
				c.maxEnd = r.end
			}
		}
	}
	for _, c := range conns {
		c.last = c.maxEnd
	}
	res.connections = len(conns)

	isPublic := func(a netip.Addr) bool { return !inPrefixes(private, a) }
	for _, c := range conns {
		client, server := decideClient(c, isPublic)
		// Outside legs: the client side is a NAT observer's own address.
		outside := false
		for _, r := range c.rows {
			o := obs[r.cloud+"|"+r.observer]
			if o.role() == "nat" && inPrefixes(natOwn[o], client.Addr()) {
				outside = true
			}
		}
		if outside {
			res.outsideLegs++
			continue
		}
		type seen struct {
			fwd, rev, recorded, packets bool
			o                           *refObserver
		}
		per := map[*refObserver]*seen{}
		var pers []*seen
		rejected, anyFwdRecord := false, false
		for _, r := range c.rows {
			o := obs[r.cloud+"|"+r.observer]
			s := per[o]
			if s == nil {
				s = &seen{o: o}
				per[o] = s
				pers = append(pers, s)
			}
			s.recorded = true
			if r.action == "reject" {
				rejected = true
			}
			if r.connOnly {
				continue
			}
			s.packets = true
			rs := netip.AddrPortFrom(r.src, uint16(r.sport))
			if r.psrc.IsValid() {
				rs = netip.AddrPortFrom(r.psrc, uint16(r.sport))
			}
			forward := rs == client
			if forward {
				anyFwdRecord = true
			}
			if r.packets > 0 {
				if forward {
					s.fwd = true
				} else {
					s.rev = true
				}
			}
			if r.revPackets > 0 {
				if forward {
					s.rev = true
				} else {
					s.fwd = true
				}
			}
		}
		anyRev := false
		for _, s := range pers {
			anyRev = anyRev || s.rev
		}
		add := func(kind string, udp bool) {
			k := fmt.Sprintf("%s %d %s %s", kind, c.key.proto, client, server)
			if udp {
				k += " udp"
			}
			res.findings[k] = true
		}
		inadequate := false
		// one_way
		if (c.key.proto == 6 || c.key.proto == 17) && anyFwdRecord && !anyRev {
			ok := true
			for _, s := range pers {
				if s.packets && !s.o.covers(c.first, c.last) {
					ok = false
				}
			}
			if ok {
				reason := "no_reply"
				if rejected {
					reason = "rejected"
				}
				add("one_way/"+reason, c.key.proto == 17)
			} else {
				inadequate = true
			}
		}
		// asymmetric
		if anyRev {
			raise, split := false, false
			for _, s := range pers {
				if s.o.entry == nil || !s.o.entry.stateful() || !s.packets || s.fwd == s.rev {
					continue
				}
				if s.o.covers(c.first, c.last) {
					raise = true
				} else {
					inadequate = true
				}
			}
			for _, s1 := range pers {
				for _, s2 := range pers {
					if s1 != s2 && s1.o.entry != nil && s2.o.entry != nil && s1.o.entry.stateful() &&
						s1.o.entry.Role == s2.o.entry.Role && s1.fwd && !s1.rev && s2.rev && !s2.fwd {
						raise, split = true, true
					}
				}
			}
			if split {
				add("asymmetric/split", false)
			} else if raise {
				add("asymmetric/", false)
			}
			if raise {
				inadequate = false
			}
		}
		// hub_bypass
		cloud := c.rows[0].cloud
		clientInSpoke := false
		for _, e := range topo.Observers {
			if e.Role == "spoke" && (e.Cloud == "" || e.Cloud == cloud) && inPrefixes(mustPrefixes(e.Match.CIDRs), client.Addr()) {
				clientInSpoke = true
			}
		}
		for _, s := range pers {
			if s.o.role() == "spoke" && s.o.own[client.Addr()] {
				clientInSpoke = true
			}
		}
		if clientInSpoke && isPublic(server.Addr()) {
			hubRecorded := false
			for _, s := range pers {
				if s.o.entry != nil && s.o.entry.hub() && s.o.entry.approved() {
					hubRecorded = true
				}
			}
			if !hubRecorded {
				covered := false
				for _, o := range order {
					if o.cloud == cloud && o.entry != nil && o.entry.hub() && o.entry.approved() && o.covers(c.first, c.last) {
						covered = true
					}
				}
				if covered {
					add("hub_bypass/", false)
				} else {
					inadequate = true
				}
			}
		}
		// unapproved_nat
		if isPublic(server.Addr()) {
			nats, reason := 0, ""
			unapproved := false
			var translated []netip.Addr
			for _, s := range pers {
				if s.o.role() != "nat" {
					continue
				}
				nats++
				if !s.o.entry.approved() {
					unapproved = true
				}
				for _, ip := range s.o.entry.EgressIPs {
					translated = append(translated, netip.MustParseAddr(ip))
				}
			}
			for _, r := range c.rows {
				if r.nat.IsValid() {
					translated = append(translated, r.nat)
				}
			}
			if isPublic(client.Addr()) {
				translated = append(translated, client.Addr())
			}
			if len(topo.ApprovedEgressIPs) > 0 {
				for _, a := range translated {
					if !approvedIPs[a] {
						reason = "egress_ip"
					}
				}
			}
			if nats >= 2 {
				reason = "double_nat"
			}
			if unapproved {
				reason = "unapproved_observer"
			}
			if reason != "" {
				add("unapproved_nat/"+reason, false)
			}
		}
		if inadequate {
			res.insufficient++
		}
	}
	return res
}

// decideClient orders a connection's endpoints: TCP flags first (SYN
// without ACK marks the client, SYN-ACK the server), then a port below
// 1024 marks the server, then the private side is the client.
func decideClient(c *refConn, isPublic func(netip.Addr) bool) (client, server netip.AddrPort) {
	a, b := c.key.a, c.key.b
	for _, r := range c.rows {
		if !r.hasFlags || r.proto != 6 {
			continue
		}
		src := netip.AddrPortFrom(r.src, uint16(r.sport))
		if r.psrc.IsValid() {
			src = netip.AddrPortFrom(r.psrc, uint16(r.sport))
		}
		other := a
		if src == a {
			other = b
		}
		switch {
		case r.flags&18 == 18:
			return other, src
		case r.flags&2 != 0:
			return src, other
		}
	}
	switch {
	case b.Port() < 1024 && a.Port() >= 1024:
		return a, b
	case a.Port() < 1024 && b.Port() >= 1024:
		return b, a
	case isPublic(a.Addr()) && !isPublic(b.Addr()):
		return b, a
	}
	return a, b
}

func matches(e *topologyEntry, o *refObserver) bool {
	m := &e.Match
	fold := o.cloud == "azure"
	ids := append(append(append([]string{}, m.Interfaces...), m.Attachments...), m.NICs...)
	if globAny(ids, o.id, fold) {
		return true
	}
	for _, r := range o.rows {
		if globAny(m.Instances, r.instance, false) || globAny(m.Networks, r.network, fold) {
			return true
		}
		if r.kind == "gcp-nat" && globAny(m.NATGateways, r.observer, false) {
			return true
		}
	}
	ps := mustPrefixes(m.CIDRs)
	for a := range o.own {
		if inPrefixes(ps, a) {
			return true
		}
	}
	return false
}
