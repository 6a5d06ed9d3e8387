package estate

// A connection is simulated window by window (one minute each): every
// window gives counters for both directions, and every hop of the
// connection's path writes the records its cloud's log would hold for
// what it saw. Nothing is stored per window, so memory is bounded by the
// connections open at once, not by their records.

type cloud uint8

const (
	cloudAWS cloud = iota
	cloudGCP
	cloudAzure
)

func (c cloud) String() string { return [...]string{"aws", "gcp", "azure"}[c] }

// profile is the shape of a connection's traffic over its windows.
type profile uint8

const (
	// profNormal: both directions in every window (the reply comes within
	// the same minute as the first packet), TCP flags SYN/SYN-ACK in the
	// first window and FIN in the last.
	profNormal profile = iota
	// profNoReply: forward packets only, in every window: TCP SYN
	// retries, or UDP datagrams nobody answers.
	profNoReply
	// profLateReply: the first window holds only the client's SYN, sent
	// at second 58; the reply starts in the second window.
	profLateReply
	// profScan: one window, a SYN or two from the internet.
	profScan
)

type hopKind uint8

const (
	hopAWSClient    hopKind = iota // the client's own interface
	hopAWSServer                   // the server's own interface (east-west, inbound scans)
	hopAWSForward                  // an interface that forwards packets it does not own (TGW, firewall, NAT instance)
	hopAWSNAT                      // a NAT gateway: its inside leg as a forwarder, plus the outside leg
	hopGCPClient                   // the client VM reporting VPC Flow Logs
	hopGCPServer                   // the server VM (east-west)
	hopGCPNAT                      // Cloud NAT: one entry when the connection is made
	hopAzClient                    // outbound tuple at the client VM's NIC
	hopAzServer                    // inbound tuple at the server VM's NIC
	hopAzForward                   // inbound tuple at an NVA, client to server
	hopAzForwardRev                // inbound tuple at an NVA that saw only the reply: server to client
)

// Which directions a hop sees. AWS interfaces log a forwarded packet
// twice, as it comes in and as it goes out, so AWS hops use all four bits;
// the other clouds use seeFwdIn and seeRevIn.
const (
	seeFwdIn uint8 = 1 << iota
	seeFwdOut
	seeRevIn
	seeRevOut

	seeFwd = seeFwdIn | seeFwdOut
	seeRev = seeRevIn | seeRevOut
	seeAll = seeFwd | seeRev
)

type hop struct {
	kind   hopKind
	see    uint8
	reject bool  // the hop drops the forward packets: AWS REJECT, Azure D
	path   uint8 // AWS traffic-path of egress records; 0 writes "-"
	eni    *awsENI
	vm     *gcpVM
	nic    *azNIC
}

type conn struct {
	cloud          cloud
	proto          uint8
	prof           profile
	client, server *host
	cport, sport   uint16
	// The NAT translation: the AWS NAT gateway's outside leg, or Cloud
	// NAT's nat_ip and nat_port.
	natHost    *host
	natPort    uint16
	natDropped bool // Cloud NAT allocation_status DROPPED
	start      int  // minute index of the first window
	windows    int
	startSec   int // second of the first packet in the first window
	endSec     int // second of the last packet in the last window
	seed       uint64
	// noReplyPkts is the forward packets per window of profNoReply.
	noReplyPkts uint64
	hops        []hop
	// Azure counts since the last C or E tuple.
	accFP, accFB, accRP, accRB uint64

	// Ground truth, for connections that are faults or exceptions.
	expect      []expectation
	exception   string
	inadequate  bool // counts under insufficient coverage
	first, last int64
	scenario    string
}

type expectation struct {
	kind, reason, confidence string
	udpOnly                  bool
}

func (c *conn) add(h hop) *hop {
	c.hops = append(c.hops, h)
	return &c.hops[len(c.hops)-1]
}

func (c *conn) tracked() bool { return len(c.expect) > 0 || c.exception != "" }

// seen widens the connection's time span to a record's.
func (c *conn) seen(lo, hi int64) {
	if c.first == 0 || lo < c.first {
		c.first = lo
	}
	if hi > c.last {
		c.last = hi
	}
}

// window is what one connection did in one minute.
type window struct {
	m, w   int   // minute of the run, window of the connection
	lo, hi int64 // Unix seconds of the first and last packet
	last   bool
	fp, fb uint64 // forward packets and bytes
	rp, rb uint64 // reverse
	ff, rf uint8  // TCP flags OR-ed over the window, AWS encoding
	v6     bool
}

func (c *conn) window(base int64, m int) window {
	w := m - c.start
	win := window{m: m, w: w, last: w == c.windows-1, v6: c.client.addr.Is6()}
	t0 := base + int64(m)*60
	lo, hi := 0, 59
	if w == 0 {
		lo = c.startSec
	}
	if win.last {
		hi = c.endSec
	}
	h := mix64(c.seed ^ uint64(w)*0x9e3779b97f4a7c15)
	tcp := c.proto == 6
	switch c.prof {
	case profNormal:
		if tcp {
			win.fp = 3 + h%38
			win.rp = 3 + (h>>8)%70
			win.fb = win.fp * (60 + (h>>16)%500)
			win.rb = win.rp * (200 + (h>>24)%1200)
		} else {
			win.fp = 1 + (h>>8)%2
			win.rp = win.fp
			win.fb = win.fp * (60 + (h>>16)%40)
			win.rb = win.rp * (90 + (h>>24)%300)
		}
		if tcp && w == 0 {
			win.ff, win.rf = 2, 18
		}
		if tcp && win.last {
			win.ff |= 1
			win.rf |= 1
		}
	case profNoReply:
		win.fp = c.noReplyPkts
		if tcp {
			win.fb = win.fp * 60
			win.ff = 2
		} else {
			win.fb = win.fp * (48 + (h>>16)%40)
		}
	case profLateReply:
		if w == 0 {
			win.fp, win.fb, win.ff = 1, 60, 2
			lo, hi = 58, 58
			break
		}
		win.fp = 3 + h%38
		win.rp = 3 + (h>>8)%70
		win.fb = win.fp * (60 + (h>>16)%500)
		win.rb = win.rp * (200 + (h>>24)%1200)
		if w == 1 {
			win.rf = 18
		}
		if win.last {
			win.ff |= 1
			win.rf |= 1
		}
	case profScan:
		win.fp = 1 + h%2
		win.fb = win.fp * 60
		win.ff = 2
	}
	win.lo, win.hi = t0+int64(lo), t0+int64(hi)
	return win
}

// emit writes the records of window m of c at every hop.
func (g *gen) emit(c *conn, m int) {
	win := c.window(g.base, m)
	if c.cloud == cloudAzure {
		c.accFP += win.fp
		c.accFB += win.fb
		c.accRP += win.rp
		c.accRB += win.rb
	}
	for i := range c.hops {
		h := &c.hops[i]
		switch h.kind {
		case hopAWSClient, hopAWSServer, hopAWSForward, hopAWSNAT:
			g.awsHop(c, h, &win)
		case hopGCPClient, hopGCPServer:
			g.gcpHop(c, h, &win)
		case hopGCPNAT:
			if win.w == 0 {
				g.gcpNATEntry(c, h, &win)
			}
		default:
			g.azHop(c, h, &win)
		}
	}
	if c.cloud == cloudAzure && azTupleDue(&win) {
		c.accFP, c.accFB, c.accRP, c.accRB = 0, 0, 0, 0
	}
}

// azTupleDue says whether Azure writes counters in this window: at the
// end of the connection, and every 5 minutes while it continues.
func azTupleDue(win *window) bool { return win.last || win.w%5 == 4 }
