package estate

import (
	"fmt"
	"net/netip"
)

// plan draws the background traffic: who connects where, when, for how
// long.
type plan struct {
	rnd      rng
	servers  []server
	zipf     zipf
	ports    map[*host]*portPool // client ports
	natPorts map[*host]*portPool // translated ports
	scanners []*host
	// scriptPorts hands the scripted connections client ports above the
	// range the background draws from, so that no background connection
	// can share a scripted one's 5-tuple.
	scriptPorts map[*host]uint16
	reusedPort  uint16 // the client port of the scripted port-reuse pair
	conns       uint64
}

type server struct {
	h     *host
	port  uint16
	proto uint8
}

// Port ranges. Clients use the Linux ephemeral range; the scripted faults
// the ports above it; NAT gateways translate to any unprivileged port.
const (
	clientPortLo = 32768
	clientPortHi = 60999
	scriptPortLo = 61000
	natPortLo    = 1024
	natPortHi    = 65535
)

// Shares of background connections that are not egress to the internet.
const (
	awsEastWestShare = 0.05 // k8s-prod to apps over IPv4, through the hub firewall
	gcpEastWestShare = 0.05 // GKE node to GKE node
)

// publicPrefixes are the /16s public servers are drawn from: none of them
// holds an address of the estate's own (its egress addresses, the fault
// servers in 203.0.113.0/24, the scanners in 192.0.2.0/24).
var publicPrefixes = [][2]byte{
	{93, 184}, {151, 101}, {104, 16}, {142, 250}, {13, 107}, {52, 84}, {185, 199}, {140, 82},
	{3, 5}, {54, 239}, {17, 253}, {23, 45}, {199, 232}, {35, 186}, {20, 190}, {40, 126},
}

func newPlan(cfg Config) plan {
	p := plan{
		rnd:         newRNG(cfg.Seed, "plan"),
		ports:       map[*host]*portPool{},
		natPorts:    map[*host]*portPool{},
		scriptPorts: map[*host]uint16{},
		zipf:        newZipf(cfg.Servers, cfg.ZipfS),
	}
	r := newRNG(cfg.Seed, "servers")
	seen := map[netip.Addr]bool{}
	for i := range cfg.Servers {
		s := server{port: 443, proto: 6}
		switch {
		case i == 1:
			s.h, s.port, s.proto = newHost(netip.MustParseAddr("8.8.8.8")), 53, 17
		case i == 4:
			s.h, s.port, s.proto = newHost(netip.MustParseAddr("1.1.1.1")), 53, 17
		default:
			for s.h == nil || seen[s.h.addr] {
				pre := publicPrefixes[r.intn(len(publicPrefixes))]
				s.h = newHost(netip.AddrFrom4([4]byte{pre[0], pre[1], byte(r.between(1, 254)), byte(r.between(1, 254))}))
			}
			if r.chance(0.12) {
				s.port = 80
			}
		}
		seen[s.h.addr] = true
		p.servers = append(p.servers, s)
	}
	for i := range 32 {
		p.scanners = append(p.scanners, newHost(netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + i)})))
	}
	return p
}

// takePort holds a client port of h from minute start until its
// connection's last window, lo..hi being h's range. Client ports are
// unique per client whatever the server, which is stricter than needed.
func (g *gen) takePort(h *host, lo, hi, start, windows int) uint16 {
	pool := g.ports[h]
	if pool == nil {
		r := newRNG(g.cfg.Seed^strHash(h.addr.String()), "ports")
		pool = newPortPool(lo, hi, &r)
		g.ports[h] = pool
	}
	port, ok := pool.take(netip.Addr{}, start, start+windows-1)
	if !ok && g.err == nil {
		g.err = fmt.Errorf("%s at minute %d: %w", h.addr, start, errPorts)
	}
	return port
}

// newConn starts describing a connection from client (a port is taken
// for it) to server.
// takeNATPort picks the translated port of nat for a connection to
// server from minute start for windows minutes.
func (g *gen) takeNATPort(nat, server *host, start, windows int) uint16 {
	pool := g.natPorts[nat]
	if pool == nil {
		r := newRNG(g.cfg.Seed^strHash(nat.addr.String()), "nat-ports")
		pool = newPortPool(natPortLo, natPortHi, &r)
		g.natPorts[nat] = pool
	}
	port, ok := pool.take(server.addr, start, start+windows-1)
	if !ok && g.err == nil {
		g.err = fmt.Errorf("NAT %s to %s at minute %d: %w", nat.addr, server.addr, start, errPorts)
	}
	return port
}

func (g *gen) newConn(cl cloud, proto uint8, prof profile, client, server *host, sport uint16, m, windows, startSec, endSec int) *conn {
	g.conns++
	return &conn{
		cloud: cl, proto: proto, prof: prof, client: client, server: server, sport: sport,
		cport: g.takePort(client, clientPortLo, clientPortHi, m, windows),
		start: m, windows: windows, startSec: startSec, endSec: endSec,
		seed: mix64(g.cfg.Seed ^ g.conns*0xd1b54a32d192ed03),
		hops: make([]hop, 0, 6),
	}
}

// timing draws how long a background connection lasts and when in its
// first and last minute it has packets. The first packet comes early
// enough in its minute for the reply to come in the same one.
func (g *gen) timing(m int, udp bool) (windows, startSec, endSec int) {
	r := &g.rnd
	switch {
	case udp:
		windows = 1
	case r.chance(g.cfg.LongLivedShare):
		windows = r.between(10, 45)
	case r.chance(0.25):
		windows = r.between(2, 5)
	default:
		windows = 1
	}
	windows = min(windows, g.minutes-m)
	startSec = r.between(0, 50)
	if windows == 1 {
		endSec = startSec + r.intn(60-startSec)
	} else {
		endSec = r.intn(60)
	}
	return windows, startSec, endSec
}

func (g *gen) pickServer() server { return g.servers[g.zipf.draw(&g.rnd)] }

// perMinute draws how many connections a spoke opens this minute: Scale
// give or take a fifth.
func (g *gen) perMinute() int {
	s := g.cfg.Scale
	return max(1, s+g.rnd.between(-s/5, s/5))
}

// blackout tells whether a random fault at minutes m..m+windows-1 of a
// cloud would touch the scripted coverage gaps (the SKIPDATA hole at the
// AWS firewall, the quiet period of Cloud NAT). A fault there could not be
// raised, so random faults keep away, a minute either side.
func (g *gen) blackout(cl cloud, m, windows int) bool {
	if g.cfg.NoScripted {
		return false
	}
	from, to := -1, -1
	switch cl {
	case cloudAWS:
		from, to = awsHoleFrom, awsHoleTo
	case cloudGCP:
		from, to = gcpQuietFrom, gcpQuietTo
	default:
		return false
	}
	return m <= to && m+windows-1 >= from-1
}

// noReply turns c into a random one_way fault: a TCP client retrying its
// SYN for two windows with no answer anywhere.
func (g *gen) noReply(c *conn, pkts uint64) {
	c.prof = profNoReply
	c.noReplyPkts = pkts
	c.windows = min(c.windows, 2)
	c.scenario = "random-one-way"
	c.expect = []expectation{{kind: "one_way", reason: "no_reply", confidence: "high"}}
}

// background opens this minute's background connections in every spoke.
func (g *gen) background(m int) {
	g.awsBackground(m, g.aws.k8s, true)
	g.awsBackground(m, g.aws.apps, false)
	g.gcpBackground(m)
	g.azBackground(m)
}

func (g *gen) awsBackground(m int, spoke []*awsENI, k8s bool) {
	r := &g.rnd
	for range g.perMinute() {
		client := spoke[r.intn(len(spoke))]
		switch {
		case r.chance(g.cfg.RejectShare) && !g.blackout(cloudAWS, m, 1):
			g.awsScan(m, client, "random-inbound-scan")
		case k8s && r.chance(g.cfg.IPv6Share):
			g.awsEastWest(m, client, true)
		case k8s && r.chance(awsEastWestShare):
			g.awsEastWest(m, client, false)
		default:
			g.awsEgress(m, client)
		}
	}
}

// hubEgress gives c the approved AWS path to the internet: the client's
// interface, the Transit Gateway into the hub VPC (through the TGW
// interface of the client's AZ), the firewall, the NAT gateway and out;
// the reply back through the same firewall, then into the Transit Gateway
// through the interface of the firewall's AZ. The two TGW interfaces
// often differ: transit observers see one direction each by design.
func (g *gen) hubEgress(c *conn, client, fw *awsENI) {
	a := g.aws
	c.add(hop{kind: hopAWSClient, eni: client, see: seeFwdOut | seeRevIn, path: 1})
	c.add(hop{kind: hopAWSForward, eni: a.tgwFor(client), see: seeFwdOut, path: 1})
	c.add(hop{kind: hopAWSForward, eni: fw, see: seeAll, path: 1})
	g.natHop(c, a.nat)
	c.add(hop{kind: hopAWSForward, eni: a.tgwFor(fw), see: seeRevIn})
}

// natHop adds a NAT gateway: the inside leg and the outside one, from the
// NAT's address and a port it picks.
func (g *gen) natHop(c *conn, nat *awsENI) {
	c.natHost = nat.v4
	c.natPort = g.takeNATPort(nat.v4, c.server, c.start, c.windows)
	c.add(hop{kind: hopAWSNAT, eni: nat, see: seeFwdIn | seeRevOut, path: 1})
}

// tgwFor returns the hub's Transit Gateway interface in e's AZ.
func (a *awsEstate) tgwFor(e *awsENI) *awsENI {
	if e.azID == awsAZ2 {
		return a.tgw[1]
	}
	return a.tgw[0]
}

func (g *gen) pickFirewall() *awsENI {
	if g.rnd.intn(2) == 0 {
		return g.aws.fwA
	}
	return g.aws.fwB
}

func (g *gen) awsEgress(m int, client *awsENI) {
	s := g.pickServer()
	windows, ss, es := g.timing(m, s.proto == 17)
	c := g.newConn(cloudAWS, s.proto, profNormal, client.v4, s.h, s.port, m, windows, ss, es)
	fw := g.pickFirewall()
	if s.proto == 6 && g.rnd.chance(g.cfg.OneWayShare) && !g.blackout(cloudAWS, m, 2) {
		g.noReply(c, 3)
	}
	g.hubEgress(c, client, fw)
	g.startConn(c)
}

// awsEastWest is k8s-prod calling a service in apps through the hub
// firewall: in through the TGW interface of the client's AZ, out to apps
// and back through the interface of the firewall's AZ.
func (g *gen) awsEastWest(m int, client *awsENI, v6 bool) {
	a := g.aws
	srv := a.apps[g.rnd.intn(len(a.apps))]
	windows, ss, es := g.timing(m, false)
	ch, sh, port := client.v4, srv.v4, uint16(8080)
	if v6 {
		ch, sh, port = client.v6, srv.v6, 8443
	}
	c := g.newConn(cloudAWS, 6, profNormal, ch, sh, port, m, windows, ss, es)
	fw := g.pickFirewall()
	c.add(hop{kind: hopAWSClient, eni: client, see: seeFwdOut | seeRevIn, path: 1})
	c.add(hop{kind: hopAWSForward, eni: a.tgwFor(client), see: seeFwdOut, path: 1})
	c.add(hop{kind: hopAWSForward, eni: fw, see: seeAll, path: 1})
	c.add(hop{kind: hopAWSForward, eni: a.tgwFor(fw), see: seeFwdIn | seeRevOut | seeRevIn, path: 1})
	c.add(hop{kind: hopAWSServer, eni: srv, see: seeFwdIn | seeRevOut, path: 1})
	g.startConn(c)
}

// scanPorts are what internet scanners knock on. All are below 1024: an
// Azure tuple has no TCP flags, and with two ports of 1024 or more
// ANALYSIS.md would take the private side (the target) for the client.
var scanPorts = []uint16{22, 23, 135, 445, 993}

// awsScan is a SYN from the internet to a spoke interface, rejected by its
// security group: one_way, reason rejected.
func (g *gen) awsScan(m int, target *awsENI, scenario string) {
	r := &g.rnd
	scanner := g.scanners[r.intn(len(g.scanners))]
	ss := r.between(0, 58)
	c := g.newConn(cloudAWS, 6, profScan, scanner, target.v4, scanPorts[r.intn(len(scanPorts))], m, 1, ss, ss+r.intn(2))
	c.add(hop{kind: hopAWSServer, eni: target, see: seeFwdIn, reject: true})
	c.scenario = scenario
	c.expect = []expectation{{kind: "one_way", reason: "rejected", confidence: "high"}}
	g.startConn(c)
}

// gcpBackground: GKE nodes to the internet through Cloud NAT, and a few
// node-to-node calls. The first connection of every minute goes through
// Cloud NAT, so that the connection observer covers every minute; in the
// scripted quiet period no node opens anything.
func (g *gen) gcpBackground(m int) {
	if !g.cfg.NoScripted && m >= gcpQuietFrom && m < gcpQuietTo {
		return
	}
	r := &g.rnd
	nodes := g.gcp.nodes
	for i := range g.perMinute() {
		client := nodes[r.intn(len(nodes))]
		if i > 0 && r.chance(gcpEastWestShare) {
			srv := nodes[r.intn(len(nodes))]
			if srv == client {
				srv = nodes[(r.intn(len(nodes)-1)+1+indexOf(nodes, client))%len(nodes)]
			}
			windows, ss, es := g.timing(m, false)
			c := g.newConn(cloudGCP, 6, profNormal, client.h, srv.h, 8080, m, windows, ss, es)
			c.add(hop{kind: hopGCPClient, vm: client, see: seeAll})
			c.add(hop{kind: hopGCPServer, vm: srv, see: seeAll})
			g.startConn(c)
			continue
		}
		s := g.pickServer()
		windows, ss, es := g.timing(m, s.proto == 17)
		c := g.newConn(cloudGCP, s.proto, profNormal, client.h, s.h, s.port, m, windows, ss, es)
		if s.proto == 6 && g.rnd.chance(g.cfg.OneWayShare) && !g.blackout(cloudGCP, m, 2) {
			// Ten packets or more a window: a direction missing at a
			// sampled observer is then still strong evidence.
			g.noReply(c, 10+uint64(r.intn(10)))
		}
		g.cloudNAT(c, client, g.gcp.natIPs[0])
		g.startConn(c)
	}
}

// cloudNAT gives c the approved GCP path: the node reports both
// directions, Cloud NAT logs the translation.
func (g *gen) cloudNAT(c *conn, client *gcpVM, natIP *host) {
	c.natHost = natIP
	c.natPort = g.takeNATPort(natIP, c.server, c.start, c.windows)
	c.add(hop{kind: hopGCPClient, vm: client, see: seeAll})
	c.add(hop{kind: hopGCPNAT, vm: client})
}

func indexOf[T comparable](s []T, v T) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// azBackground: spoke VMs to the internet through one of the two NVAs
// (the load balancer keeps a flow on one). The first two connections of
// every minute go through NVA 1 and NVA 2, so both cover every minute.
func (g *gen) azBackground(m int) {
	r := &g.rnd
	for i := range max(2, g.perMinute()) {
		client := g.az.vms[r.intn(len(g.az.vms))]
		if i >= 2 && r.chance(g.cfg.RejectShare) {
			g.azScan(m, client, "random-inbound-scan")
			continue
		}
		nva := g.az.nva[i%2]
		if i >= 2 {
			nva = g.az.nva[r.intn(2)]
		}
		s := g.pickServer()
		windows, ss, es := g.timing(m, s.proto == 17)
		c := g.newConn(cloudAzure, s.proto, profNormal, client.h, s.h, s.port, m, windows, ss, es)
		if s.proto == 6 && r.chance(g.cfg.OneWayShare) {
			g.noReply(c, 3)
		}
		c.add(hop{kind: hopAzClient, nic: client, see: seeAll})
		c.add(hop{kind: hopAzForward, nic: nva, see: seeAll})
		g.startConn(c)
	}
}

// azScan is a SYN from the internet denied at a spoke VM's NIC: a D tuple.
func (g *gen) azScan(m int, target *azNIC, scenario string) {
	r := &g.rnd
	scanner := g.scanners[r.intn(len(g.scanners))]
	ss := r.between(0, 59)
	c := g.newConn(cloudAzure, 6, profScan, scanner, target.h, scanPorts[r.intn(len(scanPorts))], m, 1, ss, ss)
	c.add(hop{kind: hopAzServer, nic: target, see: seeFwdIn, reject: true})
	c.scenario = scenario
	c.expect = []expectation{{kind: "one_way", reason: "rejected", confidence: "high"}}
	g.startConn(c)
}
