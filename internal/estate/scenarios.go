package estate

import "net/netip"

// The scripted faults and exceptions: each a known connection at a fixed
// minute of the first hour, to a server of its own in 203.0.113.0/24 (or
// 2001:db8::/32) that no background connection uses, from a client port
// no background connection uses. Every connection that needs an observer
// to cover its span has, at every observer it passes, a record (traffic
// or NODATA) in every minute of its span, except where a gap is the point.
//
// docs/demo-estate.md has the same list for people; keep them in step.

// The scripted coverage gaps, in minutes from the start.
const (
	// The AWS firewall fw-a loses its records to SKIPDATA in these minutes.
	awsHoleFrom, awsHoleTo = 40, 45
	// Cloud NAT logs nothing in these minutes: no GKE node opens a
	// connection through it.
	gcpQuietFrom, gcpQuietTo = 50, 56
)

func faultServer(last byte) *host { return newHost(netip.AddrFrom4([4]byte{203, 0, 113, last})) }

// scriptedConn is newConn for a scripted connection: its client port comes
// from the range above the background's, one new port per connection
// unless port says which.
func (g *gen) scriptedConn(cl cloud, proto uint8, prof profile, client, server *host, sport uint16, m, windows, startSec, endSec int, port uint16) *conn {
	if port == 0 {
		port = g.scriptPorts[client]
		if port == 0 {
			port = scriptPortLo + uint16(g.rnd.intn(1000))
		}
		g.scriptPorts[client] = port + 1 + uint16(g.rnd.intn(7))
	}
	g.conns++
	return &conn{
		cloud: cl, proto: proto, prof: prof, client: client, server: server, cport: port, sport: sport,
		start: m, windows: windows, startSec: startSec, endSec: endSec,
		seed: mix64(g.cfg.Seed ^ g.conns*0xd1b54a32d192ed03),
	}
}

func finding(kind, reason string) expectation {
	return expectation{kind: kind, reason: reason, confidence: "high"}
}

// scripted opens the scripted connections that start in minute m.
func (g *gen) scripted(m int) {
	a, gc, z := g.aws, g.gcp, g.az
	k8s, apps, vms := a.k8s, a.apps, z.vms
	fault := func(c *conn, name string, e ...expectation) {
		c.scenario, c.expect = name, e
		g.startConn(c)
	}
	exception := func(c *conn, name string, inadequate bool) {
		c.exception, c.inadequate = name, inadequate
		g.startConn(c)
	}
	switch m {
	// ---- AWS ----
	case 2:
		// A connection open for 48 minutes through fw-a, across its
		// SKIPDATA hole. Outside the hole fw-a saw both directions, so
		// nothing is missing there: no finding, and it does not count as
		// insufficient coverage (only a finding that depends on fw-a
		// not seeing something would).
		c := g.scriptedConn(cloudAWS, 6, profNormal, k8s[2].v4, faultServer(20), 443, m, 48, 12, 40, 0)
		g.hubEgress(c, k8s[2], a.fwA)
		exception(c, "aws-long-lived-across-skipdata", false)
	case 3:
		// The first use of a 5-tuple that is reused at minute 26, more
		// than the session gap later: healthy.
		c := g.scriptedConn(cloudAWS, 6, profNormal, apps[0].v4, faultServer(17), 443, m, 3, 5, 30, 0)
		g.reusedPort = c.cport
		g.hubEgress(c, apps[0], a.fwB)
		exception(c, "aws-port-reuse-first-healthy", false)
	case 6:
		// Request into the hub through the TGW interface of az2, reply
		// through az1's: a transit observer seeing one direction each,
		// which is by design.
		c := g.scriptedConn(cloudAWS, 6, profNormal, k8s[1].v4, faultServer(21), 443, m, 2, 20, 15, 0)
		g.hubEgress(c, k8s[1], a.fwA)
		exception(c, "aws-transit-split-healthy", false)
	case 8:
		// SYN retries, no answer anywhere. Its NAT outside leg is one-way
		// too and must not raise a finding of its own.
		c := g.scriptedConn(cloudAWS, 6, profNoReply, k8s[0].v4, faultServer(10), 443, m, 2, 14, 45, 0)
		c.noReplyPkts = 3
		g.hubEgress(c, k8s[0], a.fwA)
		fault(c, "aws-one-way-no-reply", finding("one_way", "no_reply"))
	case 12:
		// The firewall's security group rejects the SYNs.
		c := g.scriptedConn(cloudAWS, 6, profNoReply, apps[1].v4, faultServer(11), 443, m, 2, 30, 31, 0)
		c.noReplyPkts = 3
		c.add(hop{kind: hopAWSClient, eni: apps[1], see: seeFwdOut, path: 1})
		c.add(hop{kind: hopAWSForward, eni: a.tgwFor(apps[1]), see: seeFwdOut, path: 1})
		c.add(hop{kind: hopAWSForward, eni: a.fwB, see: seeFwdIn, reject: true})
		fault(c, "aws-one-way-rejected-at-firewall", finding("one_way", "rejected"))
	case 15:
		c := g.scriptedConn(cloudAWS, 6, profScan, g.scanners[0], k8s[1].v4, 22, m, 1, 33, 34, 0)
		c.add(hop{kind: hopAWSServer, eni: k8s[1], see: seeFwdIn, reject: true})
		fault(c, "aws-inbound-scan-rejected", finding("one_way", "rejected"))
	case 18:
		// The reply leaves the NAT gateway straight for the Transit
		// Gateway: fw-a sees the forward direction only.
		c := g.scriptedConn(cloudAWS, 6, profNormal, k8s[0].v4, faultServer(12), 443, m, 3, 5, 50, 0)
		g.hubEgress(c, k8s[0], a.fwA)
		c.hops[2].see = seeFwd
		c.hops[len(c.hops)-1].eni = a.tgwFor(a.nat)
		fault(c, "aws-asymmetric-reply-bypass", finding("asymmetric", ""))
	case 22:
		// Forward through fw-a, reply through fw-b.
		c := g.scriptedConn(cloudAWS, 6, profNormal, apps[0].v4, faultServer(13), 443, m, 2, 8, 20, 0)
		g.hubEgress(c, apps[0], a.fwA)
		c.hops[2].see = seeFwd
		c.hops[len(c.hops)-1].eni = a.tgwFor(a.fwB)
		c.add(hop{kind: hopAWSForward, eni: a.fwB, see: seeRev, path: 1})
		fault(c, "aws-asymmetric-split", finding("asymmetric", "split"))
	case 26:
		// A subnet route straight to the internet gateway: the workload
		// leaves with its Elastic IP, which flow logs never show.
		c := g.scriptedConn(cloudAWS, 6, profNormal, apps[3].v4, faultServer(14), 443, m, 2, 3, 25, 0)
		c.add(hop{kind: hopAWSClient, eni: apps[3], see: seeFwdOut | seeRevIn, path: 8})
		fault(c, "aws-hub-bypass-igw", finding("hub_bypass", ""))
		// The 5-tuple of minute 3, 20 minutes later: a new connection,
		// and this one gets no reply.
		c = g.scriptedConn(cloudAWS, 6, profNoReply, apps[0].v4, faultServer(17), 443, m, 2, 40, 50, g.reusedPort)
		c.noReplyPkts = 2
		g.hubEgress(c, apps[0], a.fwA)
		fault(c, "aws-port-reuse-second-one-way", finding("one_way", "no_reply"))
	case 29:
		// Out through the spoke-local NAT gateway that is not approved:
		// unapproved_nat, and no approved hub saw it (hub_bypass).
		c := g.scriptedConn(cloudAWS, 6, profNormal, apps[1].v4, faultServer(15), 443, m, 2, 11, 9, 0)
		c.add(hop{kind: hopAWSClient, eni: apps[1], see: seeFwdOut | seeRevIn, path: 1})
		g.natHop(c, a.legacyNAT)
		fault(c, "aws-legacy-nat", finding("hub_bypass", ""), finding("unapproved_nat", "unapproved_observer"))
	case 31:
		// Through the NAT instance of apps (routing to the hub without
		// translating), then the hub: two NAT observers recorded it.
		c := g.scriptedConn(cloudAWS, 6, profNormal, apps[2].v4, faultServer(16), 443, m, 2, 25, 44, 0)
		c.add(hop{kind: hopAWSClient, eni: apps[2], see: seeFwdOut | seeRevIn, path: 1})
		c.add(hop{kind: hopAWSForward, eni: a.natInstance, see: seeAll, path: 1})
		c.add(hop{kind: hopAWSForward, eni: a.tgwFor(a.natInstance), see: seeFwdOut, path: 1})
		c.add(hop{kind: hopAWSForward, eni: a.fwB, see: seeAll, path: 1})
		g.natHop(c, a.nat)
		c.add(hop{kind: hopAWSForward, eni: a.tgwFor(a.fwB), see: seeRevIn})
		fault(c, "aws-double-nat", finding("unapproved_nat", "double_nat"))
	case 33:
		c := g.scriptedConn(cloudAWS, 6, profScan, g.scanners[1], apps[2].v4, 445, m, 1, 7, 7, 0)
		c.add(hop{kind: hopAWSServer, eni: apps[2], see: seeFwdIn, reject: true})
		fault(c, "aws-inbound-scan-rejected", finding("one_way", "rejected"))
	case 35:
		// A node's public IPv6 address straight out through the egress-only
		// internet gateway: its source address is public and not
		// approved, and no approved hub saw it.
		c := g.scriptedConn(cloudAWS, 6, profNormal, a.k8sGUA, newHost(netip.MustParseAddr("2001:db8:5e::10")), 443, m, 2, 17, 33, 0)
		c.add(hop{kind: hopAWSClient, eni: k8s[0], see: seeFwdOut | seeRevIn, path: 8})
		fault(c, "aws-public-ipv6-client", finding("hub_bypass", ""), finding("unapproved_nat", "egress_ip"))
	case 38:
		// NTP queries nobody answers: one_way only with --udp.
		c := g.scriptedConn(cloudAWS, 17, profNoReply, k8s[3].v4, faultServer(18), 123, m, 1, 4, 52, 0)
		c.noReplyPkts = 4
		g.hubEgress(c, k8s[3], a.fwB)
		fault(c, "aws-udp-one-way", expectation{kind: "one_way", reason: "no_reply", confidence: "high", udpOnly: true})
	case 39:
		// The SYN leaves at 10:39:58 and fw-a logs it; the SYN-ACK comes
		// at 10:40 and the whole rest of the connection falls in fw-a's
		// SKIPDATA hole. fw-a shows the forward direction only, but does
		// not cover the span: insufficient coverage, not asymmetric.
		c := g.scriptedConn(cloudAWS, 6, profLateReply, k8s[0].v4, faultServer(19), 443, m, 5, 58, 30, 0)
		g.hubEgress(c, k8s[0], a.fwA)
		exception(c, "aws-asymmetric-in-skipdata-hole", true)

	// ---- GCP ----
	case 10:
		c := g.scriptedConn(cloudGCP, 6, profNoReply, gc.nodes[1].h, faultServer(30), 443, m, 2, 6, 48, 0)
		c.noReplyPkts = 11
		g.cloudNAT(c, gc.nodes[1], gc.natIPs[0])
		fault(c, "gcp-one-way-no-reply", finding("one_way", "no_reply"))
	case 14:
		// Cloud NAT ran out of ports: allocation_status DROPPED, which
		// the parser reads as a reject. The entry has no nat_ip, so no
		// translated address to judge.
		c := g.scriptedConn(cloudGCP, 6, profNoReply, gc.nodes[2].h, faultServer(31), 443, m, 2, 21, 40, 0)
		c.noReplyPkts = 12
		g.cloudNAT(c, gc.nodes[2], gc.natIPs[0])
		c.natDropped = true
		fault(c, "gcp-nat-dropped", finding("one_way", "rejected"))
	case 20:
		// A node with an external IP: straight out, no Cloud NAT entry,
		// while Cloud NAT covers the span.
		c := g.scriptedConn(cloudGCP, 6, profNormal, gc.public.h, faultServer(32), 443, m, 2, 9, 51, 0)
		c.add(hop{kind: hopGCPClient, vm: gc.public, see: seeAll})
		fault(c, "gcp-hub-bypass-external-ip", finding("hub_bypass", ""))
	case 24:
		// Cloud NAT translated to an address nobody approved.
		c := g.scriptedConn(cloudGCP, 6, profNormal, gc.nodes[0].h, faultServer(33), 443, m, 2, 30, 12, 0)
		g.cloudNAT(c, gc.nodes[0], gc.natIPs[1])
		fault(c, "gcp-unapproved-nat-ip", finding("unapproved_nat", "egress_ip"))
	case 52:
		// The same bypass in Cloud NAT's quiet period: no GCP hub
		// observer covers the span. The AWS hub does, which says
		// nothing about GCP: insufficient coverage, not hub_bypass.
		c := g.scriptedConn(cloudGCP, 6, profNormal, gc.public.h, faultServer(34), 443, m, 2, 10, 40, 0)
		c.add(hop{kind: hopGCPClient, vm: gc.public, see: seeAll})
		exception(c, "gcp-bypass-without-gcp-coverage", true)

	// ---- Azure ----
	case 9:
		c := g.scriptedConn(cloudAzure, 6, profNoReply, vms[0].h, faultServer(40), 443, m, 2, 12, 40, 0)
		c.noReplyPkts = 3
		c.add(hop{kind: hopAzClient, nic: vms[0], see: seeAll})
		c.add(hop{kind: hopAzForward, nic: z.nva[0], see: seeAll})
		fault(c, "azure-one-way-no-reply", finding("one_way", "no_reply"))
	case 16:
		// A D tuple: denied, no counters. Port 22, so that the port
		// decides who is the client (an Azure tuple has no TCP flags).
		c := g.scriptedConn(cloudAzure, 6, profScan, g.scanners[2], vms[1].h, 22, m, 1, 27, 27, 0)
		c.add(hop{kind: hopAzServer, nic: vms[1], see: seeFwdIn, reject: true})
		fault(c, "azure-inbound-scan-denied", finding("one_way", "rejected"))
	case 19:
		// The reply skips the NVA: its tuple counts no reverse packets.
		c := g.scriptedConn(cloudAzure, 6, profNormal, vms[2].h, faultServer(41), 443, m, 3, 2, 37, 0)
		c.add(hop{kind: hopAzClient, nic: vms[2], see: seeAll})
		c.add(hop{kind: hopAzForward, nic: z.nva[0], see: seeFwd})
		fault(c, "azure-asymmetric-reply-bypass", finding("asymmetric", ""))
	case 23:
		// The load balancer sends the request to NVA 1 and the reply to
		// NVA 2, which logs it as a flow the server began.
		c := g.scriptedConn(cloudAzure, 6, profNormal, vms[3].h, faultServer(42), 443, m, 2, 19, 22, 0)
		c.add(hop{kind: hopAzClient, nic: vms[3], see: seeAll})
		c.add(hop{kind: hopAzForward, nic: z.nva[0], see: seeFwd})
		c.add(hop{kind: hopAzForwardRev, nic: z.nva[1], see: seeRev})
		fault(c, "azure-asymmetric-split", finding("asymmetric", "split"))
	case 27:
		c := g.scriptedConn(cloudAzure, 6, profNormal, vms[4].h, faultServer(43), 443, m, 2, 33, 5, 0)
		c.add(hop{kind: hopAzClient, nic: vms[4], see: seeAll})
		fault(c, "azure-hub-bypass", finding("hub_bypass", ""))
	}
}
